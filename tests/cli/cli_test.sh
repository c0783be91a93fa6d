#!/usr/bin/env bash
# The leadflow CLI against the real leadflowd: publish, list, get, change
# status, junk, tail events, pipelines from YAML, conversion into a deal, and
# the errors a user sees.
set -euo pipefail

: "${LEADFLOWD:?path to leadflowd}" "${LEADFLOW_CLI:?path to leadflow}"
examples=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/pipelines" && pwd)
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

start_leadflowd --data-dir "$work/data" --supervisors sveta
export LEADFLOW_TOKEN_FILE="$work/data/admin.key"
served_as() { local token=$1; shift; LEADFLOW_TOKEN=$token lf "$@" >/dev/null; }

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

# Output for people and spreadsheets: the same leads as a table and as CSV.
lf -o table leads list >"$work/table"
check "a table: a header and a row per lead" [ "$(wc -l <"$work/table")" = 4 ]
check "  with the columns that matter" grep -Eq '^LEAD_ID +TITLE .*PHONES .*STATUS_ID +RESPONSIBLE_ID +SOURCE +CREATE_TIME' "$work/table"
check "  the call's lead with its phone, status and source" grep -Eq "^$call_lead .*\+79165550011.*IN_PROCESS +anna +CALL " "$work/table"
LEADFLOW_OUTPUT=csv lf leads list >"$work/leads.csv"
check "CSV: the same columns, every lead" python3 - "$work/leads.csv" "$call_lead" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
assert len(rows) == 3, rows
lead = next(r for r in rows if r['LEAD_ID'] == sys.argv[2])
assert lead['PHONES'] == '+79165550011' and lead['SOURCE'] == 'CALL', lead
assert lead['CREATE_TIME'].endswith('Z'), lead
PY
check "JSON stays the default off a terminal" [ "$(lf leads get "$call_lead" | json "d['leadId']")" = "$call_lead" ]
if lf -o yaml leads list 2>"$work/err"; then check "an unknown output is refused" false; fi
check "  naming the choices" grep -q "auto" "$work/err"

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
lf events export --format csv >"$work/events.csv" 2>"$work/err"
check "export as CSV: every event of the log up to now, with its payload" python3 - "$work/events.csv" "$work/events" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
tailed = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) >= len(tailed), (len(rows), len(tailed))
created = next(r for r in rows if r['TYPE'] == 'leadflow.v1.LeadCreated')
assert json.loads(created['PAYLOAD'])['lead']['leadId'] == created['AGGREGATE_ID'], created
assert {'PARTITION', 'OFFSET', 'OCCUR_TIME', 'EVENT_ID'} <= set(created), created
PY
check "export as JSON lines, the tail's format" [ "$(lf events export | head -1 | json "d['event']['type']")" != "" ]
lf completion bash >"$work/completion.bash"
check "bash completion completes subcommands and options" bash -c "
  source '$work/completion.bash'
  COMP_WORDS=(leadflow leads li); COMP_CWORD=2; _leadflow; [ \"\${COMPREPLY[*]}\" = list ] || exit 1
  COMP_WORDS=(leadflow backup create --ke); COMP_CWORD=3; _leadflow; [ \"\${COMPREPLY[*]}\" = --keep ]"

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

# Pipelines from YAML. The built-in ones are what default.yaml says.
lf apply -f "$examples/default.yaml" >"$work/apply"
check "default.yaml is what a fresh server has" diff -u - "$work/apply" <<'EOF'
lead: unchanged
default: unchanged
no changes
EOF
# A status that leads are in is not removed from under them.
if lf apply -f "$examples/service-firm.yaml" 2>"$work/err"; then check "a status in use is kept" false; fi
check "a status in use is named" grep -q 'FAILED_PRECONDITION: pipelines\[0\].stages: stage PROCESSED of lead still holds leads' "$work/err"
lf leads set-status "$call_lead" NEW >/dev/null
wait_idle
lf apply -f "$examples/service-firm.yaml" >"$work/apply"
check "apply changes the lead statuses" grep -qx 'lead: update' "$work/apply"
check "apply says what changed, one line each" \
  grep -qxF "  stage QUALIFIED 'Qualification passed' in_progress added" "$work/apply"
check "apply names removed statuses" grep -qxF "  stage IN_PROCESS removed" "$work/apply"
check "apply creates a deal pipeline" grep -qx 'services-contracts: create' "$work/apply"
check "applying again changes nothing" diff -u - <(lf apply -f "$examples/service-firm.yaml") <<'EOF'
lead: unchanged
services-contracts: unchanged
no changes
EOF
firm_statuses="['NEW', 'QUALIFIED', 'SEND_PROPOSAL', 'CONSENT', 'CONVERTED', 'JUNK']"
lead_statuses() { lf pipelines get lead | json "[s['stageId'] for s in d['stages']]"; }
check "the firm's statuses are in force" [ "$(lead_statuses)" = "$firm_statuses" ]
# A dry run answers as the apply would, refusals included.
if lf apply -f "$examples/insurance.yaml" --dry-run 2>"$work/err"; then check "a dry run refuses as the apply would" false; fi
check "a dry run names the status in use" grep -q 'stage NEW of lead still holds leads' "$work/err"
lf apply -f "$examples/first-second-line.yaml" --dry-run >"$work/apply"
check "a dry run says what would change" grep -qx 'services: create' "$work/apply"
check "a dry run says it changed nothing" grep -qx 'dry run: nothing was changed' "$work/apply"
check "a dry run changes nothing" [ "$(lead_statuses)" = "$firm_statuses" ]
check "a dry run creates nothing" [ "$(lf pipelines list | grep -c '"pipelineId":"services"')" = 0 ]
# Robots and triggers: robots.yaml is accepted, and a dry run replays the
# log with them (the call's lead gets a call-back task for the operator who
# took the call).
lf apply -f "$examples/robots.yaml" --dry-run >"$work/apply"
check "robots.yaml is accepted" grep -qx 'services: create' "$work/apply"
lf robots dry-run -f "$examples/robots.yaml" >"$work/runs"
check "robots dry-run ends with the count" grep -qE '^[0-9]+ runs over [0-9]+ events$' <(tail -1 "$work/runs")
check "robots dry-run: one line per run" \
  grep -qE " lead/call-back-task leads/$call_lead plan activity act-[0-9a-f]+ on leads/$call_lead for anna due " "$work/runs"
check "robots dry-run changes nothing" [ "$(lead_statuses)" = "$firm_statuses" ]
lf pipelines remove default --dry-run >"$work/apply"
check "pipelines remove --dry-run" grep -qx 'default: remove' "$work/apply"
check "the default deal pipeline stays" [ "$(lf pipelines list | grep -c '"pipelineId":"default"')" = 1 ]

# A bad file is refused before anything changes, naming the file, the line
# and the key.
cat >"$work/bad.yaml" <<'EOF'
pipelines:
  - id: extra
    kind: deal
    title: Extra
    stages: [{id: NEW, title: New, semantic: in_progress}, {id: WON, title: Won, semantic: success},
             {id: LOSE, title: Lost, semantic: failure}]
  - id: broken
    kind: deal
    title: Broken
    stages:
      - {id: NEW, title: New, semantic: in_progress}
      - {id: WON, title: Won, semantic: success}
      - {id: LOSE, title: Lost, semantic: lost}
EOF
if lf apply -f "$work/bad.yaml" 2>"$work/err"; then check "a bad semantic is refused" false; fi
check "a bad semantic is named with file and line" grep -qF "$work/bad.yaml: line 13: \
pipelines[1].stages[2].semantic: 'lost' is not in_progress|success|failure" "$work/err"
sed -i 's/, semantic: lost//' "$work/bad.yaml"
if lf apply -f "$work/bad.yaml" 2>"$work/err"; then check "a missing semantic is refused" false; fi
check "the server names the field at fault" grep -qF \
  'INVALID_ARGUMENT: pipelines[1].stages[2].semantic: required' "$work/err"
check "nothing of a refused file is applied" [ "$(lf pipelines list | grep -c '"pipelineId":"extra"')" = 0 ]
printf 'pipelines:\n  - id: lead\n    colour: red\n' >"$work/bad.yaml"
if lf apply -f "$work/bad.yaml" 2>"$work/err"; then check "an unknown key is refused" false; fi
check "an unknown key is named" grep -qF "bad.yaml: line 3: pipelines[0].colour: unknown key" "$work/err"
cat >"$work/bad.yaml" <<'EOF'
pipelines:
  - id: lead
    robots:
      - id: two-actions
        stage: NEW
        notify: {text: hello}
        assign: {user: anna}
EOF
if lf apply -f "$work/bad.yaml" 2>"$work/err"; then check "a robot with two actions is refused" false; fi
check "the second action is named" \
  grep -qF "bad.yaml: line 7: pipelines[0].robots[0].assign: not with notify" "$work/err"
printf 'pipelines:\n  - id: lead\n    robots: [{id: r, stage: NEW, delay: 1.5h, notify: {text: hi}}]\n' \
  >"$work/bad.yaml"
if lf robots dry-run -f "$work/bad.yaml" 2>"$work/err"; then check "a bad duration is refused" false; fi
check "a bad duration is named" \
  grep -qF "bad.yaml: line 3: pipelines[0].robots[0].delay: '1.5h' is not a duration" "$work/err"

# A lead of the service firm: in from a form, filled, converted into a
# contact, a company and a deal of services-contracts.
lf publish form --id cli-form-2 --form-id consult --field phone=+79035550099 \
  --field name="Olga Smirnova" --field company="Smirnova and Co" >/dev/null
wait_idle
lead=$(lf leads duplicates --phone +79035550099 | json "d['lead']['leadId']")
check "the lead starts in the firm's first status" [ "$(lf leads get "$lead" | json "d['statusId']")" = NEW ]
lf leads assign "$lead" boris >/dev/null
check "a status without required fields" \
  [ "$(lf leads set-status "$lead" QUALIFIED | json "d['lead']['statusId']")" = QUALIFIED ]
if lf leads set-status "$lead" SEND_PROPOSAL 2>"$work/err"; then check "required fields enforced" false; fi
check "the missing fields are named" grep -qF \
  'FAILED_PRECONDITION: opportunity, custom_fields.service: required for status SEND_PROPOSAL' "$work/err"
lf leads convert "$lead" --pipeline services-contracts --create-company --title Consulting \
  --actor boris >"$work/converted"
check "convert: the lead is converted" [ "$(json "d['lead']['statusId']" <"$work/converted")" = CONVERTED ]
check "convert: the lead names its deal" [ "$(json "d['lead']['dealId']" <"$work/converted")" = "$lead-deal" ]
wait_idle
lf deals list --source-lead "$lead" >"$work/deals"
check "deals list --source-lead shows the deal" [ "$(wc -l <"$work/deals")" = 1 ]
check "the deal is in the chosen pipeline" [ "$(json "d['pipelineId']" <"$work/deals")" = services-contracts ]
check "the deal keeps the lead's responsible" [ "$(json "d['responsibleId']" <"$work/deals")" = boris ]
check "the deal has its title" [ "$(json "d['title']" <"$work/deals")" = Consulting ]
check "a contact from the lead" [ "$(lf contacts get "$lead-contact" | json "d['firstName']")" = Olga ]
check "a company from the lead" \
  [ "$(lf companies list --source-lead "$lead" | json "d['title']")" = "Smirnova and Co" ]
lf timeline "deals/$lead-deal" >"$work/timeline"
check "timeline deals/…: the deal's creation" \
  [ "$(head -1 "$work/timeline" | json "d['type']")" = leadflow.v1.DealCreated ]
check "timeline deals/…: who converted it" [ "$(head -1 "$work/timeline" | json "d['actor']")" = boris ]
check "timeline leads/…: ends with the conversion" \
  [ "$(lf timeline "leads/$lead" | tail -1 | json "d['type']")" = leadflow.v1.LeadConverted ]
if lf leads convert "$lead" 2>"$work/err"; then check "converting twice is refused" false; fi
check "converting twice creates no second deal" [ "$(lf deals list --source-lead "$lead" | wc -l)" = 1 ]
check "deals move" [ "$(lf deals move "$lead-deal" CONTRACT | json "d['item']['deal']['stageId']")" = CONTRACT ]
check "a deal without activity counts" [ "$(lf counters boris | json "d.get('dealsWithoutActivity', 0)")" = 1 ]
lf activities plan --owner "deals/$lead-deal" --type call --subject "Discuss the contract" \
  --responsible boris --deadline 2020-01-01T10:00:00Z >/dev/null
wait_idle
check "an overdue activity counts" [ "$(lf counters boris | json "d.get('activitiesOverdue', 0)")" = 1 ]
check "activities list --owner --state" \
  [ "$(lf activities list --owner "deals/$lead-deal" --state planned | wc -l)" = 1 ]

# --- credentials: the administrator key from the first start, API keys
# issued, used and revoked, and every refusal with its reason.
check "the administrator key is private" [ "$(stat -c %a "$work/data/admin.key")" = 600 ]
check "the server says where the key is" grep -q "administrator API key written to $work/data/admin.key" "$work/out"
check "whoami: the administrator" [ "$(lf whoami | json "d['principal']")" = admin ]
if LEADFLOW_TOKEN_FILE= lf leads list 2>"$work/err"; then check "anonymous calls are refused" false; fi
check "anonymous: UNAUTHENTICATED, saying what to send" grep -q "UNAUTHENTICATED: no credentials" "$work/err"
cp "$work/data/admin.key" "$work/config-token"
mkdir -p "$XDG_CONFIG_HOME/leadflow" && cp "$work/data/admin.key" "$XDG_CONFIG_HOME/leadflow/token"
check "the CLI finds ~/.config/leadflow/token" [ "$(LEADFLOW_TOKEN_FILE= lf whoami | json "d['principal']")" = admin ]
rm "$XDG_CONFIG_HOME/leadflow/token"
lf api-keys create --principal telephony --role integration >"$work/key.json"
key=$(json "d['key']" <"$work/key.json")
key_name=$(json "d['apiKey']['name']" <"$work/key.json")
check "a new key is shown once, its hash never" bash -c "! grep -q secretSha256 '$work/key.json'"
check "the key acts as its principal" [ "$(LEADFLOW_TOKEN=$key lf whoami | json "d['principal']")" = telephony ]
check "the key publishes" served_as "$key" publish call --id cli-key-call --phone "+79165550077"
if LEADFLOW_TOKEN=$key lf api-keys list 2>"$work/err"; then check "an integration cannot list keys" false; fi
check "listing keys needs the administrator" grep -q "PERMISSION_DENIED.*administrator" "$work/err"
if LEADFLOW_TOKEN=$key lf leads reopen "$call_lead" --reason x --actor sveta 2>"$work/err" >/dev/null; then
  check "a key cannot act for someone else" false
fi
check "spoofing the actor: PERMISSION_DENIED on actor" grep -q "PERMISSION_DENIED: actor: the caller is 'telephony'" "$work/err"
check "the keys are listed" [ "$(lf api-keys list | wc -l)" = 2 ]
check "revoke" [ "$(lf api-keys revoke "$key_name" --reason rotated | json "d['revokeReason']")" = rotated ]
if LEADFLOW_TOKEN=$key lf whoami 2>"$work/err"; then check "a revoked key is refused" false; fi
check "a revoked key: UNAUTHENTICATED, saying so" grep -q "UNAUTHENTICATED: API key $key_name was revoked" "$work/err"
check "the secret is never echoed" bash -c "! grep -q '${key:22}' '$work/err'"
check "revoked keys are listed on request" [ "$(lf api-keys list --show-revoked | wc -l)" = 2 ]
check "and only then" [ "$(lf api-keys list | wc -l)" = 1 ]
echo "not-a-token" >"$work/bad-token"
if lf --token-file "$work/bad-token" whoami 2>"$work/err"; then check "a malformed token is refused" false; fi
check "a malformed token: neither an API key nor a JWT" grep -q "neither an API key" "$work/err"

# --- roles, teams and users: applied from YAML like pipelines, with a diff
# and --dry-run, then enforced.
seed_access="$(dirname "$0")/../../examples/access/seed.yaml"
lf apply -f "$seed_access" --dry-run >"$work/access-dry"
check "access dry run lists the changes" grep -q "^role manager: added$" "$work/access-dry"
check "access dry run changes nothing" [ "$(lf access show | json "int(d.get('version', 0))")" = 0 ]
lf apply -f "$seed_access" >"$work/access-applied"
check "access applied: one line per change" [ "$(wc -l <"$work/access-applied")" = 10 ]
check "access applied again: no changes" [ "$(lf apply -f "$seed_access")" = "no changes" ]
check "the policy in force" [ "$(lf access show | json "len(d['roles'])")" = 4 ]
lf api-keys create --principal fedor >"$work/fedor.json"
fedor=$(json "d['key']" <"$work/fedor.json")
LEADFLOW_TOKEN=$fedor lf whoami >"$work/fedor-whoami"
check "whoami shows the rights a role gives" \
  grep -q 'lead: read=all create=all update=all move=all merge=none' "$work/fedor-whoami"
if LEADFLOW_TOKEN=$fedor lf deals get "$lead-deal" 2>"$work/err" >/dev/null; then
  check "first line cannot read a deal" false
fi
check "first line reading a deal: PERMISSION_DENIED saying why" \
  grep -q "PERMISSION_DENIED: 'fedor' may not read deals/$lead-deal" "$work/err"
check "first line lists no deals" [ "$(LEADFLOW_TOKEN=$fedor lf deals list | wc -l)" = 0 ]
check "first line lists leads" [ "$(LEADFLOW_TOKEN=$fedor lf leads list | wc -l)" -ge 1 ]
if LEADFLOW_TOKEN=$fedor lf robots dry-run -f "$examples/robots.yaml" 2>"$work/err" >/dev/null; then
  check "a robots dry run needs the configure right" false
fi
check "a robots dry run without configure: PERMISSION_DENIED" grep -q "PERMISSION_DENIED: 'fedor' may not configure" "$work/err"
if LEADFLOW_TOKEN=$fedor lf apply -f "$seed_access" 2>"$work/err" >/dev/null; then
  check "only an administrator applies access" false
fi
check "applying access needs the administrator" grep -q "PERMISSION_DENIED.*administrator" "$work/err"
printf 'access:\n  roles:\n    - id: x\n      grants:\n        - {item: lead, scope: mine}\n' >"$work/bad-access.yaml"
if lf apply -f "$work/bad-access.yaml" 2>"$work/err"; then check "a bad access file is refused" false; fi
check "a bad access file: the line and the key" \
  grep -q "line 5: access.roles\[0\].grants\[0\].scope: 'mine' is not none|own|team|all" "$work/err"

# Robots pick from the access policy's teams: a deal pipeline whose robot
# assigns its new deals in turn within team "services" (olga, ivan).
cat >"$work/routed.yaml" <<'YAML'
pipelines:
  - id: routed
    kind: deal
    title: Routed to the services team
    stages:
      - {id: NEW, title: New, semantic: in_progress}
      - {id: WON, title: Won, semantic: success}
      - {id: LOST, title: Lost, semantic: failure}
    robots:
      - id: to-team
        stage: NEW
        assign: {team: {team: services}}
YAML
applies() { lf apply -f "$1" >/dev/null; }
check "a robot naming a policy team is accepted" applies "$work/routed.yaml"
routed_one=$(lf deals create --pipeline routed --title "Routed 1" | json "d['item']['deal']['dealId']")
routed_two=$(lf deals create --pipeline routed --title "Routed 2" | json "d['item']['deal']['dealId']")
wait_idle
routed_to() { lf deals get "$1" | json "d.get('responsibleId', '')"; }
check "the policy team's members take the deals in turn" \
  [ "$(routed_to "$routed_one") $(routed_to "$routed_two")" = "olga ivan" ]

# --- access settings refused at start, naming the flag or file.
refused() { # name, expected text, leadflowd arguments
  local name=$1 expected=$2; shift 2
  if "$LEADFLOWD" --data-dir "$work/refused-data" --listen 127.0.0.1:0 "$@" >"$work/refused.out" 2>&1; then
    check "$name: refused" false
    return
  fi
  check "$name: says why" grep -qF -- "$expected" "$work/refused.out"
}
echo '{}' >"$work/not-jwks.json"
refused "a JWKS without keys" "is not a JWKS" --jwt-jwks "$work/not-jwks.json" --jwt-issuer x --jwt-audience y
refused "an issuer without keys" "need --jwt-jwks" --jwt-issuer x
echo "SECRET-not-a-key" >"$work/bad.key"
refused "an administrator key file without a key" "bad.key does not hold an API key" \
  --admin-key-file "$work/bad.key"
check "the key file's content is not echoed" bash -c "! grep -q SECRET '$work/refused.out'"

finish
