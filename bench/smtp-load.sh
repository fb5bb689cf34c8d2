#!/usr/bin/env bash
# SMTP load, Deputy next to Postfix → Dovecot on this machine, in the same run (issue 4).
#
#   bench/smtp-load.sh [COUNT] [RUNS]        (defaults: 5000 messages, 3 runs)
#
# Each run drives, with Postfix's smtp-source (20 clients, 4 KiB messages):
#   1. Postfix on 127.0.0.1:2526 delivering over LMTP to Dovecot's maildir
#      (../shared/bench/peers/setup.sh; both fsync before acknowledging);
#   2. Deputy's inbound SMTP listener, delivering to one mailbox (fsync before 250);
#   3. smtp-sink, which stores nothing: the load tool's own ceiling.
# and prints accepted and delivered messages/s for each, then the ratios
# Deputy ÷ Postfix (delivered; goal ≥ 5) and ceiling ÷ Deputy (accepted; goal ≤ 2).
# Loopback only; bounded by COUNT and by bench-smtp.sh's 300 s wait.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-5000} RUNS=${2:-3} SIZE=4096 CONC=20
PEERS=../shared/bench/peers
WORK=$(mktemp -d /tmp/deputy-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

bash "$PEERS/setup.sh" >/dev/null
cargo build --release -q -p deputy
DEPUTY=$PWD/target/release/deputy

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SMTP=$(free_port) HTTP=$(free_port) SUB=$(free_port) SINK=$(free_port)
"$DEPUTY" init --data "$WORK/data" --domain bench.test --admin-password 'Bench!Pass1' >/dev/null
"$DEPUTY" serve --data "$WORK/data" --smtp "127.0.0.1:$SMTP" --http "127.0.0.1:$HTTP" \
  --submission "127.0.0.1:$SUB" --dns none >"$WORK/serve.log" 2>&1 &
until grep -q "deputy ready" "$WORK/serve.log"; do sleep 0.1; done
DEPUTY_SERVER=http://127.0.0.1:$HTTP DEPUTY_PASSWORD='Bench!Pass1' "$DEPUTY" shell -c \
  "New-Mailbox -Name u1 -Password (ConvertTo-SecureString 'U1!Passw0rd' -AsPlainText -Force)" >/dev/null
# Deputy acknowledges only what it has stored, so "delivered" is read from the store itself.
cat > "$WORK/count.py" <<PY
import sqlite3
db = sqlite3.connect("file:$WORK/data/deputy.db?mode=ro", uri=True)
print(db.execute("select count(*) from folder_entries").fetchone()[0])
PY
# smtp-sink keeps nothing: its "delivered" is reported as soon as smtp-source is done.
cat > "$WORK/sink-count.sh" <<SH
if [ -f "$WORK/sink-started" ]; then echo $COUNT; else touch "$WORK/sink-started"; echo 0; fi
SH
/usr/sbin/smtp-sink $( [ "$(id -u)" = 0 ] && echo "-u nobody" ) -c "127.0.0.1:$SINK" 1000 >/dev/null 2>&1 &
sleep 0.3

run() { bash "$PEERS/bench-smtp.sh" "$@" | tee -a "$WORK/results"; }
for i in $(seq "$RUNS"); do
  echo "== run $i"
  run 127.0.0.1:2526 "$COUNT" "$SIZE" "$CONC" u1@peer.test "$PEERS/count-maildir.sh u1"
  run "127.0.0.1:$SMTP" "$COUNT" "$SIZE" "$CONC" u1@bench.test "python3 $WORK/count.py"
  rm -f "$WORK/sink-started"
  run "127.0.0.1:$SINK" "$COUNT" "$SIZE" "$CONC" sink@sink.test "bash $WORK/sink-count.sh"
done

python3 - "$WORK/results" "$SMTP" "$SINK" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"127\.0\.0\.1:(\d+): .* accepted (\d+) msg/s, delivered (\d+) msg/s", line)
    if m:
        rows.setdefault(m.group(1), []).append((int(m.group(2)), int(m.group(3))))
med = lambda port, i: statistics.median(r[i] for r in rows[port])
postfix, deputy, sink = "2526", sys.argv[2], sys.argv[3]
print(f"\nmedians: Postfix accepted {med(postfix,0):.0f} delivered {med(postfix,1):.0f} msg/s; "
      f"Deputy accepted {med(deputy,0):.0f} delivered {med(deputy,1):.0f} msg/s; smtp-sink accepted {med(sink,0):.0f} msg/s")
print(f"Deputy delivered / Postfix delivered = {med(deputy,1)/med(postfix,1):.1f}x (goal >= 5)")
print(f"smtp-sink accepted / Deputy accepted  = {med(sink,0)/med(deputy,0):.2f}x (goal <= 2)")
PY
