#!/usr/bin/env bash
# Delivered messages per second for one node and for two nodes on one
# PostgreSQL, in the same run (issue 7).
#
#   bench/cluster-load.sh [SECONDS] [RUNS]      (defaults: 10 s, 3 runs)
#   DEPUTY_BENCH_POSTGRES=postgres://… overrides the database
#   (default postgres://postgres@127.0.0.1:5432/test; a fresh schema, dropped at the end)
#
# 32 SMTP submission clients (crates/deputy/examples/graph_load.rs, smtp
# mode: AUTH, then MAIL/RCPT/DATA on one session each) send small messages
# to a local mailbox; a 250 means the message is stored in the Inbox, so the
# rate of 250s is the delivered rate. First all 32 against node A alone,
# then 16 against A and 16 against B at once. Prints the medians and the
# ratio two nodes ÷ one node. Loopback only; bounded by SECONDS × RUNS × 2.
#
# On one 2-core machine the nodes, PostgreSQL and the load share the same
# cores, so a second node adds no CPU: the ratio says what the shared
# database and the cross-node catch-up cost, not how a cluster scales on
# separate machines.
#
# Last run (2026-11-23, 2 cores, PostgreSQL 15 on the same machine, 10 s × 3):
#   one node 555 msg/s delivered, two nodes 486 msg/s → 0.88×.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10} RUNS=${2:-3} CLIENTS=32
URL=${DEPUTY_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=deputy_bench_$$
WORK=$(mktemp -d /tmp/deputy-cluster-bench.XXXXXX)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$URL" -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q -p deputy --bin deputy --example graph_load
DEPUTY=$PWD/target/release/deputy
LOAD=$PWD/target/release/examples/graph_load
STORE="$URL?schema=$SCHEMA"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$DEPUTY" init --data "$WORK/a" --domain bench.test --admin-password 'Bench!Pass1' --store "$STORE" >/dev/null
start_node() { # name → prints its submission port once ready
  local dir=$WORK/$1 http sub
  http=$(free_port) sub=$(free_port)
  mkdir -p "$dir"
  "$DEPUTY" serve --data "$dir" --store "$STORE" --http "127.0.0.1:$http" --submission "127.0.0.1:$sub" \
    --smtp 127.0.0.1:0 --imap 127.0.0.1:0 --dns none >"$dir.log" 2>&1 &
  until grep -q "deputy ready" "$dir.log"; do sleep 0.1; done
  echo "$http $sub"
}
read -r HTTP_A SUB_A < <(start_node a)
DEPUTY_SERVER=http://127.0.0.1:$HTTP_A DEPUTY_PASSWORD='Bench!Pass1' "$DEPUTY" shell -c \
  "New-Mailbox -Name u1 -Password (ConvertTo-SecureString 'U1!Passw0rd' -AsPlainText -Force)" >/dev/null
read -r _ SUB_B < <(start_node b)

load() { # port clients → messages/s
  "$LOAD" smtp "127.0.0.1:$1" u1@bench.test 'U1!Passw0rd' u1@bench.test "$2" "$SECS" 100000000 |
    python3 -c 'import re,sys; t=sys.stdin.read(); m=re.search(r"rate=([0-9.]+)", t); print(m.group(1) if m else 0)'
}
: >"$WORK/one" ; : >"$WORK/two"
for i in $(seq "$RUNS"); do
  one=$(load "$SUB_A" "$CLIENTS")
  load "$SUB_A" $((CLIENTS / 2)) >"$WORK/ra" & pa=$!
  load "$SUB_B" $((CLIENTS / 2)) >"$WORK/rb" & pb=$!
  wait "$pa" "$pb"
  two=$(python3 -c "print(float(open('$WORK/ra').read() or 0) + float(open('$WORK/rb').read() or 0))")
  echo "run $i: one node $one msg/s, two nodes $two msg/s"
  echo "$one" >>"$WORK/one"; echo "$two" >>"$WORK/two"
done
python3 - "$WORK/one" "$WORK/two" <<'PY'
import statistics, sys
one, two = (statistics.median(float(l) for l in open(f) if l.strip()) for f in sys.argv[1:3])
print(f"\nmedians: one node {one:.0f} msg/s delivered, two nodes {two:.0f} msg/s delivered")
print(f"two nodes / one node = {two/one:.2f}x")
PY
