#!/usr/bin/env bash
# Step: the API key for AUTH=lambda without a user pool. Generated once
# (32 random bytes, base64url) and kept in .deploy/api-key (0600) so a
# redeploy keeps working clients; only its SHA-256 reaches AWS.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

if [[ -s $API_KEY_FILE ]]; then
	log "reusing the API key in $API_KEY_FILE"
	exit 0
fi
(
	umask 077
	head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$API_KEY_FILE"
)
log "generated an API key in $API_KEY_FILE"
