#!/bin/sh
# The provisioning tool with the vendor's flags (seeds/pacing-provisioning.txt), for Linux and macOS:
#   provisioning.sh -host H -port P [-user U -password PW] -app NAME [-overwrite] [-dry-run] [-https]
# It runs `python -m provisioning.cli` (stdlib only) against a running Pacing Console's API.
# Python: $PACING_PYTHON, else the project's .venv, else python3 on the PATH.
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PACING_PYTHON:-}
if [ -z "$PY" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PY" -m provisioning.cli "$@"
