"""Local mode's clock starts where the run says (SPEC §8): AGENDA_CLOCK_START,
so that these tests can run at any hour; `make test-any-hour` prints this
test's line for each of its five starts, to show each took effect."""

import time
from datetime import datetime, timedelta


JEANNE = {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne.dupont@example.org"}


def test_the_clock_and_the_outbox_start_where_the_run_says(own_local):
    # Given local mode started by this run, its clock told to start at the run's start
    start = own_local.clock_start

    # When its clock is read, and a booking's confirmation is the outbox's first message
    now = own_local.now()
    booked = own_local.book(JEANNE)
    own_local.wait_message(booked["id"], "confirmation")
    first = own_local.ok("GET", "/dev/outbox", token=None)["messages"][0]
    sent_at = datetime.fromisoformat(first["sent_at"])

    # Then both are at the start, run on by no more than the real time since the launch
    ran = timedelta(seconds=time.monotonic() - own_local.launched)
    assert start <= now <= sent_at <= start + ran, (
        f"started at {start}, read {now}, first message sent at {sent_at}, {ran} later")
    assert first["appointment_id"] == booked["id"]
    # (read in the start's own offset; `make test-any-hour` shows this line)
    zone = start.tzinfo
    print(f"clock started at {start.isoformat()}: GET /dev/clock said "
          f"{now.astimezone(zone).isoformat()}, the first outbox message was sent at "
          f"{sent_at.astimezone(zone).isoformat()}")
