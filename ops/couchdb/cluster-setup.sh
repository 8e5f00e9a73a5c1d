#!/usr/bin/env bash
# Join the three nodes of docker-compose.yml into one cluster, following the CouchDB 3 docs,
# "Cluster Set Up" / "The Cluster Setup API" (POST /_cluster_setup):
#   1. enable_cluster on this node (the setup coordination node, couchdb1);
#   2. for each other node: enable_cluster with remote_node, then add_node;
#   3. finish_cluster (creates _users and _replicator on the cluster).
# Run once after `docker compose up -d`; running it again on a finished cluster only prints
# the membership (GET /_cluster_setup answers state "cluster_finished").
set -euo pipefail
U="${COUCHDB_USER:-bangban}"; P="${COUCHDB_PASSWORD:-CHANGE-ME}"
H="${COUCHDB_SETUP_HOST:-127.0.0.1:5984}"  # couchdb1, as docker-compose.yml publishes it
C="http://$U:$P@$H"
NODES="${COUCHDB_REMOTE_NODES:-couchdb2.bangban couchdb3.bangban}"
COUNT="${COUCHDB_NODE_COUNT:-3}"

# POST an action; an answer saying the step was already done (a re-run after a partial
# setup) is fine, any other error stops the script with CouchDB's reason.
post() {
  local body code out
  body="$(mktemp)"
  code="$(curl -sS -o "$body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    "$C/_cluster_setup" -d "$1")" || { rm -f "$body"; echo "failed: $2 (no answer)" >&2; exit 1; }
  out="$(cat "$body")"; rm -f "$body"
  case "$code" in
    2??) echo "ok: $2";;
    *) case "$out" in
         *"already enabled"*|*"already finished"*) echo "already done: $2";;
         *) echo "failed: $2 (HTTP $code) $out" >&2; exit 1;;
       esac;;
  esac
}

state="$(curl -fsS "$C/_cluster_setup" || { echo "CouchDB does not answer at $H (is docker compose up?)" >&2; exit 1; })"
if [[ "$state" == *cluster_finished* ]]; then
  echo "cluster already set up"; curl -fsS "$C/_membership"; echo; exit 0
fi
post "{\"action\":\"enable_cluster\",\"bind_address\":\"0.0.0.0\",\"username\":\"$U\",\"password\":\"$P\",\"node_count\":\"$COUNT\"}" \
  "enable_cluster on this node"
for n in $NODES; do
  post "{\"action\":\"enable_cluster\",\"bind_address\":\"0.0.0.0\",\"username\":\"$U\",\"password\":\"$P\",\"port\":5984,\"node_count\":\"$COUNT\",\"remote_node\":\"$n\",\"remote_current_user\":\"$U\",\"remote_current_password\":\"$P\"}" \
    "enable_cluster on $n"
  post "{\"action\":\"add_node\",\"host\":\"$n\",\"port\":5984,\"username\":\"$U\",\"password\":\"$P\"}" "add_node $n"
done
post '{"action":"finish_cluster"}' "finish_cluster"
curl -fsS "$C/_membership"; echo
