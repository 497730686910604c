# Build, run, test and measure the MCP server. `make help` lists the targets.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
NPM_STAMP := test/node_modules/.package-lock.json
# Fuzzing budget per target. A count (Nx), not a duration: go1.26's fuzz
# coordinator can fail a clean run with "context deadline exceeded" when a
# duration expires mid-execution (golang/go#75804, fixed in go1.27).
FUZZTIME ?= 50000x
BENCHTIME ?= 5s

.PHONY: help build run-local client test unit allocs fuzz conformance interop bench chaos lint test-tools system-tools clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## static binaries in bin/ (the authorizer for Lambda: linux)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/mcp-server ./cmd/mcp-server
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/mcp-client ./cmd/mcp-client
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -tags lambda.norpc -ldflags '-s -w' -o bin/mcp-authorizer ./cmd/mcp-authorizer

run-local: build ## serve http://127.0.0.1:3000/mcp without auth
	HOST=$${HOST:-127.0.0.1} PORT=$${PORT:-3000} AUTH_METHOD=$${AUTH_METHOD:-none} BEDROCK_LOG_SOURCE=$${BEDROCK_LOG_SOURCE:-sample} ./bin/mcp-server

client: ## the interactive MCP client (REPL) for MCP_SERVER_URL, default the local server; after make deploy, the deployed one
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/mcp-client ./cmd/mcp-client
	./bin/mcp-client

# The pinned npm test tools (conformance suite, official SDK, Node 22).
$(NPM_STAMP): test/package.json test/package-lock.json
	npm ci --prefix test --no-audit --no-fund --loglevel=error
# The Lambda Runtime Interface Emulator, pinned, built from the Go module proxy.
RIE_VERSION ?= v0.0.0-20261030222936-bef5c4ba774d
RIE := bin/tools/aws-lambda-rie
$(RIE):
	GOBIN=$(CURDIR)/bin/tools GOFLAGS=-mod=mod $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
# The system commands (shellcheck, jq, the AWS CLI, moto_server): installed
# from Debian's packages as root in CI, else a one-line instruction each.
system-tools:
	@bash test/system-tools.sh
test-tools: system-tools $(NPM_STAMP) $(RIE) ## install the test tools (npm packages, Lambda emulator; shellcheck and friends as root in CI)

# The packages with allocation-budget tests (testing.AllocsPerRun, in tests
# named Test...Allocs): found rather than listed, so that a new one is not
# left out. Those tests skip under -race, whose detector allocates on its
# own, so make test runs them once more without it.
ALLOC_PKGS = $(sort $(dir $(shell grep -rl --include='*_test.go' --exclude-dir=node_modules 'AllocsPerRun' .)))

test: lint test-tools ## every test: unit, race, conformance, interop, moto_server, allocation budgets, brief fuzzing, then make chaos
	MCP_REQUIRE_NODE_TOOLS=1 MCP_REQUIRE_MOTO=1 MCP_REQUIRE_RIE=1 $(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory allocs
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory chaos

allocs: ## the allocation-budget tests, which -race skips
	$(GO) test -count=1 -run 'Allocs$$' -v $(ALLOC_PKGS)

unit: ## Go tests only (tests needing npm tools skip when they are missing)
	$(GO) test -race -count=1 ./...

fuzz: ## run each fuzz target for FUZZTIME executions
	@set -e; for t in mcp:FuzzDecodeMessage mcp:FuzzAppendJSONString mcp:FuzzSSEDecoder mcp:FuzzSSERoundTrip \
	    internal/jsonlex:FuzzScanObject internal/jsonlex:FuzzSkipValue internal/jsonlex:FuzzUnquote \
	    internal/jsonschema:FuzzValidate internal/jsonschema:FuzzCompile server:FuzzPost server:FuzzPostModern oauth:FuzzVerify bedrock:FuzzDecodeRecord \
	    authorizer:FuzzParseMethodARN authorizer:FuzzBearerToken oauth:FuzzParseChallenges \
	    internal/mcpheader:FuzzDecodeValue internal/mcpheader:FuzzParseToolHeaders internal/mcpheader:FuzzParamsRoundTrip \
	    internal/reqstate:FuzzOpen internal/reqstate:FuzzParamsDigest; do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) ./$$pkg; \
	done

conformance: test-tools ## official MCP conformance suite: the fixture server, and our client
	bash test/conformance/run.sh
	bash test/conformance/run-client.sh

interop: test-tools ## official TypeScript SDK client against bin/mcp-server
	MCP_REQUIRE_NODE_TOOLS=1 $(GO) test -race -count=1 -run TestTypeScriptSDKClient -v ./test/interop/

bench: ## benchmarks: in-process allocations, loopback throughput, CPU per call, start time
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=2s ./...
	$(GO) test -count=1 -run '^TestStreamingHeapBounded$$' -v ./bedrock | grep -E 'records:|^ok'
	$(GO) test -run='^$$' -bench='^BenchmarkS3Read$$' -cpu 1,2 -benchtime=10x ./bedrock | grep -E '^Benchmark|^ok'
	$(GO) run ./test/bench/decode -runs 5
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/bench-bare ./test/bench/bare
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/mcp-server ./cmd/mcp-server
	$(GO) run ./test/bench/loadgen -duration $(BENCHTIME) -server bare=bin/bench-bare -server ours=bin/mcp-server -concurrency-test

# make chaos: the full fault and load run (go test ./... runs a 50-session,
# 5 s smoke version of the same tests). CHAOS_SERVER_ENV passes KEY=VALUE
# settings to the server, e.g. limits to raise for the load.
CHAOS_SESSIONS ?= 1000
CHAOS_DURATION ?= 60s
CHAOS_OUTAGE ?= 10s
chaos: ## faults and load, measured against bin/mcp-server: 1,000 sessions for 60 s, session store outage, JWKS outage and rotation, stalled clients, bad input; prints the tables
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/mcp-server ./cmd/mcp-server
	@mkdir -p test/results && rm -f test/results/chaos.md
	MCP_CHAOS=1 MCP_REQUIRE_MOTO=1 CHAOS_SERVER_BIN=bin/mcp-server CHAOS_SESSIONS=$(CHAOS_SESSIONS) \
	    CHAOS_DURATION=$(CHAOS_DURATION) CHAOS_OUTAGE=$(CHAOS_OUTAGE) CHAOS_REPORT=$(CURDIR)/test/results/chaos.md \
	    $(GO) test -count=1 -timeout 15m -v ./test/chaos/
	@echo; echo "== make chaos: results (also in test/results/chaos.md) =="; cat test/results/chaos.md

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: ## gofmt, go vet, staticcheck (a pinned tool run with go run; not a module dependency)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './test/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin test/results

# make deploy AUTH=oauth|lambda, make destroy, make deploy-outputs: see docs/deployment.md.
include deploy.mk
