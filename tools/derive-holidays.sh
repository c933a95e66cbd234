#!/usr/bin/env bash
# Derive data/holidays-cn.csv from the npm package chinese-days (MIT).
# Usage: tools/derive-holidays.sh
# Needs npm and python3; downloads the package into a scratch folder, never at run time.
set -euo pipefail
version=1.5.7
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "chinese-days@$version" >/dev/null && tar xzf chinese-days-$version.tgz)
python3 "$here/tools/derive_holidays.py" "$tmp/package/dist/chinese-days.json" "$version" > "$here/data/holidays-cn.csv"
echo "wrote data/holidays-cn.csv"
