#!/usr/bin/env bash
# Step: the session table (partition key session_id, on-demand billing, TTL on
# expires_at), so a session survives requests landing on other instances.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

if out=$(aws dynamodb describe-table --table-name "$SESSION_TABLE" 2>&1); then
	log "table $SESSION_TABLE exists"
elif is_missing "$out"; then
	log "creating table $SESSION_TABLE"
	aws dynamodb create-table --table-name "$SESSION_TABLE" \
		--attribute-definitions AttributeName=session_id,AttributeType=S \
		--key-schema AttributeName=session_id,KeyType=HASH \
		--billing-mode PAY_PER_REQUEST >/dev/null
	state_set TABLE_CREATED "$SESSION_TABLE"
	created=1
	aws dynamodb wait table-exists --table-name "$SESSION_TABLE"
else
	printf '%s\n' "$out" >&2
	die "cannot read table $SESSION_TABLE"
fi

# A table created just now has no TTL yet: no need to ask.
ttl=none
if [[ -z ${created:-} ]]; then
	ttl=$(aws_text dynamodb describe-time-to-live --table-name "$SESSION_TABLE" \
		--query 'TimeToLiveDescription.[TimeToLiveStatus,AttributeName]')
fi
if [[ $ttl != ENABLED*expires_at && $ttl != ENABLING*expires_at ]]; then
	log "enabling TTL on expires_at"
	aws dynamodb update-time-to-live --table-name "$SESSION_TABLE" \
		--time-to-live-specification Enabled=true,AttributeName=expires_at >/dev/null
fi
