#!/usr/bin/env bash
# The search benchmark of issue 5 (see BENCHMARKS.md): loads PATIENTS Patients and APPOINTMENTS
# Appointments through the server's write path (io.appointmentserver.bench.BulkLoad: the store,
# the search index, access tags and bookings, as a PUT does, without HTTP), then measures at
# CLIENTS clients, SECONDS each after WARMUP:
#   Appointment?patient=Patient/bp<random>&date=ge2026-07-01&_count=20
#   Appointment?actor=Patient/bp<random>&status=booked
# after JIT_WARMUP seconds (20) of both searches unmeasured (a fresh server's first seconds are
# the JIT's and the cold cache's, not the searches'), and prints the query plans (EXPLAIN ANALYZE of the SQL the Searcher runs) and the database size
# per resource. HAPI=1 also measures both searches with &_summary=false, which asks for the same
# Bundle through HAPI's model and serializer instead of the stored JSON (the A/B of the searchset
# written from stored bytes, in the same run). The issue's scale is the default; a smaller one keeps 20 appointments per patient:
#   bench/search/search-bench.sh                                   # 1,000,000 over 50,000
#   PATIENTS=10000 APPOINTMENTS=200000 bench/search/search-bench.sh
# DATA=<dir> keeps the database there (a second run with the same DATA skips the load when
# SKIP_LOAD=1). FHIR_DB_FSYNC is off unless set. The loader and the load generator come from
# target/appointment-server-bench.jar (BENCH_JAR: of the same build as JAR, as the loader calls the
# store directly; empty: the ones inside a JAR built before they had their own jar), run with JAR
# on the class path.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
JAR=${JAR:-$REPO/target/appointment-server.jar}
BENCH_JAR=${BENCH_JAR-$REPO/target/appointment-server-bench.jar}
PATIENTS=${PATIENTS:-50000}
APPOINTMENTS=${APPOINTMENTS:-1000000}
THREADS=${THREADS:-4}
CLIENTS=${CLIENTS:-8}
SECONDS_EACH=${SECONDS_EACH:-20}
WARMUP=${WARMUP:-10}
JIT_WARMUP=${JIT_WARMUP:-20}
SEED=${SEED:-$REPO/../shared/seed}
W=$(mktemp -d /tmp/search-bench.XXXXXX)
DATA=${DATA:-$W/data}
cp "$JAR" "$W/app.jar"
CP=$W/app.jar
if [[ -n $BENCH_JAR ]]; then cp "$BENCH_JAR" "$W/bench.jar"; CP=$W/bench.jar:$CP; fi
PORT=${PORT:-18393}
SP=
cleanup() { [[ -n $SP ]] && { kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null; }; rm -rf "$W"; }
trap cleanup EXIT
FHIR_DATA_DIR=$DATA FHIR_PORT=$PORT FHIR_HOST=127.0.0.1 FHIR_DB_FSYNC=${FHIR_DB_FSYNC:-off} \
  timeout 7200 java -Xmx1g -jar "$W/app.jar" > "$W/server.log" 2>&1 &
SP=$!
for i in $(seq 1 240); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done
PG=$(sed -n 's/.*embedded PostgreSQL on port \([0-9]*\).*/\1/p' "$W/server.log" | head -1)
PSQL=(psql -h 127.0.0.1 -p "$PG" -U postgres -X -q -A -t)
TOKEN=$(FHIR_DATA_DIR=$DATA java -cp "$W/app.jar" io.appointmentserver.Main token --roles 'Appointment.*,Patient.*' 2>/dev/null | tail -1)

if [[ ${SKIP_LOAD:-0} != 1 ]]; then
  echo "== load: $PATIENTS patients, $APPOINTMENTS appointments, $THREADS threads"
  timeout 7200 java -Xmx512m -cp "$CP" io.appointmentserver.bench.BulkLoad \
    --db-url "jdbc:postgresql://127.0.0.1:$PG/postgres" --patients "$PATIENTS" --appointments "$APPOINTMENTS" \
    --threads "$THREADS" 2>&1 | grep --line-buffered -v DEBUG
fi
"${PSQL[@]}" -c "VACUUM ANALYZE" >/dev/null

echo "== size"
"${PSQL[@]}" -F ' ' -c "
  SELECT 'resources', count(*) FROM resource;
  SELECT relname, pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c
   WHERE relkind = 'r' AND (relname LIKE 'search_%' OR relname IN ('resource', 'resource_history', 'appointment_booking'))
   ORDER BY pg_total_relation_size(c.oid) DESC;
  SELECT 'database bytes per resource', pg_database_size(current_database()) / (SELECT count(*) FROM resource);"

P=$((PATIENTS / 2))
echo "== plans (patient bp$P)"
"${PSQL[@]}" <<SQL
EXPLAIN (ANALYZE, BUFFERS) SELECT r.res_id, r.version, r.last_updated, r.body, r.tags FROM resource r WHERE r.res_type = 'Appointment' AND NOT r.deleted
 AND EXISTS (SELECT 1 FROM search_reference x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'patient' AND x.ref = ANY('{Patient/bp$P}'::text[]))
 AND EXISTS (SELECT 1 FROM search_date x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'date' AND (x.hi > '2026-07-02T00:00:00+02:00'::timestamptz OR (x.lo >= '2026-07-01T00:00:00+02:00'::timestamptz AND x.hi <= '2026-07-02T00:00:00+02:00'::timestamptz)))
 ORDER BY r.res_id LIMIT 21;
EXPLAIN (ANALYZE, BUFFERS) SELECT r.res_id, r.version, r.last_updated, r.body, r.tags FROM resource r WHERE r.res_type = 'Appointment' AND NOT r.deleted
 AND EXISTS (SELECT 1 FROM search_reference x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'actor' AND x.ref = ANY('{Patient/bp$P}'::text[]))
 AND EXISTS (SELECT 1 FROM search_token x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'status' AND x.code = ANY('{booked}'::text[]))
 ORDER BY r.res_id LIMIT 21;
SQL
for q in "patient=Patient/bp$P&date=ge2026-07-01&_count=20" "actor=Patient/bp$P&status=booked"; do
  curl -s -o /dev/null -w "GET Appointment?$q: %{http_code} %{time_total}s\n" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/fhir/Appointment?$q"
done

load() { # label path [seconds]
  timeout $((WARMUP + ${3:-$SECONDS_EACH} + 120)) java -Xms64m -Xmx256m -XX:+UseSerialGC -cp "$CP" \
    io.appointmentserver.bench.LoadGenerator --url "http://127.0.0.1:$PORT/fhir" --workload search \
    --path "$2" --range "$PATIENTS" --clients "$CLIENTS" --seconds "${3:-$SECONDS_EACH}" --warmup "$WARMUP" \
    --seed "$SEED" --token "$TOKEN" --label "$1" 2>&1 | grep --line-buffered -v DEBUG || true
}
echo "== JIT warm-up, $JIT_WARMUP s each (not measured)"
load warm-patient-date 'Appointment?patient=Patient/bp{n}&date=ge2026-07-01&_count=20' "$JIT_WARMUP" >/dev/null
load warm-actor-status 'Appointment?actor=Patient/bp{n}&status=booked' "$JIT_WARMUP" >/dev/null
echo "== searches at $CLIENTS clients"
load patient-date 'Appointment?patient=Patient/bp{n}&date=ge2026-07-01&_count=20'
load actor-status 'Appointment?actor=Patient/bp{n}&status=booked'
if [[ ${HAPI:-0} == 1 ]]; then
  load patient-date-hapi 'Appointment?patient=Patient/bp{n}&date=ge2026-07-01&_count=20&_summary=false'
  load actor-status-hapi 'Appointment?actor=Patient/bp{n}&status=booked&_summary=false'
  load patient-date 'Appointment?patient=Patient/bp{n}&date=ge2026-07-01&_count=20'
  load actor-status 'Appointment?actor=Patient/bp{n}&status=booked'
fi
