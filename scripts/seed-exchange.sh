#!/usr/bin/env bash
# Replays the exchange the project was created from against a running server in dev mode: writes
# what it needs first (Patient/240, Appointment/309 at version 1 from the seed's own body), then
# sends the recorded PUT with the recorded headers, If-Match the version just written and a dev
# token with the recorded token's claims, and compares the answer with the recorded response
# (all but meta.lastUpdated).
#
#   scripts/seed-exchange.sh [SEED_DIR]     (default ../shared/seed; BASE, default http://localhost:8080/fhir)
#
# Run it from the directory the server was started in (the token command reads FHIR_DATA_DIR, ./data).
set -euo pipefail
seed=${1:-$(dirname "$0")/../../shared/seed}
base=${BASE:-http://localhost:8080/fhir}
jar=${JAR:-$(dirname "$0")/../target/appointment-server.jar}
[[ -f $seed/request-body.json ]] || { echo "no seed exchange at $seed" >&2; exit 2; }

admin=$(java -jar "$jar" token)
curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $admin" -H 'Content-Type: application/fhir+json' \
  "$base/Patient/240" -d '{"resourceType":"Patient","id":"240","name":[{"family":"Hansen"}]}'
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $admin" "$base/Appointment/309"
# a deleted id starts again at the next version; the seed's If-Match is "1" on a new database
version=$(curl -sf -X PUT -H "Authorization: Bearer $admin" -H 'Content-Type: application/fhir+json' \
  "$base/Appointment/309" --data-binary @"$seed/request-body.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["versionId"])')

token=$(java -jar "$jar" token --claims "$seed/token-claims.json")
headers=()
while IFS= read -r line; do
  line=${line%$'\r'}
  case $line in
    "PUT "*|"") ;;
    Authorization:*) headers+=(-H "Authorization: Bearer $token") ;;
    If-Match:*) headers+=(-H "If-Match: \"$version\"") ;;
    *) headers+=(-H "$line") ;;
  esac
done < "$seed/request-headers.txt"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=$(curl -s --compressed -o "$out" -w '%{http_code}' -X PUT "${headers[@]}" "$base/Appointment/309" \
  --data-binary @"$seed/request-body.json")
echo "PUT $base/Appointment/309 (If-Match \"$version\"): $status"
python3 - "$out" "$seed/response-body.json" "$version" <<'PY'
import json, sys
actual, expected, v1 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
for r in (actual, expected):
    r.get("meta", {}).pop("lastUpdated", None)
if v1 != "1":  # the id was written before: versions count on from there
    expected["meta"]["versionId"] = str(int(v1) + 1)
if actual == expected:
    print("the response is the recorded one (but for meta.lastUpdated)")
else:
    print("DIFFERENT from the recorded response:\n" + json.dumps(actual, indent=1))
    sys.exit(1)
PY
