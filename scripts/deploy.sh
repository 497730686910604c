#!/usr/bin/env bash
# Deploys (or redeploys) everything, in dependency order:
#   image -> table -> roles -> log groups -> REST API (its id is in every URL)
#   -> Cognito or API key -> functions -> routes and stage -> outputs.
# AUTH=oauth: Cognito (a pool is created unless COGNITO_USER_POOL_ID names
# one); the server verifies every token itself. AUTH=lambda: the server
# trusts the authorizer (Cognito JWTs when COGNITO_USER_POOL_ID is given or
# deploy created a pool before, else a generated API key). In both, the
# REQUEST authorizer guards /mcp, so that every 401 and 403 a client meets is
# a gateway response with a real WWW-Authenticate header.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

case ${AUTH:-} in
oauth | lambda) ;;
*) die "set AUTH=oauth or AUTH=lambda (e.g. make deploy AUTH=oauth)" ;;
esac

# Preflight: everything that could stop the deploy halfway is checked before
# the first resource is created.
command -v jq >/dev/null || die "jq is needed"
preflight_aws_cli
if [[ -z $IMAGE_URI ]] && ! docker_ready; then
	die "$WHY_NOT_DOCKER: docker buildx builds the server image (or set IMAGE_URI to an image already in ECR)"
fi
if [[ -z $AUTHORIZER_ZIP ]] && ! command -v go >/dev/null && ! docker_ready; then
	die "the authorizer is built with Go or, without Go, with docker buildx ($WHY_NOT_DOCKER); or set AUTHORIZER_ZIP"
fi
log "region $AWS_REGION (from $REGION_SOURCE)"

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
step authorizer.sh
step apigateway.sh
step outputs.sh
