#!/usr/bin/env bash
# The fault suite: faults an operator meets, against the real server. Two test binaries:
#   faults          (crates/web/tests/faults.rs)          a full disk under the running server;
#   process_faults  (crates/cli/tests/process_faults.rs)  the `gongzhi` binary killed with -9
#                   during writes, stopped by SIGTERM with requests in flight, backed up during
#                   writes.
# Needs root (it mounts a small tmpfs to fill up); .ci/run calls it. GONGZHI_TEST_DATABASE as for
# the other suites (a postgres:// URL runs the rounds that apply on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
  echo "FAIL: the fault suite mounts a tmpfs and needs root" >&2
  exit 1
fi
# Build with the same target selection as `cargo test` (after it, nothing is rebuilt; selecting
# `--test faults` alone changes the dependencies' features and rebuilt the web crates), then run
# each binary as cargo would (from its package's directory).
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
bins=$(cargo test --workspace --no-run --message-format=json 2>"$build_log" | python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-message" and m["message"].get("level") == "error":
        sys.stderr.write(m["message"].get("rendered") or "")
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] in ("faults", "process_faults") \
            and m.get("executable"):
        print(m["target"]["name"], os.path.dirname(m["manifest_path"]), m["executable"])
') || { cat "$build_log" >&2; echo "FAIL: the test binaries did not build" >&2; exit 1; }
for name in faults process_faults; do
  if ! grep -q "^$name " <<<"$bins"; then
    echo "FAIL: the $name test binary was not built" >&2
    exit 1
  fi
done
status=0
while read -r name dir bin; do
  echo "== $name"
  # One test at a time: the process tests time shutdowns and grace periods.
  (cd "$dir" && GONGZHI_FAULTS=1 "$bin" --nocapture --test-threads=1) || status=1
done <<<"$bins"
exit $status
