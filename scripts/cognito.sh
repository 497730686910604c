#!/usr/bin/env bash
# Step: Cognito for OAuth (AUTH=oauth, or AUTH=lambda with a user pool).
# Uses COGNITO_USER_POOL_ID when given (never deleted by destroy), else a pool
# of our own; then a domain if the pool has none, a resource server whose
# identifier is the MCP URL with the scope "mcp", and a public app client
# (no secret, so PKCE is what protects the code) for authorization code login.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# URL-valued parameters go through --cli-input-json: AWS CLI v1 would
# otherwise fetch any http(s):// argument and send the page instead.
cli_json() { aws_json "$@"; }

# describe_pool ID: prints "DOMAIN CUSTOM_DOMAIN" of the pool; fails if it is gone.
describe_pool() {
	aws_text cognito-idp describe-user-pool --user-pool-id "$1" --query 'UserPool.[Domain,CustomDomain]'
}

pool_id=$(cognito_pool_id)
pool_domains=""
if [[ -n $COGNITO_USER_POOL_ID ]]; then
	pool_domains=$(describe_pool "$pool_id") || die "COGNITO_USER_POOL_ID=$pool_id cannot be read"
	log "using user pool $pool_id"
else
	if [[ -n $pool_id ]] && ! pool_domains=$(describe_pool "$pool_id" 2>/dev/null); then
		warn "user pool $pool_id recorded in state no longer exists"
		pool_id="" pool_domains=""
	fi
	if [[ -z $pool_id ]]; then
		# A pool of ours whose state was lost: adopt it rather than make another.
		for id in $(aws_text cognito-idp list-user-pools --max-results 60 \
			--query "UserPools[?Name=='$USER_POOL_NAME'].Id"); do
			tag=$(aws_text cognito-idp describe-user-pool --user-pool-id "$id" \
				--query "UserPool.UserPoolTags.\"$POOL_TAG_KEY\"")
			if [[ $tag == "$API_NAME" ]]; then
				pool_id=$id
				log "adopting user pool $pool_id (tagged $POOL_TAG_KEY=$API_NAME)"
				break
			fi
		done
	fi
	if [[ -z $pool_id ]]; then
		log "creating user pool $USER_POOL_NAME"
		# Users are created by an administrator: a public sign-up page on an
		# API that reads the account's Bedrock usage would be an open door.
		pool_id=$(aws_text cognito-idp create-user-pool --pool-name "$USER_POOL_NAME" \
			--username-attributes email --auto-verified-attributes email \
			--admin-create-user-config AllowAdminCreateUserOnly=true \
			--policies 'PasswordPolicy={MinimumLength=12,RequireUppercase=true,RequireLowercase=true,RequireNumbers=true,RequireSymbols=false}' \
			--user-pool-tags "$POOL_TAG_KEY=$API_NAME" --query UserPool.Id)
		# A new pool is empty: no domain, resource server or client to look up.
		pool_domains="None None" new_pool=1
	fi
	state_set COGNITO_POOL_CREATED "$pool_id"
fi
state_set COGNITO_POOL_USED "$pool_id"
pool_region=${pool_id%%_*}

# Domain: the pool's own if it has one.
[[ -n $pool_domains ]] || pool_domains=$(describe_pool "$pool_id")
read -r domain custom <<<"$pool_domains"
if [[ -n $custom && $custom != None ]]; then
	host=$custom
elif [[ -n $domain && $domain != None ]]; then
	host=$domain.auth.$pool_region.amazoncognito.com
else
	prefix=${COGNITO_DOMAIN%%.*}
	if [[ -z $prefix ]]; then
		# Prefixes are global across AWS: the account id makes ours unique.
		prefix=$(tr '[:upper:]' '[:lower:]' <<<"$API_NAME-$(account_id)" | tr -c 'a-z0-9-\n' '-' |
			sed -E 's/aws|amazon|cognito/x/g' | cut -c1-63)
	fi
	log "creating Cognito domain $prefix"
	# Version 1, the classic hosted UI, explicitly: it serves its login page
	# on every feature plan as soon as the domain is live, while managed
	# login (version 2) shows none until a branding style is assigned to
	# the app client. Switch in the console (Domain > Branding version).
	aws cognito-idp create-user-pool-domain --user-pool-id "$pool_id" --domain "$prefix" \
		--managed-login-version 1 >/dev/null
	state_set COGNITO_DOMAIN_CREATED "$prefix"
	state_set COGNITO_DOMAIN_NEW "$(date -u +%s)"
	host=$prefix.auth.$pool_region.amazoncognito.com
fi
state_set COGNITO_DOMAIN_HOST "$host"

# Resource server: its identifier is the MCP URL, so the scope reads as the
# resource it grants (https://.../prod/mcp/mcp).
identifier=$(mcp_resource_url)
have=""
if [[ -z ${new_pool:-} ]]; then
	have=$(aws_text cognito-idp list-resource-servers --user-pool-id "$pool_id" --max-results 50 \
		--query "ResourceServers[?Identifier=='$identifier'].Identifier")
fi
if [[ -z $have ]]; then
	log "creating resource server $identifier"
	cli_json cognito-idp create-resource-server --cli-input-json "$(jq -nc --arg p "$pool_id" --arg i "$identifier" \
		'{UserPoolId: $p, Identifier: $i, Name: "mcp", Scopes: [{ScopeName: "mcp", ScopeDescription: "Use the MCP server"}]}')" >/dev/null
fi
old_identifier=$(state_get COGNITO_RESOURCE_SERVER_CREATED)
[[ -n $have ]] || state_set COGNITO_RESOURCE_SERVER_CREATED "$identifier"

# App client: public, authorization code + PKCE only. update-user-pool-client
# resets every field it is not given, so both paths send the full settings.
client_settings=$(jq -nc --arg p "$pool_id" --arg n "$CLIENT_NAME" --arg cb "$OAUTH_CALLBACK_URL" --arg s "$(mcp_scope)" \
	--arg rot "$REFRESH_TOKEN_ROTATION" '{
	UserPoolId: $p, ClientName: $n,
	AllowedOAuthFlows: ["code"], AllowedOAuthFlowsUserPoolClient: true,
	AllowedOAuthScopes: ["openid", $s], CallbackURLs: [$cb], LogoutURLs: [$cb],
	SupportedIdentityProviders: ["COGNITO"],
	ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH"],
	PreventUserExistenceErrors: "ENABLED", EnableTokenRevocation: true,
	AccessTokenValidity: 60, IdTokenValidity: 60, RefreshTokenValidity: 30,
	TokenValidityUnits: {AccessToken: "minutes", IdToken: "minutes", RefreshToken: "days"},
	RefreshTokenRotation: ({Feature: $rot} + (if $rot == "ENABLED" then {RetryGracePeriodSeconds: 10} else {} end))
}')
client_id=""
if [[ -z ${new_pool:-} ]]; then
	client_id=$(aws_text cognito-idp list-user-pool-clients --user-pool-id "$pool_id" --max-results 60 \
		--query "UserPoolClients[?ClientName=='$CLIENT_NAME'].ClientId")
fi
if [[ $client_id == *[[:space:]]* ]]; then
	die "several app clients are named $CLIENT_NAME in $pool_id"
elif [[ -z $client_id ]]; then
	log "creating app client $CLIENT_NAME"
	client_id=$(cli_json cognito-idp create-user-pool-client --cli-input-json \
		"$(jq -c '. + {GenerateSecret: false}' <<<"$client_settings")" | jq -r .UserPoolClient.ClientId)
	state_set COGNITO_CLIENT_CREATED "$client_id"
else
	log "updating app client $CLIENT_NAME"
	cli_json cognito-idp update-user-pool-client --cli-input-json \
		"$(jq -c --arg c "$client_id" '. + {ClientId: $c}' <<<"$client_settings")" >/dev/null
fi
state_set COGNITO_CLIENT_ID "$client_id"

# A resource server of ours for a URL no longer in use (e.g. a custom domain
# was added) goes, now that the client no longer names its scope.
if [[ -n $old_identifier && $old_identifier != "$identifier" ]]; then
	log "deleting stale resource server $old_identifier"
	cli_json cognito-idp delete-resource-server --cli-input-json \
		"$(jq -nc --arg p "$pool_id" --arg i "$old_identifier" '{UserPoolId: $p, Identifier: $i}')" >/dev/null || true
	# The current one was there before us: it is not ours to delete.
	[[ -z $have ]] || state_del COGNITO_RESOURCE_SERVER_CREATED
fi
