#!/usr/bin/env bash
# Reports through the real binaries: a scripted November of traffic on the
# server's clock (Moscow time) gives exactly the expected funnel, channel
# yield, manager figures and times to first contact; the same figures come
# out of the event log replayed by examples/analytics/reports_from_events.py;
# they survive --rebuild-read-models; a manager restricted to their own
# leads sees only theirs; bad requests name the flag or field.
set -euo pipefail

: "${LEADFLOWD:?path to leadflowd}" "${LEADFLOW_CLI:?path to leadflow}"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

clock="$work/now"
set_clock() { echo "$1" >"$clock"; }
set_clock 2026-10-31T21:30:00Z

start_server() {
  start_leadflowd --data-dir "$work/data" --clock-file "$clock" --time-zone Europe/Moscow "$@"
}
start_server
export LEADFLOW_TOKEN_FILE="$work/data/admin.key"
lead_of() { # the id of the lead with this phone
  lf leads list | python3 -c "
import json, sys
for line in sys.stdin:
    lead = json.loads(line)
    if any(p['number'] == '$1' for p in lead.get('phones', [])):
        print(lead['leadId'])"
}

# Nov 1, 00:30 Moscow (Oct 31 in UTC): a web form nobody answers.
lf publish form --id f-e --form-id pricing --field phone=+79160000005 --field name=Egor >/dev/null
# Nov 2, 10:00: an answered call (alice), a missed call, a form from an ad.
set_clock 2026-11-02T07:00:00Z
lf publish call --id c-a --phone +79160000001 --operator alice --line 495 --duration 30 >/dev/null
lf publish call --id c-b --phone +79160000002 --kind missed --line 495 >/dev/null
lf publish form --id f-f --form-id pricing --field phone=+79160000003 --field name=Fedor \
  --utm-source google --utm-campaign spring >/dev/null
wait_idle
a=$(lead_of +79160000001) b=$(lead_of +79160000002) f=$(lead_of +79160000003)
e=$(lead_of +79160000005)
set_clock 2026-11-02T07:02:00Z
lf leads assign "$b" bob >/dev/null
lf leads assign "$f" alice >/dev/null
# alice calls the form's person back three minutes after it came.
set_clock 2026-11-02T07:03:00Z
lf publish call --id c-f-out --phone +79160000003 --kind outgoing --operator alice --duration 20 >/dev/null
# bob plans a call due at 10:08 and makes it at 10:10: contact after ten minutes, late.
set_clock 2026-11-02T07:05:00Z
call=$(lf activities plan --owner "leads/$b" --type call --subject "Call back" --responsible bob \
  --deadline 2026-11-02T07:08:00Z | json "d['item']['activity']['activityId']")
set_clock 2026-11-02T07:10:00Z
lf activities complete "$call" --result "no interest" >/dev/null
# Nov 3: a converts (a deal in the default pipeline, won on Nov 5); Nov 4: b is spam.
set_clock 2026-11-03T09:00:00Z
deal=$(lf leads convert "$a" | json "d['lead']['dealId']")
set_clock 2026-11-04T09:00:00Z
lf leads junk "$b" --reason spam >/dev/null
wait_idle
set_clock 2026-11-05T09:00:00Z
lf deals move "$deal" WON >/dev/null
set_clock 2026-11-05T10:00:00Z
for spec in "Big 500000 RUB" "Small 1000 USD"; do
  read -r title amount currency <<<"$spec"
  d=$(lf deals create --title "$title" --amount "$amount" --currency "$currency" \
    --responsible alice | json "d['item']['deal']['dealId']")
  lf deals move "$d" WON >/dev/null
done
# Nov 10: an email nobody answers. Dec 1, 03:30 Moscow: outside November.
set_clock 2026-11-10T08:00:00Z
lf publish email --id m-g --from g@example.com --subject Hello >/dev/null
set_clock 2026-12-01T00:30:00Z
lf publish email --id m-h --from h@example.com --subject Late >/dev/null
wait_idle

nov=(--from 2026-11-01 --to 2026-12-01 --time-zone Europe/Moscow)
lf report funnel "${nov[@]}" --format json >"$work/funnel.json"
lf report sources "${nov[@]}" --format json >"$work/sources.json"
lf report managers "${nov[@]}" --format json >"$work/managers.json"
lf report first-contact "${nov[@]}" --format json >"$work/first.json"

# The figures a person works out from the script above.
figures() { # python expression over f (funnel), s (sources), m (managers), c (first contact)
  python3 - "$work" "$1" <<'PY'
import json, sys
work, expr = sys.argv[1], sys.argv[2]
load = lambda n: json.load(open(f"{work}/{n}.json"))
f, s, m, c = load("funnel")["periods"][0], load("sources")["periods"][0], load("managers")["periods"][0], load("first")["periods"][0]
stage = {x["stageId"]: x for x in f["stages"]}
source = {x.get("source", ""): x for x in s["rows"]}
manager = {x.get("responsibleId", ""): x for x in m["rows"]}
num = lambda x, k: int(x.get(k, 0))
print(eval(expr))
PY
}
expect() { # name, python expression, expected value
  local got; got=$(figures "$2")
  if [ "$got" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: $2 = $got, wanted $3"; fi
}
expect "November's leads (Nov 1 Moscow in, Dec 1 out)" "num(f, 'items')" 5
expect "all reached NEW" "num(stage['NEW'], 'reached')" 5
expect "the converted lead passed every stage before it" "[num(stage[x], 'reached') for x in ('IN_PROCESS', 'PROCESSED', 'CONVERTED')]" "[1, 1, 1]"
expect "one junk" "(num(stage['JUNK'], 'reached'), num(stage['JUNK'], 'now'))" "(1, 1)"
expect "three still new" "num(stage['NEW'], 'now')" 3
expect "junk reason" "f['junkReasons']" "[{'reason': 'JUNK_REASON_SPAM', 'count': '1'}]"
expect "calls: 2 leads, 1 converted, 1 junk, its deal won" "[num(source['LEAD_SOURCE_CALL'], k) for k in ('leads', 'converted', 'junk', 'dealsWon')]" "[2, 1, 1, 1]"
expect "call conversion rate" "source['LEAD_SOURCE_CALL']['conversionRate']" 0.5
expect "time to conversion: 26 h, within 2%" "0.98 * 93600 <= int(source['LEAD_SOURCE_CALL']['timeToConversion']['median'].rstrip('s')) <= 93600" True
expect "web forms: 2 leads" "num(source['LEAD_SOURCE_WEB_FORM'], 'leads')" 2
expect "deals made by hand: no source, both won, per currency" "(num(source[''], 'dealsWon'), source['']['amountWon'])" "(2, [{'currencyCode': 'RUB', 'amountMinor': '500000'}, {'currencyCode': 'USD', 'amountMinor': '1000'}])"
expect "alice: 2 leads, 1 processed, 1 converted, 3 deals won" "[num(manager['alice'], k) for k in ('leadsAssigned', 'processed', 'converted', 'dealsWon')]" "[2, 1, 1, 3]"
expect "bob: 1 lead, junk, one activity done late" "[num(manager['bob'], k) for k in ('leadsAssigned', 'junk', 'activitiesDone', 'activitiesDoneLate')]" "[1, 1, 1, 1]"
expect "nobody's: 2 leads" "num(manager[''], 'leadsAssigned')" 2
expect "first contact: 3 of 5 contacted, 2 waiting" "(num(c['total'], 'leads'), c['total']['timeToContact']['count'], num(c['total'], 'waiting'))" "(5, '3', 2)"
expect "first contact: median 3 min, p90 10 min" "(c['total']['timeToContact']['median'], c['total']['timeToContact']['p90'])" "('180s', '600s')"
expect "one in three within a minute" "round(c['total']['withinTarget'], 3)" 0.333
lf report sources "${nov[@]}" --detail utm-source --format json >"$work/detail.json"
check "per UTM source: the ad's form apart" python3 -c "
import json
rows = json.load(open('$work/detail.json'))['periods'][0]['rows']
forms = {r.get('detail', ''): int(r['leads']) for r in rows if r.get('source') == 'LEAD_SOURCE_WEB_FORM'}
assert forms == {'': 1, 'google': 1}, forms"
lf report funnel "${nov[@]}" --by week --format json >"$work/weeks.json"
check "by week: Monday to Monday in Moscow, the month cut at its ends" python3 -c "
import json
periods = json.load(open('$work/weeks.json'))['periods']
assert [int(p.get('items', 0)) for p in periods] == [1, 3, 1, 0, 0, 0], periods
assert periods[1]['range']['startTime'] == '2026-11-01T21:00:00Z', periods[1]['range']"

# The same figures from the event log alone, as an analytics consumer
# replaying it from offset 0 computes them.
lf events tail >"$work/events.jsonl"
python3 "$root/examples/analytics/reports_from_events.py" --from 2026-10-31T21:00:00Z \
  --to 2026-11-30T21:00:00Z <"$work/events.jsonl" >"$work/replayed.json"
check "the replayed log gives the report's figures" python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
load = lambda n: json.load(open(f"{work}/{n}.json"))
r = load("replayed")
f, s, m, c = load("funnel")["periods"][0], load("sources")["periods"][0], load("managers")["periods"][0], load("first")["periods"][0]
n = lambda x, k: int(x.get(k, 0))
assert r["funnel"]["items"] == n(f, "items"), (r["funnel"], f)
for stage in f["stages"]:
    assert r["funnel"]["reached"].get(stage["stageId"], 0) == n(stage, "reached"), stage
    assert r["funnel"]["now"].get(stage["stageId"], 0) == n(stage, "now"), stage
for row in s["rows"]:
    name = row.get("source", "LEAD_SOURCE_UNSPECIFIED")[len("LEAD_SOURCE_"):].lower()
    mine = r["sources"].get("" if name == "unspecified" else name, {})
    for api, key in (("leads", "leads"), ("converted", "converted"), ("junk", "junk"),
                     ("dealsWon", "deals_won"), ("repeatLeads", "repeat")):
        assert mine.get(key, 0) == n(row, api), (name, api, mine, row)
    for money in row.get("amountWon", []):
        assert mine.get("won_" + money["currencyCode"]) == int(money["amountMinor"]), (mine, row)
for row in m["rows"]:
    mine = r["managers"].get(row.get("responsibleId", ""), {})
    for api, key in (("leadsAssigned", "leads"), ("processed", "processed"),
                     ("converted", "converted"), ("junk", "junk"), ("dealsWon", "deals_won"),
                     ("activitiesDone", "activities_done"), ("activitiesDoneLate", "done_late")):
        assert mine.get(key, 0) == n(row, api), (row, api, mine)
t = c["total"]
assert r["first_contact"]["contacted"] == int(t["timeToContact"]["count"])
assert r["first_contact"]["waiting"] == n(t, "waiting")
assert f'{r["first_contact"]["median"]}s' == t["timeToContact"]["median"]
assert f'{r["first_contact"]["p90"]}s' == t["timeToContact"]["p90"]
PY

# For people: aligned tables with bars; for spreadsheets: CSV.
lf report funnel "${nov[@]}" >"$work/funnel.txt"
check "table: a heading with the period in Moscow time" grep -q '^Funnel: leads  2026-11-01T00:00:00+03:00 .. 2026-12-01T00:00:00+03:00' "$work/funnel.txt"
check "table: NEW's bar is the longest" grep -qE '^NEW +New +5 +100\.0% +3  █{30}$' "$work/funnel.txt"
lf report managers "${nov[@]}" --format csv >"$work/managers.csv"
check "csv: a header and one row per manager" [ "$(wc -l <"$work/managers.csv")" = 4 ]
check "csv: money per currency" grep -q '^2026-11-01T00:00:00+03:00,2026-12-01T00:00:00+03:00,alice,2,1,1,0,3,5000.00 RUB + 10.00 USD,0,0,0' "$work/managers.csv"

# Rights: alice, a manager who reads only her own leads, sees only hers.
cat >"$work/access.yaml" <<'YAML'
access:
  roles:
    - id: manager
      grants:
        - {item: lead, scope: own}
        - {item: deal, scope: own}
        - {item: activity, scope: own}
    - id: deal-team
      grants:
        - {item: deal, actions: [read], scope: all}
  users:
    - {id: alice, roles: [manager]}
    - {id: dora, roles: [deal-team]}
YAML
lf apply -f "$work/access.yaml" >/dev/null
alice=$(lf api-keys create --principal alice | json "d['key']")
LEADFLOW_TOKEN=$alice lf report managers "${nov[@]}" --format json >"$work/alice.json"
check "a manager's report holds her own row only, marked restricted" python3 -c "
import json
r = json.load(open('$work/alice.json'))
assert r.get('restricted') is True, r
assert [row.get('responsibleId') for row in r['periods'][0]['rows']] == ['alice'], r"
dora=$(lf api-keys create --principal dora | json "d['key']")
if LEADFLOW_TOKEN=$dora lf report funnel "${nov[@]}" 2>"$work/err"; then check "no lead rights, no lead funnel" false; fi
check "refusal names what is missing" grep -q 'PERMISSION_DENIED: dora may read no lead' "$work/err"
check "the deal team reads its pipeline's funnel" bash -c "LEADFLOW_TOKEN=$dora '$LEADFLOW_CLI' report funnel ${nov[*]} --pipeline default --format json | grep -q '\"items\":\"3\"'"

# Errors name the flag or the field.
if lf report funnel --from 2026-11-01T10:05:00Z --to 2026-12-01 2>"$work/err"; then check "off-quarter start refused" false; fi
check "INVALID_ARGUMENT names from_time" grep -q 'INVALID_ARGUMENT: from_time: must be on a quarter hour' "$work/err"
if lf report funnel --by fortnight 2>"$work/err"; then check "bad --by refused" false; fi
check "--by names the choices" grep -q -- "--by: 'fortnight' is not day|week|month" "$work/err"
if lf report funnel --pipeline nope 2>"$work/err"; then check "unknown pipeline refused" false; fi
check "NOT_FOUND names pipeline_id" grep -q "NOT_FOUND: pipeline_id: no pipeline 'nope'" "$work/err"
if lf report managers --team nobody-team 2>"$work/err"; then check "unknown team refused" false; fi
check "NOT_FOUND names team" grep -q "NOT_FOUND: team: no team 'nobody-team'" "$work/err"

# Rebuilt from the log, the figures are the same.
kill "$server"; wait "$server" 2>/dev/null || true
start_server --rebuild-read-models
wait_idle
for r in funnel sources managers first-contact; do
  lf report "$r" "${nov[@]}" --format json >"$work/rebuilt-$r.json"
done
check "rebuilt: the same funnel" cmp -s "$work/funnel.json" "$work/rebuilt-funnel.json"
check "rebuilt: the same sources" cmp -s "$work/sources.json" "$work/rebuilt-sources.json"
check "rebuilt: the same managers" cmp -s "$work/managers.json" "$work/rebuilt-managers.json"
check "rebuilt: the same first contacts" cmp -s "$work/first.json" "$work/rebuilt-first-contact.json"

finish
