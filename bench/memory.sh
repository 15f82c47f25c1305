#!/usr/bin/env bash
# Resident memory of the server's JVM (ps -o rss) and of its embedded PostgreSQL (PSS) after the README's
# first requests and after a transaction of 5,000 Patient creates, for a given heap setting:
#   JAVA_OPTS='-Xmx512m' bench/memory.sh        (after mvn -B -q -DskipTests package)
# The built-in eHealth IG is loaded, as the server runs by default; FHIR_IG=none measures without it.
# Prints one table row: java options, IG, JVM RSS and PostgreSQL PSS (MB) after each step, and the
# transaction's status and seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=target/appointment-server.jar
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT/fhir
export FHIR_DATA_DIR=$WORK/data FHIR_PORT=$PORT FHIR_ACCESS_LOG=off
# shellcheck disable=SC2086
java ${JAVA_OPTS:-} -jar "$JAR" serve 2>"$WORK/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done

rss() { # MB: the JVM's RSS; its PostgreSQL's PSS (postmaster and backends; shared buffers counted once)
  local jvm pm pg=0 kb
  jvm=$(ps -o rss= -p "$PID")
  pm=$(head -1 "$WORK/data/pg/postmaster.pid")
  for p in $pm $(ps -o pid= --ppid "$pm"); do
    kb=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    pg=$((pg + ${kb:-0}))
  done
  echo "$((jvm / 1024)) $((pg / 1024))"
}

TOKEN=$(java -jar "$JAR" token 2>/dev/null)
H=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/fhir+json')
curl -sf -o /dev/null -X PUT "${H[@]}" "$BASE/Patient/240" -d '{"resourceType":"Patient","id":"240","name":[{"family":"Hansen"}]}'
curl -sf -o /dev/null "${H[@]}" "$BASE/Patient/240"
curl -sf -o /dev/null "${H[@]}" "$BASE/Patient/240/_history"
curl -sf -o /dev/null "$BASE/metadata"
curl -sf -o /dev/null "http://127.0.0.1:$PORT/health"
# serve prepares profile validation in the background: measure once it is done
for _ in $(seq 240); do grep -q "profile validation ready" "$WORK/server.log" && break; sleep 0.5; done
sleep 2
read -r J1 P1 < <(rss)

python3 - "$WORK/tx.json" <<'PY'
import json, sys
entries = [{"fullUrl": "urn:uuid:00000000-0000-4000-8000-%012d" % i,
            "resource": {"resourceType": "Patient", "name": [{"family": "Tx%d" % i, "given": ["Memory"]}],
                         "birthDate": "1970-01-01", "gender": "female"},
            "request": {"method": "POST", "url": "Patient"}} for i in range(5000)]
json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries}, open(sys.argv[1], "w"))
PY
T0=$(date +%s.%N)
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${H[@]}" "$BASE" --data-binary @"$WORK/tx.json")
T1=$(date +%s.%N)
sleep 2
read -r J2 P2 < <(rss)
printf '| `%s` | %s | %s | %s | %s | %s | %s %.1f s |\n' "${JAVA_OPTS:-(none)}" "$([[ ${FHIR_IG:-ehealth} == none ]] && echo "" || echo IG)" "$J1" "$P1" "$J2" "$P2" "$STATUS" \
  "$(echo "$T1 - $T0" | bc)"
