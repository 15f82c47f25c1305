#!/usr/bin/env bash
# Plain create against conditional create (If-None-Exist: advisory lock + search + create in one
# transaction), alternating in one run on one server: the ratio is the conditional create's cost.
#
#   bench/conditional-create.sh            CLIENTS=4 SECONDS_EACH=10 ROUNDS=2 PORT=18473
#
# Starts target/appointment-server.jar on a fresh embedded PostgreSQL in a temporary directory
# (fsync off, no IG: FHIR_IG=none, unknown profiles allowed), and the load generator of
# target/appointment-server-bench.jar (BENCH_JAR; empty: the one inside a JAR built before it had
# its own jar) with the server's jar on its class path; both built by mvn -B -q -DskipTests package.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=${JAR:-$REPO/target/appointment-server.jar}
BENCH_JAR=${BENCH_JAR-$REPO/target/appointment-server-bench.jar}
SEED=${SEED:-$REPO/../shared/seed}
CLIENTS=${CLIENTS:-4}
SECONDS_EACH=${SECONDS_EACH:-10}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-18473}
WORK=$(mktemp -d)
export FHIR_IG=none FHIR_VALIDATION_UNKNOWN_PROFILES=allow FHIR_DATA_DIR=$WORK/data FHIR_DB_FSYNC=off FHIR_HOST=127.0.0.1
java -jar "$JAR" serve --port "$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 90); do curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 1; done
TOKEN=$(java -jar "$JAR" token 2>/dev/null | tail -1)
lg() {
  timeout $((SECONDS_EACH + 60)) java -cp "${BENCH_JAR:+$BENCH_JAR:}$JAR" io.appointmentserver.bench.LoadGenerator \
    --url "http://127.0.0.1:$PORT/fhir" --seed "$SEED" --token "$TOKEN" --clients "$CLIENTS" "$@"
}
lg --workload create --seconds "$SECONDS_EACH" --warmup 0 --label jit-create >/dev/null
lg --workload ccreate --seconds "$SECONDS_EACH" --warmup 0 --label jit-ccreate >/dev/null
echo "load average before: $(cat /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
  lg --workload create --seconds "$SECONDS_EACH" --warmup 2 --label "create-$r" | grep -v '^RESULT'
  lg --workload ccreate --seconds "$SECONDS_EACH" --warmup 2 --label "ccreate-$r" | grep -v '^RESULT'
done
echo "load average after: $(cat /proc/loadavg)"
