#!/usr/bin/env bash
# The write path's cost of the search index: the same appointment PUTs (one client, after 300
# unmeasured ones) against a jar without the index (BASE_JAR, e.g. built from the commit before
# it) and one with it (JAR), alternated twice on fresh data directories.
#   BASE_JAR=/tmp/main/target/appointment-server.jar N=1500 bench/search/index-cost.sh
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JAR=${JAR:-$HERE/../../target/appointment-server.jar}
BASE_JAR=${BASE_JAR:?the jar to compare with}
N=${N:-1500}
run() { # name jar
  D=$(mktemp -d /tmp/index-cost-$1.XXXXXX)
  PORT=18392
  FHIR_DATA_DIR=$D/data FHIR_PORT=$PORT FHIR_DB_FSYNC=off timeout 600 java -Xmx1g -jar $2 > $D/server.log 2>&1 &
  SP=$!
  for i in $(seq 1 120); do curl -sf http://127.0.0.1:$PORT/health >/dev/null && break; sleep 0.5; done
  TOKEN=$(FHIR_DATA_DIR=$D/data java -jar $2 token --roles 'Appointment.*,Patient.*' 2>/dev/null | tail -1)
  python3 "$HERE/load.py" $PORT "$TOKEN" 300 >/dev/null   # warm-up (creates)
  t0=$(date +%s.%N); python3 "$HERE/load.py" $PORT "$TOKEN" $N >/dev/null; t1=$(date +%s.%N)
  echo "$1: $N appointment PUTs (300 updates, then creates) in $(echo "$t1 - $t0" | bc) s, $(echo "$N / ($t1 - $t0)" | bc) /s"
  kill $SP; wait $SP 2>/dev/null
  sleep 2
}
for round in 1 2; do
  run without-index "$BASE_JAR"
  run with-index "$JAR"
done
