#!/bin/sh
# The image's entrypoint (Dockerfile ENTRYPOINT); runs the same way outside Docker (tests/pacingsite/
# test_deploy.py runs it against PostgreSQL and Redis). One container, one role:
#
#   web            wait for the database and Redis, prepare the configuration (manage.py first_start:
#                  migrations, templates, PACING_LOAD_DEMO, provisioning of PACING_CLUSTER, one line), then
#                  gunicorn on PACING_BIND (0.0.0.0:8000), static files served by WhiteNoise
#   node           wait for the database (migrated) and Redis, then a pacing node: one Celery worker with its
#                  embedded beat, named PACING_NODE_NAME (required; the node's application in the
#                  configuration is PACING_NODE_APPLICATION)
#   gpe-simulator  the GPE simulator on GPE_SIM_PORT (8089), for trials without Genesys Cloud
#   manage ARGS    any manage.py command (e.g. `manage createsuperuser`, `manage provision NAME`)
#
# Every role `exec`s its server, so the container's stop signal (SIGTERM) reaches it directly.
set -eu

APP_DIR="${PACING_APP_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$APP_DIR"
PYTHON="${PYTHON:-python}"
WAIT_S="${PACING_WAIT_S:-120}"

role="${1:-web}"
if [ "$#" -gt 0 ]; then
  shift
fi

case "$role" in
  web)
    "$PYTHON" manage.py wait_for_services --timeout "$WAIT_S"
    "$PYTHON" manage.py first_start
    # prometheus-client's multiprocess mode: the gunicorn workers' metrics summed on /metrics; emptied at start
    # (files of processes that are gone would be summed forever)
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/pacing-prometheus}"
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    exec gunicorn -c python:pacingsite.gunicorn_conf pacingsite.wsgi:application \
      --bind "${PACING_BIND:-0.0.0.0:8000}" --workers "${WEB_CONCURRENCY:-2}" "$@"
    ;;
  node)
    : "${PACING_NODE_NAME:?PACING_NODE_NAME must name this pacing node (e.g. node-1)}"
    "$PYTHON" manage.py wait_for_services --migrated --timeout "$WAIT_S"
    schedule_dir="${PACING_VAR_DIR:-$APP_DIR/var}"
    mkdir -p "$schedule_dir"
    exec celery -A pacingsite.celery:app worker --beat -n "${PACING_NODE_NAME}@%h" \
      --schedule "$schedule_dir/beat-${PACING_NODE_NAME}" --loglevel "${LOG_LEVEL:-INFO}" "$@"
    ;;
  gpe-simulator)
    "$PYTHON" manage.py wait_for_services --timeout "$WAIT_S"
    exec "$PYTHON" manage.py gpe_simulator --host "${GPE_SIM_HOST:-0.0.0.0}" --port "${GPE_SIM_PORT:-8089}" "$@"
    ;;
  manage)
    exec "$PYTHON" manage.py "$@"
    ;;
  *)
    echo "entrypoint: unknown role '$role' (one of: web, node, gpe-simulator, manage)" >&2
    exit 2
    ;;
esac
