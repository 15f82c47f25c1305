import json, random, sys, urllib.request
base, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(7)
words = ("aftale blodprøve samtale kontrol læge sygeplejerske hjemmebesøg medicin smerter behandling "
         "genoptræning fysioterapi undersøgelse svar prøve tid klinik afdeling ambulant opfølgning "
         "appointment follow-up checkup medication pain treatment physiotherapy examination result "
         "clinic department outpatient referral diabetes insulin blood pressure heart lung kidney "
         "video telefon besked husk faste møde tidlig sen ændret aflyst flyttet ny gammel").split()
def send(entries):
    body = json.dumps({"resourceType": "Bundle", "type": "batch", "entry": entries}).encode()
    req = urllib.request.Request(base + "/", data=body, method="POST", headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        out = json.load(r)
        bad = [e["response"]["status"] for e in out["entry"] if not e["response"]["status"].startswith("20")]
        if bad: print("failed:", bad[:3], file=sys.stderr)
send([{"resource": {"resourceType": "Patient", "id": "lp%d" % p, "name": [{"family": random.choice(["Hansen", "Jensen", "Nielsen", "Søndergaard"])}]},
       "request": {"method": "PUT", "url": "Patient/lp%d" % p}} for p in range(100)])
for start in range(0, n, 250):
    entries = []
    for i in range(start, min(n, start + 250)):
        team = "http://organization.example.org/fhir/CareTeam/lt%d" % (i % 10)
        comment = " ".join(random.choice(words) for _ in range(10)) + (" sjældenord" if i % 100 == 0 else "")
        a = {"resourceType": "Appointment", "id": "la%d" % i, "status": "booked", "comment": comment,
             "extension": [{"url": "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible", "valueReference": {"reference": team}}],
             "start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T09:30:00+01:00",
             "participant": [{"extension": [{"url": "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam", "valueReference": {"reference": team}}], "status": "accepted"},
                             {"actor": {"reference": "Patient/lp%d" % (i % 100)}, "status": "accepted"}]}
        entries.append({"resource": a, "request": {"method": "PUT", "url": "Appointment/la%d" % i}})
    send(entries)
print("loaded", n)
