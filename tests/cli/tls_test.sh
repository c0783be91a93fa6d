#!/usr/bin/env bash
# Transport security through the real binaries: leadflowd serving TLS and
# mutual TLS with certificates made here by openssl, the CLI connecting with
# them (and failing without), the flags refused at start with the reason,
# and Kafka client settings passed from a file (--kafka-config) to the
# clients of the Kafka engine, secrets never printed.
set -euo pipefail

: "${LEADFLOWD:?path to leadflowd}" "${LEADFLOW_CLI:?path to leadflow}"
: "${LEADFLOW_DEV_BROKER:?path to leadflow-dev-broker}"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# --- certificates: a CA, the server's (127.0.0.1 and localhost), a client's,
# and a rogue CA with a client certificate of its own.
cd "$work"
ca() { # name
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
    -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
leaf() { # name, ca, subjectAltName
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
ca ca
ca rogue-ca
leaf server ca "IP:127.0.0.1,DNS:localhost"
leaf client ca "DNS:telephony"
leaf front-office ca "DNS:front-office"
leaf rogue-client rogue-ca "DNS:intruder"

# start NAME ARGS...: leadflowd in the background; its port in $port.
start() {
  local name=$1; shift
  "$LEADFLOWD" --data-dir "$work/$name-data" --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>&1 &
  pids+=($!)
  port=
  for _ in $(seq 300); do
    grep -q 'listening on' "$work/$name.out" && break
    sleep 0.1
  done
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/$name.out")
  [ -n "$port" ] || { cat "$work/$name.out"; echo "FAIL: $name did not start"; exit 1; }
}
# refused NAME EXPECTED ARGS...: leadflowd exits non-zero at start, saying EXPECTED.
refused() {
  local name=$1 expected=$2; shift 2
  if "$LEADFLOWD" --data-dir "$work/refused-data" "$@" >"$work/refused.out" 2>&1; then
    check "$name: refused" false
    return
  fi
  check "$name: says why" grep -qF -- "$expected" "$work/refused.out"
}
lf() { "$LEADFLOW_CLI" --timeout 5 "$@"; }
served() { lf "$@" >/dev/null; } # a call that must succeed; its output is not the point

# --- flags refused at start, before anything listens.
refused "a certificate without its key" "--tls-cert and --tls-key go together" \
  --listen 127.0.0.1:0 --tls-cert server.pem
refused "client CAs without a certificate" "--tls-client-ca needs --tls-cert" \
  --listen 127.0.0.1:0 --tls-client-ca ca.pem
refused "plaintext on every interface" "is not a loopback address" --listen 0.0.0.0:0
refused "a missing certificate file" "--tls-cert $work/absent.pem: cannot be read" \
  --listen 127.0.0.1:0 --tls-cert "$work/absent.pem" --tls-key server.key
echo "KEYMATERIAL-not-pem" >"$work/bogus.key"
refused "a key file that is not PEM" "--tls-key $work/bogus.key: not a PEM file" \
  --listen 127.0.0.1:0 --tls-cert server.pem --tls-key "$work/bogus.key"
check "a key file's contents are not echoed" bash -c "! grep -q KEYMATERIAL '$work/refused.out'"
refused "a key of another certificate" "not the private key of --tls-cert" \
  --listen 127.0.0.1:0 --tls-cert server.pem --tls-key client.key

# --- TLS: the CLI connects with the CA, by address or by name; not without.
start tls --tls-cert server.pem --tls-key server.key
export LEADFLOW_TOKEN_FILE="$work/tls-data/admin.key"
check "the server says it serves TLS" grep -q "leadflowd: TLS with server.pem" "$work/tls.out"
target=127.0.0.1:$port
check "publish over TLS" served --target "$target" --tls-ca ca.pem \
  publish call --id tls-call-1 --phone "+79165550101" --operator anna
check "status over TLS, by name" served --target "localhost:$port" --tls-ca ca.pem status
LEADFLOW_TLS_CA="$work/ca.pem" "$LEADFLOW_CLI" --target "$target" status >"$work/status" 2>&1 ||
  true
check "the CA from the environment" grep -q '"engine":"embedded"' "$work/status"
if lf --target "$target" status 2>"$work/err"; then check "plaintext to a TLS server fails" false; fi
check "plaintext to a TLS server: unavailable" grep -q UNAVAILABLE "$work/err"
if lf --target "$target" --tls-ca rogue-ca.pem status 2>/dev/null; then
  check "a server certificate from another CA is not trusted" false
fi
if lf --target "$target" --tls-ca ca.pem --tls-server-name intruder status 2>/dev/null; then
  check "a certificate for another name is not accepted" false
fi
if lf --target "$target" --tls-ca "$work/absent.pem" status 2>"$work/err"; then
  check "a CLI without its CA file fails" false
fi
check "the CLI names the file it cannot read" grep -q "absent.pem: cannot be read" "$work/err"
lf --target "$target" --tls-ca ca.pem leads list >"$work/leads" || true
for _ in $(seq 50); do
  [ "$(wc -l <"$work/leads")" = 1 ] && break
  sleep 0.1
  lf --target "$target" --tls-ca ca.pem leads list >"$work/leads" || true
done
check "the call's lead, read over TLS" [ "$(wc -l <"$work/leads")" = 1 ]

# Roles over TLS: with the seed access policy a manager's key lists only
# their own leads (none here), reads no other's counters, and is refused
# the call's lead.
tls() { lf --target "$target" --tls-ca ca.pem "$@"; }
check "access applied over TLS" served --target "$target" --tls-ca ca.pem apply -f "$(dirname "$0")/../../examples/access/seed.yaml"
boris=$(tls api-keys create --principal boris | json "d['key']")
call_lead=$(json "d['leadId']" <"$work/leads")
check "a manager lists none of others' leads" [ "$(LEADFLOW_TOKEN=$boris tls leads list | wc -l)" = 0 ]
if LEADFLOW_TOKEN=$boris tls leads get "$call_lead" 2>"$work/err" >/dev/null; then
  check "a manager cannot read another's lead" false
fi
check "reading another's lead over TLS: PERMISSION_DENIED" grep -q "PERMISSION_DENIED: 'boris' may not read leads/$call_lead" "$work/err"
if LEADFLOW_TOKEN=$boris tls counters sveta 2>"$work/err" >/dev/null; then
  check "a manager cannot read another's counters" false
fi
check "another's counters: PERMISSION_DENIED" grep -q "may not read the counters of 'sveta'" "$work/err"
if LEADFLOW_TOKEN_FILE= tls leads list 2>"$work/err" >/dev/null; then
  check "anonymous over TLS is refused" false
fi
check "anonymous over TLS: UNAUTHENTICATED" grep -q "UNAUTHENTICATED: no credentials" "$work/err"
boris_key=$(LEADFLOW_TOKEN=$boris tls whoami | json "d['apiKey']")
tls api-keys revoke "$boris_key" --reason left >/dev/null
if LEADFLOW_TOKEN=$boris tls leads list 2>"$work/err" >/dev/null; then
  check "a revoked key over TLS is refused" false
fi
check "a revoked key over TLS: UNAUTHENTICATED, saying so" grep -q "was revoked at" "$work/err"
boris=$(tls api-keys create --principal boris | json "d['key']")
own_counters() { LEADFLOW_TOKEN=$boris tls counters boris >/dev/null; }
check "own counters are readable" own_counters

# --- mutual TLS: only clients with a certificate of the configured CA.
# Here the client certificate is the credential.
unset LEADFLOW_TOKEN_FILE
start mtls --tls-cert server.pem --tls-key server.key --tls-client-ca ca.pem \
  --act-for-others front-office
check "the server says client certificates are required" \
  grep -q "client certificates signed by ca.pem required" "$work/mtls.out"
target=127.0.0.1:$port
if lf --target "$target" --tls-ca ca.pem status 2>/dev/null; then
  check "mTLS: a client without a certificate is refused" false
fi
if lf --target "$target" --tls-ca ca.pem --tls-cert rogue-client.pem --tls-key rogue-client.key \
  status 2>/dev/null; then
  check "mTLS: a client certificate of another CA is refused" false
fi
check "mTLS: a client with its certificate is served" \
  served --target "$target" --tls-ca ca.pem --tls-cert client.pem --tls-key client.key \
  publish call --id mtls-call-1 --phone "+79165550102" --operator anna
if lf --target "$target" --tls-ca ca.pem --tls-cert client.pem status 2>"$work/err"; then
  check "a client certificate without its key is refused by the CLI" false
fi
check "the CLI says the key is missing" grep -q "go together" "$work/err"

# A client with a certificate acts as itself: its certificate's name is the
# actor of what it changes, and it cannot name someone else; one listed in
# --act-for-others can.
as_client() { lf --target "$target" --tls-ca ca.pem --tls-cert client.pem --tls-key client.key "$@"; }
as_front() {
  lf --target "$target" --tls-ca ca.pem --tls-cert front-office.pem --tls-key front-office.key "$@"
}
lead=
for _ in $(seq 50); do
  lead=$(as_client leads list --source call 2>/dev/null | python3 -c \
    "import json,sys; print(json.loads(sys.stdin.readline())['leadId'])" 2>/dev/null) && break
  sleep 0.1
done
check "the mTLS call made a lead" [ -n "$lead" ]
last_actor() {
  as_client timeline "leads/$lead" | tail -1 | python3 -c \
    "import json,sys; print(json.loads(sys.stdin.readline())['actor'])"
}
quiet() { "$@" >/dev/null 2>&1; }
actor_becomes() { # the lead's last event's actor is $1 (once projected)
  for _ in $(seq 50); do
    [ "$(last_actor)" = "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
check "a change by a certified client" quiet as_client leads set-status "$lead" IN_PROCESS
check "its actor is the certificate's name" actor_becomes client
if as_client leads convert "$lead" --actor boris 2>"$work/err" >/dev/null; then
  check "a certified client naming another actor is refused" false
fi
check "the refusal says who the client is" \
  grep -q "PERMISSION_DENIED.*'client' and may act only as itself" "$work/err"
check "a client allowed to act for others names whom it acts for" \
  quiet as_front leads convert "$lead" --actor boris
check "its actor is the one it named" actor_becomes boris

# --- Kafka client settings from a file.
cat >"$work/kafka.conf" <<'EOF'
# leadflowd's Kafka clients
client.id = leadflow-tls-test
socket.keepalive.enable=true

sasl.password=hunter2-do-not-print
EOF
chmod 644 "$work/kafka.conf"
refused "kafka config for the embedded engine" "--kafka-config needs --kafka-brokers" \
  --listen 127.0.0.1:0 --kafka-config "$work/kafka.conf"
printf 'client.id=a\ntransactional.id=mine\n' >"$work/managed.conf"
refused "a setting leadflowd makes itself" \
  "managed.conf, line 2: transactional.id is set by leadflowd itself (use --kafka-transactional-id)" \
  --listen 127.0.0.1:0 --kafka-brokers 127.0.0.1:1 --kafka-config "$work/managed.conf"
printf 'client.id=a\nno.such.setting=1\n' >"$work/unknown.conf"
refused "an unknown setting" "unknown.conf, line 2: no.such.setting" \
  --listen 127.0.0.1:0 --kafka-brokers 127.0.0.1:1 --kafka-config "$work/unknown.conf"
printf 'client.id\n' >"$work/shape.conf"
refused "a line without =" "shape.conf, line 1: expected key=value" \
  --listen 127.0.0.1:0 --kafka-brokers 127.0.0.1:1 --kafka-config "$work/shape.conf"

"$LEADFLOW_DEV_BROKER" >"$work/broker.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'bootstrap servers' "$work/broker.out" && break; sleep 0.1; done
bootstrap=$(sed -n 's/.*bootstrap servers //p' "$work/broker.out")
start kafka --kafka-brokers "$bootstrap" --kafka-replication 1 --kafka-config "$work/kafka.conf"
export LEADFLOW_TOKEN_FILE="$work/kafka-data/admin.key"
check "the settings' keys are printed" \
  grep -q "kafka client settings from $work/kafka.conf: client.id, socket.keepalive.enable, sasl.password" \
  "$work/kafka.out"
check "a secret's value is never printed" bash -c "! grep -q hunter2 '$work/kafka.out'"
check "a file with secrets readable by others is warned about" \
  grep -q "holds secrets and is readable by others" "$work/kafka.out"
check "the Kafka engine works with the settings" \
  served --target "127.0.0.1:$port" publish call --id kafka-conf-call-1 --phone "+79165550103" \
  --operator anna

finish
