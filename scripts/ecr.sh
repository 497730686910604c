#!/usr/bin/env bash
# Step: the image. Creates the ECR repository if missing, then builds the
# server image for ARCH with docker buildx and pushes it. With IMAGE_URI set
# (an image already pushed) it does nothing at all.
# Records IMAGE_URI in state for lambda.sh.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

if [[ -n $IMAGE_URI ]]; then
	log "IMAGE_URI is set: not building or pushing"
	state_set IMAGE_URI "$IMAGE_URI"
	exit 0
fi

docker_ready || die "$WHY_NOT_DOCKER: docker buildx builds the server image (or set IMAGE_URI to an image already in ECR)"

if ! repo_uri=$(aws_text ecr describe-repositories --repository-names "$ECR_REPOSITORY" \
	--query 'repositories[0].repositoryUri' 2>/dev/null); then
	log "creating ECR repository $ECR_REPOSITORY"
	repo_uri=$(aws_text ecr create-repository --repository-name "$ECR_REPOSITORY" \
		--image-scanning-configuration scanOnPush=true --image-tag-mutability MUTABLE \
		--query 'repository.repositoryUri')
	state_set ECR_REPOSITORY_CREATED "$ECR_REPOSITORY"
	# Old untagged images are pure storage cost: keep the last 10.
	aws ecr put-lifecycle-policy --repository-name "$ECR_REPOSITORY" --lifecycle-policy-text \
		'{"rules":[{"rulePriority":1,"description":"keep 10 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}' >/dev/null
fi

registry=${repo_uri%%/*}
tag=$IMAGE_TAG
if [[ $tag == latest ]]; then
	# A tag per build: Lambda resolves a tag to a digest at update time, and a
	# fresh tag makes every redeploy visible in the function's history.
	tag=$(git -C "$ROOT_DIR" describe --tags --always --dirty 2>/dev/null || date -u +%Y%m%d%H%M%S)
fi

log "logging in to $registry"
aws ecr get-login-password | docker login --username AWS --password-stdin "$registry" >/dev/null

log "building linux/${GOARCH} image $repo_uri:$tag"
# --provenance=false --sbom=false: Lambda accepts only a plain image
# manifest, not the image index buildx writes when it adds attestations.
# TARGETARCH, which the Dockerfile compiles for, comes from --platform.
docker buildx build --platform "linux/$GOARCH" --provenance=false --sbom=false \
	--build-arg VERSION="$tag" -t "$repo_uri:$tag" --push "$ROOT_DIR"

state_set IMAGE_URI "$repo_uri:$tag"
