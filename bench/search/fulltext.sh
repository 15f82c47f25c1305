#!/usr/bin/env bash
# Full-text search latency on a few thousand appointments (BENCHMARKS.md): a server on a fresh data
# directory, N (5,000) appointments with ten-word Danish/English comments over 100 patients and 10
# care teams (bench/search/fulltext-load.py, batch Bundles), then 30 timed requests of each search
# with curl (after 3 unmeasured): p50, p90, max.
#   JAR=target/appointment-server.jar bash bench/search/fulltext.sh
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JAR=${JAR:-$REPO/target/appointment-server.jar}
N=${N:-5000}
D=$(mktemp -d /tmp/fulltext-bench.XXXXXX)
trap 'kill $(cat $D/pid) 2>/dev/null || true' EXIT
export FHIR_DATA_DIR=$D FHIR_PORT=18997 FHIR_ACCESS_LOG=off FHIR_CHECK_REFERENCES=true
java -Xmx512m -jar "$JAR" > $D/server.log 2>&1 &
echo $! > $D/pid
for i in $(seq 1 120); do curl -sf http://127.0.0.1:18997/health >/dev/null && break; sleep 1; done
BASE=http://127.0.0.1:18997/fhir
SYS=$(java -jar "$JAR" token --roles 'Appointment.*,Patient.*,$suggest-keywords' 2>/dev/null)
PR=$(java -jar "$JAR" token --user-type PRACTITIONER --roles 'Appointment.*,Patient.read' --care-team http://organization.example.org/fhir/CareTeam/lt3 2>/dev/null)
time python3 "$REPO/bench/search/fulltext-load.py" $BASE "$SYS" "$N"
measure() { # name token url
  local total=0 t
  for i in $(seq 1 3); do curl -s -o /dev/null -H "Authorization: Bearer $2" "$3"; done
  for i in $(seq 1 30); do
    curl -s -o "$D/last.json" -w '%{time_total}\n' -H "Authorization: Bearer $2" "$3"
  done | sort -n | awk -v n="$1" '{a[NR]=$1} END {printf "%-40s p50 %.1f ms  p90 %.1f ms  max %.1f ms", n, a[15]*1000, a[27]*1000, a[30]*1000}'
  python3 -c "import json,sys; print('  (total %s)' % json.load(open(sys.argv[1])).get('total'))" "$D/last.json"
}
measure "_content=blodprøve (SYSTEM)" "$SYS" "$BASE/Appointment?_content=blodpr%C3%B8ve"
measure "_content=blodprøve (practitioner)" "$PR" "$BASE/Appointment?_content=blodpr%C3%B8ve"
measure "_content=sjældenord (SYSTEM)" "$SYS" "$BASE/Appointment?_content=sj%C3%A6ldenord"
measure "_content=\"blood pressure\" (SYSTEM)" "$SYS" "$BASE/Appointment?_content=%22blood%20pressure%22"
measure "_content=aftale -medicin&status=booked" "$SYS" "$BASE/Appointment?_content=aftale%20-medicin&status=booked"
measure "_content=aftale&_sort=-_lastUpdated" "$SYS" "$BASE/Appointment?_content=aftale&_sort=-_lastUpdated"
measure "status=booked (no full text, compare)" "$SYS" "$BASE/Appointment?status=booked"
measure "\$suggest-keywords text=blod (lp3)" "$SYS" "$BASE/\$suggest-keywords?context=Patient/lp3/%24everything&searchParam=_content&text=blod"
