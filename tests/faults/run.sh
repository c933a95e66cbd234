#!/usr/bin/env bash
# The fault suite: faults an operator meets, against the real server (crates/web/tests/faults.rs).
# Needs root (it mounts a small tmpfs to fill up); .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
  echo "FAIL: the fault suite mounts a tmpfs and needs root" >&2
  exit 1
fi
GONGZHI_FAULTS=1 cargo test --workspace --test faults -- --nocapture
