#!/usr/bin/env bash
# Step: the Lambda authorizer function (AUTH=lambda). Built from
# ./cmd/mcp-authorizer as a static binary named bootstrap for the OS-only
# runtime, unless AUTHORIZER_ZIP names a prebuilt zip. It gets the same
# verifier settings as the server (or only the API key's hash).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $(auth_mode) != oauth ]] || die "authorizer.sh is for AUTH=lambda"

if [[ -n $AUTHORIZER_ZIP ]]; then
	[[ -f $AUTHORIZER_ZIP ]] || die "AUTHORIZER_ZIP=$AUTHORIZER_ZIP does not exist"
	zip_file=$(cd "$(dirname "$AUTHORIZER_ZIP")" && pwd)/$(basename "$AUTHORIZER_ZIP")
else
	build_dir=$DEPLOY_DIR/authorizer
	rm -rf "$build_dir"
	mkdir -p "$build_dir"
	log "building cmd/mcp-authorizer for linux/$GOARCH"
	(cd "$ROOT_DIR" && CGO_ENABLED=0 GOOS=linux GOARCH=$GOARCH \
		go build -trimpath -tags lambda.norpc -ldflags '-s -w' -o "$build_dir/bootstrap" ./cmd/mcp-authorizer)
	zip_file=$DEPLOY_DIR/authorizer.zip
	rm -f "$zip_file"
	(cd "$build_dir" && zip -q -X "$zip_file" bootstrap)
fi

env_json=$(auth_env_json)
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
