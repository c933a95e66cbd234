#!/usr/bin/env bash
# Benchmark (not a test): every counting rule on the real Łódź 2022 election (90,494 voters ×
# 160 projects, ../shared/pb-elections, read in place) and on 100 projects × 100,000 generated
# voters, gongzhi (release build) beside pabutools 1.2.3, then the consent-threshold standing on
# 5,000 holders. Prints the figures and the ratios. Takes minutes (pabutools is the slow side;
# a rule that pabutools does not finish within PB_TIMEOUT seconds, default 900, is reported as
# "timeout").
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/pb-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pabutools==1.2.3"
cargo build --release -q -p gongzhi
bin=target/release/gongzhi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lodz=${PB_ELECTIONS:-../shared/pb-elections}/poland_lodz_2022_.pb
gen="$tmp/generated_100x100000.pb"
"$bin" pb generate --projects 100 --voters 100000 --seed 2026 -o "$gen" >/dev/null

for f in "$lodz" "$gen"; do
  echo "== $(basename "$f")"
  "$bin" bench pb --rules greedy,mes,phragmen,mes-add1 "$f" | tee "$tmp/rs.txt"
  "$venv/bin/python" tests/pb/bench.py "$f" | tee "$tmp/py.txt"
  "$venv/bin/python" - "$tmp/rs.txt" "$tmp/py.txt" <<'PY'
import json, sys
rs = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
py = json.loads([l for l in open(sys.argv[2]) if l.startswith("{")][-1])
for rule in ("greedy", "mes", "phragmen"):
    a, b = rs.get(rule + "_ms"), py.get(rule + "_s")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0:
        print(f"  ratio {rule:<9} pabutools / gongzhi = {b * 1000 / a:8.1f}x")
    else:
        print(f"  ratio {rule:<9} n/a (gongzhi {a}, pabutools {b})")
PY
done
echo "== consent thresholds: standing and smallest set on 5,000 holders"
"$bin" bench decision --holders 5000 --runs 20
