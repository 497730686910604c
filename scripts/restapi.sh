#!/usr/bin/env bash
# Step: the REST API itself (regional: response streaming and integration
# timeouts beyond 29 s need a regional or private endpoint). Created first
# because its id is part of the URL that Cognito and the functions are
# configured with. Found by name: never a second API of the same name.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ids=$(aws_text apigateway get-rest-apis --query "items[?name=='$API_NAME'].id")
read -r -a found <<<"$ids"
case ${#found[@]} in
0)
	log "creating REST API $API_NAME"
	api_id=$(aws_text apigateway create-rest-api --name "$API_NAME" \
		--description "MCP server ($FUNCTION_NAME)" \
		--endpoint-configuration types=REGIONAL --query id)
	state_set REST_API_CREATED "$api_id"
	;;
1) api_id=${found[0]} ;;
*) die "several REST APIs are named $API_NAME (${found[*]}): delete the extra ones or set API_NAME" ;;
esac
state_set REST_API_ID "$api_id"
log "REST API $api_id: $(mcp_resource_url)"
