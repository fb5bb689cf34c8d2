#!/usr/bin/env bash
# Graph door load at 32 concurrent clients, each against a baseline measured in the same run (issue 5).
#
#   bench/graph-load.sh [COUNT] [SECONDS] [RUNS]   (defaults: 10000 messages, 5 s, 3 runs)
#
# Each run, with crates/deputy/examples/graph_load.rs (32 threads, one kept-alive connection each):
#   1. COUNT messages u1 → u2 submitted over SMTP submission (AUTH PLAIN, one session per client):
#      the same pipeline as sendMail (Deputy::submit, fsync before the reply), reached without HTTP/JSON;
#   2. COUNT messages u1 → u2 through POST /v1.0/me/sendMail;
#   3. GET /admin/v1/health for SECONDS: the HTTP listener's ceiling;
#   4. GET /v1.0/me/mailFolders/inbox/messages?$top=10 for SECONDS, u3's inbox holding 100 messages;
#   5. GET /v1.0/me for SECONDS: a Graph request that reads no mail (bearer token check, one directory read),
#      to tell what the list costs beyond authentication;
# then prints the medians and the ratios sendMail ÷ SMTP, list ÷ health and me ÷ health.
# Loopback only; bounded by COUNT and SECONDS (and a 60 s cap on every send phase).
#
# last run (2026-11-23, 2 cores shared with another engineer's cargo builds, so noisy; medians of 3):
#   sendMail 2018 req/s vs SMTP submission 2850 msg/s = 0.71x;
#   list ($top=10 of 100) 1609 req/s, GET /v1.0/me 9141 req/s, health 35297 req/s: list / health = 0.046x,
#   me / health = 0.26x.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-10000} SECS=${2:-5} RUNS=${3:-3} CONC=32 CAP=60
WORK=$(mktemp -d /tmp/deputy-graph-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq curl >/dev/null; }
cargo build --release -q -p deputy --bin deputy --example graph_load
DEPUTY=$PWD/target/release/deputy LOAD=$PWD/target/release/examples/graph_load
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SMTP=$(free_port) HTTP=$(free_port) SUB=$(free_port) IMAP=$(free_port)
"$DEPUTY" init --data "$WORK/data" --domain bench.test --admin-password 'Bench!Pass1' >/dev/null
"$DEPUTY" serve --data "$WORK/data" --smtp "127.0.0.1:$SMTP" --http "127.0.0.1:$HTTP" --submission "127.0.0.1:$SUB" \
  --imap "127.0.0.1:$IMAP" --dns none >"$WORK/serve.log" 2>&1 &
until grep -q "deputy ready" "$WORK/serve.log"; do sleep 0.1; done
BASE=http://127.0.0.1:$HTTP
PW='U!Passw0rd1'
DEPUTY_SERVER=$BASE DEPUTY_PASSWORD='Bench!Pass1' "$DEPUTY" shell -c "$(for u in u1 u2 u3; do
  echo "New-Mailbox -Name $u -Password (ConvertTo-SecureString '$PW' -AsPlainText -Force)"; done)" >/dev/null
token() {
  curl -sf "$BASE/bench.test/oauth2/v2.0/token" -d grant_type=password -d client_id=deputy \
    --data-urlencode "username=$1@bench.test" --data-urlencode "password=$PW" -d 'scope=Mail.Send Mail.Read' |
    jq -r .access_token
}
T1=$(token u1) T3=$(token u3)
send_body() {
  jq -cn --arg to "$1" '{message: {subject: "load", toRecipients: [{emailAddress: {address: $to}}],
    body: {contentType: "text", content: "Load test message, a short body like the SMTP one."}}}'
}
# u3's inbox: 100 messages (u3 sends them to itself, without Sent Items copies).
"$LOAD" post "$BASE/v1.0/me/sendMail" "$T3" 4 "$CAP" 100 \
  "$(send_body u3@bench.test | jq -c '.saveToSentItems = false')" >/dev/null
INBOX=$(curl -sf "$BASE/v1.0/me/mailFolders/inbox/messages?\$count=true&\$top=1" -H "Authorization: Bearer $T3" |
  jq '."@odata.count"')
echo "u3's inbox holds $INBOX messages"

LIST="$BASE/v1.0/me/mailFolders/inbox/messages?\$top=10"
for i in $(seq "$RUNS"); do
  echo "== run $i"
  printf 'smtp    ' | tee -a "$WORK/results"
  "$LOAD" smtp "127.0.0.1:$SUB" u1@bench.test "$PW" u2@bench.test "$CONC" "$CAP" "$COUNT" | tee -a "$WORK/results"
  printf 'send    ' | tee -a "$WORK/results"
  "$LOAD" post "$BASE/v1.0/me/sendMail" "$T1" "$CONC" "$CAP" "$COUNT" "$(send_body u2@bench.test)" |
    tee -a "$WORK/results"
  printf 'health  ' | tee -a "$WORK/results"
  "$LOAD" get "$BASE/admin/v1/health" "$T1" "$CONC" "$SECS" | tee -a "$WORK/results"
  printf 'list    ' | tee -a "$WORK/results"
  "$LOAD" get "$LIST" "$T3" "$CONC" "$SECS" | tee -a "$WORK/results"
  printf 'me      ' | tee -a "$WORK/results"
  "$LOAD" get "$BASE/v1.0/me" "$T3" "$CONC" "$SECS" | tee -a "$WORK/results"
done

python3 - "$WORK/results" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+)\s+RESULT mode=\w+ ok=(\d+) failed=(\d+) secs=\S+ rate=(\d+)", line)
    if m:
        if int(m.group(3)):
            sys.exit(f"{m.group(1)}: {m.group(3)} requests failed; the figures would mean nothing")
        rows.setdefault(m.group(1), []).append(int(m.group(4)))
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"\nmedians at 32 clients: sendMail {med['send']:.0f} req/s, SMTP submission {med['smtp']:.0f} msg/s; "
      f"list ($top=10 of 100) {med['list']:.0f} req/s, GET /me {med['me']:.0f} req/s, health {med['health']:.0f} req/s")
print(f"sendMail / SMTP submission = {med['send']/med['smtp']:.2f}x")
print(f"list / health              = {med['list']/med['health']:.3f}x")
print(f"GET /me / health           = {med['me']/med['health']:.3f}x")
PY
