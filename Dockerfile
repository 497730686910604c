# The MCP server as a Lambda container image. One static binary: it runs the
# Lambda runtime loop when AWS_LAMBDA_RUNTIME_API is set.
#   docker buildx build --platform linux/arm64 --provenance=false -t mcp-server .
# TARGETARCH (amd64 by default) comes from --platform.

# The builder runs on the build machine's own platform and cross-compiles,
# which is far faster than building under emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# lambda.norpc: the provided.al2023 runtime speaks only the Runtime API, so
# the legacy net/rpc entry point is dead weight.
RUN CGO_ENABLED=0 GOOS=linux GOARCH=$TARGETARCH \
    go build -trimpath -tags lambda.norpc -ldflags "-s -w -X main.version=${VERSION}" \
    -o /out/bootstrap ./cmd/mcp-server

FROM public.ecr.aws/lambda/provided:al2023
COPY --from=build /out/bootstrap /var/runtime/bootstrap
# The OS-only base image's entry point runs /var/runtime/bootstrap (through the
# runtime interface emulator under plain `docker run`); the handler name is unused.
CMD ["bootstrap"]
