#!/usr/bin/env bash
# Browser tests: a fresh demo database, the real server on a free port, Playwright (playwright-core)
# driving Debian's Chromium. Screenshots land in target/screenshots/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
(cd "$here" && npm ci --no-audit --no-fund --silent)
# The binary as `cargo test` builds it (same features: after `cargo test`, nothing is rebuilt).
cargo test --workspace --no-run -q
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
db="sqlite://$tmp/e2e.db"
./target/debug/gongzhi demo --communities 3 --database "$db" >/dev/null
GONGZHI_LOG=warn ./target/debug/gongzhi serve --database "$db" --port "$port" >"$tmp/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
export GONGZHI_URL="http://127.0.0.1:$port" SCREENSHOTS="$root/target/screenshots"
(cd "$here" && node --test)
