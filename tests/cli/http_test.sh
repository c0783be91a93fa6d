#!/usr/bin/env bash
# leadflowd's HTTP face through the real binaries (--http-listen): probes,
# a Prometheus scrape checked line by line, a plain HTML form and a JSON
# channel event posted with curl becoming leads, bad posts answered with
# the HTTP code and the field, /readyz 503 while a processor is wedged by
# injected storage errors and while the read models catch up at start.
set -euo pipefail

: "${LEADFLOWD:?path to leadflowd}" "${LEADFLOW_CLI:?path to leadflow}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=harness.sh
source "$here/harness.sh"
prom() { python3 "$here/prometheus_text.py" "$@"; }
http_port() { sed -n 's/.*http (metrics, probes, intake) on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/out"; }
# The HTTP status; the body goes to $work/body.
post() { curl -s -o "$work/body" -w '%{http_code}' -X POST "$@"; }
get() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }
body() { json "$1" <"$work/body"; }

start_leadflowd --data-dir "$work/data" --http-listen 127.0.0.1:0
export LEADFLOW_TOKEN_FILE="$work/data/admin.key"
key=$(cat "$work/data/admin.key")
http="http://127.0.0.1:$(http_port)"

check "liveness probe answers 200" [ "$(get "$http/healthz")" = 200 ]
check "readiness probe answers 200 once serving" [ "$(get "$http/readyz")" = 200 ]

# A plain HTML form; UTM tags on the landing page's address.
form=(--data-urlencode "name=Анна Смирнова" --data-urlencode "phone=+7 903 806-16-65"
  --data-urlencode "comment=Перезвоните после обеда")
check "a form post is accepted" [ "$(post "$http/v1/forms/contact-us?utm_source=google&utm_campaign=winter" \
  -H "Authorization: Bearer $key" -H "Referer: https://example.com/landing" "${form[@]}")" = 200 ]
form_event=$(body "d['event_id']")
check "a double submit is the same event" [ "$(post "$http/v1/forms/contact-us?utm_source=google&utm_campaign=winter" \
  -H "Authorization: Bearer $key" -H "Referer: https://example.com/landing" "${form[@]}")" = 200 ]
check "  (same event id)" [ "$(body "d['event_id']")" = "$form_event" ]
# A browser cannot set headers: the key may come as a field.
check "a form carrying api_key is accepted" [ "$(post "$http/v1/forms/callback" \
  --data-urlencode "name=Boris" --data-urlencode "email=boris@example.com" \
  --data-urlencode "api_key=$key")" = 200 ]
check "a JSON channel event is accepted" [ "$(post "$http/v1/channel-events" \
  -H "Content-Type: application/json" -H "Authorization: Bearer $key" \
  -d '{"id":"http-call-1","source":"telephony/asterisk","call":{"kind":"CALL_KIND_INCOMING","customerPhone":"+7 916 123-45-67"}}')" = 200 ]
check "  its reply carries a consistency token" [ "$(body "d['consistency_token']")" = "c:http-call-1" ]

# Bad posts: the HTTP code, the gRPC status name and the field.
check "a bad phone in a form is 400" [ "$(post "$http/v1/forms/contact-us" -H "Authorization: Bearer $key" \
  --data-urlencode "name=X" --data-urlencode "phone=not a phone")" = 400 ]
check "  naming the field" [ "$(body "d['error']['field_violations'][0]['field']")" = "event.web_form.fields[phone]" ]
check "a bad phone in JSON is 400 naming the field" [ "$(post "$http/v1/channel-events" \
  -H "Content-Type: application/json" -H "Authorization: Bearer $key" \
  -d '{"id":"http-call-2","source":"telephony/asterisk","call":{"customerPhone":"zzz"}}')" = 400 ]
check "  (event.call.customer_phone)" [ "$(body "any(v['field'] == 'event.call.customer_phone' for v in d['error']['field_violations'])")" = True ]
check "an unknown JSON field is 400" [ "$(post "$http/v1/channel-events" -H "Content-Type: application/json" \
  -H "Authorization: Bearer $key" -d '{"id":"x","colour":"red"}')" = 400 ]
check "  naming it" grep -q colour "$work/body"
check "no credential is 401" [ "$(post "$http/v1/forms/contact-us" --data-urlencode "name=X")" = 401 ]
check "  UNAUTHENTICATED" [ "$(body "d['error']['status']")" = UNAUTHENTICATED ]
check "a wrong key is 401" [ "$(post "$http/v1/forms/contact-us" -H "Authorization: Bearer lf_nope" \
  --data-urlencode "name=X")" = 401 ]
check "JSON to the form route is 400 naming Content-Type" [ "$(post "$http/v1/forms/contact-us" \
  -H "Authorization: Bearer $key" -H "Content-Type: application/json" -d '{}')" = 400 ]
check "  (Content-Type)" grep -q Content-Type "$work/body"
check "a broken %-escape is 400" [ "$(post "$http/v1/forms/contact-us" -H "Authorization: Bearer $key" \
  -d "name=%zz")" = 400 ]
head -c 5000000 /dev/zero | tr '\0' a >"$work/big"
check "a body over the request limit is 413" [ "$(post "$http/v1/forms/contact-us" -H "Authorization: Bearer $key" \
  --data-binary "@$work/big")" = 413 ]
check "an unknown path is 404" [ "$(get "$http/v2/nothing")" = 404 ]

# The events became leads, the form's fields and UTM tags kept.
wait_idle
lf leads list >"$work/leads"
check "three leads, the double submit one" [ "$(wc -l <"$work/leads")" = 3 ]
check "the form's lead has its name, phone, source and UTM" python3 - "$work/leads" <<'PY'
import json, sys
leads = [json.loads(line) for line in open(sys.argv[1])]
lead = next(l for l in leads if any(p['number'] == '+79038061665' for p in l.get('phones', [])))
text = json.dumps(lead, ensure_ascii=False)
assert 'Анна' in text and 'Смирнова' in text, text
assert lead['source'] == 'LEAD_SOURCE_WEB_FORM', lead['source']
assert 'google' in text and 'winter' in text and 'contact-us' in text, text
assert 'https://example.com/landing' in text, text
PY

# The scrape: well formed, and the counters moved with the traffic.
curl -s "$http/metrics" >"$work/metrics"
check "the exposition format is well formed" prom check <"$work/metrics"
m() { prom "$@" <"$work/metrics"; }
check "gRPC calls counted by method and code (OK)" [ "$(m sum leadflow_grpc_server_handled_total grpc_method=PublishChannelEvent grpc_code=OK)" -ge 4 ]
check "  (INVALID_ARGUMENT)" [ "$(m sum leadflow_grpc_server_handled_total grpc_method=PublishChannelEvent grpc_code=INVALID_ARGUMENT)" -ge 2 ]
check "  (UNAUTHENTICATED)" [ "$(m sum leadflow_grpc_server_handled_total grpc_method=PublishChannelEvent grpc_code=UNAUTHENTICATED)" -ge 2 ]
check "  and timed" [ "$(m sum leadflow_grpc_server_handling_seconds_count grpc_method=ListLeads)" -ge 1 ]
check "HTTP requests counted by route and code" [ "$(m sum leadflow_http_requests_total 'route=/v1/forms/{form_id}' code=200)" = 3 ]
check "intake records processed" [ "$(m sum leadflow_processor_records_total processor=intake)" -ge 4 ]
check "processor commits timed" [ "$(m sum leadflow_processor_commit_seconds_count processor=projection)" -ge 1 ]
check "group commits and fsyncs measured" [ "$(m sum leadflow_log_fsync_seconds_count)" -ge 1 ]
check "lag back to 0 once idle" [ "$(m max leadflow_processor_lag_records)" = 0 ]
check "RocksDB memtables reported" [ "$(m sum leadflow_rocksdb_memtable_bytes)" -gt 0 ]
check "ready gauge 1" [ "$(m sum leadflow_ready)" = 1 ]
check "the Grafana dashboard, Prometheus and compose fit together and name served metrics" \
  python3 - "$here/../../deploy" "$work/metrics" <<'PY'
import json, os, re, sys, yaml
deploy, scraped = sys.argv[1], open(sys.argv[2]).read()
served = set(re.findall(r'^# TYPE (\S+) ', scraped, re.M))
dashboard = json.load(open(os.path.join(deploy, 'grafana/leadflow-dashboard.json')))
named = set()
for panel in dashboard['panels']:
    assert panel['targets'], panel['title']
    for target in panel['targets']:
        named |= {re.sub(r'_(bucket|sum|count)$', '', n) for n in re.findall(r'leadflow_\w+', target['expr'])}
# Registered only on the Kafka engine, or at the first dead letter.
later = {n for n in named if n.startswith('leadflow_kafka_')} | {'leadflow_dead_letters_total'}
missing = named - served - later
assert not missing, missing
compose = yaml.safe_load(open(os.path.join(deploy, 'compose.yaml')))['services']
prometheus = yaml.safe_load(open(os.path.join(deploy, 'prometheus.yml')))
targets = prometheus['scrape_configs'][0]['static_configs'][0]['targets']
assert all(t.split(':')[0] in compose and t.endswith(':8080') for t in targets), targets
assert '--http-listen", "0.0.0.0:8080"' in open(os.path.join(deploy, 'Dockerfile')).read()
for volume in compose['grafana']['volumes'] + compose['prometheus']['volumes']:
    assert os.path.exists(os.path.join(deploy, volume.split(':')[0])), volume
PY

# Wedged: from the 200th storage write on, every write fails for 3 s. The
# probe says 503 with the reason, then 200 again. Logs as JSON this time.
kill "$server"; wait "$server" 2>/dev/null || true
start_leadflowd --data-dir "$work/data" --http-listen 127.0.0.1:0 --inject-faults write:200:3s:unavailable \
  --log-format json
http="http://127.0.0.1:$(http_port)"
( for i in $(seq 400); do
    curl -s -o /dev/null -X POST "$http/v1/forms/load" -H "Authorization: Bearer $key" \
      --data-urlencode "name=Load $i" --data-urlencode "phone=+7 903 100-$((1000 + i))" || true
  done ) &
loader=$!
pids+=("$loader")
seen_503=false ready_again=false
for _ in $(seq 600); do
  code=$(get "$http/readyz")
  if [ "$code" = 503 ]; then seen_503=true; cp "$work/body" "$work/not-ready"; fi
  if $seen_503 && [ "$code" = 200 ]; then ready_again=true; break; fi
  sleep 0.05
done
kill "$loader" 2>/dev/null || true
check "readyz 503 while writes fail" $seen_503
check "  saying why" grep -q -i "unavailable" "$work/not-ready"
check "readyz 200 once they go through again" $ready_again
check "every log line is a JSON object with time, level, component and message" python3 - "$work/out" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert lines and all({'time', 'level', 'component', 'message'} <= set(l) for l in lines), lines[:3]
start = next(l for l in lines if l['message'] == 'starting')
assert start['http_listen'] == '127.0.0.1:0' and start['partitions'] == 4, start
assert any(l['message'] == 'not serving' and l['level'] == 'warning' for l in lines), lines
refused = [l for l in lines if l['message'] == 'batch refused; retrying']
assert refused and all(l['processor'] and 'UNAVAILABLE' in l['error'] for l in refused), lines
PY

# Catching up at start: rebuilding the read models from the log, the
# probe says 503 (catching up) before the server serves. The rebuild's
# writes fail for its first 6 s (after the one that drops the old read
# models), so it is still catching up when the probe first asks; the
# server retries them, as it does when storage trouble passes.
wait_idle
kill "$server"; wait "$server" 2>/dev/null || true
"$LEADFLOWD" --listen 127.0.0.1:0 --data-dir "$work/data" --http-listen 127.0.0.1:0 \
  --rebuild-read-models --inject-faults write:1:6s:unavailable >"$work/out" 2>&1 &
server=$!
pids+=("$server")
check "readyz 503 while catching up, then 200" python3 - "$work/out" <<'PY'
import re, sys, time, urllib.request, urllib.error
deadline = time.time() + 60
port = None
while port is None and time.time() < deadline:
    m = re.search(r'http \(metrics, probes, intake\) on 127\.0\.0\.1:(\d+)', open(sys.argv[1]).read())
    port = m and m.group(1)
seen = []
while time.time() < deadline:
    try:
        urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=5)
        seen.append(200)
        break
    except urllib.error.HTTPError as e:
        if e.code == 503 and b'catching up' in e.read():
            seen.append(503)
    except urllib.error.URLError:
        pass
assert seen and seen[-1] == 200, seen
assert 503 in seen, 'never saw catching up: ' + str(seen[:3])
PY
check "the refused rebuild batches were retried, not fatal" \
  grep -q "catching up: batch refused; retrying" "$work/out"
check "  and the rebuild's progress logged" grep -Eq "leadflowd: catching up events_folded=[0-9]+ events_to_fold=[1-9][0-9]* events_per_second=[0-9]+ eta_seconds=-?[0-9]+" "$work/out"
finish
