#!/usr/bin/env bash
# Step: the server function, from the container image. Every setting and the
# whole environment are applied on every run, so a redeploy never leaves a
# stale value behind.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

image=$(state_get IMAGE_URI)
[[ -n $image ]] || die "no image: run scripts/ecr.sh or set IMAGE_URI"

case $(auth_mode) in
oauth) method=oauth ;;
*) method=lambda ;;
esac
# REQUEST_STATE_KEY seals the requestState of multi-round-trip requests;
# every instance needs the same one, and changing it only voids the few
# minutes of requestState in flight. It is generated on the first deploy and
# kept across redeploys by reading it back from the function (never written
# to .deploy/ or printed); set REQUEST_STATE_KEY to rotate it.
state_key=${REQUEST_STATE_KEY:-}
if [[ -z $state_key ]] && function_exists "$FUNCTION_NAME"; then
	state_key=$(aws_text lambda get-function-configuration --function-name "$FUNCTION_NAME" \
		--query 'Environment.Variables.REQUEST_STATE_KEY')
	[[ $state_key != None ]] || state_key=""
fi
if [[ -z $state_key ]]; then
	state_key=$(head -c 32 /dev/urandom | base64)
	log "generated REQUEST_STATE_KEY (kept in the function's configuration from now on)"
fi
# The cross-account settings are set only when given: unset, the server
# reads no other account.
env_json=$(auth_env_json | jq --arg m "$method" --arg t "$SESSION_TABLE" --arg l "$LOG_LEVEL" \
	--arg r "$BEDROCK_CROSS_ACCOUNT_ROLE" --arg k "$state_key" --arg accts "$BEDROCK_ALLOWED_ACCOUNTS" \
	--arg ext "$BEDROCK_EXTERNAL_ID" --arg scope "$BEDROCK_CROSS_ACCOUNT_SCOPE" \
	'. + {AUTH_METHOD: $m, SESSION_TABLE: $t, BEDROCK_LOG_SOURCE: "cloudwatch", LOG_LEVEL: $l, BEDROCK_CROSS_ACCOUNT_ROLE: $r, REQUEST_STATE_KEY: $k}
	+ ({BEDROCK_ALLOWED_ACCOUNTS: $accts, BEDROCK_EXTERNAL_ID: $ext, BEDROCK_CROSS_ACCOUNT_SCOPE: $scope} | with_entries(select(.value != "")))')
env_file=$(write_env_file "$FUNCTION_NAME" "$env_json")

settings=(--role "$(role_arn "$SERVER_ROLE_NAME")" --memory-size "$MEMORY_SIZE" --timeout "$TIMEOUT"
	--environment "file://$env_file" --description "MCP server ($API_NAME)")

if function_exists "$FUNCTION_NAME"; then
	log "updating function $FUNCTION_NAME ($ARCH, $image)"
	aws lambda update-function-code --function-name "$FUNCTION_NAME" --image-uri "$image" \
		--architectures "$ARCH" >/dev/null
	aws lambda wait function-updated --function-name "$FUNCTION_NAME"
	aws lambda update-function-configuration --function-name "$FUNCTION_NAME" "${settings[@]}" >/dev/null
	aws lambda wait function-updated --function-name "$FUNCTION_NAME"
else
	log "creating function $FUNCTION_NAME ($ARCH, $image)"
	create_function --function-name "$FUNCTION_NAME" --package-type Image \
		--code "ImageUri=$image" --architectures "$ARCH" "${settings[@]}" >/dev/null
	state_set FUNCTION_CREATED "$FUNCTION_NAME"
	aws lambda wait function-active-v2 --function-name "$FUNCTION_NAME"
fi
