#!/usr/bin/env bash
# Step: execution roles. The server's role may read the Bedrock invocation log
# group (in any region: the report takes a region argument), use the session
# table, assume the cross-account reader role, and write its own logs. The
# authorizer's role (every mode has the authorizer) may only write its own
# logs. Policies are replaced on every run, so a redeploy also narrows what
# an earlier one granted.
# Logs Insights: StartQuery is granted on the invocation log group only;
# GetQueryResults and StopQuery name a query id, not a log group, and IAM
# offers no resource type for them, so they need "*" (they reach no data a
# query on that log group could not).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

acct=$(account_id)
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'

# ensure_role NAME STATE_KEY POLICY_JSON
ensure_role() {
	local name=$1 key=$2 policy=$3 out
	if out=$(aws_json iam get-role --role-name "$name" 2>&1); then
		if ! jq -e --argjson t "$trust" '.Role.AssumeRolePolicyDocument == $t' <<<"$out" >/dev/null; then
			aws iam update-assume-role-policy --role-name "$name" --policy-document "$trust"
		fi
	elif is_missing "$out"; then
		log "creating role $name"
		aws iam create-role --role-name "$name" --assume-role-policy-document "$trust" \
			--description "MCP deployment ($API_NAME)" >/dev/null
		state_set "$key" "$name"
	else
		printf '%s\n' "$out" >&2
		die "cannot read role $name"
	fi
	aws iam put-role-policy --role-name "$name" --policy-name "$name-policy" --policy-document "$policy"
	# Recorded even on a role deploy did not create: destroy removes it.
	state_add ROLE_POLICIES "$name:$name-policy"
}

logs_arn() { printf 'arn:aws:logs:%s:%s:log-group:/aws/lambda/%s:*' "$AWS_REGION" "$acct" "$1"; }

server_policy=$(jq -n \
	--arg own "$(logs_arn "$FUNCTION_NAME")" \
	--arg bedrock "arn:aws:logs:*:$acct:log-group:$LOG_GROUP_NAME:*" \
	--arg anygroup "arn:aws:logs:*:$acct:log-group:*" \
	--arg table "arn:aws:dynamodb:$AWS_REGION:$acct:table/$SESSION_TABLE" \
	--arg reader "arn:aws:iam::*:role/$BEDROCK_CROSS_ACCOUNT_ROLE" '{
	Version: "2012-10-17",
	Statement: [
		{Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: $own},
		{Sid: "BedrockInvocationLogs", Effect: "Allow", Action: ["logs:FilterLogEvents"], Resource: $bedrock},
		{Sid: "BedrockInsightsQuery", Effect: "Allow", Action: ["logs:StartQuery"], Resource: $bedrock},
		{Sid: "BedrockInsightsResults", Effect: "Allow", Action: ["logs:GetQueryResults", "logs:StopQuery"], Resource: "*"},
		{Sid: "DescribeLogGroups", Effect: "Allow", Action: ["logs:DescribeLogGroups"], Resource: $anygroup},
		{Sid: "Sessions", Effect: "Allow",
		 Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"],
		 Resource: $table},
		{Sid: "CrossAccountBedrockReader", Effect: "Allow", Action: ["sts:AssumeRole"], Resource: $reader}
	]}')

authorizer_policy=$(jq -n --arg own "$(logs_arn "$AUTHORIZER_NAME")" '{
	Version: "2012-10-17",
	Statement: [{Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: $own}]}')

ensure_role "$SERVER_ROLE_NAME" SERVER_ROLE_CREATED "$server_policy"
ensure_role "$AUTHORIZER_ROLE_NAME" AUTHORIZER_ROLE_CREATED "$authorizer_policy"
