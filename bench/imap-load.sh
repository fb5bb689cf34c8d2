#!/usr/bin/env bash
# IMAP load, Deputy next to Dovecot on this machine, in the same run (issue 6).
#
#   bench/imap-load.sh [SECONDS] [RUNS]      (defaults: 15 s, 3 runs)
#
# Both servers get the same 100 messages in one user's INBOX (delivered over
# SMTP: Postfix → Dovecot for u2@peer.test, Deputy's inbound listener for
# u2@bench.test); then ../shared/bench/peers/bench-imap.py runs 20 client
# processes looping LOGIN, SELECT, FETCH 1:* (FLAGS ENVELOPE), one BODY.PEEK[],
# LOGOUT against each in turn, and the medians' ratio Deputy ÷ Dovecot is
# printed (goal ≥ 1.5). Loopback only; bounded by SECONDS × RUNS × 2.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15} RUNS=${2:-3} MSGS=100
PEERS=../shared/bench/peers
PEER_DIR=${PEER_DIR:-/var/tmp/peers}
WORK=$(mktemp -d /tmp/deputy-imap-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

bash "$PEERS/setup.sh" >/dev/null
cargo build --release -q -p deputy
DEPUTY=$PWD/target/release/deputy
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SMTP=$(free_port) HTTP=$(free_port) SUB=$(free_port) IMAP=$(free_port)
"$DEPUTY" init --data "$WORK/data" --domain bench.test --admin-password 'Bench!Pass1' >/dev/null
"$DEPUTY" serve --data "$WORK/data" --smtp "127.0.0.1:$SMTP" --http "127.0.0.1:$HTTP" --submission "127.0.0.1:$SUB" \
  --imap "127.0.0.1:$IMAP" --dns none >"$WORK/serve.log" 2>&1 &
until grep -q "deputy ready" "$WORK/serve.log"; do sleep 0.1; done
DEPUTY_SERVER=http://127.0.0.1:$HTTP DEPUTY_PASSWORD='Bench!Pass1' "$DEPUTY" shell -c \
  "New-Mailbox -Name u2 -Password (ConvertTo-SecureString 'pw' -AsPlainText -Force)" >/dev/null

# The same 100 messages into both (Dovecot's u2 starts empty on every run of this script).
rm -rf "$PEER_DIR/mail/u2/Maildir"
python3 - "$SMTP" "$MSGS" <<'PY'
import smtplib, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for host_port, rcpt in ((("127.0.0.1", 2526), "u2@peer.test"), (("127.0.0.1", port), "u2@bench.test")):
    s = smtplib.SMTP(*host_port)
    for i in range(n):
        body = "".join(f"line {j} of message {i}, some text to fill the line up\r\n" for j in range(60))
        s.sendmail("bench@ext.test", [rcpt], f"From: bench@ext.test\r\nTo: {rcpt}\r\nSubject: message {i}\r\n"
                   f"Message-ID: <m{i}@ext.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n{body}")
    s.quit()
PY
until [ "$(bash "$PEERS/count-maildir.sh" u2)" -ge "$MSGS" ]; do sleep 0.1; done

for i in $(seq "$RUNS"); do
  echo "== run $i"
  python3 "$PEERS/bench-imap.py" 127.0.0.1 1430 u2@peer.test pw 20 "$SECS" | tee -a "$WORK/results"
  python3 "$PEERS/bench-imap.py" 127.0.0.1 "$IMAP" u2@bench.test pw 20 "$SECS" | tee -a "$WORK/results"
done
python3 - "$WORK/results" "$IMAP" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"127\.0\.0\.1:(\d+) .*: (\d+) sessions/s, (\d+) commands/s", line)
    if m:
        rows.setdefault(m.group(1), []).append(int(m.group(2)))
dovecot, deputy = statistics.median(rows["1430"]), statistics.median(rows[sys.argv[2]])
print(f"\nmedian sessions/s: Dovecot {dovecot:.0f}, Deputy {deputy:.0f}; Deputy / Dovecot = {deputy/dovecot:.2f}x (goal >= 1.5)")
PY
