#!/usr/bin/env bash
# Cross-check of the participatory-budgeting counts against pabutools 1.2.3 from PyPI (an
# independent implementation): 60 seeded random instances (approval and cumulative, with ties),
# then the real elections in ../shared/pb-elections, read in place (a rule is skipped on a file
# when pabutools takes more than PB_TIMEOUT seconds, default 240; files larger than PB_MAX_BYTES,
# default 1,000,000 — Amsterdam and Łódź — are the benchmark's, tests/pb/bench.sh). Virtual environment in
# target/pb-venv; the gongzhi debug binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/pb-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pabutools==1.2.3"

# The binary as `cargo test` builds it (same features: after `cargo test`, nothing is rebuilt).
cargo test --workspace --no-run -q
real=${PB_ELECTIONS:-../shared/pb-elections}
"$venv/bin/python" tests/pb/crosscheck.py --bin target/debug/gongzhi --instances "${PB_INSTANCES:-60}" \
  --real "$real" --timeout "${PB_TIMEOUT:-240}" --max-bytes "${PB_MAX_BYTES:-1000000}"
