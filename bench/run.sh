#!/usr/bin/env bash
# The benchmark of the foundation (see BENCHMARKS.md).
#
# Starts the server on its embedded PostgreSQL, runs the seed PUT (If-Match), read and create at
# $CLIENTS clients with the LoadGenerator, and measures in the same run, on the same machine, the
# two ceilings the server is compared with:
#   writes: pgbench running the write path's SQL (bench/pgbench-put.sql) on the server's own
#           PostgreSQL, $CLIENTS clients, each updating its own row;
#   reads:  nginx serving the JSON the server's read returns, as a static file, hit by the same
#           LoadGenerator.
# Prints a summary with the ratios and keeps everything in bench/results/<UTC time>/.
#
#   bench/run.sh
#   CLIENTS=8 SECONDS_EACH=30 WARMUP=5 bench/run.sh
#
# Settings (environment): CLIENTS (8), SECONDS_EACH (20, measured seconds per workload), WARMUP
# (5, unmeasured seconds before each), JIT_WARMUP (20, seconds of each server workload before
# anything is measured; PUT_JIT_WARMUP (90) for the seed PUT, whose write path the JIT takes over a
# minute to compile: after 20 s its rounds still got cheaper one after the other), GZIP_READS (1: also compare the reads with Accept-Encoding: gzip),
# FHIR_IG (default ehealth: the built-in eHealth IG loaded, as the server runs by default, so the
# seed's ehealth-appointment profile is validated; FHIR_IG=none lets it through unvalidated) and
# FHIR_IG_PATH (further IG packages or folders, passed to the servers),
# FHIR_DB_FSYNC (on: the server's default; off measures the CPU-bound path on a machine whose disk
# flushes are slow), SERVER_JAVA_OPTS, CLIENT_JAVA_OPTS, SEED (../shared/seed beside the repository), OUT, JAR (the
# jar to measure, e.g. one built from an older commit; default target/appointment-server.jar,
# built when missing or older than the sources), BENCH_JAR (the load generator; default
# target/appointment-server-bench.jar, built with the server's jar; it runs with JAR on its class
# path, for JAR's libraries, so that another build is measured by this checkout's load generator;
# BENCH_JAR= empty runs the one inside a JAR built before the load generator had its own jar).
#
# ONLY=put measures just the write target: after the JIT warm-up of the PUT, ROUNDS (3) rounds of
# the seed PUT and pgbench's transaction of the same SQL, side by side in each round.
#
# ONLY=security measures just the security model's cost: after the JIT warm-up, ROUNDS (3) rounds
# of read and seed PUT as a SYSTEM user (privileges only) and as a PRACTITIONER (context check and
# audit), side by side in each round, so that the ratios compare like with like on a shared machine.
#
# ONLY=read measures just the reads: the server's (plain and gzip, SYSTEM and PRACTITIONER) and
# nginx's, after the JIT warm-up of the read alone; the summary has the read rows and ratios.
#
# ONLY=subscriptions measures the seed PUT with 0, 100 and 1,000 active Subscriptions that do not
# match it, then with one more that matches every PUT (rest-hook to a receiver here): ROUNDS rounds,
# the throughput ratios and the delivery latency, commit to receiver, p50 / p99.
# ONLY=validation measures what validation costs: two servers with the IG (the built-in one and
# FHIR_IG_PATH), one with FHIR_VALIDATION=off and one with
# FHIR_VALIDATION=$VALIDATION (default full); after the JIT warm-up of each, ROUNDS rounds of
# VALIDATION_WORKLOADS (default "edit room put create") on one, then the other. "put" sends the
# seed with its comment ending in 0 and 1 by turns (each a new version; the validator's remembered
# outcomes answer), "edit" changes the comment on every request
# (free text: validated alone beside the rest's remembered outcome), "room" the contained
# Location's name (the whole appointment validated again) and "create" posts the seed (each gets
# a new eHealth identifier, which validation does not see); "validate" posts the seed with a new
# comment each time to Appointment/$validate (the operation: validated, nothing stored),
# "validateroom" with a new name of the contained Location (the whole appointment validated again).
# The JIT warm-up runs every workload on each server twice (2 x JIT_WARMUP seconds each), then
# waits up to 30 s for the servers' JIT compilers to fall quiet.
#
# ONLY=validate-code measures the terminology's hot path: GET VC_PATH (default: CHECKUP in the
# eHealth value set http://ehealth.sundhed.dk/vs/appointmenttype-codes) on one server with the IG,
# as a SYSTEM user with ValueSet$validate-code (not audited) and as a PRACTITIONER (audited): cold
# (the first 10 s of requests after start) and, after the JIT warm-up, ROUNDS rounds of both.
#
# ONLY=validate measures POST Appointment/$validate of the seed with new content every request (a
# new comment; a new room: the whole appointment validated again) on one server as it runs by
# default: cold (the first 10 s of each after start) and, after the JIT warm-up, ROUNDS rounds.
#
# ONLY=ab compares two configurations of the same jar the same way: server A with A_ENV and
# A_JAVA_OPTS, server B with B_ENV and B_JAVA_OPTS (e.g. B_ENV="FHIR_DB_POOL_SIZE=9",
# B_JAVA_OPTS=-XX:+UseParallelGC, or B_JAR: another build), ROUNDS rounds of AB_WORKLOADS
# (put, edit, room, read, create, validate, or search: the patient search SEARCH_PATH, by default the seed
# patient's booked appointments)
# (default put) on A, then B. The tokens are A's jar's, and so are the load generator's libraries.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=${JAR:-$REPO/target/appointment-server.jar}
BENCH_JAR=${BENCH_JAR-$REPO/target/appointment-server-bench.jar}
SEED=${SEED:-$REPO/../shared/seed}
CLIENTS=${CLIENTS:-8}
SECONDS_EACH=${SECONDS_EACH:-20}
WARMUP=${WARMUP:-5}
JIT_WARMUP=${JIT_WARMUP:-20}
PUT_JIT_WARMUP=${PUT_JIT_WARMUP:-90}
GZIP_READS=${GZIP_READS:-1}
ONLY=${ONLY:-}
ROUNDS=${ROUNDS:-3}
SERVER_JAVA_OPTS=${SERVER_JAVA_OPTS:-}
CLIENT_JAVA_OPTS=${CLIENT_JAVA_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC}
OUT=${OUT:-$REPO/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
STEP_LIMIT=$((WARMUP + SECONDS_EACH + 120)) # no single step may take longer than this
TICK=$(getconf CLK_TCK)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ prerequisites

[[ -f $SEED/request-body.json && -f $SEED/request-headers.txt ]] || die "no seed exchange in $SEED"
missing=()
command -v pgbench >/dev/null && command -v psql >/dev/null || missing+=(postgresql-client)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if { [[ $JAR == "$REPO/target/appointment-server.jar" ]] &&
  { [[ ! -f $JAR ]] || [[ -n $(find "$REPO/src/main" "$REPO/pom.xml" -newer "$JAR" -print -quit) ]]; }; } ||
  { [[ $BENCH_JAR == "$REPO/target/appointment-server-bench.jar" ]] &&
  { [[ ! -f $BENCH_JAR ]] || [[ -n $(find "$REPO/src/bench" -newer "$BENCH_JAR" -print -quit) ]]; }; }; then
  log "building $JAR and $BENCH_JAR"
  (cd "$REPO" && timeout 900 mvn -B -q -DskipTests package)
fi

free_port() { # the first port from $1 on that nothing listens on
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# ------------------------------------------------------------------ processes, cleaned up on exit

WORK=$(mktemp -d /tmp/appointment-bench.XXXXXX)
chmod 755 "$WORK" # nginx's workers read the static file as nobody
mkdir -p "$OUT"
SERVER_PID= JAVA_PID= NGINX_PID= PG_PID=
SERVERS=() # "timeout-pid java-pid postgres-pid" of every server started

stop_server() {
  local server=$1 java=${2:-} pg=${3:-} # only the first when the server died while starting
  kill "$server" 2>/dev/null # timeout passes TERM on; the server stops its PostgreSQL
  for _ in $(seq 30); do kill -0 "$server" 2>/dev/null || break; sleep 1; done
  [[ -n $java ]] && kill -KILL "$java" 2>/dev/null
  if [[ -n $pg ]] && kill -0 "$pg" 2>/dev/null; then
    kill -INT "$pg" 2>/dev/null # fast shutdown of a PostgreSQL left behind
    sleep 2
    kill -KILL "$pg" 2>/dev/null
  fi
}

cleanup() {
  local rc=$? s
  set +e
  if [[ -n $NGINX_PID ]]; then kill "$NGINX_PID" 2>/dev/null; fi
  for s in "${SERVERS[@]}"; do
    # shellcheck disable=SC2086
    stop_server $s
  done
  [[ -n $NGINX_PID ]] && { sleep 0.5; kill -KILL "$NGINX_PID" 2>/dev/null; }
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the server and the load generator run from a copy, so that a rebuild meanwhile cannot pull
# classes from under the running JVMs
[[ -f $JAR ]] || die "no $JAR"
ORIGINAL_JAR=$JAR
cp "$JAR" "$WORK/appointment-server.jar"
JAR=$WORK/appointment-server.jar
ORIGINAL_BENCH_JAR=$BENCH_JAR
if [[ -n $BENCH_JAR ]]; then
  [[ -f $BENCH_JAR ]] || die "no $BENCH_JAR"
  cp "$BENCH_JAR" "$WORK/appointment-server-bench.jar"
  BENCH_JAR=$WORK/appointment-server-bench.jar
fi
LOAD_GENERATOR=(-cp "${BENCH_JAR:+$BENCH_JAR:}$JAR" io.appointmentserver.bench.LoadGenerator)

# start_server DATA_DIR IG_PATH LOG: a server on its own embedded PostgreSQL, with the built-in IG
# unless FHIR_IG=none, and the further IG at IG_PATH (none when empty); sets SERVER_PID, JAVA_PID, PG_PID, PG_PORT, HTTP_PORT, BASE, PSQL
start_server() {
  local data=$1 ig=$2 logfile=$3 i
  HTTP_PORT=$(free_port $((18080 + RANDOM % 1000))) # apart from other benchmarks starting at the same time
  log "starting a server on port $HTTP_PORT (data in $data, IG: ${FHIR_IG:-ehealth}${ig:+ + $ig})"
  # shellcheck disable=SC2086
  FHIR_DATA_DIR=$data FHIR_PORT=$HTTP_PORT FHIR_HOST=127.0.0.1 FHIR_DB_FSYNC=${FHIR_DB_FSYNC:-on} \
    FHIR_IG=${FHIR_IG:-ehealth} FHIR_IG_PATH=$ig FHIR_VALIDATION=${SERVER_VALIDATION:-} \
    FHIR_VALIDATION_UNKNOWN_PROFILES=$([[ ${FHIR_IG:-ehealth} != none || -n $ig ]] && echo reject || echo allow) \
    timeout 3600 env ${SERVER_ENV:-} java $SERVER_JAVA_OPTS ${SERVER_EXTRA_OPTS:-} -jar "${SERVER_JAR:-$JAR}" >"$logfile" 2>&1 &
  SERVER_PID=$!
  SERVERS+=("$SERVER_PID")
  for i in $(seq 120); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/health" >/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server did not start: $(tail -5 "$logfile")"
    ((i < 120)) || die "the server did not answer /health in 60 s"
    sleep 0.5
  done
  JAVA_PID=$(pgrep -P "$SERVER_PID" java || true)
  [[ -n $JAVA_PID ]] || JAVA_PID=$SERVER_PID
  PG_PORT=$(sed -n 's/.*embedded PostgreSQL on port \([0-9]*\).*/\1/p' "$logfile" | head -1)
  [[ -n $PG_PORT ]] || die "no 'embedded PostgreSQL on port' in the server log"
  PG_PID=$(head -1 "$data/pg/postmaster.pid")
  SERVERS[-1]="$SERVER_PID $JAVA_PID $PG_PID"
  PSQL=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -X -q -A -t -v ON_ERROR_STOP=1)
  BASE=http://127.0.0.1:$HTTP_PORT/fhir
}

if [[ $ONLY == validation ]]; then
  [[ ${FHIR_IG:-ehealth} != none || -n ${FHIR_IG_PATH:-} ]] || die "ONLY=validation needs an IG (FHIR_IG=none is set)"
  VALIDATION=${VALIDATION:-full}
  # the second server, validating; the first one below, with the same IG, does not
  SERVER_VALIDATION=$VALIDATION start_server "$WORK/data-on" "${FHIR_IG_PATH:-}" "$OUT/server-$VALIDATION.log"
  ON_SERVER=("$JAVA_PID" "$PG_PID" "$BASE" "$WORK/data-on" "$HTTP_PORT")
  SERVER_VALIDATION=off
fi
if [[ $ONLY == ab ]]; then
  # the second server, B; the first one below is A; the rounds below run on "off" (A) and "on" (B)
  B_SERVER_JAR=
  if [[ -n ${B_JAR:-} ]]; then
    B_SERVER_JAR=$WORK/b.jar
    cp "$B_JAR" "$B_SERVER_JAR"
  fi
  SERVER_ENV=${B_ENV:-} SERVER_EXTRA_OPTS=${B_JAVA_OPTS:-} SERVER_JAR=$B_SERVER_JAR start_server "$WORK/data-on" "${FHIR_IG_PATH:-}" "$OUT/server-b.log"
  ON_SERVER=("$JAVA_PID" "$PG_PID" "$BASE" "$WORK/data-on" "$HTTP_PORT")
  SERVER_ENV=${A_ENV:-} SERVER_EXTRA_OPTS=${A_JAVA_OPTS:-} start_server "$WORK/data" "${FHIR_IG_PATH:-}" "$OUT/server.log"
elif [[ $ONLY == subscriptions ]]; then
  # the receiver of the Subscriptions' rest-hooks, the one endpoint the server may call
  RX_PORT=$(free_port $((19500 + RANDOM % 400)))
  SERVER_ENV="FHIR_SUBSCRIPTION_ENDPOINTS=http://127.0.0.1:$RX_PORT/ FHIR_CONDITIONAL_DELETE_MULTIPLE=true ${SERVER_ENV:-}" \
    start_server "$WORK/data" "${FHIR_IG_PATH:-}" "$OUT/server.log"
else
  start_server "$WORK/data" "${FHIR_IG_PATH:-}" "$OUT/server.log"
fi

# Tokens from the server's own dev key: a SYSTEM user (privileges only, not audited) for the main
# workloads, and a PRACTITIONER of the seed's care team (context check and audit on every request)
# for the cost of the security model. A jar from before the security work has no token command:
# then no token is sent.
token() { FHIR_DATA_DIR=${TOKEN_DATA:-$WORK/data} FHIR_PORT=$HTTP_PORT java -cp "$JAR" io.appointmentserver.Main token "$@" 2>/dev/null || true; }
SYSTEM_TOKEN=$(token --user-type SYSTEM --roles 'Appointment.*,Patient.*')
PRACTITIONER_TOKEN=$(token --user-type PRACTITIONER --roles 'Appointment.*,Patient.*' \
  --care-team http://organization.fut.trifork.com/fhir/CareTeam/35102 \
  --organization http://organization.fut.trifork.com/fhir/Organization/10357)
AUTH=(); [[ -n $SYSTEM_TOKEN ]] && AUTH=(--token "$SYSTEM_TOKEN")
PRACTITIONER_AUTH=(); [[ -n $PRACTITIONER_TOKEN ]] && PRACTITIONER_AUTH=(--token "$PRACTITIONER_TOKEN")

# ONLY=validate-code: an eHealth value set bound to Appointment.appointmentType, one code of it
VC_PATH=${VC_PATH:-'ValueSet/$validate-code?url=http%3A%2F%2Fehealth.sundhed.dk%2Fvs%2Fappointmenttype-codes&system=http%3A%2F%2Fehealth.sundhed.dk%2Fcs%2Fappointmenttype-codes&code=CHECKUP'}

# ------------------------------------------------------------------ measuring helpers

# CPU ticks used so far by a process, its live children and its reaped children
cpu_ticks() {
  local pid=$1 total child
  total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)
  for child in $(pgrep -P "$pid"); do
    total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$child/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# CPU ticks of a JVM's JIT compiler threads: left out of the server's CPU per request, as they
# fall with time (the JIT warm-up runs first) and say nothing about the steady state
jit_ticks() {
  local task total=0
  for task in /proc/"$1"/task/*; do
    case "$(cat "$task/comm" 2>/dev/null)" in
      C1\ CompilerThre* | C2\ CompilerThre*) total=$((total + $(awk '{print $14 + $15}' "$task/stat" 2>/dev/null || echo 0))) ;;
    esac
  done
  echo "$total"
}
# busy ticks of all CPUs together (user, nice, system, irq, softirq, steal), and the time in ns
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
now_ns() { date +%s%N; }
# other_pct BUSY OURS WALL_NS: the CPU that other processes on the machine used meanwhile, as % of
# all its cores: the noise of the measurement
other_pct() {
  awk -v b="$1" -v o="$2" -v w="$3" -v hz="$TICK" -v n="$(nproc)" \
    'BEGIN { v = (b - o) * 100 / (w / 1e9 * hz * n); printf "%.0f", (v < 0 ? 0 : v) }'
}
TIMEFORMAT='%U %S' # for bash's time: user and system seconds
time_ticks() { awk -v hz="$TICK" '{ printf "%d", ($1 + $2) * hz }' "$1"; }
per_request_ms() { awk -v t="$1" -v n="$2" -v hz="$TICK" 'BEGIN { printf "%.3f", (n > 0 ? t * 1000 / hz / n : 0) }'; }
field() { sed -n "s/^RESULT .*[ ]$2=\([^ ]*\).*/\1/p" "$1" | tail -1; }
cpu() { sed -n "s/^CPU.* $2=\([^ ]*\).*/\1/p" "$1" | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# CPU per request of every process involved (client included): the ratio that throughputs have
# on a machine that nothing else uses, when both sides are CPU-bound, as they are here
total_cpu() { awk -v a="$(cpu "$1" server_ms_per_req)" -v b="$(cpu "$1" pg_ms_per_req)" -v c="$(cpu "$1" nginx_ms_per_req)" \
  -v d="$(cpu "$1" client_ms_per_req)" 'BEGIN { printf "%.3f", a + b + c + d }'; }
# ab_rounds "WORKLOADS" A B: for each round and workload, the throughput of OUT/<w>-B-<r> over
# that of OUT/<w>-A-<r>, and the CPU per request of all processes of each
ab_rounds() {
  local r w
  for r in $(seq "$ROUNDS"); do
    for w in $1; do
      echo "  round $r $w: $(ratio "$(field "$OUT/$w-$3-$r.txt" rps)" "$(field "$OUT/$w-$2-$r.txt" rps)")" \
        "($(total_cpu "$OUT/$w-$2-$r.txt") vs $(total_cpu "$OUT/$w-$3-$r.txt") ms)"
    done
  done
}

# the summary's table: a header and one line per LoadGenerator run
FORMAT='%-17s %9s %7s %7s %6s | %6s %6s %6s %6s | %5s\n'
row() { # NAME FILE: one line of the table for a LoadGenerator run
  local f=$OUT/$2.txt
  # shellcheck disable=SC2059
  printf "$FORMAT" "$1" "$(field "$f" rps)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$(field "$f" errors)" \
    "$(cpu "$f" server_ms_per_req)" "$(cpu "$f" pg_ms_per_req)" "$(cpu "$f" nginx_ms_per_req)" \
    "$(cpu "$f" client_ms_per_req)" "$(cpu "$f" other_cpu_pct)"
}

# run_load NAME [LoadGenerator options...]: one measured run; OUT/NAME.txt gets the output plus
# the CPU that the server (JVM), PostgreSQL and nginx spent per request during the whole run
# The patient search the "search" workload sends (ONLY=ab, ONLY=validation).
SEARCH_PATH=${SEARCH_PATH:-Appointment?patient=Patient/240&status=booked&_count=20}
workload_args() { [[ $1 == search ]] && printf '%s\n' --path "$SEARCH_PATH" --range 1; return 0; }

run_load() {
  local name=$1 s0 j0 p0 n0 b0 t0 s1 j1 p1 n1 b1 t1 lg all
  shift
  log "$name: ${WARMUP}s warm-up + ${SECONDS_EACH}s at $CLIENTS clients"
  s0=$(cpu_ticks "$JAVA_PID"); j0=$(jit_ticks "$JAVA_PID"); p0=$(cpu_ticks "$PG_PID"); n0=$([[ -n $NGINX_PID ]] && cpu_ticks "$NGINX_PID" || echo 0)
  b0=$(busy_ticks); t0=$(now_ns)
  # shellcheck disable=SC2086
  { time timeout "$STEP_LIMIT" java $CLIENT_JAVA_OPTS "${LOAD_GENERATOR[@]}" \
      --clients "$CLIENTS" --seconds "$SECONDS_EACH" --warmup "$WARMUP" --seed "$SEED" --label "$name" "$@" \
      >"$OUT/$name.txt" 2>&1; } 2>"$WORK/time" || die "$name failed: $(tail -3 "$OUT/$name.txt")"
  s1=$(cpu_ticks "$JAVA_PID"); j1=$(jit_ticks "$JAVA_PID"); p1=$(cpu_ticks "$PG_PID"); n1=$([[ -n $NGINX_PID ]] && cpu_ticks "$NGINX_PID" || echo 0)
  b1=$(busy_ticks); t1=$(now_ns); lg=$(time_ticks "$WORK/time")
  all=$(field "$OUT/$name.txt" all)
  echo "CPU server_ms_per_req=$(per_request_ms $((s1 - s0 - j1 + j0)) "$all")" \
    "jit_ms_per_req=$(per_request_ms $((j1 - j0)) "$all") pg_ms_per_req=$(per_request_ms $((p1 - p0)) "$all")" \
    "nginx_ms_per_req=$(per_request_ms $((n1 - n0)) "$all") client_ms_per_req=$(per_request_ms "$lg" "$all")" \
    "other_cpu_pct=$(other_pct $((b1 - b0)) $((s1 - s0 + p1 - p0 + n1 - n0 + lg)) $((t1 - t0)))" >>"$OUT/$name.txt"
  grep -v '^RESULT\|^CPU\|INFO' "$OUT/$name.txt" >&2 || true
}

# ------------------------------------------------------------------ the machine

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "jar: $ORIGINAL_JAR ($(stat -c '%y' "$ORIGINAL_JAR"))"
  echo "load generator: ${ORIGINAL_BENCH_JAR:-inside the jar}${ORIGINAL_BENCH_JAR:+ ($(stat -c '%y' "$ORIGINAL_BENCH_JAR"))}"
  echo "nproc: $(nproc)"
  lscpu | head -15
  free -h
  java -version 2>&1
  echo "PostgreSQL: $("${PSQL[@]}" -c 'SELECT version()')"
  echo "PostgreSQL settings: $("${PSQL[@]}" -F= -R' ' -c "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'full_page_writes') ORDER BY name")"
  pgbench --version
  "$NGINX" -v 2>&1
  echo "load average at start: $(cat /proc/loadavg)"
  echo "clients: $CLIENTS, measured seconds: $SECONDS_EACH, warm-up: $WARMUP, JIT warm-up: $JIT_WARMUP (the seed PUT: $PUT_JIT_WARMUP)"
  echo "server JVM options: ${SERVER_JAVA_OPTS:-(defaults)}; load generator JVM options: $CLIENT_JAVA_OPTS"
} >"$OUT/machine.txt"

# ------------------------------------------------------------------ ONLY=validate-code

# The terminology's hot path: GET ValueSet/$validate-code of one code (VC_PATH), as a SYSTEM user
# with the privilege alone (not audited) and as a PRACTITIONER of the seed's care team (audited):
# cold (the first 10 s after the server answered, its validation warming up beside), then after
# the JIT warm-up ROUNDS rounds of both.
if [[ $ONLY == validate-code ]]; then
  VC_AUTH=(--token "$(token --user-type SYSTEM --roles 'ValueSet$validate-code')")
  VC_PRACTITIONER_AUTH=(--token "$(token --user-type PRACTITIONER --roles 'ValueSet$validate-code' \
    --care-team http://organization.fut.trifork.com/fhir/CareTeam/35102)")
  WARMUP=0 SECONDS_EACH=10 run_load validate-code-cold --url "$BASE" --workload read --path "$VC_PATH" "${VC_AUTH[@]}"
  curl -sf -H "Authorization: Bearer ${VC_AUTH[1]}" "$BASE/$VC_PATH" | grep -q '"valueBoolean":true' ||
    die "$VC_PATH does not answer result true"
  WARMUP=0 SECONDS_EACH=$JIT_WARMUP run_load validate-code-jit --url "$BASE" --workload read --path "$VC_PATH" "${VC_AUTH[@]}"
  for r in $(seq "$ROUNDS"); do
    run_load "validate-code-$r" --url "$BASE" --workload read --path "$VC_PATH" "${VC_AUTH[@]}"
    run_load "validate-code-practitioner-$r" --url "$BASE" --workload read --path "$VC_PATH" "${VC_PRACTITIONER_AUTH[@]}"
  done
  {
    echo "GET $VC_PATH, $CLIENTS clients, FHIR_DB_FSYNC=${FHIR_DB_FSYNC:-on}, IG ${FHIR_IG:-ehealth}"
    # shellcheck disable=SC2059
    printf "$FORMAT" workload rps p50_ms p99_ms errors srv_ms pg_ms nginx cli_ms other
    row 'cold (first 10 s)' validate-code-cold
    for r in $(seq "$ROUNDS"); do
      row "warm SYSTEM $r" "validate-code-$r"
      row "warm PRACT. $r" "validate-code-practitioner-$r"
    done
  } | tee "$OUT/summary.txt"
  exit 0
fi

# ------------------------------------------------------------------ ONLY=validate

# $validate of the seed appointment with new content every request, on one server as it runs by
# default (the IG, fsync on): the comment changed ("validate": free text, validated beside the
# rest's remembered outcome) and the contained Location's name changed ("validateroom": the whole
# appointment validated again). Cold: the first 10 s of each right after the server answered (its
# validation warming up beside); then after the JIT warm-up ROUNDS rounds of both.
if [[ $ONLY == validate ]]; then
  WARMUP=0 SECONDS_EACH=10 run_load validate-cold --url "$BASE" --workload validate "${AUTH[@]}"
  WARMUP=0 SECONDS_EACH=10 run_load validateroom-cold --url "$BASE" --workload validateroom "${AUTH[@]}"
  WARMUP=0 SECONDS_EACH=$JIT_WARMUP run_load validate-jit --url "$BASE" --workload validate "${AUTH[@]}"
  WARMUP=0 SECONDS_EACH=$JIT_WARMUP run_load validateroom-jit --url "$BASE" --workload validateroom "${AUTH[@]}"
  for r in $(seq "$ROUNDS"); do
    run_load "validate-$r" --url "$BASE" --workload validate "${AUTH[@]}"
    run_load "validateroom-$r" --url "$BASE" --workload validateroom "${AUTH[@]}"
  done
  {
    echo "POST Appointment/\$validate, $CLIENTS clients, FHIR_DB_FSYNC=${FHIR_DB_FSYNC:-on}, IG ${FHIR_IG:-ehealth}"
    # shellcheck disable=SC2059
    printf "$FORMAT" workload rps p50_ms p99_ms errors srv_ms pg_ms nginx cli_ms other
    row 'comment, cold (first 10 s)' validate-cold
    row 'room, cold (next 10 s)' validateroom-cold
    for r in $(seq "$ROUNDS"); do
      row "comment, warm $r" "validate-$r"
      row "room, warm $r" "validateroom-$r"
    done
  } | tee "$OUT/summary.txt"
  exit 0
fi

# ------------------------------------------------------------------ ONLY=validation: rounds of A/B

# The same workloads on a server that does not validate and on one that does (both with the IG),
# side by side in each round.
if [[ $ONLY == validation || $ONLY == ab ]]; then
  OFF_SERVER=("$JAVA_PID" "$PG_PID" "$BASE")
  OFF_AUTH=("${AUTH[@]}")
  ON_TOKEN=$(TOKEN_DATA=${ON_SERVER[3]} HTTP_PORT=${ON_SERVER[4]} token --user-type SYSTEM --roles 'Appointment.*,Patient.*')
  ON_AUTH=(); [[ -n $ON_TOKEN ]] && ON_AUTH=(--token "$ON_TOKEN")
  use() { # use off|on: the server that run_load measures
    if [[ $1 == on ]]; then
      JAVA_PID=${ON_SERVER[0]} PG_PID=${ON_SERVER[1]} BASE=${ON_SERVER[2]} AUTH=("${ON_AUTH[@]}")
    else
      JAVA_PID=${OFF_SERVER[0]} PG_PID=${OFF_SERVER[1]} BASE=${OFF_SERVER[2]} AUTH=("${OFF_AUTH[@]}")
    fi
  }
  WORKLOADS=${VALIDATION_WORKLOADS:-edit room put create}
  [[ $ONLY == ab ]] && WORKLOADS=${AB_WORKLOADS:-put}
  # Two passes over every workload, so that each one runs again after all the others (the code one
  # workload made hot can be recompiled when the next one takes other paths through it), then a
  # wait, bounded, until neither server's JIT compiler threads work any more: round 1 is measured
  # warm.
  for pass in 1 2; do
    for w in $WORKLOADS; do
      for side in off on; do
        use "$side"
        log "JIT warm-up (pass $pass): $w on $side for ${JIT_WARMUP}s"
        mapfile -t extra < <(workload_args "$w")
        # shellcheck disable=SC2086
        timeout "$STEP_LIMIT" java $CLIENT_JAVA_OPTS "${LOAD_GENERATOR[@]}" \
          --url "$BASE" --workload "$w" --clients "$CLIENTS" --seconds "$JIT_WARMUP" --warmup 0 --seed "$SEED" \
          "${AUTH[@]}" "${extra[@]}" >"$OUT/jit-warmup-$w-$side-$pass.txt" 2>&1 || die "JIT warm-up $w failed: $(tail -3 "$OUT/jit-warmup-$w-$side-$pass.txt")"
      done
    done
  done
  for _ in $(seq 15); do
    before=$(( $(jit_ticks "${OFF_SERVER[0]}") + $(jit_ticks "${ON_SERVER[0]}") ))
    sleep 2
    after=$(( $(jit_ticks "${OFF_SERVER[0]}") + $(jit_ticks "${ON_SERVER[0]}") ))
    (( after - before <= TICK / 20 )) && break # under 5 % of a core
  done
  log "JIT compiler threads of both servers quiet (or 30 s waited)"
  for r in $(seq "$ROUNDS"); do
    for w in $WORKLOADS; do
      for side in off on; do
        use "$side"
        mapfile -t extra < <(workload_args "$w")
        run_load "$w-$side-$r" --url "$BASE" --workload "$w" "${AUTH[@]}" "${extra[@]}"
      done
    done
  done
  FORMAT='%-16s %9s %7s %7s %6s | %6s %6s %6s | %5s\n'
  {
    echo "$CLIENTS clients, ${SECONDS_EACH} s measured after ${WARMUP} s warm-up, $ROUNDS rounds ($(date -u '+%Y-%m-%d %H:%M UTC'))."
    if [[ $ONLY == ab ]]; then
      echo "off = A: ${A_ENV:-} ${A_JAVA_OPTS:-}; on = B: ${B_ENV:-} ${B_JAVA_OPTS:-} ${B_JAR:-}; IG: ${FHIR_IG:-ehealth} ${FHIR_IG_PATH:-}"
    else
      echo "both with FHIR_IG=${FHIR_IG:-ehealth} ${FHIR_IG_PATH:-}; off: FHIR_VALIDATION=off; on: FHIR_VALIDATION=$VALIDATION"
    fi
    # shellcheck disable=SC2059
    printf "$FORMAT" workload 'req/s' 'p50 ms' 'p99 ms' errors server pg client other
    for w in $WORKLOADS; do
      for r in $(seq "$ROUNDS"); do
        for side in off on; do
          f=$OUT/$w-$side-$r.txt
          # shellcheck disable=SC2059
          printf "$FORMAT" "$w-$side-$r" "$(field "$f" rps)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" \
            "$(field "$f" errors)" "$(cpu "$f" server_ms_per_req)" "$(cpu "$f" pg_ms_per_req)" \
            "$(cpu "$f" client_ms_per_req)" "$(cpu "$f" other_cpu_pct)"
        done
      done
    done
    if [[ $ONLY == ab ]]; then
      echo "B / A, per round: throughput ratio (CPU per request, all processes: A vs B)"
    else
      echo "validating ($VALIDATION) / off, per round: throughput ratio (CPU per request, all processes: off vs $VALIDATION)"
    fi
    ab_rounds "$WORKLOADS" off on
  } | tee "$OUT/summary.txt"
  log "results in $OUT"
  exit 0
fi

# ------------------------------------------------------------------ the server's JIT warm-up

JIT_WORKLOADS="put read create"
[[ $ONLY == security ]] && JIT_WORKLOADS="put read"
[[ $ONLY == put || $ONLY == subscriptions ]] && JIT_WORKLOADS=put
[[ $ONLY == read ]] && JIT_WORKLOADS=read
for w in $JIT_WORKLOADS; do
  secs=$JIT_WARMUP
  [[ $w == put ]] && secs=$PUT_JIT_WARMUP
  log "JIT warm-up: $w for ${secs}s"
  # shellcheck disable=SC2086
  timeout "$((STEP_LIMIT + secs))" java $CLIENT_JAVA_OPTS "${LOAD_GENERATOR[@]}" \
    --url "$BASE" --workload "$w" --clients "$CLIENTS" --seconds "$secs" --warmup 0 --seed "$SEED" \
    "${AUTH[@]}" >"$OUT/jit-warmup-$w.txt" 2>&1 || die "JIT warm-up $w failed: $(tail -3 "$OUT/jit-warmup-$w.txt")"
done

# ------------------------------------------------------------------ ONLY=subscriptions: the PUT under Subscriptions

# ROUNDS rounds of the seed PUT with 0, 100 and 1,000 active Subscriptions whose criteria never match
# it (what matching costs), then with one more that matches every PUT, delivered by rest-hook to a
# receiver on this machine (what delivery costs, and its latency: commit to receiver, p50 / p99).
if [[ $ONLY == subscriptions ]]; then
  # shellcheck disable=SC2086
  java $CLIENT_JAVA_OPTS -cp "${BENCH_JAR:+$BENCH_JAR:}$JAR" io.appointmentserver.bench.HookReceiver "$RX_PORT" \
    >"$OUT/receiver.log" 2>&1 &
  SERVERS+=("$!")
  SUB_AUTH=(-H "Authorization: Bearer $(token --user-type SYSTEM --roles 'Subscription.*,Appointment.*')"
    -H 'Content-Type: application/fhir+json')
  # subscriptions N FIRST [CRITERIA]: N Subscriptions numbered from FIRST, in transaction Bundles of 100;
  # by default criteria that name patients the seed does not have
  subscriptions() {
    local n=$1 first=$2 criteria=${3:-} i
    for ((i = first; i < first + n; i += 100)); do
      python3 - "$i" "$((first + n < i + 100 ? first + n : i + 100))" "$RX_PORT" "$criteria" <<'PY' |
import json, sys
lo, hi, port, criteria = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
entries = [{"resource": {"resourceType": "Subscription", "status": "requested", "reason": "bench",
                         "criteria": criteria or f"Appointment?patient=Patient/nobody-{k}&status=booked",
                         "channel": {"type": "rest-hook", "endpoint": f"http://127.0.0.1:{port}/hook",
                                     "payload": "application/fhir+json"}},
            "request": {"method": "POST", "url": "Subscription"}} for k in range(lo, hi)]
print(json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}))
PY
        curl -sf -o /dev/null "${SUB_AUTH[@]}" --data-binary @- "$BASE" || die "creating Subscriptions failed"
    done
  }
  receiver() { curl -sf "http://127.0.0.1:$RX_PORT/stats${1:+?$1}"; }
  for r in $(seq "$ROUNDS"); do
    code=$(curl -s -o "$WORK/deleted" -w '%{http_code}' -X DELETE "${SUB_AUTH[@]}" "$BASE/Subscription?type=rest-hook")
    [[ $code == 2* || $code == 404 ]] || die "deleting Subscriptions failed ($code): $(cat "$WORK/deleted")"
    sleep 2 # what the last round left to deliver is dropped with its Subscription
    run_load "put-0-$r" --url "$BASE" --workload put "${AUTH[@]}"
    subscriptions 100 0
    run_load "put-100-$r" --url "$BASE" --workload put "${AUTH[@]}"
    subscriptions 900 100
    run_load "put-1000-$r" --url "$BASE" --workload put "${AUTH[@]}"
    subscriptions 1 1000 'Appointment?status=booked'
    receiver reset >/dev/null
    run_load "put-1000+1-$r" --url "$BASE" --workload put "${AUTH[@]}"
    receiver reset >"$OUT/received-$r.txt"
  done
  FORMAT='%-16s %9s %7s %7s %6s | %6s %6s %6s | %9s %8s %8s\n'
  {
    echo "$CLIENTS clients, ${SECONDS_EACH} s measured after ${WARMUP} s warm-up, $ROUNDS rounds ($(date -u '+%Y-%m-%d %H:%M UTC'))."
    # shellcheck disable=SC2059
    printf "$FORMAT" workload 'req/s' 'p50 ms' 'p99 ms' errors server pg client delivered 'lat p50' 'lat p99'
    for r in $(seq "$ROUNDS"); do
      for n in 0 100 1000 1000+1; do
        f=$OUT/put-$n-$r.txt g=$OUT/received-$r.txt
        [[ $n == 1000+1 ]] || g=/dev/null
        # shellcheck disable=SC2059
        printf "$FORMAT" "put-$n-$r" "$(field "$f" rps)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$(field "$f" errors)" \
          "$(cpu "$f" server_ms_per_req)" "$(cpu "$f" pg_ms_per_req)" "$(cpu "$f" client_ms_per_req)" \
          "$(sed -n 's/.*count=\([0-9]*\).*/\1/p' "$g")" "$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' "$g")" \
          "$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' "$g")"
      done
      echo "  round $r: throughput with 100 / with none $(ratio "$(field "$OUT/put-100-$r.txt" rps)" "$(field "$OUT/put-0-$r.txt" rps)")," \
        "1,000 / none $(ratio "$(field "$OUT/put-1000-$r.txt" rps)" "$(field "$OUT/put-0-$r.txt" rps)")," \
        "1,000 + 1 delivered / none $(ratio "$(field "$OUT/put-1000+1-$r.txt" rps)" "$(field "$OUT/put-0-$r.txt" rps)")"
    done
  } | tee "$OUT/summary.txt"
  log "results in $OUT"
  exit 0
fi

# ------------------------------------------------------------------ ONLY=security: rounds of A/B

if [[ $ONLY == security ]]; then
  [[ ${#PRACTITIONER_AUTH[@]} -gt 0 ]] || die "this jar makes no tokens"
  FORMAT='%-22s %9s %7s %7s | %6s %6s %6s | %5s\n'
  for r in $(seq "$ROUNDS"); do
    for w in read put; do
      run_load "$w-system-$r" --url "$BASE" --workload "$w" "${AUTH[@]}"
      run_load "$w-practitioner-$r" --url "$BASE" --workload "$w" "${PRACTITIONER_AUTH[@]}"
    done
  done
  {
    echo "$CLIENTS clients, ${SECONDS_EACH} s measured after ${WARMUP} s warm-up, $ROUNDS rounds ($(date -u '+%Y-%m-%d %H:%M UTC'))."
    # shellcheck disable=SC2059
    printf "$FORMAT" workload 'req/s' 'p50 ms' 'p99 ms' server pg client other
    for f in "$OUT"/read-*-[0-9]*.txt "$OUT"/put-*-[0-9]*.txt; do
      # shellcheck disable=SC2059
      printf "$FORMAT" "$(basename "$f" .txt)" "$(field "$f" rps)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" \
        "$(cpu "$f" server_ms_per_req)" "$(cpu "$f" pg_ms_per_req)" "$(cpu "$f" client_ms_per_req)" "$(cpu "$f" other_cpu_pct)"
    done
    echo "practitioner / system, per round: throughput ratio (CPU per request, all processes: system vs practitioner)"
    ab_rounds "read put" system practitioner
  } | tee "$OUT/summary.txt"
  log "results in $OUT"
  exit 0
fi

# ------------------------------------------------------------------ writes: server, then pgbench

if [[ $ONLY != read ]]; then
[[ $ONLY == put ]] || run_load put --url "$BASE" --workload put "${AUTH[@]}"

BODY=$("${PSQL[@]}" -c "SELECT body FROM resource WHERE res_type = 'Appointment' AND res_id = 'bench-0'")
[[ -n $BODY ]] || die "Appointment/bench-0 is not in the database"
TAGS=$("${PSQL[@]}" -c "SELECT tags FROM resource WHERE res_type = 'Appointment' AND res_id = 'bench-0'")
INDEXED=$("${PSQL[@]}" -c "SELECT count(*) FROM search_indexed
  WHERE res_type = 'Appointment' AND res_id = 'bench-0' AND rows_digest IS NOT NULL")
[[ $INDEXED == 1 ]] || die "Appointment/bench-0 has no search_indexed row with a digest to copy for pgbench"
# the frame of the no-op check (VersionSql.UPDATE, see pgbench-put.sql): the stored body up to its
# time, and from the time's closing quote on with its last character changed
HEAD="${BODY%%\"lastUpdated\":\"*}\"lastUpdated\":\""
AFTER=${BODY#*\"lastUpdated\":\"}
TAIL="\"${AFTER#*\"}"
TAIL="${TAIL%?}x"
cp "$REPO/bench/pgbench-put.sql" "$WORK/pgbench-put.sql"

# pgbench_run NAME ID_BASE SECONDS [extra pgbench options]: $CLIENTS rows at version 1, then pgbench
pgbench_run() {
  local name=$1 base=$2 secs=$3
  shift 3
  "${PSQL[@]}" -v body="$BODY" -v base="$base" -v n="$CLIENTS" <<'SQL'
INSERT INTO resource (res_type, res_id, version, last_updated, deleted, body)
SELECT 'Appointment', (:base + g)::text, 1, now(), false, :'body' FROM generate_series(0, :n - 1) g;
INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body, tags)
SELECT res_type, res_id, version, last_updated, deleted, body, tags FROM resource
 WHERE res_type = 'Appointment' AND res_id IN (SELECT (:base + g)::text FROM generate_series(0, :n - 1) g);
-- indexed as the server indexed the seed appointment, so that the UPDATE's digest lookup finds a row
INSERT INTO search_indexed (res_type, res_id, fingerprint, kinds, rows_digest)
SELECT res_type, (:base + g)::text, fingerprint, kinds, rows_digest FROM search_indexed, generate_series(0, :n - 1) g
 WHERE res_type = 'Appointment' AND res_id = 'bench-0';
SQL
  (cd "$WORK" && timeout "$STEP_LIMIT" pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared \
    -c "$CLIENTS" -j "$(nproc)" -T "$secs" -f pgbench-put.sql \
    -D res_type=Appointment -D id_base="$base" -D version=1 -D "now=$(date -u '+%Y-%m-%d %H:%M:%S.000+00')" \
    -D deleted=false -D 'ref_types={Patient}' -D 'ref_ids={240}' -D "body=$BODY" -D "tags=$TAGS" \
    -D "head=$HEAD" -D "tail=$TAIL" \
    -D "participants={http://organization.fut.trifork.com/fhir/Practitioner/35205,Patient/240}" \
    -D "start=2019-07-01 07:00:00+00" -D "end=2019-07-01 09:00:00+00" "$@" postgres) \
    >"$OUT/$name.txt" 2>&1 || die "pgbench failed: $(tail -5 "$OUT/$name.txt")"
}

# pgbench_measured NAME ID_BASE: a measured pgbench run; OUT/NAME.txt gets its output, latencies
# and PostgreSQL's CPU per transaction, checked against the rows it updated
pgbench_measured() {
  local name=$1 base=$2 p0 b0 t0 p1 b1 t1 other tx updates
  p0=$(cpu_ticks "$PG_PID"); b0=$(busy_ticks); t0=$(now_ns)
  { time pgbench_run "$name" "$base" "$SECONDS_EACH" -l --log-prefix="$WORK/$name-log"; } 2>"$WORK/pgbench-time"
  sleep 1 # pgbench's backends end after pgbench does; their CPU counts once PostgreSQL has reaped them
  p1=$(cpu_ticks "$PG_PID"); b1=$(busy_ticks); t1=$(now_ns)
  other=$(other_pct $((b1 - b0)) $((p1 - p0 + $(time_ticks "$WORK/pgbench-time"))) $((t1 - t0)))
  tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$OUT/$name.txt")
  updates=$("${PSQL[@]}" -v base="$base" -v n="$CLIENTS" <<'SQL'
SELECT sum(version - 1) FROM resource
 WHERE res_type = 'Appointment' AND res_id IN (SELECT (:base + g)::text FROM generate_series(0, :n - 1) g);
SQL
  )
  [[ $updates == "$tx" ]] || die "pgbench processed $tx transactions but $updates rows were updated"
  sort -n -k3,3 <(cat "$WORK/$name"-log.*) | awk -v tx="$tx" -v cpu="$(per_request_ms $((p1 - p0)) "$tx")" \
    -v client="$(awk '{ printf "%.3f", $1 + $2 }' "$WORK/pgbench-time")" -v other="$other" -v label="$name" '
    { lat[NR] = $3 }
    END {
      p50 = lat[int(NR * 0.50) + 1] / 1000; p99 = lat[int(NR * 0.99) + 1] / 1000
      printf "RESULT label=%s transactions=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", label, NR, p50, p99, lat[NR] / 1000
      printf "CPU pg_ms_per_req=%s pgbench_cpu_s=%s verified_updates=%d other_cpu_pct=%s\n", cpu, client, tx, other
    }' >>"$OUT/$name.txt"
  grep -E '^(tps|latency average|number of (transactions|failed))' "$OUT/$name.txt" >&2
}

log "pgbench: ${WARMUP}s warm-up + ${SECONDS_EACH}s at $CLIENTS clients"
pgbench_run pgbench-warmup 900000 "$WARMUP"

# ------------------------------------------------------------------ ONLY=put: rounds of the server and pgbench

if [[ $ONLY == put ]]; then
  FORMAT='%-16s %9s %7s %7s %6s | %6s %6s %6s | %5s\n'
  for r in $(seq "$ROUNDS"); do
    run_load "put-$r" --url "$BASE" --workload put "${AUTH[@]}"
    pgbench_measured "pgbench-put-$r" $((910000 + 1000 * r))
  done
  {
    echo "$CLIENTS clients, ${SECONDS_EACH} s measured after ${WARMUP} s warm-up, $ROUNDS rounds ($(date -u '+%Y-%m-%d %H:%M UTC'))."
    # shellcheck disable=SC2059
    printf "$FORMAT" workload 'req/s' 'p50 ms' 'p99 ms' errors server pg client other
    for r in $(seq "$ROUNDS"); do
      f=$OUT/put-$r.txt g=$OUT/pgbench-put-$r.txt
      # shellcheck disable=SC2059
      printf "$FORMAT" "put-$r" "$(field "$f" rps)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$(field "$f" errors)" \
        "$(cpu "$f" server_ms_per_req)" "$(cpu "$f" pg_ms_per_req)" "$(cpu "$f" client_ms_per_req)" "$(cpu "$f" other_cpu_pct)"
      tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$g" | awk '{ printf "%.1f", $1 }')
      # shellcheck disable=SC2059
      printf "$FORMAT" "pgbench-put-$r" "$tps" "$(field "$g" p50_ms)" "$(field "$g" p99_ms)" \
        "$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$g")" - "$(cpu "$g" pg_ms_per_req)" \
        "$(awk -v s="$(cpu "$g" pgbench_cpu_s)" -v n="$(cpu "$g" verified_updates)" 'BEGIN { printf "%.3f", s * 1000 / n }')" \
        "$(cpu "$g" other_cpu_pct)"
      echo "  round $r: put / pgbench $(ratio "$(field "$f" rps)" "$tps")"
    done
  } | tee "$OUT/summary.txt"
  log "results in $OUT"
  exit 0
fi

pgbench_measured pgbench-put 910000
fi

# ------------------------------------------------------------------ reads: server, then nginx

run_load read --url "$BASE" --workload read "${AUTH[@]}"

NGINX_PORT=$(free_port $((HTTP_PORT + 1)))
NGINX_GZIP_PORT=$(free_port $((NGINX_PORT + 1)))
mkdir -p "$WORK/nginx/www"
chmod 755 "$WORK/nginx" "$WORK/nginx/www"
curl -sf -H 'Accept: application/fhir+json' ${SYSTEM_TOKEN:+-H "Authorization: Bearer $SYSTEM_TOKEN"} \
  "$BASE/Appointment/bench-0" >"$WORK/nginx/www/appointment.json"
chmod 644 "$WORK/nginx/www/appointment.json"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  types { }
  default_type "application/fhir+json;charset=utf-8";
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  root $WORK/nginx/www;
  server { listen 127.0.0.1:$NGINX_PORT; }
  # the same with gzip at the level Java's GZIPOutputStream uses (6), as the server's read does
  server {
    listen 127.0.0.1:$NGINX_GZIP_PORT;
    gzip on; gzip_types application/fhir+json; gzip_min_length 256; gzip_comp_level 6; gzip_vary on;
  }
}
EOF
timeout 3600 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
for i in $(seq 40); do
  curl -sf "http://127.0.0.1:$NGINX_PORT/appointment.json" >/dev/null && break
  ((i < 40)) || die "nginx did not start: $(cat "$WORK/nginx/error.log")"
  sleep 0.25
done
NGINX_PID=$(pgrep -P "$NGINX_PID" nginx || echo "$NGINX_PID") # the master, under timeout
cmp -s <(curl -sf "http://127.0.0.1:$NGINX_PORT/appointment.json") "$WORK/nginx/www/appointment.json" ||
  die "nginx does not serve the appointment"

run_load nginx-read --url "http://127.0.0.1:$NGINX_PORT" --workload read --path /appointment.json
if [[ $GZIP_READS == 1 ]]; then
  run_load read-gzip --url "$BASE" --workload read --gzip "${AUTH[@]}"
  run_load nginx-read-gzip --url "http://127.0.0.1:$NGINX_GZIP_PORT" --workload read --path /appointment.json --gzip
fi

# ------------------------------------------------------------------ create

[[ $ONLY == read ]] || run_load create --url "$BASE" --workload create "${AUTH[@]}"

# ------------------------------------------------------------------ the security model's cost

# the same workloads as a practitioner: context check on every request, an AuditEvent for every
# write (in its transaction) and every read (batched)
if ((${#PRACTITIONER_AUTH[@]})); then
  [[ $ONLY == read ]] || run_load put-practitioner --url "$BASE" --workload put "${PRACTITIONER_AUTH[@]}"
  run_load read-practitioner --url "$BASE" --workload read "${PRACTITIONER_AUTH[@]}"
fi
curl -sf "http://127.0.0.1:$HTTP_PORT/health" >/dev/null || log "WARNING: the server's /health fails after the run"

# ------------------------------------------------------------------ summary

verdict() { awk -v ok="$1" 'BEGIN { print (ok ? "met" : "MISSED") }'; }

PGB=$OUT/pgbench-put.txt
if [[ $ONLY != read ]]; then
PGB_TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$PGB" | awk '{ printf "%.1f", $1 }')
PGB_CLIENT=$(awk -v s="$(cpu "$PGB" pgbench_cpu_s)" -v n="$(cpu "$PGB" verified_updates)" 'BEGIN { printf "%.3f", s * 1000 / n }')
PUT_RPS=$(field "$OUT/put.txt" rps)
PUT_P99=$(field "$OUT/put.txt" p99_ms)
PUT_RATIO=$(ratio "$PUT_RPS" "$PGB_TPS")
PGB_TOTAL=$(awk -v a="$(cpu "$PGB" pg_ms_per_req)" -v b="$PGB_CLIENT" 'BEGIN { printf "%.3f", a + b }')
fi
READ_RPS=$(field "$OUT/read.txt" rps)
NGINX_RPS=$(field "$OUT/nginx-read.txt" rps)
READ_RATIO=$(ratio "$READ_RPS" "$NGINX_RPS")
{
  echo "$CLIENTS clients, ${SECONDS_EACH} s measured after ${WARMUP} s warm-up ($(date -u '+%Y-%m-%d %H:%M UTC'))."
  echo "CPU: ms of CPU per request spent by the server's JVM (without its JIT compiler threads),"
  echo "PostgreSQL, nginx and the client (load generator or pgbench); other: CPU % of the machine"
  echo "used by other processes meanwhile (the noise of the measurement)."
  # shellcheck disable=SC2059
  printf "$FORMAT" workload 'req/s' 'p50 ms' 'p99 ms' errors 'server' 'pg' 'nginx' 'client' 'other'
  if [[ $ONLY != read ]]; then
  row 'server put' put
  # shellcheck disable=SC2059
  printf "$FORMAT" 'pgbench put SQL' "$PGB_TPS" "$(field "$PGB" p50_ms)" "$(field "$PGB" p99_ms)" \
    "$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$PGB")" - "$(cpu "$PGB" pg_ms_per_req)" - \
    "$PGB_CLIENT" "$(cpu "$PGB" other_cpu_pct)"
  fi
  row 'server read' read
  row 'nginx read' nginx-read
  if [[ $GZIP_READS == 1 ]]; then
    row 'server read gzip' read-gzip
    row 'nginx read gzip' nginx-read-gzip
  fi
  [[ $ONLY == read ]] || row 'server create' create
  [[ -f $OUT/put-practitioner.txt ]] && row 'practitioner put' put-practitioner
  [[ -f $OUT/read-practitioner.txt ]] && row 'practitioner read' read-practitioner
  echo
  [[ $ONLY == read ]] || echo "put / pgbench:  $PUT_RATIO (target >= 0.40: $(verdict "$(awk -v r="$PUT_RATIO" 'BEGIN { print (r >= 0.40) }')");" \
    "put p99 $PUT_P99 ms (target < 15 ms: $(verdict "$(awk -v p="$PUT_P99" 'BEGIN { print (p < 15) }')"))"
  echo "read / nginx:   $READ_RATIO (target >= 0.50: $(verdict "$(awk -v r="$READ_RATIO" 'BEGIN { print (r >= 0.50) }')"))"
  echo "by CPU per request (all processes; less sensitive to other load on the machine):"
  [[ $ONLY == read ]] || echo "  put / pgbench: $(ratio "$PGB_TOTAL" "$(total_cpu "$OUT/put.txt")") ($PGB_TOTAL vs $(total_cpu "$OUT/put.txt") ms)"
  echo "  read / nginx:  $(ratio "$(total_cpu "$OUT/nginx-read.txt")" "$(total_cpu "$OUT/read.txt")")" \
    "($(total_cpu "$OUT/nginx-read.txt") vs $(total_cpu "$OUT/read.txt") ms)"
  if [[ $GZIP_READS == 1 ]]; then
    echo "read gzip / nginx gzip: $(ratio "$(field "$OUT/read-gzip.txt" rps)" "$(field "$OUT/nginx-read-gzip.txt" rps)")"
  fi
  if [[ -f $OUT/read-practitioner.txt ]]; then
    echo "security model (practitioner: context check + audit) vs SYSTEM user (privileges only):"
    [[ $ONLY == read ]] || echo "  put:  $(ratio "$(field "$OUT/put-practitioner.txt" rps)" "$PUT_RPS") of the throughput," \
      "CPU $(total_cpu "$OUT/put-practitioner.txt") vs $(total_cpu "$OUT/put.txt") ms"
    echo "  read: $(ratio "$(field "$OUT/read-practitioner.txt" rps)" "$READ_RPS") of the throughput," \
      "CPU $(total_cpu "$OUT/read-practitioner.txt") vs $(total_cpu "$OUT/read.txt") ms"
  fi
} | tee "$OUT/summary.txt"
log "results in $OUT"
