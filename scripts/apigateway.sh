#!/usr/bin/env bash
# Step: routes, integrations, authorizer, gateway responses and the stage.
#   /mcp                   POST GET DELETE -> server, behind the REQUEST authorizer (every mode)
#   /mcp                   OPTIONS         -> server, no auth (CORS preflights carry no token)
#   /.well-known/{proxy+}  ANY             -> server, no auth (discovery never needs a token)
# Every integration is a Lambda proxy with response streaming, so SSE reaches
# the client as it is written, and may run up to the function's timeout.
#
# Why the authorizer guards /mcp in every mode: a REST API renames the
# WWW-Authenticate header of a Lambda's response to
# x-amzn-Remapped-WWW-Authenticate, so a 401 the server writes never shows a
# client where to log in. Gateway responses are not renamed: the refusals
# (UNAUTHORIZED 401, ACCESS_DENIED 403) come from the gateway, with the
# RFC 6750 / RFC 9728 challenge the server itself would send.
#
# In an API deploy did not create (found by name), what this step adds is
# recorded in state, so that destroy takes out exactly that.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

api_id=$(state_get REST_API_ID)
[[ -n $api_id ]] || die "no REST API: run scripts/restapi.sh first"
acct=$(account_id)
mode=$(auth_mode)
server_uri="arn:aws:apigateway:$AWS_REGION:lambda:path/2021-11-15/functions/$(function_arn "$FUNCTION_NAME")/response-streaming-invocations"
adopted=""
[[ $(state_get REST_API_CREATED) == "$api_id" ]] || adopted=1

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
		resources=$(jq --arg p "$path" --arg id "$id" '.items += [{id: $id, path: $p, created: true}]' <<<"$resources")
		[[ -z $adopted ]] || state_add API_RESOURCES_CREATED "$id"
	fi
	printf '%s\n' "$id"
}

mcp_id=$(ensure_resource / "$MCP_PATH_PART")
ensure_resource / .well-known >/dev/null
wk_id=$(ensure_resource /.well-known '{proxy+}')

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
	[[ -z $adopted ]] || state_set API_AUTHORIZER_CREATED "$authorizer_id"
else
	aws apigateway update-authorizer --rest-api-id "$api_id" --authorizer-id "$authorizer_id" \
		--patch-operations "op=replace,path=/authorizerUri,value=$auth_uri" \
		op=replace,path=/identitySource,value=method.request.header.Authorization \
		"op=replace,path=/authorizerResultTtlInSeconds,value=$AUTHORIZER_RESULT_TTL" >/dev/null
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
		# A method on a resource of someone else's API is ours to remove.
		if [[ -n $adopted && " $(state_get API_RESOURCES_CREATED) " != *" $rid "* ]]; then
			state_add API_METHODS_PUT "$rid/$verb"
		fi
	fi
	if [[ -z $current ]] || ! jq -e --arg u "$server_uri" --argjson t "$INTEGRATION_TIMEOUT_MS" \
		'.methodIntegration | .type == "AWS_PROXY" and .uri == $u and .timeoutInMillis == $t and .responseTransferMode == "STREAM"' \
		<<<"$current" >/dev/null; then
		aws apigateway put-integration --rest-api-id "$api_id" --resource-id "$rid" --http-method "$verb" \
			--type AWS_PROXY --integration-http-method POST --uri "$server_uri" \
			--response-transfer-mode STREAM --timeout-in-millis "$INTEGRATION_TIMEOUT_MS" >/dev/null
	fi
}

for verb in POST GET DELETE; do
	ensure_method "$mcp_id" "/$MCP_PATH_PART" "$verb" CUSTOM "$authorizer_id"
done
ensure_method "$mcp_id" "/$MCP_PATH_PART" OPTIONS NONE
ensure_method "$wk_id" "/.well-known/{proxy+}" ANY NONE

# ensure_permission FUNCTION SID SOURCE_ARN: one statement per API, never two.
# Recorded, so that destroy removes it from a function it does not delete.
ensure_permission() {
	local fn=$1 sid=$2 source=$3 policy out
	state_add LAMBDA_PERMISSIONS "$fn:$sid"
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
ensure_permission "$AUTHORIZER_NAME" "apigateway-authorizer-$api_id" \
	"arn:aws:execute-api:$AWS_REGION:$acct:$api_id/authorizers/$authorizer_id"

# Gateway responses: what the gateway answers itself. Each has a JSON-RPC
# error body, and the refusals carry the challenge the server would send.
if [[ $mode == api_key ]]; then
	# An API key has no OAuth to discover; the scheme still says Bearer.
	unauthorized_challenge='Bearer realm="mcp"'
	unauthorized_message="Unauthorized: send the API key as Authorization: Bearer KEY"
	denied_challenge='Bearer realm="mcp"'
	denied_message="Forbidden: this API key may not use this method"
else
	metadata=$(resource_metadata_url)
	scope=$(mcp_scope)
	unauthorized_challenge="Bearer scope=\"$scope\", resource_metadata=\"$metadata\""
	unauthorized_message="Unauthorized: send an OAuth access token (Authorization: Bearer TOKEN) with at least $AUTHORIZER_RESULT_TTL s left to live; WWW-Authenticate names the resource_metadata document that says where to get one"
	denied_challenge="Bearer error=\"insufficient_scope\", scope=\"$scope\", resource_metadata=\"$metadata\""
	denied_message="Forbidden: the access token lacks the scope $scope; log in again asking for it"
fi
# put_response TYPE STATUS CODE MESSAGE [CHALLENGE]: MESSAGE is text, or a
# mapping-template expression when it starts with $ (then already JSON).
put_response() {
	local type=$1 status=$2 code=$3 message=$4 challenge=${5:-} params template
	# Header values are static mapping expressions: quoted in '...'.
	params=$(jq -nc --arg ch "$challenge" --arg q "'" '
		{"gatewayresponse.header.Access-Control-Allow-Origin": ($q + "*" + $q)} +
		if $ch == "" then {} else {
			"gatewayresponse.header.WWW-Authenticate": ($q + $ch + $q),
			"gatewayresponse.header.Access-Control-Expose-Headers": ($q + "WWW-Authenticate" + $q)
		} end')
	if [[ $message == \$* ]]; then
		template="{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":$code,\"message\":$message}}"
	else
		template=$(jq -nc --argjson c "$code" --arg m "$message" '{jsonrpc: "2.0", id: null, error: {code: $c, message: $m}}')
	fi
	aws apigateway put-gateway-response --rest-api-id "$api_id" --response-type "$type" \
		${status:+--status-code "$status"} --response-parameters "$params" \
		--response-templates "$(jq -nc --arg t "$template" '{"application/json": $t}')" >/dev/null
	[[ -z $adopted ]] || state_add API_GATEWAY_RESPONSES_PUT "$type"
}
wanted=(UNAUTHORIZED ACCESS_DENIED MISSING_AUTHENTICATION_TOKEN AUTHORIZER_FAILURE AUTHORIZER_CONFIGURATION_ERROR DEFAULT_4XX DEFAULT_5XX)
put_response UNAUTHORIZED 401 -32000 "$unauthorized_message" "$unauthorized_challenge"
put_response ACCESS_DENIED 403 -32000 "$denied_message" "$denied_challenge"
# Not 403 "Missing Authentication Token": an unknown path or method is not
# an authorization problem, and a 403 would send OAuth clients astray.
put_response MISSING_AUTHENTICATION_TOKEN 404 -32600 "Not Found: this API serves the MCP endpoint $(mcp_resource_url) (POST, GET, DELETE) and its /.well-known metadata"
put_response AUTHORIZER_FAILURE 500 -32603 "the authorizer could not judge the token (its log says why); try again later"
put_response AUTHORIZER_CONFIGURATION_ERROR 500 -32603 "the authorizer is misconfigured or unreachable; see its log group"
# The rest (throttling, payload too large, timeouts...) keep their status
# and message, in a JSON-RPC body. The expression is API Gateway's, not ours:
# shellcheck disable=SC2016
put_response DEFAULT_4XX "" -32600 '$context.error.messageString'
# shellcheck disable=SC2016
put_response DEFAULT_5XX "" -32603 '$context.error.messageString'
# Customisations left by an earlier deployment and no longer made go back
# to API Gateway's defaults.
for type in $(aws_text apigateway get-gateway-responses --rest-api-id "$api_id" \
	--query "items[?defaultResponse==\`false\`].responseType"); do
	[[ " ${wanted[*]} " == *" $type "* ]] || aws apigateway delete-gateway-response --rest-api-id "$api_id" --response-type "$type"
done

if [[ -n $adopted ]] && ! aws apigateway get-stage --rest-api-id "$api_id" --stage-name "$STAGE" >/dev/null 2>&1; then
	state_set API_STAGE_CREATED "$STAGE"
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
