#!/usr/bin/env bash
# Writes .deploy/outputs.env (mode 0600), what the MCP client needs to
# connect, and prints it. The API key is never printed, only where it is.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

AUTH=${AUTH:-$(state_get AUTH)}
mode=$(auth_mode)
out=$DEPLOY_DIR/outputs.env
tmp=$(mktemp "$DEPLOY_DIR/.outputs.XXXXXX")
chmod 600 "$tmp"
{
	echo "# written by scripts/outputs.sh; read by cmd/mcp-client"
	echo "MCP_SERVER_URL=$(mcp_resource_url)"
	echo "AWS_REGION=$AWS_REGION"
	case $mode in
	api_key)
		echo "AUTH_METHOD=lambda"
		echo "ACCESS_TOKEN=$(<"$API_KEY_FILE")"
		;;
	*)
		# Also behind the Lambda authorizer, the client logs in with OAuth:
		# the gateway's 401 leads it to Cognito like the server's would.
		echo "AUTH_METHOD=oauth"
		echo "OAUTH_CLIENT_ID=$(state_get COGNITO_CLIENT_ID)"
		echo "COGNITO_DOMAIN=$(state_get COGNITO_DOMAIN_HOST)"
		echo "OAUTH_SCOPES=$(mcp_scope)"
		;;
	esac
} >"$tmp"
mv "$tmp" "$out"

echo
echo "Deployed (AUTH=$AUTH, $mode) in $AWS_REGION (region from $REGION_SOURCE). Written to $out:"
grep -v '^#' "$out" | sed -e 's/^ACCESS_TOKEN=.*/ACCESS_TOKEN=<the API key: see the file>/' -e 's/^/  /'
if created=$(state_get COGNITO_DOMAIN_NEW) && [[ -n $created ]] && (($(date -u +%s) - created < 600)); then
	echo "The Cognito domain $(state_get COGNITO_DOMAIN_HOST) is new: it can take a minute or so before its"
	echo "login page answers (DNS); if the first login fails to reach it, wait and try again."
fi
if [[ $out -ef $ROOT_DIR/.deploy/outputs.env ]]; then
	echo "Connect: make client    (cmd/mcp-client reads .deploy/outputs.env)"
	echo "Check:   make smoke     (discovery, a session, streaming, sessions across instances)"
else
	echo "Connect: go run ./cmd/mcp-client -outputs '$out'"
	echo "Check:   go run ./cmd/mcp-client smoke -outputs '$out'"
fi
