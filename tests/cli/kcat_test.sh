#!/usr/bin/env bash
# Plain Kafka clients interoperate: with leadflowd on the dev broker, a
# kcat-published JSON channel event becomes a lead, a garbage record lands on
# the dead-letter topic with its reason, and kcat reading the event topic
# from offset 0 sees every domain event.
set -euo pipefail

: "${LEADFLOWD:?}" "${LEADFLOW_CLI:?}" "${LEADFLOW_DEV_BROKER:?}" "${LEADFLOW_DESCRIPTOR_SET:?}"
command -v kcat >/dev/null || { echo "FAIL: kcat is not installed (deploy/install-deps.sh installs it)"; exit 1; }
# shellcheck source=harness.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/harness.sh"

wait_for() { # file, pattern
  for _ in $(seq 100); do grep -q "$2" "$1" && return 0; sleep 0.1; done
  cat "$1"; echo "FAIL: no '$2'"; exit 1
}

"$LEADFLOW_DEV_BROKER" >"$work/broker" 2>&1 &
pids+=($!)
wait_for "$work/broker" 'bootstrap servers'
brokers=$(sed -n 's/.*bootstrap servers //p' "$work/broker")
# librdkafka's statistics every 200 ms, so the scrape below has them.
printf 'statistics.interval.ms=200\n' >"$work/kafka.conf"
"$LEADFLOWD" --data-dir "$work/data" --listen 127.0.0.1:0 --kafka-brokers "$brokers" \
  --kafka-config "$work/kafka.conf" --http-listen 127.0.0.1:0 >"$work/server" 2>&1 &
pids+=($!)
wait_for "$work/server" 'listening on'
export LEADFLOW_TARGET=$(sed -n 's/.*listening on \(.*\)$/\1/p' "$work/server")
export LEADFLOW_TOKEN_FILE="$work/data/admin.key"

# Polls a command until it succeeds, for up to 30 s.
wait_until() { # description, then the command
  local what=$1; shift
  for _ in $(seq 600); do "$@" && return 0; sleep 0.05; done
  echo "FAIL: never: $what"
  return 1
}


# A JSON channel event (protobuf's JSON mapping), chosen by content-type.
echo '{"id":"kcat-1","source":"kcat","call":{"kind":"CALL_KIND_INCOMING","customerPhone":"8 916 321-00-00","operatorId":"vera"}}' |
  kcat -P -b "$brokers" -t leadflow.intake.v1 -k phone:+79163210000 \
    -H content-type=application/json -H ce_id=kcat-1 -H ce_type=leadflow.v1.ChannelEvent
# Garbage, and a valid JSON event with an invalid phone.
printf 'this is not a channel event' | kcat -P -b "$brokers" -t leadflow.intake.v1 -k junk
echo '{"id":"kcat-2","source":"kcat","call":{"kind":"CALL_KIND_MISSED","customerPhone":"12"}}' |
  kcat -P -b "$brokers" -t leadflow.intake.v1 -k junk -H content-type=application/json
# And one through gRPC, for good measure.
lf publish email --id kcat-3 --from someone@example.com >/dev/null
# Each of the four handled (two leads, two dead letters), then nothing left
# in flight.
handled() {
  [ "$(lf leads list | wc -l)" -ge 2 ] &&
    [ "$(lf status | json "int(d.get('deadLetters', 0))")" -ge 2 ]
}
wait_until "two leads and two dead letters" handled
wait_idle

check "the kcat event became a lead of its operator" \
  [ "$(lf leads list --responsible vera | json "d['phones'][0]['number']")" = "+79163210000" ]
check "two leads in all" [ "$(lf leads list | wc -l)" = 2 ]

kcat -C -b "$brokers" -t leadflow.deadletter.v1 -o beginning -e -q -f '%h|%s\n' >"$work/dead"
check "two dead letters" [ "$(wc -l <"$work/dead")" = 2 ]
check "garbage has a reason" grep -q 'leadflow_reason=record value: cannot decode.*|this is not a channel event' "$work/dead"
check "the invalid phone is named" grep -q "leadflow_reason=call.customer_phone: '12' is not a valid phone number" "$work/dead"

kcat -C -b "$brokers" -t leadflow.events.v1 -o beginning -e -q -X isolation.level=read_committed \
  -f '%p %o %h\n' >"$work/events"
lf events tail >"$work/tail"
check "kcat sees every domain event" [ "$(wc -l <"$work/events")" = "$(wc -l <"$work/tail")" ]
check "events carry CloudEvents headers" grep -q 'ce_type=leadflow.v1.LeadCreated' "$work/events"
check "four lead events: two leads, each created and its communication recorded" \
  [ "$(grep -vc 'ce_type=leadflow.v1.ApiKey' "$work/events")" = 4 ]
check "the administrator's key recorded once" [ "$(grep -c 'ce_type=leadflow.v1.ApiKeyIssued' "$work/events")" = 1 ]
kcat -C -b "$brokers" -t leadflow.events.v1 -o beginning -e -q -X isolation.level=read_committed \
  -f '%s\n' >"$work/payloads"
# lfk_<16 hex id>_<secret>: the secret starts at the 22nd character.
secret_absent() {
  local secret
  secret=$(head -n1 "$LEADFLOW_TOKEN_FILE" | cut -c22-)
  [ "${#secret}" -ge 40 ] && ! grep -qF -- "$secret" "$work/payloads"
}
check "the key's secret is nowhere on the event topic" secret_absent

# Decoded without our code: the shipped descriptor set and protoc, on the
# first LeadCreated the header listing shows.
read -r created_partition created_offset _ < <(grep -m1 'ce_type=leadflow.v1.LeadCreated' "$work/events")
kcat -C -b "$brokers" -t leadflow.events.v1 -p "$created_partition" -o "$created_offset" -c 1 -e -q \
  -f '%s' >"$work/event.bin"
protoc --descriptor_set_in="$LEADFLOW_DESCRIPTOR_SET" --decode=leadflow.v1.EventEnvelope \
  <"$work/event.bin" >"$work/event.txt" 2>&1 || true
check "the descriptor set decodes an event" grep -q 'type: "leadflow.v1.LeadCreated"' "$work/event.txt"

# Robots on Kafka: with robots.yaml applied, a second call answered by vera
# tells her (a follow-up on leadflow.followups.v1 with CloudEvents headers),
# and a missed call from the same number moves the lead by trigger.
lf apply -f "$(dirname "$0")/../../examples/pipelines/robots.yaml" >/dev/null
vera_lead=$(lf leads list --responsible vera | json "d['leadId']")
lf publish call --id kcat-4 --phone "+7 916 321-00-00" --operator vera >/dev/null
lf publish call --id kcat-5 --phone "+7 916 321-00-00" --kind missed >/dev/null
for _ in $(seq 200); do
  [ "$(lf leads get "$vera_lead" | json "d['statusId']")" = CALL_BACK ] && break
  sleep 0.05
done
wait_idle
check "a missed call moved the lead by trigger" [ "$(lf leads get "$vera_lead" | json "d['statusId']")" = CALL_BACK ]
kcat -C -b "$brokers" -t leadflow.followups.v1 -o beginning -e -q -X isolation.level=read_committed \
  -f '%k|%h\n' >"$work/followups"
check "the repeat call's notification is a follow-up for the integrations" \
  grep -q "^leads/$vera_lead|.*ce_type=leadflow.followup.v1.Notification" "$work/followups"
check "follow-ups carry CloudEvents ids" grep -q 'ce_id=ev-' "$work/followups"
kcat -C -b "$brokers" -t leadflow.robot-state.v1 -o beginning -e -q -f '%k\n' >"$work/robot-state"
check "the robot processor's state has its changelog" grep -q "^robots/item/lead/$vera_lead$" "$work/robot-state"
kcat -C -b "$brokers" -t leadflow.events.v1 -o beginning -e -q -X isolation.level=read_committed \
  -f '%s\n' >"$work/events.bin"
check "the trigger's event names it" grep -qa 'missed-call' "$work/events.bin"

# The Kafka clients' own statistics on /metrics: messages produced and
# fetched, queues, the round trip to the broker.
http=$(sed -n 's/.*http (metrics, probes, intake) on \(127.0.0.1:[0-9]*\).*/\1/p' "$work/server")
scraped() {
  curl -s "http://$http/metrics" >"$work/metrics" &&
    python3 "$here/prometheus_text.py" check <"$work/metrics" &&
    [ "$(python3 "$here/prometheus_text.py" sum leadflow_kafka_client_tx_messages_total <"$work/metrics")" -gt 0 ] &&
    [ "$(python3 "$here/prometheus_text.py" sum leadflow_kafka_client_rx_messages_total <"$work/metrics")" -gt 0 ]
}
check "Kafka client statistics scraped (produced and fetched counted)" wait_until "client statistics" scraped
check "  per client, producers and consumers" [ "$(grep -c '^leadflow_kafka_client_queue_messages{client="rdkafka#' "$work/metrics")" -ge 3 ]
check "  with the round trip to the broker" grep -q '^leadflow_kafka_broker_rtt_seconds{client="rdkafka#producer-[0-9]*",broker=' "$work/metrics"

finish
