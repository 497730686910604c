# shellcheck shell=bash
# Shared by every deploy script: configuration, state, small helpers.
# Sourced, never run. Configuration precedence: the environment, then
# deploy.env (KEY=VALUE lines, read without shell evaluation so a config file
# can never run code), then the defaults below.

set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# load_env_file FILE: sets KEY=VALUE pairs not already set (non-empty) in the
# environment. Quotes around a value are stripped; nothing is expanded.
load_env_file() {
	local file=$1 line key value
	[[ -f $file ]] || return 0
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		line=${line#export }
		[[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || die "$file: malformed line: ${line%%=*}"
		key=${BASH_REMATCH[1]}
		value=${BASH_REMATCH[2]}
		if [[ $value =~ ^\"([^\"]*)\"[[:space:]]*(#.*)?$ || $value =~ ^\'([^\']*)\'[[:space:]]*(#.*)?$ ]]; then
			value=${BASH_REMATCH[1]}
		else
			# Unquoted: a trailing " # comment" is a comment.
			value=${value%%[[:space:]]#*}
			value=${value%"${value##*[![:space:]]}"}
		fi
		if [[ -z ${!key:-} ]]; then
			printf -v "$key" '%s' "$value"
			export "${key?}"
		fi
	done <"$file"
}

load_env_file "${DEPLOY_ENV_FILE:-$ROOT_DIR/deploy.env}"

# The region: AWS_REGION, then AWS_DEFAULT_REGION, then the CLI profile's
# (aws configure get region), and only then us-east-1; REGION_SOURCE says
# which, for the outputs. Exported, so the steps deploy.sh runs inherit it.
if [[ -n ${AWS_REGION:-} ]]; then
	: "${REGION_SOURCE:=AWS_REGION}"
elif [[ -n ${AWS_DEFAULT_REGION:-} ]]; then
	AWS_REGION=$AWS_DEFAULT_REGION REGION_SOURCE=AWS_DEFAULT_REGION
elif AWS_REGION=$(aws configure get region 2>/dev/null) && [[ -n $AWS_REGION ]]; then
	REGION_SOURCE="the AWS CLI profile${AWS_PROFILE:+ $AWS_PROFILE}"
else
	AWS_REGION=us-east-1 REGION_SOURCE="the default"
fi
export REGION_SOURCE
: "${FUNCTION_NAME:=mcp-server}"
: "${API_NAME:=mcp-server-api}"
: "${STAGE:=prod}"
: "${AUTHORIZER_NAME:=mcp-authorizer}"
: "${MEMORY_SIZE:=2048}"
: "${TIMEOUT:=300}"
: "${AUTHORIZER_MEMORY_SIZE:=256}"
: "${AUTHORIZER_TIMEOUT:=10}"
: "${AUTHORIZER_RESULT_TTL:=300}"
: "${ARCH:=x86_64}"
: "${ECR_REPOSITORY:=mcp-server}"
: "${IMAGE_TAG:=latest}"
: "${SESSION_TABLE:=mcp-sessions}"
: "${LOG_GROUP_NAME:=/aws/bedrock/modelinvocations}"
: "${BEDROCK_CROSS_ACCOUNT_ROLE:=BedrockUsageReader}"
# Accounts the usage report may read besides this one (comma-separated
# 12-digit ids; none by default), the ExternalId their reader roles'
# trust policies require, and the scope a caller needs to ask for one.
: "${BEDROCK_ALLOWED_ACCOUNTS:=}"
: "${BEDROCK_EXTERNAL_ID:=}"
: "${BEDROCK_CROSS_ACCOUNT_SCOPE:=}"
: "${LOG_RETENTION_DAYS:=14}"
: "${LOG_LEVEL:=info}"
: "${OAUTH_CALLBACK_URL:=http://localhost:8000/callback}"
# A used refresh token is replaced by a new one (theft is detected on reuse).
# DISABLED for pools on a feature plan without rotation.
: "${REFRESH_TOKEN_ROTATION:=ENABLED}"
: "${CUSTOM_DOMAIN:=}"
: "${BASE_PATH:=}"
: "${COGNITO_USER_POOL_ID:=}"
: "${COGNITO_DOMAIN:=}"
: "${IMAGE_URI:=}"
: "${AUTHORIZER_ZIP:=}"
: "${DEPLOY_DIR:=$ROOT_DIR/.deploy}"
# Streaming integrations may run up to 15 minutes; the function's own timeout
# is what really bounds a request, so the gateway never cuts a stream first.
: "${INTEGRATION_TIMEOUT_MS:=900000}"
export AWS_REGION AWS_DEFAULT_REGION=$AWS_REGION
# The CLI must never page or prompt in a script.
export AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off

SERVER_ROLE_NAME=${SERVER_ROLE_NAME:-$FUNCTION_NAME-role}
AUTHORIZER_ROLE_NAME=${AUTHORIZER_ROLE_NAME:-$AUTHORIZER_NAME-role}
CLIENT_NAME=${CLIENT_NAME:-$API_NAME-client}
USER_POOL_NAME=${USER_POOL_NAME:-$API_NAME-users}
# Tag that marks a user pool as created by these scripts, so a lost state file
# never leads to a second pool and destroy never deletes someone else's.
# shellcheck disable=SC2034 # used by cognito.sh and destroy.sh
POOL_TAG_KEY=mcplambda-deployment
MCP_PATH_PART=mcp

# shellcheck disable=SC2034 # GOARCH is read by the steps that build
case $ARCH in
x86_64 | amd64) ARCH=x86_64 GOARCH=amd64 ;;
arm64 | aarch64) ARCH=arm64 GOARCH=arm64 ;;
*) die "ARCH must be x86_64 or arm64, not '$ARCH'" ;;
esac
# Not GOARCH: exported, it would also steer `go run` of build tools.
export ARCH

[[ $MEMORY_SIZE =~ ^[0-9]+$ ]] || die "MEMORY_SIZE must be a number of MB"
if ! [[ $TIMEOUT =~ ^[0-9]+$ ]] || ((TIMEOUT < 1 || TIMEOUT > 900)); then
	die "TIMEOUT must be 1..900 seconds"
fi
[[ $REFRESH_TOKEN_ROTATION == ENABLED || $REFRESH_TOKEN_ROTATION == DISABLED ]] ||
	die "REFRESH_TOKEN_ROTATION must be ENABLED or DISABLED"
[[ $BEDROCK_CROSS_ACCOUNT_ROLE =~ ^[A-Za-z0-9+=,.@_-]{1,64}$ ]] ||
	die "BEDROCK_CROSS_ACCOUNT_ROLE must be a role name (letters, digits and +=,.@_-), not '$BEDROCK_CROSS_ACCOUNT_ROLE'"
# Normalised to comma-separated ids; each one becomes exactly one role ARN
# in the server's policy, so a wildcard is refused.
allowed_accounts=()
IFS=$', \t' read -r -a listed <<<"$BEDROCK_ALLOWED_ACCOUNTS"
for a in "${listed[@]}"; do
	[[ $a =~ ^[0-9]{12}$ ]] ||
		die "BEDROCK_ALLOWED_ACCOUNTS: '$a' is not a 12-digit AWS account id (list the accounts one by one, comma-separated)"
	[[ " ${allowed_accounts[*]} " == *" $a "* ]] || allowed_accounts+=("$a")
done
BEDROCK_ALLOWED_ACCOUNTS=$(
	IFS=,
	echo "${allowed_accounts[*]}"
)
unset a listed allowed_accounts
# Not echoed: it is the shared half of the reader roles' trust.
[[ -z $BEDROCK_EXTERNAL_ID || $BEDROCK_EXTERNAL_ID =~ ^[A-Za-z0-9+=,.@:/_-]{2,1224}$ ]] ||
	die "BEDROCK_EXTERNAL_ID must be 2 to 1224 characters of letters, digits and +=,.@:/-_"
[[ -z $BEDROCK_CROSS_ACCOUNT_SCOPE || $BEDROCK_CROSS_ACCOUNT_SCOPE =~ ^[A-Za-z0-9:/._~+=@%-]+$ ]] ||
	die "BEDROCK_CROSS_ACCOUNT_SCOPE must be one OAuth scope (no spaces or quotes)"
# The authorizer refuses a token with less than this left to live (so a
# cached Allow never outlives it): with 60-minute access tokens, at most a
# quarter of their life.
if ! [[ $AUTHORIZER_RESULT_TTL =~ ^[0-9]+$ ]] || ((AUTHORIZER_RESULT_TTL > 900)); then
	die "AUTHORIZER_RESULT_TTL must be 0..900 seconds (the authorizer refuses tokens in their last AUTHORIZER_RESULT_TTL seconds, so a cached Allow never outlives a token)"
fi

mkdir -p "$DEPLOY_DIR"
chmod 700 "$DEPLOY_DIR"
STATE_FILE=$DEPLOY_DIR/state.env

aws_json() { aws --output json "$@"; }
aws_text() { aws --output text "$@"; }

# state_get KEY: the value recorded by an earlier step (empty if none).
state_get() {
	local key=$1
	[[ -f $STATE_FILE ]] || return 0
	awk -F= -v k="$key" '$1 == k { sub(/^[^=]*=/, ""); v = $0 } END { if (v != "") print v }' "$STATE_FILE"
}

# state_set KEY VALUE: records what deploy created (destroy reads it back).
state_set() {
	local key=$1 value=$2 tmp
	tmp=$(mktemp "$DEPLOY_DIR/.state.XXXXXX")
	if [[ -f $STATE_FILE ]]; then
		awk -F= -v k="$key" '$1 != k' "$STATE_FILE" >"$tmp"
	fi
	[[ -z $value ]] || printf '%s=%s\n' "$key" "$value" >>"$tmp"
	chmod 600 "$tmp"
	mv "$tmp" "$STATE_FILE"
}

state_del() { state_set "$1" ""; }

# state_add KEY ITEM: adds ITEM (no spaces) to the space-separated list KEY;
# state_remove KEY ITEM takes it out. Lists record what deploy added to
# resources it did not create (an inline policy, an invoke permission), so
# that destroy removes exactly those.
state_add() {
	local items
	items=" $(state_get "$1") "
	[[ $items == *" $2 "* ]] || state_set "$1" "$(xargs <<<"$items $2")"
}
state_remove() {
	local items
	items=" $(state_get "$1") "
	state_set "$1" "$(xargs <<<"${items/ $2 / }")"
}

account_id() {
	if [[ -z ${ACCOUNT_ID:-} ]]; then
		ACCOUNT_ID=$(state_get ACCOUNT_ID)
		if [[ -z $ACCOUNT_ID ]]; then
			ACCOUNT_ID=$(aws_text sts get-caller-identity --query Account)
			state_set ACCOUNT_ID "$ACCOUNT_ID"
		fi
	fi
	printf '%s\n' "$ACCOUNT_ID"
}

# The URL clients use. It names the gateway's stage (or the custom domain's
# base path): every URL the server advertises derives from it.
mcp_resource_url() {
	local api_id
	if [[ -n $CUSTOM_DOMAIN ]]; then
		printf 'https://%s%s/%s\n' "$CUSTOM_DOMAIN" "${BASE_PATH:+/$BASE_PATH}" "$MCP_PATH_PART"
		return
	fi
	api_id=$(state_get REST_API_ID)
	[[ -n $api_id ]] || die "no REST API yet: run scripts/restapi.sh first"
	printf 'https://%s.execute-api.%s.amazonaws.com/%s/%s\n' "$api_id" "$AWS_REGION" "$STAGE" "$MCP_PATH_PART"
}

# RFC 9728 metadata URL for the resource, as the server announces it.
resource_metadata_url() {
	local url
	url=$(mcp_resource_url)
	printf '%s/.well-known/oauth-protected-resource/%s\n' "${url%/"$MCP_PATH_PART"}" "$MCP_PATH_PART"
}

# The one scope of the resource server: Cognito names it IDENTIFIER/SCOPE.
mcp_scope() { printf '%s/mcp\n' "$(mcp_resource_url)"; }

function_arn() { printf 'arn:aws:lambda:%s:%s:function:%s\n' "$AWS_REGION" "$(account_id)" "$1"; }

# auth_mode prints oauth (Cognito; the authorizer and the server both verify
# tokens), jwt (AUTH=lambda with a pool: the authorizer verifies Cognito
# tokens, the server trusts it) or api_key (AUTH=lambda without a pool: the
# authorizer checks a generated key). Every mode has the authorizer in front
# of /mcp: on AWS only the gateway's own responses carry a real
# WWW-Authenticate header (a Lambda's is renamed).
auth_mode() {
	case ${AUTH:-} in
	oauth) echo oauth ;;
	lambda) if [[ -n $(cognito_pool_id) ]]; then echo jwt; else echo api_key; fi ;;
	*) die "AUTH must be oauth or lambda (got '${AUTH:-}')" ;;
	esac
}

# The pool in use: given by the user, or the one deploy created.
cognito_pool_id() {
	if [[ -n $COGNITO_USER_POOL_ID ]]; then
		printf '%s\n' "$COGNITO_USER_POOL_ID"
	else
		state_get COGNITO_POOL_CREATED
	fi
}

API_KEY_FILE=$DEPLOY_DIR/api-key

# sha256_hex: the hex SHA-256 of standard input. sha256sum is GNU
# coreutils; macOS has shasum instead.
sha256_hex() {
	local out
	if command -v sha256sum >/dev/null; then
		out=$(sha256sum)
	elif command -v shasum >/dev/null; then
		out=$(shasum -a 256)
	else
		die "neither sha256sum nor shasum is installed"
	fi
	printf '%s\n' "${out%% *}"
}

# Hex SHA-256 of the generated API key; the key itself never leaves .deploy/.
api_key_sha256() {
	[[ -s $API_KEY_FILE ]] || die "no API key in $API_KEY_FILE"
	sha256_hex <"$API_KEY_FILE"
}

# Environment shared by the server and the authorizer: the same variables
# configure the same verifier in both.
auth_env_json() {
	local mode pool_id url
	mode=$(auth_mode)
	url=$(mcp_resource_url)
	if [[ $mode == api_key ]]; then
		jq -n --arg url "$url" --arg h "$(api_key_sha256)" '{MCP_RESOURCE_URL: $url, API_KEY_SHA256: $h}'
		return
	fi
	pool_id=$(cognito_pool_id)
	jq -n --arg url "$url" --arg region "${pool_id%%_*}" --arg pool "$pool_id" \
		--arg client "$(state_get COGNITO_CLIENT_ID)" --arg scope "$(mcp_scope)" \
		--arg domain "$(state_get COGNITO_DOMAIN_HOST)" '{
		MCP_RESOURCE_URL: $url,
		COGNITO_REGION: $region,
		COGNITO_USER_POOL_ID: $pool,
		COGNITO_ALLOWED_CLIENT_IDS: $client,
		COGNITO_DOMAIN: $domain,
		OAUTH_REQUIRED_SCOPES: $scope,
		OAUTH_ALLOW_MISSING_AUDIENCE: "true"
	}'
}

# The AWS CLI features deploy uses, as "SERVICE OPERATION:skeleton key
# (flag)", and the first CLI versions that have them all. Checked before
# anything is created, so an old CLI fails the deploy at once rather than
# halfway (AWS CLI v1 and v2 both print an offline input skeleton).
CLI_FEATURES=(
	"apigateway put-integration:responseTransferMode (--response-transfer-mode, API Gateway response streaming)"
	"cognito-idp create-user-pool-client:RefreshTokenRotation (refresh-token rotation)"
	"cognito-idp create-user-pool-domain:ManagedLoginVersion (--managed-login-version)"
)
CLI_MIN_VERSIONS="AWS CLI v2 2.32.0 or v1 1.43.0"

# preflight_aws_cli: dies naming the minimum version if the installed AWS
# CLI lacks any flag deploy uses.
preflight_aws_cli() {
	command -v aws >/dev/null || die "the AWS CLI (aws) is needed: $CLI_MIN_VERSIONS or newer"
	local f op key skeleton version missing=()
	for f in "${CLI_FEATURES[@]}"; do
		op=${f%%:*} key=${f#*:}
		# shellcheck disable=SC2086 # op is "SERVICE OPERATION"
		skeleton=$(aws $op --generate-cli-skeleton input 2>/dev/null) || skeleton=""
		grep -q "\"${key%% *}\"" <<<"$skeleton" || missing+=("aws $op: ${key#* }")
	done
	if ((${#missing[@]})); then
		version=$(aws --version 2>&1 | head -n1)
		printf 'error: the installed AWS CLI (%s) lacks:\n' "$version" >&2
		printf '  %s\n' "${missing[@]}" >&2
		die "deploy needs $CLI_MIN_VERSIONS or newer: upgrade the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)"
	fi
}

# docker_ready: true when docker buildx can build here (the client, the
# buildx plugin and a reachable engine). WHY_NOT_DOCKER says what is missing.
# Asked once per deploy: the answer is exported to the steps deploy.sh runs.
docker_ready() {
	if [[ -z ${DOCKER_STATUS:-} ]]; then
		if ! command -v docker >/dev/null; then
			DOCKER_STATUS="docker is not installed"
		elif ! docker buildx version >/dev/null 2>&1; then
			DOCKER_STATUS="docker buildx is not available (install the buildx plugin, or Docker Desktop)"
		elif ! docker info >/dev/null 2>&1; then
			DOCKER_STATUS="the Docker engine is not running or not reachable (docker info fails)"
		else
			DOCKER_STATUS=ready
		fi
		export DOCKER_STATUS
	fi
	# shellcheck disable=SC2034 # WHY_NOT_DOCKER is read by the callers
	WHY_NOT_DOCKER=$DOCKER_STATUS
	[[ $DOCKER_STATUS == ready ]]
}

# is_missing ERR_TEXT: true when an AWS error means "does not exist".
is_missing() {
	grep -qE 'NotFound|NoSuchEntity|does not exist|ResourceNotFoundException|RepositoryNotFoundException|Invalid (Method|Resource|REST API) identifier' <<<"$1"
}

# try_delete DESCRIPTION CMD...: runs a delete, treating "already gone" as done.
try_delete() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		log "deleted $what"
	elif is_missing "$out"; then
		log "$what already gone"
	else
		printf '%s\n' "$out" >&2
		die "could not delete $what"
	fi
}

# write_env_file NAME JSON: the {"Variables": ...} document for --environment,
# kept in a 0600 file so values never appear in a process list.
write_env_file() {
	local file=$DEPLOY_DIR/$1.env.json
	(
		umask 077
		jq -c '{Variables: .}' <<<"$2" >"$file"
	)
	printf '%s\n' "$file"
}

# create_function ARGS...: create-function, retried while a new role has not
# yet propagated through IAM (Lambda then says it cannot assume it).
create_function() {
	local out attempt
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		if out=$(aws_json lambda create-function "$@" 2>&1); then
			return 0
		fi
		grep -q 'cannot be assumed\|role defined for the function' <<<"$out" || break
		log "waiting for the new role to propagate ($attempt)"
		sleep 3
	done
	printf '%s\n' "$out" >&2
	return 1
}

# function_exists NAME: 0 if present, 1 if missing, dies on other errors.
function_exists() {
	local out
	if out=$(aws lambda get-function-configuration --function-name "$1" 2>&1); then
		return 0
	elif is_missing "$out"; then
		return 1
	fi
	printf '%s\n' "$out" >&2
	die "cannot read function $1"
}

role_arn() { printf 'arn:aws:iam::%s:role/%s\n' "$(account_id)" "$1"; }
