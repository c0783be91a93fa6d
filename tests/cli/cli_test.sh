#!/usr/bin/env bash
# The leadflow CLI against the real leadflowd: publish, list, get, change
# status, junk, tail events, and the errors a user sees.
set -euo pipefail

: "${LEADFLOWD:?path to leadflowd}" "${LEADFLOW_CLI:?path to leadflow}"
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$LEADFLOWD" --data-dir "$work/data" --listen 127.0.0.1:0 --supervisors sveta >"$work/out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")
[ -n "$port" ] || { cat "$work/out"; echo "FAIL: no port"; exit 1; }
export LEADFLOW_TARGET=127.0.0.1:$port
lf() { "$LEADFLOW_CLI" "$@"; }

pass=0 fail=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
json() { python3 -c "import json,sys; d=json.loads(sys.stdin.readline()); print($1)"; }
wait_idle() {
  for _ in $(seq 200); do
    lag=$(lf status | json "d.get('totalLag', 0)")
    [ "$lag" = 0 ] && return 0
    sleep 0.05
  done
  return 1
}

lf publish call --id cli-call-1 --phone "8 916 555-00-11" --operator anna --line 495 >/dev/null
lf publish form --id cli-form-1 --form-id pricing --field phone=+79165550011 --field name="Ivan Petrov" >/dev/null
lf publish email --id cli-mail-1 --from Buyer@Example.com --subject "Price list" >/dev/null
cat > "$work/chat.json" <<'JSON'
{"id": "cli-chat-1", "source": "openlines", "chatMessage": {"channel": "telegram", "handle": "@ivan", "text": "hi"}}
JSON
lf publish json "$work/chat.json" >/dev/null
wait_idle

check "three leads: the form attached to the call's lead" [ "$(lf leads list | wc -l)" = 3 ]
call_lead=$(lf leads list --source call | json "d['leadId']")
check "the call's lead belongs to the operator" [ "$(lf leads get "$call_lead" | json "d['responsibleId']")" = anna ]
check "the repeat was recorded" [ "$(lf leads get "$call_lead" | json "d['communicationCount']")" = 2 ]
check "filter by responsible" [ "$(lf leads list --responsible anna | wc -l)" = 1 ]
check "duplicates by phone" [ "$(lf leads duplicates --phone "+7 916 555 00 11" | json "d['lead']['leadId']")" = "$call_lead" ]

check "set-status" [ "$(lf leads set-status "$call_lead" IN_PROCESS | json "d['lead']['statusId']")" = IN_PROCESS ]
mail_lead=$(lf leads list --source email | json "d['leadId']")
check "junk with a reason" [ "$(lf leads junk "$mail_lead" --reason spam | json "d['lead']['statusId']")" = JUNK ]

# Errors name what is wrong and exit non-zero.
if lf publish call --id cli-bad --phone 12 2>"$work/err"; then check "invalid phone refused" false; fi
check "invalid phone names the field" grep -q 'INVALID_ARGUMENT: event.call.customer_phone' "$work/err"
if lf leads set-status "$mail_lead" NEW 2>"$work/err"; then check "junk is terminal" false; fi
check "terminal status named" grep -q 'FAILED_PRECONDITION' "$work/err"
if lf leads get no-such-lead 2>"$work/err"; then check "unknown lead" false; fi
check "unknown lead is NOT_FOUND" grep -q 'NOT_FOUND: name: lead no-such-lead does not exist' "$work/err"

# Tail: every event, then from a position.
lf events tail >"$work/events"
check "tail prints every domain event" [ "$(wc -l <"$work/events")" -ge 9 ]
check "tail shows lead creation" grep -q '"type":"leadflow.v1.LeadCreated"' "$work/events"
partition=$(lf leads set-status "$call_lead" PROCESSED | json "d['position'].get('partition', 0)")
lf events tail --from "$partition:0" --limit 1 >"$work/one"
check "tail --limit" [ "$(wc -l <"$work/one")" = 1 ]

# The call's lead: created, call recorded, form attached, anna notified,
# moved twice.
wait_idle
lf leads timeline "$call_lead" >"$work/timeline"
check "timeline: every event of the lead" [ "$(wc -l <"$work/timeline")" = 6 ]
check "timeline starts with the creation" [ "$(head -1 "$work/timeline" | json "d['type']")" = leadflow.v1.LeadCreated ]
check "timeline ends with the last move" [ "$(tail -1 "$work/timeline" | json "d['type']")" = leadflow.v1.LeadStatusChanged ]
check "timeline names who did it" [ "$(head -1 "$work/timeline" | json "d['actor']")" = intake ]

# A supervisor takes the junk mail lead back; anyone else is refused.
if lf leads reopen "$mail_lead" --reason "a real buyer" --actor boris 2>"$work/err"; then check "only supervisors reopen" false; fi
check "a non-supervisor is PERMISSION_DENIED" grep -q "PERMISSION_DENIED: actor: 'boris' is not a supervisor" "$work/err"
check "a supervisor reopens" [ "$(lf leads reopen "$mail_lead" --reason "a real buyer" --actor sveta | json "d['lead']['statusId']")" = NEW ]

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
