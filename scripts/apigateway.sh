#!/usr/bin/env bash
# Step: routes, integrations, authorizer, gateway responses and the stage.
#   /mcp                   POST GET DELETE -> server (authorizer in AUTH=lambda)
#   /mcp                   OPTIONS         -> server, no auth (CORS preflights carry no token)
#   /.well-known/{proxy+}  ANY             -> server, no auth (discovery never needs a token)
# Every integration is a Lambda proxy with response streaming, so SSE reaches
# the client as it is written, and may run up to the function's timeout.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

api_id=$(state_get REST_API_ID)
[[ -n $api_id ]] || die "no REST API: run scripts/restapi.sh first"
acct=$(account_id)
mode=$(auth_mode)
server_uri="arn:aws:apigateway:$AWS_REGION:lambda:path/2021-11-15/functions/$(function_arn "$FUNCTION_NAME")/response-streaming-invocations"

resources=$(aws_json apigateway get-resources --rest-api-id "$api_id" --embed methods --limit 500)
resource_id() { jq -r --arg p "$1" '.items[] | select(.path == $p) | .id' <<<"$resources"; }

# ensure_resource PARENT_PATH PART: prints the id of PARENT_PATH/PART.
ensure_resource() {
	local parent=$1 part=$2 path id
	path=${parent%/}/$part
	id=$(resource_id "$path")
	if [[ -z $id ]]; then
		log "creating resource $path"
		id=$(aws_text apigateway create-resource --rest-api-id "$api_id" \
			--parent-id "$(resource_id "$parent")" --path-part "$part" --query id)
		resources=$(jq --arg p "$path" --arg id "$id" '.items += [{id: $id, path: $p}]' <<<"$resources")
	fi
	printf '%s\n' "$id"
}

mcp_id=$(ensure_resource / "$MCP_PATH_PART")
ensure_resource / .well-known >/dev/null
wk_id=$(ensure_resource /.well-known '{proxy+}')

authorizer_id=""
if [[ $mode != oauth ]]; then
	auth_uri="arn:aws:apigateway:$AWS_REGION:lambda:path/2015-03-31/functions/$(function_arn "$AUTHORIZER_NAME")/invocations"
	authorizer_id=$(aws_text apigateway get-authorizers --rest-api-id "$api_id" \
		--query "items[?name=='$AUTHORIZER_NAME'].id")
	if [[ -z $authorizer_id ]]; then
		log "creating REQUEST authorizer $AUTHORIZER_NAME"
		authorizer_id=$(aws_text apigateway create-authorizer --rest-api-id "$api_id" \
			--name "$AUTHORIZER_NAME" --type REQUEST \
			--identity-source method.request.header.Authorization \
			--authorizer-uri "$auth_uri" \
			--authorizer-result-ttl-in-seconds "$AUTHORIZER_RESULT_TTL" --query id)
	else
		aws apigateway update-authorizer --rest-api-id "$api_id" --authorizer-id "$authorizer_id" \
			--patch-operations "op=replace,path=/authorizerUri,value=$auth_uri" \
			op=replace,path=/identitySource,value=method.request.header.Authorization \
			"op=replace,path=/authorizerResultTtlInSeconds,value=$AUTHORIZER_RESULT_TTL" >/dev/null
	fi
fi

# ensure_method RESOURCE_ID PATH VERB AUTH_TYPE [AUTHORIZER_ID]
ensure_method() {
	local rid=$1 path=$2 verb=$3 auth=$4 authz=${5:-} current want
	current=$(jq -c --arg p "$path" --arg v "$verb" \
		'.items[] | select(.path == $p) | .resourceMethods[$v] // empty' <<<"$resources")
	want=$auth/$authz
	if [[ -n $current && $(jq -r '"\(.authorizationType)/\(.authorizerId // "")"' <<<"$current") != "$want" ]]; then
		# The method changes only in the next deployment, so replacing it is
		# as safe as patching and works everywhere.
		log "replacing $verb $path (authorization now $auth)"
		aws apigateway delete-method --rest-api-id "$api_id" --resource-id "$rid" --http-method "$verb"
		current=""
	fi
	if [[ -z $current ]]; then
		log "creating $verb $path ($auth)"
		aws apigateway put-method --rest-api-id "$api_id" --resource-id "$rid" --http-method "$verb" \
			--authorization-type "$auth" ${authz:+--authorizer-id "$authz"} >/dev/null
	fi
	if [[ -z $current ]] || ! jq -e --arg u "$server_uri" --argjson t "$INTEGRATION_TIMEOUT_MS" \
		'.methodIntegration | .type == "AWS_PROXY" and .uri == $u and .timeoutInMillis == $t and .responseTransferMode == "STREAM"' \
		<<<"$current" >/dev/null; then
		aws apigateway put-integration --rest-api-id "$api_id" --resource-id "$rid" --http-method "$verb" \
			--type AWS_PROXY --integration-http-method POST --uri "$server_uri" \
			--response-transfer-mode STREAM --timeout-in-millis "$INTEGRATION_TIMEOUT_MS" >/dev/null
	fi
}

mcp_auth=NONE
[[ $mode == oauth ]] || mcp_auth=CUSTOM
for verb in POST GET DELETE; do
	ensure_method "$mcp_id" "/$MCP_PATH_PART" "$verb" "$mcp_auth" "$authorizer_id"
done
ensure_method "$mcp_id" "/$MCP_PATH_PART" OPTIONS NONE
ensure_method "$wk_id" "/.well-known/{proxy+}" ANY NONE

# ensure_permission FUNCTION SID SOURCE_ARN: one statement per API, never two.
ensure_permission() {
	local fn=$1 sid=$2 source=$3 policy out
	policy=$(aws_text lambda get-policy --function-name "$fn" --query Policy 2>/dev/null || true)
	if [[ -n $policy ]] && jq -e --arg s "$sid" --arg a "$source" \
		'.Statement[] | select(.Sid == $s and .Condition.ArnLike["AWS:SourceArn"] == $a)' <<<"$policy" >/dev/null; then
		return
	fi
	if [[ -n $policy ]] && jq -e --arg s "$sid" '.Statement[] | select(.Sid == $s)' <<<"$policy" >/dev/null; then
		aws lambda remove-permission --function-name "$fn" --statement-id "$sid"
	fi
	log "allowing API Gateway to invoke $fn"
	if ! out=$(aws lambda add-permission --function-name "$fn" --statement-id "$sid" \
		--action lambda:InvokeFunction --principal apigateway.amazonaws.com \
		--source-arn "$source" --source-account "$acct" 2>&1); then
		grep -q 'already exists' <<<"$out" || {
			printf '%s\n' "$out" >&2
			die "add-permission on $fn failed"
		}
	fi
}

ensure_permission "$FUNCTION_NAME" "apigateway-$api_id" "arn:aws:execute-api:$AWS_REGION:$acct:$api_id/*"

if [[ $mode == oauth ]]; then
	# No authorizer: the server answers 401/403 itself. Leftovers of an earlier
	# AUTH=lambda deployment would only confuse.
	for type in $(aws_text apigateway get-gateway-responses --rest-api-id "$api_id" \
		--query "items[?defaultResponse==\`false\`].responseType"); do
		aws apigateway delete-gateway-response --rest-api-id "$api_id" --response-type "$type"
	done
else
	ensure_permission "$AUTHORIZER_NAME" "apigateway-authorizer-$api_id" \
		"arn:aws:execute-api:$AWS_REGION:$acct:$api_id/authorizers/$authorizer_id"

	# What the gateway answers when the authorizer refuses: the same
	# challenges the server sends (RFC 6750 / RFC 9728), so MCP clients find
	# the authorization server. API keys have no OAuth to discover.
	if [[ $mode == jwt ]]; then
		challenge="Bearer resource_metadata=\"$(resource_metadata_url)\""
		denied="Bearer error=\"insufficient_scope\", scope=\"$(mcp_scope)\", resource_metadata=\"$(resource_metadata_url)\""
	else
		challenge="Bearer"
		denied="Bearer error=\"insufficient_scope\""
	fi
	put_response() {
		local type=$1 status=$2 header=$3 code=$4 message=$5
		aws apigateway put-gateway-response --rest-api-id "$api_id" --response-type "$type" \
			--status-code "$status" \
			--response-parameters "$(jq -nc --arg h "'$header'" '{
				"gatewayresponse.header.WWW-Authenticate": $h,
				"gatewayresponse.header.Access-Control-Allow-Origin": "'"'*'"'",
				"gatewayresponse.header.Access-Control-Expose-Headers": "'"'WWW-Authenticate'"'"}')" \
			--response-templates "$(jq -nc --arg c "$code" --arg m "$message" \
				'{"application/json": ({jsonrpc: "2.0", id: null, error: {code: ($c | tonumber), message: $m}} | tojson)}')" >/dev/null
	}
	put_response UNAUTHORIZED 401 "$challenge" -32001 "Unauthorized"
	put_response ACCESS_DENIED 403 "$denied" -32001 "Forbidden: insufficient scope"
fi

log "deploying stage $STAGE"
aws apigateway create-deployment --rest-api-id "$api_id" --stage-name "$STAGE" \
	--description "deploy.sh AUTH=${AUTH:-}" >/dev/null

if [[ -n $CUSTOM_DOMAIN ]]; then
	base=${BASE_PATH:-(none)}
	if ! aws apigateway get-domain-name --domain-name "$CUSTOM_DOMAIN" >/dev/null 2>&1; then
		warn "custom domain $CUSTOM_DOMAIN does not exist in API Gateway: create it (with its certificate) and deploy again"
	else
		mapped=$(aws_text apigateway get-base-path-mappings --domain-name "$CUSTOM_DOMAIN" \
			--query "items[?basePath=='$base'].[restApiId,stage]")
		if [[ -z $mapped ]]; then
			log "mapping $CUSTOM_DOMAIN/${BASE_PATH} to $api_id/$STAGE"
			aws apigateway create-base-path-mapping --domain-name "$CUSTOM_DOMAIN" \
				${BASE_PATH:+--base-path "$BASE_PATH"} --rest-api-id "$api_id" --stage "$STAGE" >/dev/null
			state_set BASE_PATH_MAPPING_CREATED "$CUSTOM_DOMAIN $base"
		elif [[ $mapped != "$api_id"*"$STAGE" ]]; then
			die "$CUSTOM_DOMAIN/${BASE_PATH} is already mapped to another API ($mapped)"
		fi
	fi
fi
