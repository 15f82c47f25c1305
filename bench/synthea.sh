#!/usr/bin/env bash
# Synthea ingest benchmark (issue 6): Synthea's STU3 patients posted as transaction Bundles.
#
#   bash bench/synthea.sh
#
# 1. generates PATIENTS Synthea patients (fixed seed; the pom's exec-maven-plugin run) into
#    target/synthea-bench unless already there;
# 2. starts the server (its own embedded PostgreSQL, FHIR_DB_FSYNC=off unless set) and loads the
#    hospital and practitioner batches;
# 3. posts one transaction of at least BIG_ENTRIES entries (whole patients concatenated) and samples
#    the server's heap in use (jstat, every 100 ms) and its resident memory (VmHWM) meanwhile;
# 4. posts every patient bundle ROUNDS times from CLIENTS concurrent clients: resources/s = entries
#    written (all 201) / wall time.
# Everything stays on 127.0.0.1; each request has a time limit and the run stops by itself.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=${JAR:-$REPO/target/appointment-server.jar}
PATIENTS=${PATIENTS:-40}
AGES=${AGES:-5-45}
DATA=${DATA:-$REPO/target/synthea-bench}
CLIENTS=${CLIENTS:-4}
ROUNDS=${ROUNDS:-2}
BIG_ENTRIES=${BIG_ENTRIES:-10000}
SERVER_JAVA_OPTS=${SERVER_JAVA_OPTS:--Xmx2g}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }

if ! ls "$DATA"/fhir_stu3/hospitalInformation*.json >/dev/null 2>&1; then
  log "generating $PATIENTS Synthea patients into $DATA"
  (cd "$REPO" && timeout 1200 mvn -B -q org.codehaus.mojo:exec-maven-plugin:java@synthea -Dsynthea.skip=false \
    -Dsynthea.population="$PATIENTS" -Dsynthea.ages="$AGES" -Dsynthea.dir="$DATA" >/dev/null)
fi
if [[ $JAR == "$REPO/target/appointment-server.jar" ]] &&
  { [[ ! -f $JAR ]] || [[ -n $(find "$REPO/src/main" "$REPO/pom.xml" -newer "$JAR" -print -quit) ]]; }; then
  log "building $JAR"
  (cd "$REPO" && timeout 900 mvn -B -q -DskipTests package)
fi

free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }
WORK=$(mktemp -d /tmp/synthea-bench.XXXXXX)
SERVER_PID= JAVA_PID=
cleanup() {
  local rc=$?
  set +e
  ((rc == 0)) || { log "the server's errors:"; grep -E "ERROR|WARN|Exception|Error" "$WORK/server.log" | tail -8 >&2; }
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null # the server stops its PostgreSQL
    for _ in $(seq 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
    [[ -n $JAVA_PID ]] && kill -KILL "$JAVA_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$JAR" "$WORK/appointment-server.jar"
JAR=$WORK/appointment-server.jar
PORT=$(free_port 18180)
log "starting the server on port $PORT ($SERVER_JAVA_OPTS)"
# the big transaction is ~30 MB of JSON, above the default 10 MB limit (413)
FHIR_MAX_BODY_BYTES=${FHIR_MAX_BODY_BYTES:-104857600} \
  FHIR_DATA_DIR=$WORK/data FHIR_PORT=$PORT FHIR_HOST=127.0.0.1 FHIR_DB_FSYNC=${FHIR_DB_FSYNC:-off} \
  FHIR_IG_PATH=${FHIR_IG_PATH:-} timeout 3600 java $SERVER_JAVA_OPTS -jar "$JAR" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 240); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server did not start: $(tail -5 "$WORK/server.log")"
  ((i < 240)) || die "the server did not answer /health in 120 s"
  sleep 0.5
done
JAVA_PID=$(pgrep -P "$SERVER_PID" java || true)
[[ -n $JAVA_PID ]] || JAVA_PID=$SERVER_PID

# a SYSTEM token with every privilege the bundles' types need
ROLES=$(python3 - "$DATA/fhir_stu3" <<'EOF'
import json, os, sys
types = set()
for f in os.listdir(sys.argv[1]):
    for e in json.load(open(os.path.join(sys.argv[1], f)))["entry"]:
        types.add(e["resource"]["resourceType"])
print(",".join(sorted(t + ".*" for t in types)))
EOF
)
TOKEN=$(FHIR_DATA_DIR=$WORK/data FHIR_PORT=$PORT java -cp "$JAR" io.appointmentserver.Main token \
  --user-type SYSTEM --roles "$ROLES" --lifetime 7200 2>/dev/null)
[[ -n $TOKEN ]] || die "no token"

# heap in use (KB) every 100 ms while the big transaction runs: S0U + S1U + EU + OU of jstat -gc
jstat -gc "$JAVA_PID" 100 >"$WORK/jstat.txt" 2>/dev/null &
JSTAT_PID=$!

log "loading; the big transaction; the ingest at $CLIENTS clients (uptime: $(uptime))"
python3 - "$DATA/fhir_stu3" "http://127.0.0.1:$PORT/fhir" "$TOKEN" "$CLIENTS" "$ROUNDS" "$BIG_ENTRIES" \
  "$JAVA_PID" "$WORK/jstat.txt" "$JSTAT_PID" <<'EOF'
import json, os, sys, time, http.client, urllib.parse, concurrent.futures, signal
folder, base, token, clients, rounds, big, java_pid, jstat_file, jstat_pid = sys.argv[1:]
clients, rounds, big = int(clients), int(rounds), int(big)
url = urllib.parse.urlparse(base)

def post(body):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    c.request("POST", url.path, body, {"Content-Type": "application/fhir+json",
                                       "Authorization": "Bearer " + token, "Prefer": "return=minimal"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data

def check(name, status, data, entries):
    if status != 200:
        sys.exit(f"{name}: HTTP {status}: {data[:2000]!r}")
    out = json.loads(data)["entry"]
    bad = [e["response"]["status"] for e in out if not e["response"]["status"].startswith(("200", "201"))]
    if len(out) != entries or bad:
        sys.exit(f"{name}: {len(out)} of {entries} entries answered, refused: {bad[:5]}")

def hwm_kb():
    for line in open(f"/proc/{java_pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

files = sorted(os.listdir(folder))
for prefix in ("hospitalInformation", "practitionerInformation"):
    f = max((x for x in files if x.startswith(prefix)), key=lambda x: os.path.getmtime(os.path.join(folder, x)))
    body = open(os.path.join(folder, f), "rb").read()
    check(f, *post(body), len(json.loads(body)["entry"]))
patients = [open(os.path.join(folder, f), "rb").read() for f in files
            if not f.startswith(("hospitalInformation", "practitionerInformation"))]
counts = [len(json.loads(b)["entry"]) for b in patients]
print(f"patients: {len(patients)}, entries: {sum(counts)}, bytes: {sum(map(len, patients))}")

# one transaction of whole patients (their urn:uuid references stay inside it)
entries = []
for b in patients:
    if len(entries) >= big:
        break
    entries += json.loads(b)["entry"]
if len(entries) < big:
    print(f"only {len(entries)} entries generated: the big transaction has them all")
body = json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}).encode()
heap_before = None
time.sleep(0.5)
hwm_before = hwm_kb()
t = time.monotonic()
status, data = post(body)
big_s = time.monotonic() - t
time.sleep(0.3)
os.kill(int(jstat_pid), signal.SIGTERM)
check("big transaction", status, data, len(entries))
used = []
for line in open(jstat_file):
    p = line.split()
    if p and p[0][0].isdigit():
        used.append(float(p[2]) + float(p[3]) + float(p[5]) + float(p[7]))
print(f"big transaction: {len(entries)} entries, {len(body) / 1e6:.1f} MB of JSON, {big_s:.1f} s "
      f"({len(entries) / big_s:.0f} resources/s)")
print(f"  server heap in use during it: peak {max(used) / 1024:.0f} MB, before it {used[0] / 1024:.0f} MB "
      f"(jstat -gc every 100 ms, {len(used)} samples)")
print(f"  server resident peak (VmHWM): {hwm_before / 1024:.0f} MB before, {hwm_kb() / 1024:.0f} MB after")

# the ingest: every patient bundle ROUNDS times, CLIENTS at a time, biggest first (no long tail)
work = sorted(range(len(patients)), key=lambda i: -counts[i]) * rounds
if work:
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for i, (status, data) in zip(work, pool.map(lambda i: post(patients[i]), work)):
            check(f"patient {i}", status, data, counts[i])
    wall = time.monotonic() - t
    total = sum(counts[i] for i in work)
    print(f"ingest at {clients} clients: {len(work)} transactions, {total} resources in {wall:.1f} s: "
          f"{total / wall:.0f} resources/s")
EOF
log "load after: $(cat /proc/loadavg)"
