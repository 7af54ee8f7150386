"""gunicorn settings for the web UI (`gunicorn -c python:pacingsite.gunicorn_conf`).

Each admin request leaves thousands of objects in reference cycles; CPython's default thresholds
then run a full (generation-2) collection about every tenth request, which costs 100–200 ms on a
2-core machine and is what the slow tail of a list page is made of (bench/README.md). After the
fork we freeze what start-up allocated (it is never garbage) and collect less often.
"""

import gc

GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def post_fork(server, worker):
    tune_gc()


def child_exit(server, worker):
    """prometheus-client's multiprocess mode: a dead worker's live gauges no longer count."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


graceful_timeout = 5
accesslog = "-"
# the access log masks every query-string value (pacingsite/gunicorn_log.py): filters can carry secrets
logger_class = "pacingsite.gunicorn_log.RedactingLogger"
