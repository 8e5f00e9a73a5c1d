#!/usr/bin/env bash
# Join the three nodes of docker-compose.yml into one cluster (CouchDB docs,
# "Cluster Set Up": POST /_cluster_setup). Run once after `docker compose up -d`.
set -euo pipefail
U="${COUCHDB_USER:-bangban}"; P="${COUCHDB_PASSWORD:-CHANGE-ME}"
C="http://$U:$P@127.0.0.1:5984"
post() { curl -fsS -X POST -H 'Content-Type: application/json' "$C/_cluster_setup" -d "$1"; echo; }
for n in couchdb2.bangban couchdb3.bangban; do
  post "{\"action\":\"enable_cluster\",\"bind_address\":\"0.0.0.0\",\"username\":\"$U\",\"password\":\"$P\",\"port\":5984,\"node_count\":\"3\",\"remote_node\":\"$n\",\"remote_current_user\":\"$U\",\"remote_current_password\":\"$P\"}"
  post "{\"action\":\"add_node\",\"host\":\"$n\",\"port\":5984,\"username\":\"$U\",\"password\":\"$P\"}"
done
post '{"action":"finish_cluster"}'
curl -fsS "$C/_membership"; echo
