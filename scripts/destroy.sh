#!/usr/bin/env bash
# Deletes what deploy.sh created, as recorded in .deploy/state.env, and
# nothing else: a user pool given with COGNITO_USER_POOL_ID, a table or role
# that existed before, an image repository given with IMAGE_URI all stay.
# What deploy added to resources that existed before (an inline policy on a
# role, an invoke permission on a function, methods, resources, an
# authorizer and gateway responses in a REST API found by name) is removed.
# Already-missing resources are fine, so an interrupted destroy can be re-run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $STATE_FILE ]] || {
	log "nothing recorded in $STATE_FILE: nothing to destroy"
	exit 0
}

# done_with KEY: forget a resource once it is gone, so a re-run skips it.
done_with() { state_del "$1"; }

if m=$(state_get BASE_PATH_MAPPING_CREATED); [[ -n $m ]]; then
	read -r domain base <<<"$m"
	try_delete "base path mapping $domain/$base" \
		aws apigateway delete-base-path-mapping --domain-name "$domain" --base-path "$base"
	done_with BASE_PATH_MAPPING_CREATED
fi

if id=$(state_get REST_API_CREATED); [[ -n $id ]]; then
	try_delete "REST API $id" aws apigateway delete-rest-api --rest-api-id "$id"
	done_with REST_API_CREATED
elif id=$(state_get REST_API_ID); [[ -n $id ]]; then
	# Someone else's API (found by name): take out only what deploy added,
	# methods before the authorizer they name, then redeploy the stage.
	changed=""
	for m in $(state_get API_METHODS_PUT); do
		try_delete "method ${m#*/} on resource ${m%/*}" aws apigateway delete-method \
			--rest-api-id "$id" --resource-id "${m%/*}" --http-method "${m#*/}"
		state_remove API_METHODS_PUT "$m"
		changed=1
	done
	read -r -a ours <<<"$(state_get API_RESOURCES_CREATED)"
	for ((i = ${#ours[@]} - 1; i >= 0; i--)); do # children before parents
		try_delete "resource ${ours[i]}" aws apigateway delete-resource --rest-api-id "$id" --resource-id "${ours[i]}"
		state_remove API_RESOURCES_CREATED "${ours[i]}"
		changed=1
	done
	if a=$(state_get API_AUTHORIZER_CREATED); [[ -n $a ]]; then
		try_delete "authorizer $a" aws apigateway delete-authorizer --rest-api-id "$id" --authorizer-id "$a"
		done_with API_AUTHORIZER_CREATED
		changed=1
	fi
	for type in $(state_get API_GATEWAY_RESPONSES_PUT); do
		try_delete "gateway response $type" aws apigateway delete-gateway-response --rest-api-id "$id" --response-type "$type"
		state_remove API_GATEWAY_RESPONSES_PUT "$type"
		changed=1
	done
	if s=$(state_get API_STAGE_CREATED); [[ -n $s ]]; then
		try_delete "stage $s of REST API $id" aws apigateway delete-stage --rest-api-id "$id" --stage-name "$s"
		done_with API_STAGE_CREATED
	elif [[ -n $changed ]] && aws apigateway get-stage --rest-api-id "$id" --stage-name "$STAGE" >/dev/null 2>&1; then
		log "redeploying stage $STAGE of REST API $id without what deploy added"
		if ! out=$(aws apigateway create-deployment --rest-api-id "$id" --stage-name "$STAGE" --description "destroy.sh" 2>&1); then
			warn "stage $STAGE of REST API $id still serves what deploy added until its next deployment: ${out##*$'\n'}"
		fi
	fi
fi

# Invoke permissions deploy added to functions destroy does not delete.
deleting=" $(state_get FUNCTION_CREATED) $(state_get AUTHORIZER_FUNCTION_CREATED) "
for p in $(state_get LAMBDA_PERMISSIONS); do
	fn=${p%%:*} sid=${p#*:}
	if [[ $deleting != *" $fn "* ]]; then
		try_delete "permission $sid of function $fn" aws lambda remove-permission --function-name "$fn" --statement-id "$sid"
	fi
	state_remove LAMBDA_PERMISSIONS "$p"
done

for key in FUNCTION_CREATED AUTHORIZER_FUNCTION_CREATED; do
	if fn=$(state_get "$key"); [[ -n $fn ]]; then
		try_delete "function $fn" aws lambda delete-function --function-name "$fn"
		done_with "$key"
	fi
done

for key in LOG_GROUP_SERVER_CREATED LOG_GROUP_AUTHORIZER_CREATED; do
	if g=$(state_get "$key"); [[ -n $g ]]; then
		try_delete "log group $g" aws logs delete-log-group --log-group-name "$g"
		done_with "$key"
	fi
done

# Inline policies deploy put on roles destroy does not delete.
deleting=" $(state_get SERVER_ROLE_CREATED) $(state_get AUTHORIZER_ROLE_CREATED) "
for rp in $(state_get ROLE_POLICIES); do
	role=${rp%%:*} policy=${rp#*:}
	if [[ $deleting != *" $role "* ]]; then
		try_delete "policy $policy of role $role" aws iam delete-role-policy --role-name "$role" --policy-name "$policy"
	fi
	state_remove ROLE_POLICIES "$rp"
done

for key in SERVER_ROLE_CREATED AUTHORIZER_ROLE_CREATED; do
	if role=$(state_get "$key"); [[ -n $role ]]; then
		if policies=$(aws_text iam list-role-policies --role-name "$role" --query PolicyNames 2>/dev/null); then
			for p in $policies; do
				aws iam delete-role-policy --role-name "$role" --policy-name "$p"
			done
		fi
		try_delete "role $role" aws iam delete-role --role-name "$role"
		done_with "$key"
	fi
done

if t=$(state_get TABLE_CREATED); [[ -n $t ]]; then
	try_delete "table $t" aws dynamodb delete-table --table-name "$t"
	done_with TABLE_CREATED
fi

pool=$(state_get COGNITO_POOL_USED)
if [[ -n $pool ]]; then
	if d=$(state_get COGNITO_DOMAIN_CREATED); [[ -n $d ]]; then
		try_delete "Cognito domain $d" aws cognito-idp delete-user-pool-domain --user-pool-id "$pool" --domain "$d"
		done_with COGNITO_DOMAIN_CREATED
	fi
	created=$(state_get COGNITO_POOL_CREATED)
	if [[ $created == "$pool" ]]; then
		tag=$(aws_text cognito-idp describe-user-pool --user-pool-id "$pool" \
			--query "UserPool.UserPoolTags.\"$POOL_TAG_KEY\"" 2>/dev/null || echo gone)
		case $tag in
		gone) log "user pool $pool already gone" ;;
		"$API_NAME") try_delete "user pool $pool" aws cognito-idp delete-user-pool --user-pool-id "$pool" ;;
		*) warn "user pool $pool is not tagged $POOL_TAG_KEY=$API_NAME: left in place" ;;
		esac
	else
		# Someone else's pool: only our client and resource server go.
		if c=$(state_get COGNITO_CLIENT_CREATED); [[ -n $c ]]; then
			try_delete "app client $c" aws cognito-idp delete-user-pool-client --user-pool-id "$pool" --client-id "$c"
		fi
		if rs=$(state_get COGNITO_RESOURCE_SERVER_CREATED); [[ -n $rs ]]; then
			# Not fatal: a resource server costs nothing and grants nothing once
			# no client names its scope, and the rest must still go.
			if ! out=$(aws cognito-idp delete-resource-server --cli-input-json \
				"$(jq -nc --arg p "$pool" --arg i "$rs" '{UserPoolId: $p, Identifier: $i}')" 2>&1) && ! is_missing "$out"; then
				warn "could not delete resource server $rs in $pool (delete it in the console): ${out##*$'\n'}"
			else
				log "deleted resource server $rs"
			fi
		fi
	fi
	for k in COGNITO_POOL_CREATED COGNITO_CLIENT_CREATED COGNITO_RESOURCE_SERVER_CREATED COGNITO_POOL_USED; do
		done_with "$k"
	done
fi

if r=$(state_get ECR_REPOSITORY_CREATED); [[ -n $r ]]; then
	try_delete "ECR repository $r" aws ecr delete-repository --repository-name "$r" --force
	done_with ECR_REPOSITORY_CREATED
fi

rm -f "$DEPLOY_DIR"/outputs.env "$DEPLOY_DIR"/*.env.json "$DEPLOY_DIR"/authorizer.zip "$API_KEY_FILE" "$STATE_FILE"
rm -rf "$DEPLOY_DIR/authorizer"
log "destroyed"
