#!/usr/bin/env bash
# Usage: infra/tools/any-hour.sh [clock start...]
#
# Tests at any hour (issue 20, SPEC §8): runs the suites whose outcome could
# depend on the hour — the Rust scenarios (the `acceptance` crate, on the
# embedded store) and the patient pages in headless Chromium (tests/browser) —
# once per clock start, with local mode's clock started there
# (AGENDA_CLOCK_START), then prints one line per start: each suite's result
# and duration, and what the clock and the outbox said
# (tests/browser/test_local_clock.py), which shows the start took effect.
#
# A start is an RFC 3339 time with its offset, or HH:MM for that time in
# Paris on the Paris date of the run. Without arguments, five: 12:00, 23:50
# and 03:00 today (so each day exercises its own weekday, as a real run at
# that hour would), and 01:50 on 28 March 2027 and on 31 October 2027, ten
# minutes before Europe/Paris changes its clocks.
#
# ANY_HOUR_MOTO=1 runs the scenarios on moto too (through with-moto.sh; slow).
# ANY_HOUR_PYTEST names the Python suites (default tests/browser; add
# tests/api for the contract run, about 2 minutes a start).
# Exits non-zero when any suite failed at any start.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if [ "$#" -eq 0 ]; then
    set -- 12:00 23:50 03:00 2027-03-28T01:50:00+01:00 2027-10-31T01:50:00+02:00
fi

python="${ANY_HOUR_PYTHON:-$root/.venv/bin/python}"
pytest="${PYTEST:-$root/.venv/bin/pytest}"
# HH:MM → that time in Paris today, with its offset; every start checked
# here, once, rather than by each test. Python's zoneinfo, not `TZ=… date`:
# without the system's zone files date silently answers in UTC, and the venv
# carries the tzdata package.
starts_text="$("$python" - "$@" <<'PY'
import sys
from datetime import datetime, time
from zoneinfo import ZoneInfo

paris = ZoneInfo("Europe/Paris")
for given in sys.argv[1:]:
    try:
        if len(given) == 5:
            start = datetime.combine(datetime.now(paris).date(), time.fromisoformat(given),
                                     tzinfo=paris)
        else:
            start = datetime.fromisoformat(given)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        sys.exit(f"any-hour: {given!r} is neither HH:MM nor an RFC 3339 time with its offset")
    print(start.isoformat())
PY
)"
read -r -d '' -a starts <<<"$starts_text" || true
read -r -a python_suites <<<"${ANY_HOUR_PYTEST:-tests/browser}"
moto="${ANY_HOUR_MOTO:-0}"
# The scenarios are built with the whole workspace, as `make test` builds
# them: `-p acceptance` alone unifies other features and rebuilds every crate.
if cargo nextest --version >/dev/null 2>&1; then
    scenarios=(cargo nextest run --workspace -E 'package(acceptance)' --no-fail-fast)
    [ "$moto" = 1 ] && scenarios+=(--run-ignored all)
else
    # Without nextest, no filter by package: every test of the workspace.
    scenarios=(cargo test --workspace --no-fail-fast)
    [ "$moto" = 1 ] && scenarios+=(-- --include-ignored)
fi
[ "$moto" = 1 ] && scenarios=(infra/tools/with-moto.sh "${scenarios[@]}")

# Built once before the first start, so that no start's time is the build's
# (the same builds as `make test`'s: nothing more when it ran first).
echo "==> building the scenarios and local mode"
cargo test --workspace --no-run
cargo build -p local --bin agenda-local

logs="$(mktemp -d "${TMPDIR:-/tmp}/any-hour.XXXXXX")"
summary=()
failed=0
for start in "${starts[@]}"; do
    echo
    echo "==> clock started at $start: the scenarios (${scenarios[*]})"
    began=$SECONDS
    if AGENDA_CLOCK_START="$start" "${scenarios[@]}"; then
        rust="pass"
    else
        rust="FAIL"
        failed=1
    fi
    rust="$rust ($((SECONDS - began)) s)"

    echo "==> clock started at $start: ${python_suites[*]}"
    began=$SECONDS
    # -rP: the clock check's printed line, in the report of the passed tests.
    if AGENDA_CLOCK_START="$start" "$pytest" "${python_suites[@]}" -rP 2>&1 | tee "$logs/pytest.log"; then
        pages="pass"
    else
        pages="FAIL"
        failed=1
    fi
    pages="$pages ($((SECONDS - began)) s)"
    said="$(grep -m1 '^clock started at' "$logs/pytest.log" \
        || echo "(no proof: tests/browser/test_local_clock.py did not run or did not pass)")"
    summary+=("$start  scenarios: $rust  ${python_suites[*]}: $pages" "    $said")
done

echo
echo "==> tests at any hour"
printf '%s\n' "${summary[@]}"
rm -rf "$logs"
exit "$failed"
