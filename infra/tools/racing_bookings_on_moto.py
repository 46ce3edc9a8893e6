#!/usr/bin/env python3
"""Racing bookings of one slot on moto, with the DynamoDB adapter's own
protocol and nothing else: read the agenda day (consistent read), then one
TransactWriteItems that puts the appointment (`attribute_not_exists(pk)`) and
the day (`revision = :read`, or `attribute_not_exists(pk)` when there was no
day yet); a cancelled transaction reads again, up to 5 attempts
(`shared/aws/src/store/mod.rs`). On AWS exactly one booker of a slot wins.

    # many rounds against a running server (the one with-moto.sh starts):
    infra/tools/with-moto.sh .venv/bin/python infra/tools/racing_bookings_on_moto.py rounds
    MOTO_SERVER=.venv/bin/moto_server infra/tools/with-moto.sh \\
        .venv/bin/python infra/tools/racing_bookings_on_moto.py rounds   # stock moto_server

    # the exact interleaving, forced, on a moto server in this process:
    .venv/bin/python infra/tools/racing_bookings_on_moto.py interleaving
    .venv/bin/python infra/tools/racing_bookings_on_moto.py interleaving --serialized

`rounds` prints, per round, the bookers' answers and, when two won, whether a
winner's appointment is gone from the table (a rollback erased it).
`interleaving` holds one transaction just after moto copied the table, lets a
second booking commit, releases the first, and shows what is left.
"""
import argparse
import os
import socket
import sys
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

PRACTITIONER = "PRAC#dr-race"
ATTEMPTS = 5  # BOOKING_ATTEMPTS in shared/aws/src/store/mod.rs


def client(endpoint, connections=16):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="eu-west-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # No SDK retries: every answer is moto's first.
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=connections),
    )


def create_table(dynamodb, name):
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def day_key(slot):
    return {"pk": {"S": PRACTITIONER}, "sk": {"S": f"DAY#{slot}"}}


def appointment_key(appointment):
    return {"pk": {"S": f"APPT#{appointment}"}, "sk": {"S": "APPT"}}


def read_day(dynamodb, table, slot):
    return dynamodb.get_item(TableName=table, Key=day_key(slot), ConsistentRead=True).get("Item")


def try_book(dynamodb, table, slot, appointment, day):
    """One attempt: 201 won, 409 the slot is taken, None the transaction was cancelled."""
    if day and day["booked"]["M"]:
        return 409
    revision = int(day["revision"]["N"]) if day else 0
    day_item = {
        **day_key(slot),
        "type": {"S": "agenda_day"},
        "revision": {"N": str(revision + 1)},
        "booked": {"M": {appointment: {"M": {"start": {"S": "15:00"}, "end": {"S": "15:20"}}}}},
        "absent": {"M": {}},
    }
    day_put = {"TableName": table, "Item": day_item}
    if day:
        day_put["ConditionExpression"] = "revision = :revision"
        day_put["ExpressionAttributeValues"] = {":revision": {"N": str(revision)}}
    else:
        day_put["ConditionExpression"] = "attribute_not_exists(pk)"
    appointment_put = {
        "TableName": table,
        "Item": {**appointment_key(appointment), "type": {"S": "appointment"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    try:
        dynamodb.transact_write_items(TransactItems=[{"Put": appointment_put}, {"Put": day_put}])
        return 201
    except dynamodb.exceptions.TransactionCanceledException:
        return None
    except ClientError as error:
        # Not an answer DynamoDB gives to a transaction: moto broke down.
        return error.response["ResponseMetadata"]["HTTPStatusCode"]


def book(dynamodb, table, slot, appointment, lost=None):
    """The adapter's loop; each cancelled transaction (a race lost on a
    condition) is noted in `lost`."""
    for _ in range(ATTEMPTS):
        answer = try_book(dynamodb, table, slot, appointment, read_day(dynamodb, table, slot))
        if answer is not None:
            return answer
        if lost is not None:
            lost.append(appointment)
    return 503


def rounds(args):
    endpoint = args.endpoint or os.environ.get("MOTO_ENDPOINT")
    if not endpoint:
        sys.exit("rounds: give an endpoint or run through infra/tools/with-moto.sh")
    dynamodb = client(endpoint, args.bookers + 4)
    double, erased, broken, lost, started = 0, 0, 0, [], time.monotonic()
    for slot in range(args.rounds):
        # A table per round, as each test has its own.
        table = f"race-{os.getpid()}-{slot}"
        create_table(dynamodb, table)
        answers = [None] * args.bookers
        start = threading.Barrier(args.bookers)

        def booker(i):
            start.wait()
            answers[i] = book(dynamodb, table, slot, f"{slot}-{i}", lost)

        threads = [threading.Thread(target=booker, args=(i,)) for i in range(args.bookers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [f"{slot}-{i}" for i, a in enumerate(answers) if a == 201]
        gone = [w for w in winners if "Item" not in dynamodb.get_item(
            TableName=table, Key=appointment_key(w), ConsistentRead=True)]
        day = read_day(dynamodb, table, slot)
        kept = sorted(day["booked"]["M"]) if day else []
        if len(winners) > 1:
            double += 1
            erased += bool(gone)
        broken += any(a not in (201, 409) for a in answers)
        if len(winners) != 1 or args.verbose:
            print(f"round {slot}: answers {answers}; winners {winners}; "
                  f"gone from the table {gone}; the day holds {kept}")
    took = time.monotonic() - started
    print(f"{args.rounds} rounds of {args.bookers} bookers: {double} with two winners or more "
          f"({erased} of them with a winner's appointment erased), {broken} with another answer "
          f"than 201 or 409; {len(lost)} transactions cancelled on a condition (races the "
          f"conditions decided); {took:.1f} s")
    return 1 if double or broken else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def interleaving(args):
    """Forces the interleaving: held (H) is stopped inside moto right after its
    snapshot of the table; winner (W) books meanwhile; H goes on and fails its
    condition; then a third booker (T) comes."""
    import moto.dynamodb.models as models
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from moto_serialized import one_request_at_a_time

    snapshot_taken, go_on = threading.Event(), threading.Event()
    held_thread = []
    real_condition = models.get_filter_expression

    def holding_condition(*parsed):
        """moto's condition parser, except that the first transaction stops
        here, its snapshot of the table taken and nothing checked yet, until
        `go_on`."""
        if not held_thread:
            held_thread.append(threading.current_thread())
            snapshot_taken.set()
            go_on.wait()
        return real_condition(*parsed)

    app = DomainDispatcherApplication(create_backend_app)
    if args.serialized:
        app = one_request_at_a_time(app)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{port}"
    dynamodb = client(endpoint)
    table = "race-interleaving"
    create_table(dynamodb, table)
    slot = "2026-12-03"
    print(f"moto {'serialized' if args.serialized else 'as moto_server runs it (a thread per request)'}")

    day_read_by_h = read_day(dynamodb, table, slot)
    print(f"H reads the day: {'none' if day_read_by_h is None else day_read_by_h}")
    day_read_by_w = read_day(dynamodb, table, slot)
    print(f"W reads the day: {'none' if day_read_by_w is None else day_read_by_w}")

    models.get_filter_expression = holding_condition
    answers = {}
    h = threading.Thread(target=lambda: answers.__setitem__(
        "H", try_book(dynamodb, table, slot, "H", day_read_by_h)))
    h.start()
    snapshot_taken.wait()
    print("H's TransactWriteItems is inside moto: the table is copied, no condition checked yet")

    w = threading.Thread(target=lambda: answers.__setitem__(
        "W", try_book(dynamodb, table, slot, "W", day_read_by_w)))
    w.start()
    # Serialized, W cannot get in while H is held: a bounded wait shows it.
    w.join(timeout=3 if args.serialized else None)
    if w.is_alive():
        print("W's TransactWriteItems waits: moto handles H's request first")
    else:
        print(f"W's TransactWriteItems answers while H is held: {answers['W']}")
        print(f"  the day now: revision {read_day(dynamodb, table, slot)['revision']['N']}")
    go_on.set()
    h.join()
    w.join()
    models.get_filter_expression = real_condition
    print(f"H's TransactWriteItems answers: {'cancelled' if answers['H'] is None else answers['H']}")
    print(f"W's TransactWriteItems answers: {'cancelled' if answers['W'] is None else answers['W']}")

    for who in ("H", "W"):
        present = "Item" in dynamodb.get_item(
            TableName=table, Key=appointment_key(who), ConsistentRead=True)
        print(f"  appointment {who} in the table: {present}")
    day = read_day(dynamodb, table, slot)
    print(f"  the day: {'none' if day is None else sorted(day['booked']['M'])}")
    answers["T"] = book(dynamodb, table, slot, "T")
    print(f"T books the same slot: {answers['T']}")
    winners = [who for who in ("H", "W", "T") if answers[who] == 201]
    print(f"winners: {winners}")
    server.shutdown()
    return 1 if len(winners) > 1 else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    r = modes.add_parser("rounds", help="many racing rounds against a running moto server")
    r.add_argument("endpoint", nargs="?", help="default: $MOTO_ENDPOINT")
    r.add_argument("--rounds", type=int, default=200)
    r.add_argument("--bookers", type=int, default=10)
    r.add_argument("--verbose", action="store_true")
    i = modes.add_parser("interleaving", help="the interleaving, forced, in this process")
    i.add_argument("--serialized", action="store_true", help="with moto_serialized.py's lock")
    args = parser.parse_args()
    sys.exit(rounds(args) if args.mode == "rounds" else interleaving(args))


if __name__ == "__main__":
    main()
