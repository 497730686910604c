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
echo "Deployed (AUTH=$AUTH, $mode). Written to $out:"
grep -v '^#' "$out" | sed -e 's/^ACCESS_TOKEN=.*/ACCESS_TOKEN=<the API key: see the file>/' -e 's/^/  /'
if [[ $out -ef $ROOT_DIR/.deploy/outputs.env ]]; then
	echo "Connect: make client    (cmd/mcp-client reads .deploy/outputs.env)"
else
	echo "Connect: (set -a; . '$out'; go run ./cmd/mcp-client)"
fi
