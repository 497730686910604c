#!/usr/bin/env bash
# Step: the Lambda authorizer function, in front of /mcp in every mode. It
# is ./cmd/mcp-authorizer as a static binary named bootstrap for the OS-only
# runtime, zipped by internal/cmd/lambdazip: built with the local Go
# toolchain when there is one, else inside Docker (the Dockerfile's
# authorizer target); AUTHORIZER_ZIP names a prebuilt zip instead. It gets
# the same verifier settings as the server (or only the API key's hash),
# and the gateway's cache TTL, so that no cached Allow outlives a token.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

if [[ -n $AUTHORIZER_ZIP ]]; then
	[[ -f $AUTHORIZER_ZIP ]] || die "AUTHORIZER_ZIP=$AUTHORIZER_ZIP does not exist"
	zip_file=$(cd "$(dirname "$AUTHORIZER_ZIP")" && pwd)/$(basename "$AUTHORIZER_ZIP")
else
	build_dir=$DEPLOY_DIR/authorizer
	rm -rf "$build_dir"
	mkdir -p "$build_dir"
	zip_file=$DEPLOY_DIR/authorizer.zip
	rm -f "$zip_file"
	if command -v go >/dev/null; then
		log "building cmd/mcp-authorizer for linux/$GOARCH with $(go env GOVERSION)"
		(cd "$ROOT_DIR" && CGO_ENABLED=0 GOOS=linux GOARCH=$GOARCH \
			go build -trimpath -tags lambda.norpc -ldflags '-s -w' -o "$build_dir/bootstrap" ./cmd/mcp-authorizer)
		(cd "$ROOT_DIR" && go run ./internal/cmd/lambdazip -o "$zip_file" "$build_dir/bootstrap")
	else
		docker_ready || die "$WHY_NOT_DOCKER, and Go is not installed: the authorizer cannot be built (or set AUTHORIZER_ZIP)"
		log "building cmd/mcp-authorizer for linux/$GOARCH in Docker"
		docker buildx build --platform "linux/$GOARCH" --target authorizer \
			--output "type=local,dest=$build_dir" "$ROOT_DIR"
		mv "$build_dir/authorizer.zip" "$zip_file"
	fi
fi

env_json=$(auth_env_json | jq --arg ttl "$AUTHORIZER_RESULT_TTL" '. + {AUTHORIZER_RESULT_TTL: $ttl}')
env_file=$(write_env_file "$AUTHORIZER_NAME" "$env_json")
settings=(--role "$(role_arn "$AUTHORIZER_ROLE_NAME")" --runtime provided.al2023 --handler bootstrap
	--memory-size "$AUTHORIZER_MEMORY_SIZE" --timeout "$AUTHORIZER_TIMEOUT"
	--environment "file://$env_file" --description "MCP authorizer ($API_NAME)")

if function_exists "$AUTHORIZER_NAME"; then
	log "updating function $AUTHORIZER_NAME ($ARCH)"
	aws lambda update-function-code --function-name "$AUTHORIZER_NAME" --zip-file "fileb://$zip_file" \
		--architectures "$ARCH" >/dev/null
	aws lambda wait function-updated --function-name "$AUTHORIZER_NAME"
	aws lambda update-function-configuration --function-name "$AUTHORIZER_NAME" "${settings[@]}" >/dev/null
	aws lambda wait function-updated --function-name "$AUTHORIZER_NAME"
else
	log "creating function $AUTHORIZER_NAME ($ARCH)"
	create_function --function-name "$AUTHORIZER_NAME" --package-type Zip \
		--zip-file "fileb://$zip_file" --architectures "$ARCH" "${settings[@]}" >/dev/null
	state_set AUTHORIZER_FUNCTION_CREATED "$AUTHORIZER_NAME"
	aws lambda wait function-active-v2 --function-name "$AUTHORIZER_NAME"
fi
