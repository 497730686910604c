#!/usr/bin/env bash
# Deploys (or redeploys) everything, in dependency order:
#   image -> table -> roles -> log groups -> REST API (its id is in every URL)
#   -> Cognito or API key -> functions -> routes and stage -> outputs.
# AUTH=oauth: the server verifies Cognito tokens itself (a pool is created
# unless COGNITO_USER_POOL_ID names one). AUTH=lambda: an API Gateway
# authorizer verifies tokens first (Cognito JWTs when COGNITO_USER_POOL_ID is
# given or deploy created a pool before, else a generated API key).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

case ${AUTH:-} in
oauth | lambda) ;;
*) die "set AUTH=oauth or AUTH=lambda (e.g. make deploy AUTH=oauth)" ;;
esac
command -v aws >/dev/null || die "the AWS CLI (aws) is needed"
command -v jq >/dev/null || die "jq is needed"

step() {
	log "step: $1"
	"$(dirname "$0")/$1"
}

state_set AUTH "$AUTH"
step ecr.sh
step dynamodb.sh
step iam.sh
step logs.sh
step restapi.sh
if [[ $AUTH == oauth || -n $(cognito_pool_id) ]]; then
	step cognito.sh
else
	step apikey.sh
fi
step lambda.sh
[[ $AUTH == oauth ]] || step authorizer.sh
step apigateway.sh
step outputs.sh
