#!/usr/bin/env bash
# One RabbitMQ user per Plexus service, each allowed only the exchanges and queues that
# service declares, publishes to and consumes (docs/operations.md, "Broker users"), an
# admin user for `plexus migrate` and the CLI, and one for KEDA, which scales the senders
# on their queues' lengths and may do nothing else. Idempotent: a user that exists gets its
# password set again and its permissions replaced; a missing vhost is made.
#
#   scripts/rabbitmq-users.sh [--vhost /] [--host rabbitmq] [--port 5672]
#                             [--prefix plexus-] [--node rabbit@host] [--out FILE]
#                             [--delete | --print]
#
# Passwords: PLEXUS_<SERVICE>_AMQP_PASSWORD (PLEXUS_ADMIN_AMQP_PASSWORD for the admin,
# PLEXUS_KEDA_AMQP_PASSWORD for KEDA's) when set, else made here (openssl). Writes FILE
# (default rabbitmq-users.env, mode 0600): one PLEXUS_<SERVICE>_AMQP_URI=... line a
# service, PLEXUS_AMQP_URI, the admin's, and PLEXUS_KEDA_AMQP_URI (amqp://, as KEDA reads it).
# `plexus run` and docker compose read these names; for Kubernetes:
# `kubectl -n plexus create secret generic plexus-amqp --from-env-file=FILE`.
# --delete removes the users instead (the vhost stays); --print only prints each
# service's configure, write and read regexes.
set -euo pipefail

vhost=/ host=rabbitmq port=5672 prefix=plexus- out=rabbitmq-users.env delete=no print=no
node_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --vhost) vhost=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --node) node_args=(-n "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --delete) delete=yes; shift ;;
    --print) print=yes; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "rabbitmq-users.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

ctl() { rabbitmqctl "${node_args[@]}" -q "$@"; }

# The names, as the code makes them:
#   nameko-rpc                 the RPC exchange (plexus/rpc.py); rpc-<service> a service's
#                              queue of calls; rpc.reply-plexus-<hex> a caller's replies
#   <service>.events           a service's events, published by its outbox (plexus/outbox.py)
#   plexus.events.<source>.<consumer>, and .dead
#                              a consumer's queue of a source's events, and its parking
#                              queue (plexus/consumer.py, plexus/event_consumer.py)
#   plexus.dead-letters        the exchange failed messages are parked through
#   plexus.messages            messaging's deliveries; plexus.messages.<sender>, and .dead,
#                              a sender's queue (services/messaging/queues.py)
# RabbitMQ asks: declare = configure; publish = write on the exchange; consume = read on
# the queue; bind = write on the queue and read on the exchange; a queue declared with
# plexus.dead-letters as its dead-letter exchange = read on the queue, write on that.
SENDERS="email sms telegram viber webpush app_push"
DLX='plexus\.dead-letters'
RPC_CLIENT='nameko-rpc|rpc\.reply-plexus-[0-9a-f]+'

declare -A CONFIGURE WRITE READ
# allow SERVICE configure write read: add alternatives to its three regexes
allow() {
  [ -z "$2" ] || CONFIGURE[$1]+="|$2"
  [ -z "$3" ] || WRITE[$1]+="|$3"
  [ -z "$4" ] || READ[$1]+="|$4"
}
# The regex RabbitMQ is given: ^(a|b|...)$, or one matching no name at all.
regex() { local r=${1#|}; printf '^(%s)$' "${r:-(?!)}"; }
rpc_server() { local q="nameko-rpc|rpc-$1"; allow "$1" "$q" "$q" "$q"; }
rpc_client() { allow "$1" "$RPC_CLIENT" "$RPC_CLIENT" "$RPC_CLIENT"; }
publishes_events() { allow "$1" "$1\\.events" "$1\\.events" ""; }
consumes_events() {  # consumes_events CONSUMER SOURCE
  local queue="plexus\\.events\\.$2\\.$1"
  allow "$1" "$2\\.events|$queue(\\.dead)?|$DLX" "$queue(\\.dead)?|$DLX" "$2\\.events|$queue|$DLX"
}

rpc_server contacts; publishes_events contacts

rpc_server activity; rpc_client activity; publishes_events activity
for source in contacts messaging segments; do consumes_events activity "$source"; done

rpc_server segments; rpc_client segments; publishes_events segments
for source in contacts activity; do consumes_events segments "$source"; done

# Campaigns publishes no events: it calls segments, contacts and messaging, counts
# messaging's events, and starts workflow runs from contacts', activity's and segments'.
rpc_server campaigns; rpc_client campaigns
for source in contacts messaging activity segments; do consumes_events campaigns "$source"; done

rpc_server messaging; rpc_client messaging; publishes_events messaging
consumes_events messaging contacts
# Publishes deliveries, and declares every sender's queue before it does (so a message
# queued before a sender's first start waits for it): it may not read them.
senders_queues='plexus\.messages\.[a-z_]+(\.dead)?'
allow messaging "plexus\\.messages|$senders_queues|$DLX" "plexus\\.messages|$senders_queues|$DLX" \
  "plexus\\.messages|$DLX|plexus\\.messages\\.[a-z_]+"

# A sender: consumes its own queue, parks what fails, calls messaging (and contacts),
# and hears of erased contacts (contact_deleted) to forget its provider's files;
# publishes to no exchange but the dead letters and the RPC one.
for channel in $SENDERS; do
  sender="sender_$channel" queue="plexus\\.messages\\.$channel"
  rpc_server "$sender"; rpc_client "$sender"; consumes_events "$sender" contacts
  allow "$sender" "plexus\\.messages|$queue(\\.dead)?|$DLX" "$queue(\\.dead)?|$DLX" \
    "plexus\\.messages|$queue|$DLX"
done

rpc_client gateway

# Which RPCs a user may call, by routing key on nameko-rpc (RabbitMQ's topic permissions:
# service.method; replies go out keyed by the caller's reply queue). Set for the senders,
# the services that face providers and hold their credentials: they claim and report a
# message (services/messaging/senders/delivery.py), webpush reads and drops push
# subscriptions, app_push device tokens. The others call what their work needs and keep nameko-rpc whole.
RPC_REPLIES='rpc\.reply-plexus-[0-9a-f]+|[0-9a-f-]{36}'
declare -A CALLS
for channel in $SENDERS; do
  CALLS[sender_$channel]="messaging\.(claim_delivery|report_delivery)|$RPC_REPLIES"
done
CALLS[sender_webpush]+="|contacts\.(webpush_subscriptions|remove_webpush_subscription)"
CALLS[sender_app_push]+="|contacts\.(app_push_tokens|remove_app_push_token)"

services="contacts activity segments campaigns messaging $(for c in $SENDERS; do printf 'sender_%s ' "$c"; done)gateway"

uri_vhost=$vhost
[ "$vhost" = / ] && uri_vhost=%2F
password_for() {  # the configured password, else a new one
  local var="PLEXUS_${1^^}_AMQP_PASSWORD"
  if [ -n "${!var:-}" ]; then printf '%s' "${!var}"; else openssl rand -hex 24; fi
}
set_user() {  # set_user USER PASSWORD
  if ctl list_users | awk '{print $1}' | grep -qx "$1"; then
    ctl change_password "$1" "$2" >/dev/null
  else
    ctl add_user "$1" "$2" >/dev/null
  fi
}

if [ "$print" = yes ]; then  # the permissions alone, one user a line (the tests read it)
  for name in $services; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(regex "${CONFIGURE[$name]:-}")" \
      "$(regex "${WRITE[$name]:-}")" "$(regex "${READ[$name]:-}")" \
      "$([ -n "${CALLS[$name]:-}" ] && regex "${CALLS[$name]}" || echo '.*')"
  done
  exit 0
fi

if [ "$delete" = yes ]; then
  for name in $services admin keda; do
    user="$prefix${name//_/-}"
    if ctl list_users | awk '{print $1}' | grep -qx "$user"; then ctl delete_user "$user"; fi
  done
  exit 0
fi

if ! ctl list_vhosts | grep -qxF "$vhost"; then
  ctl add_vhost "$vhost"
  echo "rabbitmq-users.sh: made vhost $vhost" >&2
fi
umask 077
: >"$out"
for name in $services admin keda; do
  user="$prefix${name//_/-}"
  password=$(password_for "$name")
  set_user "$user" "$password"
  if [ "$name" = admin ]; then
    ctl set_permissions -p "$vhost" "$user" '.*' '.*' '.*'
    echo "PLEXUS_AMQP_URI=pyamqp://$user:$password@$host:$port/$uri_vhost" >>"$out"
  elif [ "$name" = keda ]; then
    # Into the vhost with no right on any name: a passive declare, which tells a queue's
    # length, needs none (deploy/k8s/base/keda.yaml).
    ctl set_permissions -p "$vhost" "$user" '^$' '^$' '^$'
    echo "PLEXUS_KEDA_AMQP_URI=amqp://$user:$password@$host:$port/$uri_vhost" >>"$out"
  else
    ctl set_permissions -p "$vhost" "$user" "$(regex "${CONFIGURE[$name]:-}")" \
      "$(regex "${WRITE[$name]:-}")" "$(regex "${READ[$name]:-}")"
    if [ -n "${CALLS[$name]:-}" ]; then
      ctl set_topic_permissions -p "$vhost" "$user" nameko-rpc "$(regex "${CALLS[$name]}")" '.*'
    else  # run again after a change: nothing left of an older script's limits
      ctl clear_topic_permissions -p "$vhost" "$user" >/dev/null 2>&1 || true
    fi
    echo "PLEXUS_${name^^}_AMQP_URI=pyamqp://$user:$password@$host:$port/$uri_vhost" >>"$out"
  fi
  echo "rabbitmq-users.sh: $user on vhost $vhost" >&2
done
echo "rabbitmq-users.sh: URIs in $out" >&2
