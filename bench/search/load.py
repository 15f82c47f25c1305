# PUTs 50 Patients and n Appointments (ids ea0.., dates in 2026, 10 care teams) over one connection:
#   python3 load.py PORT TOKEN N
import http.client, json, sys, random
port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
H = {"Authorization": "Bearer " + token, "Content-Type": "application/fhir+json"}
def put(path, body):
    c.request("PUT", "/fhir/" + path, json.dumps(body), H)
    r = c.getresponse(); r.read()
    assert r.status in (200, 201), (path, r.status)
for p in range(50):
    put("Patient/ep%d" % p, {"resourceType": "Patient", "id": "ep%d" % p})
random.seed(1)
for i in range(n):
    p = i % 50
    day = 1 + (i // 50) % 28; month = 1 + (i // 1400) % 12
    start = "2026-%02d-%02dT%02d:00:00+01:00" % (month, day, 8 + (i % 9))
    end = start.replace(":00:00+", ":30:00+")
    team = "http://organization.example.org/fhir/CareTeam/t%d" % (i % 10)
    put("Appointment/ea%d" % i, {"resourceType": "Appointment", "id": "ea%d" % i,
        "extension": [{"url": "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible", "valueReference": {"reference": team}}],
        "status": random.choice(["booked", "booked", "booked", "cancelled", "proposed"]), "start": start, "end": end,
        "participant": [{"extension": [{"url": "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam", "valueReference": {"reference": team}}], "status": "accepted"},
                        {"actor": {"reference": "Patient/ep%d" % p}, "status": "accepted"}]})
print("loaded", n)
