#!/usr/bin/env python3
"""Latency of the patient links in local mode: the pages a patient opens, and
the moves and cancellations they post, up to the e-mail that follows.

Run local mode first on a fresh server (`PORT=3459 make run`), then:
    python3 infra/tools/bench_links.py [base_url] [appointments]
It books `appointments` consultations (at most and by default 30) from 2026-12-07, follows
each confirmation's links, moves half of them and cancels the other half, and
prints p50 / p95 / max in milliseconds per step.
"""
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 30
PRACTICE = {"Authorization": "Bearer local-dr-martin", "Content-Type": "application/json"}
JSON = {"Accept": "application/json"}


def call(url, data=None, headers=None, method=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def outbox():
    return json.loads(call(f"{BASE}/dev/outbox")[1])["messages"]


def wait_for(count):
    while len(outbox()) < count:
        pass


def timed(samples, name, f):
    t0 = time.perf_counter()
    result = f()
    samples.setdefault(name, []).append(time.perf_counter() - t0)
    return result


def pct(values, p):
    return sorted(values)[max(0, int(len(values) * p) - 1)] * 1000


samples = {}
# Mondays and Tuesdays of December 2026, mornings, one every 40 minutes: the
# 20-minute slots in between stay free to move to.
days = ["2026-12-07", "2026-12-08", "2026-12-14", "2026-12-15", "2026-12-21", "2026-12-22"]
starts = [f"{d}T{9 + m // 60:02d}:{m % 60:02d}" for d in days for m in range(0, 180, 40)][:COUNT]
sent = len(outbox())
for i, start in enumerate(starts):
    body = json.dumps({"reason_id": "consultation", "start": start,
                       "patient": {"first_name": "Jeanne", "last_name": "Dupont",
                                   "email": "jeanne@example.org"}}).encode()
    status, answer = call(f"{BASE}/practitioners/dr-martin/appointments", body, PRACTICE, "POST")
    assert status == 201, answer
    sent += 1
    wait_for(sent)
    appointment_id = json.loads(answer)["id"]
    email = [m for m in outbox() if m["appointment_id"] == appointment_id][-1]
    page = [link for link in email["links"] if not link.endswith("/slots")][0]

    assert timed(samples, "GET /a/{token} (HTML)", lambda: call(page))[0] == 200
    assert timed(samples, "GET /a/{token} (JSON)", lambda: call(page, headers=JSON))[0] == 200
    status, offer = timed(samples, "GET /a/{token}/slots (JSON)",
                          lambda: call(f"{page}/slots?from=2026-12-07", headers=JSON))
    assert status == 200
    if i % 2 == 0:
        target = json.loads(offer)["slots"][0]["start"]
        form = urllib.parse.urlencode({"start": target}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        t0 = time.perf_counter()
        status, _ = timed(samples, "POST /a/{token}/move", lambda: call(f"{page}/move", form, headers, "POST"))
        assert status == 200
        sent += 1
        wait_for(sent)
        samples.setdefault("move -> new confirmation in outbox", []).append(time.perf_counter() - t0)
    else:
        t0 = time.perf_counter()
        status, _ = timed(samples, "POST /a/{token}/cancel", lambda: call(f"{page}/cancel", b"", {}, "POST"))
        assert status == 200
        sent += 1
        wait_for(sent)
        samples.setdefault("cancel -> acknowledgement in outbox", []).append(time.perf_counter() - t0)

print(f"{len(starts)} appointments")
for name, values in samples.items():
    print(f"  {name:38} p50 {statistics.median(values) * 1000:6.1f} ms"
          f"  p95 {pct(values, .95):6.1f} ms  max {max(values) * 1000:6.1f} ms")
