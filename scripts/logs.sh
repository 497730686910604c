#!/usr/bin/env bash
# Step: the functions' log groups, created ahead of the functions so they get a
# retention period (Lambda's own groups keep logs forever, at a cost) and so
# the roles need no logs:CreateLogGroup.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# state key, then group name
groups=(LOG_GROUP_SERVER_CREATED "/aws/lambda/$FUNCTION_NAME"
	LOG_GROUP_AUTHORIZER_CREATED "/aws/lambda/$AUTHORIZER_NAME")

existing=$(aws_json logs describe-log-groups --log-group-name-prefix /aws/lambda/ \
	--query 'logGroups[].[logGroupName, retentionInDays]')
for ((i = 0; i < ${#groups[@]}; i += 2)); do
	key=${groups[i]} g=${groups[i + 1]}
	days=$(jq -r --arg g "$g" '.[] | select(.[0] == $g) | .[1] // "none"' <<<"$existing")
	if [[ -z $days ]]; then
		log "creating log group $g"
		aws logs create-log-group --log-group-name "$g"
		state_set "$key" "$g"
	fi
	if [[ $days != "$LOG_RETENTION_DAYS" ]]; then
		aws logs put-retention-policy --log-group-name "$g" --retention-in-days "$LOG_RETENTION_DAYS"
	fi
done
