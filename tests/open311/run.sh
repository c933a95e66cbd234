#!/usr/bin/env bash
# Open311 GeoReport v2 with a real client: the PyPI package georeport 0.3.1 (unchanged) reads
# services, definitions and requests (with filters, and one request) from `gongzhi serve --demo`,
# in JSON and XML. Creates a virtual environment in target/open311-venv, a temporary SQLite
# database, an API key with the CLI and two requests through POST; stops the server at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/open311-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "georeport==0.3.1"

# The binary as `cargo test` builds it (same features: after `cargo test`, nothing is rebuilt).
cargo test --workspace --no-run -q
bin=target/debug/gongzhi

tmp=$(mktemp -d)
db="sqlite://$tmp/g.db"
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"

"$bin" serve --demo --port "$port" --database "$db" >"$tmp/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== Open311: waiting for gongzhi serve --demo on port $port (loading the demo city)"
for _ in $(seq 1 600); do
  if curl -fsS "$base/api/health" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "FAIL: the server stopped:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS "$base/api/health" >/dev/null

key=$("$bin" open311 key --label "georeport client test" --database "$db" 2>/dev/null)
grid=$(curl -fsS "$base/api/grids?page_size=1" | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["features"][0]["properties"]["code"])')

# Two requests: a broken cover (component, with attributes) and a noise complaint (12345).
post() {
  curl -sS -o "$tmp/post.json" -w '%{http_code}' -X POST "$base/open311/v2/requests.json" "$@"
}
status=$(post --data-urlencode "api_key=$key" --data-urlencode "service_code=C0105-02" \
  --data-urlencode "address_id=$grid" --data-urlencode "description=人民路电力井盖破损，车辆经过有响声" \
  --data-urlencode "attribute[hazard]=high" --data-urlencode "attribute[affected][]=pedestrians" \
  --data-urlencode "attribute[affected][]=vehicles" --data-urlencode "first_name=小明" \
  --data-urlencode "last_name=王" --data-urlencode "phone=13800138000" --data-urlencode "email=wang@example.com")
if [ "$status" != 201 ]; then
  echo "FAIL: POST requests.json answered $status: $(cat "$tmp/post.json")" >&2
  exit 1
fi
cover_id=$("$venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["service_request_id"])' "$tmp/post.json")
status=$(post --data-urlencode "api_key=$key" --data-urlencode "service_code=S0101-02" \
  --data-urlencode "lat=30.6595" --data-urlencode "long=104.0657" --data-urlencode "description=楼上夜间噪音")
if [ "$status" != 201 ]; then
  echo "FAIL: POST requests.json answered $status: $(cat "$tmp/post.json")" >&2
  exit 1
fi
noise_id=$("$venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["service_request_id"])' "$tmp/post.json")

echo "== Open311: georeport $("$venv/bin/python" -c 'import georeport; print(georeport.__version__)') against $base/open311/v2"
OPEN311_ROOT="$base/open311/v2" OPEN311_COVER_ID="$cover_id" OPEN311_NOISE_ID="$noise_id" \
  "$venv/bin/python" tests/open311/client_test.py -v
echo "== Open311: the georeport client passed"
