#!/usr/bin/env python3
"""moto's server, handling one request at a time: what `with-moto.sh` starts.

`moto_server` answers each request on a thread of its own, and moto's models
take no lock. Its DynamoDB TransactWriteItems is then not atomic: it snapshots
the table, checks and writes item by item, and when a condition fails it puts
the snapshot back, erasing whatever other requests committed in between. A
booking that won its race can vanish and a second booking of the same slot
win (docs/decisions.md, "Moto runs one request at a time"). AWS runs every
transaction serializably; one lock around moto's application gives the tests
that guarantee. Connections are still accepted and read on their own threads.

Usage: python moto_serialized.py [-H HOST] [-p PORT]
"""
import argparse
import os
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def one_request_at_a_time(app):
    """`app` with each request handled to its last byte under one lock."""
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            body = app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                if hasattr(body, "close"):
                    body.close()

    return serialized


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    # As moto_server does: moto writes its own address into some answers.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = one_request_at_a_time(DomainDispatcherApplication(create_backend_app))
    run_simple(
        args.host,
        args.port,
        app,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
