#!/usr/bin/env bash
# Loads N appointments (one client) into a fresh server and prints the query plans of the
# eHealth searches (EXPLAIN ANALYZE through psql on the server's embedded PostgreSQL).
#   N=3000 bench/search/plans.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JAR=${JAR:-$HERE/../../target/appointment-server.jar}
N=${N:-5000}
D=$(mktemp -d /tmp/search-plans.XXXXXX)
cp "$JAR" $D/app.jar
PORT=18391
FHIR_DATA_DIR=$D/data FHIR_PORT=$PORT FHIR_DB_FSYNC=off timeout 1200 java -Xmx1g -jar $D/app.jar > $D/server.log 2>&1 &
SP=$!
for i in $(seq 1 120); do curl -sf http://127.0.0.1:$PORT/health >/dev/null && break; sleep 0.5; done
TOKEN=$(FHIR_DATA_DIR=$D/data java -jar $D/app.jar token --roles 'Appointment.*,Patient.*' 2>/dev/null | tail -1)
PG=$(sed -n 's/.*embedded PostgreSQL on port \([0-9]*\).*/\1/p' $D/server.log | head -1)
t0=$(date +%s.%N)
python3 "$HERE/load.py" $PORT "$TOKEN" $N
t1=$(date +%s.%N)
echo "load of $N appointments (1 client): $(echo "$t1 - $t0" | bc) s"
psql -h 127.0.0.1 -p $PG -U postgres -c "ANALYZE" >/dev/null
psql -h 127.0.0.1 -p $PG -U postgres -c "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname LIKE 'search_%' OR relname='resource' ORDER BY 1"
for q in "patient=ep7&date=ge2026-02-15&_count=20" "actor=Patient/ep7&status=booked" "responsible=http%3A%2F%2Forganization.example.org%2Ffhir%2FCareTeam%2Ft3&date=ge2026-02-15&_sort=date"; do
  echo "== $q"
  curl -s -o /dev/null -w "%{http_code} %{time_total}s\n" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/fhir/Appointment?$q"
done
cat > $D/plans.sql <<'SQL'
EXPLAIN (ANALYZE, BUFFERS) SELECT r.res_id, r.version, r.last_updated, r.body, r.tags FROM resource r WHERE r.res_type = 'Appointment' AND NOT r.deleted
 AND EXISTS (SELECT 1 FROM search_reference x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'patient' AND x.ref = ANY('{Patient/ep7}'::text[]))
 AND EXISTS (SELECT 1 FROM search_date x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'date' AND (x.hi > '2026-02-16T00:00:00Z'::timestamptz OR (x.lo >= '2026-02-15T00:00:00Z'::timestamptz AND x.hi <= '2026-02-16T00:00:00Z'::timestamptz)))
 ORDER BY r.res_id LIMIT 21;
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM resource r WHERE r.res_type = 'Appointment' AND NOT r.deleted
 AND EXISTS (SELECT 1 FROM search_reference x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'patient' AND x.ref = ANY('{Patient/ep7}'::text[]))
 AND EXISTS (SELECT 1 FROM search_date x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'date' AND (x.hi > '2026-02-16T00:00:00Z'::timestamptz OR (x.lo >= '2026-02-15T00:00:00Z'::timestamptz AND x.hi <= '2026-02-16T00:00:00Z'::timestamptz)));
EXPLAIN (ANALYZE, BUFFERS) SELECT r.res_id, r.version, r.last_updated, r.body, r.tags FROM resource r WHERE r.res_type = 'Appointment' AND NOT r.deleted
 AND EXISTS (SELECT 1 FROM search_reference x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'actor' AND x.ref = 'Patient/ep7')
 AND EXISTS (SELECT 1 FROM search_token x WHERE x.res_type = 'Appointment' AND x.res_id = r.res_id AND x.param = 'status' AND x.code = 'booked')
 ORDER BY r.res_id LIMIT 21;
SQL
psql -h 127.0.0.1 -p $PG -U postgres -f $D/plans.sql
psql -h 127.0.0.1 -p $PG -U postgres -c "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS search_tables FROM pg_class c WHERE relname LIKE 'search_%' AND relkind='r'" -c "SELECT pg_size_pretty(pg_total_relation_size('resource')) AS resource, pg_size_pretty(pg_total_relation_size('resource_history')) AS history"
kill $SP; wait $SP 2>/dev/null || true
