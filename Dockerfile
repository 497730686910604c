# The MCP server as a Lambda container image, and the Lambda authorizer as a
# zip package. One static binary per function; mcp-server runs the Lambda
# runtime loop when AWS_LAMBDA_RUNTIME_API is set.
#
#   docker buildx build --platform linux/arm64 --provenance=false --sbom=false -t mcp-server .
#   docker buildx build --platform linux/arm64 --target authorizer --output type=local,dest=out .
#
# TARGETARCH is set by buildx from --platform. It is declared without a
# default on purpose: a default would override what buildx derives, and an
# arm64 image would then carry an x86-64 bootstrap that dies at init.

# The builders run on the build machine's own platform and cross-compile,
# which is far faster than building under emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS source
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .

FROM source AS build
ARG TARGETARCH
ARG VERSION=dev
# lambda.norpc: the provided.al2023 runtime speaks only the Runtime API, so
# the legacy net/rpc entry point is dead weight.
RUN test -n "$TARGETARCH" || { echo "TARGETARCH is not set: build with docker buildx build --platform linux/amd64 (or linux/arm64)" >&2; exit 1; }; \
    CGO_ENABLED=0 GOOS=linux GOARCH=$TARGETARCH \
    go build -trimpath -tags lambda.norpc -ldflags "-s -w -X main.version=${VERSION}" \
    -o /out/bootstrap ./cmd/mcp-server

FROM source AS authorizer-build
ARG TARGETARCH
RUN test -n "$TARGETARCH" || { echo "TARGETARCH is not set: build with docker buildx build --platform linux/amd64 (or linux/arm64)" >&2; exit 1; }; \
    CGO_ENABLED=0 GOOS=linux GOARCH=$TARGETARCH \
    go build -trimpath -tags lambda.norpc -ldflags "-s -w" -o /out/mcp-authorizer ./cmd/mcp-authorizer && \
    go run ./internal/cmd/lambdazip -o /out/authorizer.zip /out/mcp-authorizer

# Only the package, for --output type=local.
FROM scratch AS authorizer
COPY --from=authorizer-build /out/authorizer.zip /authorizer.zip

# The default target, last: the server image.
FROM public.ecr.aws/lambda/provided:al2023
COPY --from=build /out/bootstrap /var/runtime/bootstrap
# The OS-only base image's entry point runs /var/runtime/bootstrap (through the
# runtime interface emulator under plain `docker run`); the handler name is unused.
CMD ["bootstrap"]
