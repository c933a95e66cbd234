#!/usr/bin/env bash
# The fault suite: faults an operator meets, against the real server (crates/web/tests/faults.rs).
# Needs root (it mounts a small tmpfs to fill up); .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
  echo "FAIL: the fault suite mounts a tmpfs and needs root" >&2
  exit 1
fi
# Build with the same target selection as `cargo test` (after it, nothing is rebuilt; selecting
# `--test faults` alone changes the dependencies' features and rebuilt the web crates), then run
# the faults binary as cargo would (from its package's directory).
bin=$(cargo test --workspace --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "faults" and m.get("executable"):
        print(m["executable"])
')
if [ -z "$bin" ]; then
  echo "FAIL: the faults test binary was not built" >&2
  exit 1
fi
(cd crates/web && GONGZHI_FAULTS=1 "$bin" --nocapture)
