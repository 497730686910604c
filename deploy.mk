# Deployment targets (included by the Makefile). Settings come from the
# environment or deploy.env (see deploy.env.example); AUTH is required.
.PHONY: deploy destroy deploy-outputs smoke

deploy: ## deploy to AWS: make deploy AUTH=oauth|lambda (needs the AWS CLI, jq, docker unless IMAGE_URI is set)
	@test -n "$(AUTH)" || { echo "usage: make deploy AUTH=oauth|lambda" >&2; exit 2; }
	AUTH=$(AUTH) scripts/deploy.sh

destroy: ## delete everything make deploy created (recorded in .deploy/state.env)
	scripts/destroy.sh

deploy-outputs: ## print (and rewrite) .deploy/outputs.env for the deployed server
	scripts/outputs.sh

smoke: ## check a deployment as a user would: discovery, a session, streaming, sessions across instances (MCP_SERVER_URL of .deploy/outputs.env)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/mcp-client ./cmd/mcp-client
	./bin/mcp-client smoke
