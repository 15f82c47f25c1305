#!/usr/bin/env bash
# Builds the server's built-in IG package from the conformance resources of the public eHealth
# implementation guide (github.com/fut-infrastructure/implementation-guide, tag 2020.8, commit
# 7ea82ec, FHIR 3.0.1): src/main/resources/ig/dk.ehealth.sundhed.fhir.ig.core-2020.8.tgz.
#
#   scripts/package-ehealth-ig.sh <the IG's resources folder>     (default: ../shared/ehealth-ig/resources)
#
# The files are copied verbatim into package/ (NPM layout, one folder) beside a package.json and
# an .index.json; the tar is written with fixed names, times and owners, so the same input gives
# the same bytes. Only needed when the built-in release changes.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-../shared/ehealth-ig/resources}"
name=dk.ehealth.sundhed.fhir.ig.core
version=2020.8
out="src/main/resources/ig/$name-$version.tgz"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/package"
find "$src" -type f -name '*.xml' -exec cp {} "$work/package/" \;
cat > "$work/package/package.json" <<JSON
{
  "name": "$name",
  "version": "$version",
  "fhirVersions": ["3.0.1"],
  "type": "fhir.ig",
  "canonical": "http://ehealth.sundhed.dk/fhir",
  "title": "eHealth Infrastructure implementation guide (conformance resources)",
  "description": "The conformance resources of the public Danish eHealth infrastructure implementation guide, release $version (github.com/fut-infrastructure/implementation-guide, tag $version, commit 7ea82ec), copied verbatim.",
  "url": "https://github.com/fut-infrastructure/implementation-guide/tree/$version",
  "dependencies": { "hl7.fhir.core": "3.0.1" }
}
JSON
python3 - "$work/package" <<'PY'
import json, os, sys, xml.etree.ElementTree as ET
folder = sys.argv[1]
ns = '{http://hl7.org/fhir}'
files = []
for f in sorted(os.listdir(folder)):
    if not f.endswith('.xml'):
        continue
    root = ET.parse(os.path.join(folder, f)).getroot()
    entry = {'filename': f, 'resourceType': root.tag.replace(ns, '')}
    for field in ('id', 'url', 'version', 'type', 'kind'):
        e = root.find(ns + field)
        if e is not None and e.get('value'):
            entry[field] = e.get('value')
    files.append(entry)
json.dump({'index-version': 1, 'files': files}, open(os.path.join(folder, '.index.json'), 'w'), indent=1)
PY
mkdir -p "$(dirname "$out")"
tar --sort=name --mtime='2020-08-31 00:00Z' --owner=0 --group=0 --numeric-owner -C "$work" -cf - package \
  | gzip -n -9 > "$out"
echo "$out: $(tar -tzf "$out" | wc -l) files, $(stat -c %s "$out") bytes"
