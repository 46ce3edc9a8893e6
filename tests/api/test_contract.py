"""The API against its own description (SPEC §6, issue 11): schemathesis
generates requests from docs/openapi.json — the documented examples, the
boundaries of every schema, then random valid and invalid data — and sends
them to local mode. No answer may be a 5xx, and every answer must be one the
document lists, with its content type and schema.

Bounded so that `make test` stays short on a small machine: at most
CONTRACT_EXAMPLES cases per operation (default 15), CONTRACT_SECONDS for the
JSON run and CONTRACT_PAGES_SECONDS for the pages' (defaults 75 and 25), a
fixed seed so that a failure replays. Reports: tests/api/artefacts/.
The path parameters are real: the demo practitioner, one of its appointments,
and live MODIFY / CANCEL and rebooking links, so the requests reach the
handlers' logic rather than stopping at 403 or 404."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import PRACTITIONER, TOKEN, Local

REPO = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("CONTRACT_ARTEFACTS", Path(__file__).parent / "artefacts"))
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PATIENT = {"first_name": "Jeanne", "last_name": "Dupont",
           "email": "jeanne.dupont@example.org", "mobile": "06 12 34 56 78"}


def _token(message, prefix):
    link = Local.link(message, rf"/{prefix}/[^/]+$")
    return re.search(rf"/{prefix}/([^/]+)$", link).group(1)


def _live_links(local):
    """An appointment id, a MODIFY / CANCEL token and a rebooking token."""
    managed = local.book(PATIENT, slot_index=0)
    manage = _token(local.wait_message(managed["id"], "confirmation"), "a")
    cancelled = local.book(PATIENT, slot_index=2)
    with local.quiet_hours_clear_of_now():
        local.ok("PUT", f"/practitioners/{PRACTITIONER}/appointments/{cancelled['id']}/status",
                 {"status": "to_reschedule", "send_cancellation_sms": True})
        sms = local.wait_message(cancelled["id"], "practitioner_cancellation", channel="sms")
    rebook = _token(sms, "r")
    return managed["id"], manage, rebook


def _config(path, appointment, manage, rebook):
    path.write_text(f"""
# Written by tests/api/test_contract.py for one run.
[parameters]
pid = "{PRACTITIONER}"
id = "{appointment}"

[[operations]]
include-path-regex = "^/a/"
parameters = {{ token = "{manage}" }}

[[operations]]
include-path-regex = "^/r/"
parameters = {{ token = "{rebook}" }}
""")


def _run(local, tmp_path, name, seconds, extra):
    """One schemathesis run against `local`; its output, after asserting it passed."""
    appointment, manage, rebook = _live_links(local)
    config = tmp_path / "schemathesis.toml"
    _config(config, appointment, manage, rebook)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    report = ARTEFACTS / f"schemathesis-{name}.xml"
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config),
        "run", str(REPO / "docs" / "openapi.json"), "--url", local.base_url,
        "-H", f"Authorization: Bearer {TOKEN}",
        # Not the coverage phase: schemathesis 4.32.5 crashes inside it on
        # some runs (an internal error while describing one of its own
        # filters, not an answer of ours); examples and fuzzing remain.
        "--checks", CHECKS, "--phases", "examples,fuzzing",
        "--max-examples", os.environ.get("CONTRACT_EXAMPLES", "15"),
        "--max-time", str(seconds), "--seed", "2026",
        "--generation-database", "none", "--workers", "2", "--no-color",
        "--report", "junit", "--report-junit-path", str(report), *extra,
    ]
    print(f"\ncontract run ({name}):", " ".join(cmd), flush=True)
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                         timeout=seconds + 120)
    summary = run.stdout[-6000:]
    print(summary)
    assert run.returncode == 0, f"schemathesis found failures (report: {report}):\n{summary}\n{run.stderr[-2000:]}"
    return run.stdout


def _operations():
    """How many operations docs/openapi.json documents: each must be tested."""
    document = json.loads((REPO / "docs" / "openapi.json").read_text())
    methods = {"get", "put", "post", "patch", "delete"}
    return sum(len(methods & item.keys()) for item in document["paths"].values())


def test_programs_get_no_5xx_and_nothing_outside_the_document(own_local, tmp_path):
    # Given local mode with the demo practitioner, an appointment and live links
    # When schemathesis sends every operation what a program would (JSON)
    seconds = int(os.environ.get("CONTRACT_SECONDS", "75"))
    out = _run(own_local, tmp_path, "programs", seconds, ["-H", "Accept: application/json"])
    # Then every operation was tested and passed every check
    assert re.search(rf"Tested: {_operations()}\b", out), out[-2000:]


def test_people_following_links_get_no_5xx_and_only_documented_pages(own_local, tmp_path):
    # Given the same, when the patient links are opened and posted as by a
    # browser (no Accept: application/json: the pages)
    seconds = int(os.environ.get("CONTRACT_PAGES_SECONDS", "25"))
    out = _run(own_local, tmp_path, "pages", seconds,
               ["-H", "Accept: text/html", "--include-path-regex", "^/(a|r)/"])
    # Then the six link operations passed every check
    assert re.search(r"Tested: 6\b", out), out[-2000:]
