#!/usr/bin/env bash
# Usage: infra/tools/with-moto.sh <command> [args...]
#
# Starts a moto server (mock AWS) on a free local port, runs the command with
# MOTO_ENDPOINT and dummy AWS credentials in its environment, then stops the
# server whether the command succeeded or not. Exits with the command's status.
#
# The server is moto's, run by moto_serialized.py beside this script: it handles
# one request at a time, because moto's DynamoDB transactions are not atomic
# under concurrent requests and AWS's are (docs/decisions.md, "Moto runs one
# request at a time").
#
# MOTO_PYTHON overrides the Python (default: the repo's .venv); MOTO_SERVER, a
# server executable taking -H and -p, replaces the serialized server (e.g.
# .venv/bin/moto_server, to see the races it lets through);
# MOTO_START_TIMEOUT (seconds, default 30) bounds the wait for the server.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 <command> [args...]" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${MOTO_PYTHON:-$root/.venv/bin/python}"
timeout="${MOTO_START_TIMEOUT:-30}"
if [ -n "${MOTO_SERVER:-}" ]; then
    moto_server=("$MOTO_SERVER")
else
    moto_server=("$python" "$root/infra/tools/moto_serialized.py")
fi

if [ ! -x "${moto_server[0]}" ]; then
    echo "with-moto: ${moto_server[0]} not found (run 'make venv' first)" >&2
    exit 2
fi

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
endpoint="http://127.0.0.1:$port"
log="$(mktemp "${TMPDIR:-/tmp}/moto-server.XXXXXX.log")"

"${moto_server[@]}" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!

stop_moto() {
    if kill -0 "$moto_pid" 2>/dev/null; then
        kill "$moto_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$moto_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$moto_pid" 2>/dev/null || true
    fi
    wait "$moto_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_moto EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Any HTTP answer (even an error status) means the server is listening.
ready_check='
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
'
deadline=$((SECONDS + timeout))
until "$python" -c "$ready_check" "$endpoint/moto-api/" 2>/dev/null; do
    if ! kill -0 "$moto_pid" 2>/dev/null; then
        echo "with-moto: moto server exited before answering; its log:" >&2
        cat "$log" >&2
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "with-moto: moto server did not answer on $endpoint within ${timeout}s; its log:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.3
done
echo "with-moto: moto server (pid $moto_pid) ready on $endpoint" >&2

status=0
MOTO_ENDPOINT="$endpoint" \
AWS_ACCESS_KEY_ID=testing \
AWS_SECRET_ACCESS_KEY=testing \
AWS_REGION=eu-west-3 \
AWS_DEFAULT_REGION=eu-west-3 \
    "$@" || status=$?
exit "$status"
