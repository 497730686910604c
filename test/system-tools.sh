#!/usr/bin/env bash
# The system commands the tests need that no lock file pins: the deploy tests
# run the AWS CLI, jq and shellcheck; the AWS emulation is moto_server.
# Missing Debian packages are installed with apt-get when running as root in
# CI (CI set, as on the CI machine); anywhere else each missing command gets a
# one-line instruction and the script fails, so a test never skips silently
# for want of a tool.
set -euo pipefail

# command:Debian package
debian=(shellcheck:shellcheck jq:jq make:make git:git)

missing_pkgs=()
for pair in "${debian[@]}"; do
	command -v "${pair%%:*}" >/dev/null || missing_pkgs+=("${pair#*:}")
done

if ((${#missing_pkgs[@]})); then
	if [[ -n ${CI:-} && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "installing Debian packages: ${missing_pkgs[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
	else
		for p in "${missing_pkgs[@]}"; do
			echo "$p is not installed; the tests need it: sudo apt-get install -y $p (Debian/Ubuntu) or brew install $p (macOS)" >&2
		done
		exit 1
	fi
fi

# Not from Debian: the packaged versions are too old for what the tests use
# (API Gateway response streaming in the CLI, Cognito in moto).
fail=0
if ! command -v aws >/dev/null; then
	echo "aws is not installed; the deploy tests need the AWS CLI (v1 or v2): https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" >&2
	fail=1
fi
if ! command -v moto_server >/dev/null; then
	echo "moto_server is not installed; the AWS tests need it: pip install 'moto[server]'" >&2
	fail=1
fi
exit "$fail"
