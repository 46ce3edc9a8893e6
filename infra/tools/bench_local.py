#!/usr/bin/env python3
"""Latency of local mode: booking answered, and booking -> confirmation in the outbox.

Run local mode first (`make run`, or PORT=3458 make run), then:
    python3 infra/tools/bench_local.py [base_url] [days]
It books 24 consultations a day for `days` days from 2026-12-01 (needs a fresh
server: the slots must be free) and prints p50 / p95 / max in milliseconds.
"""
import json
import statistics
import sys
import time
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
DAYS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
HEADERS = {"Authorization": "Bearer local-dr-martin", "Content-Type": "application/json"}


def book(day, minute):
    body = json.dumps({
        "reason_id": "consultation",
        "start": f"2026-12-{day:02d}T{9 + minute // 60:02d}:{minute % 60:02d}",
        "patient": {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@example.org"},
    }).encode()
    request = urllib.request.Request(
        f"{BASE}/practitioners/dr-martin/appointments", data=body, headers=HEADERS, method="POST")
    return urllib.request.urlopen(request).status


def outbox_size():
    return len(json.load(urllib.request.urlopen(f"{BASE}/dev/outbox"))["messages"])


def pct(values, p):
    return sorted(values)[max(0, int(len(values) * p) - 1)] * 1000


answered, delivered = [], []
start_count = outbox_size()
for day in range(1, DAYS + 1):
    for minute in range(0, 8 * 60, 20):
        t0 = time.perf_counter()
        assert book(day, minute) == 201
        answered.append(time.perf_counter() - t0)
        expected = start_count + len(answered)
        while outbox_size() < expected:
            pass
        delivered.append(time.perf_counter() - t0)

print(f"{len(answered)} bookings")
for name, values in (("POST answered", answered), ("e-mail in outbox", delivered)):
    print(f"  {name:17} p50 {statistics.median(values) * 1000:6.1f} ms"
          f"  p95 {pct(values, .95):6.1f} ms  max {max(values) * 1000:6.1f} ms")
