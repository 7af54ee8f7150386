"""The Celery app (`pacingsite.celery:app`) that runs the pacing cycle on every pacing node.

Every node is started the same way (README, "Pacing nodes")::

    celery -A pacingsite.celery:app worker --beat -n <node>@%h

* **Broker**: Redis from ``REDIS_URL`` (settings). Unset: tasks run eagerly in the caller (no worker; tests).
* **Pool**: threads (``CELERY_WORKER_POOL``), so a node is ONE process: its leader lease, GPE client and
  prepared targets live in that process's memory, and a cycle never overlaps the previous one (a
  non-blocking lock per cluster, pacing/cycle.py).
* **Each node drives itself.** When the worker starts (``celeryd_after_setup``) it adds its own queue
  ``pacing.node.<node>@<host>`` and points the beat entry ``pacing-dispatch`` at it: the embedded beat sends
  ``pacing.dispatch`` every second with ``expires=1`` to its own node only. ``dispatch`` sends the due
  cycles of each pacing cluster (every ``pacing/refreshPeriod`` seconds of that cluster, read from the
  configuration each second: a changed period or a new cluster needs no restart) with ``expires`` = one
  period. Which node POSTS is decided by the Redis lease, not by the beat.
* **Background imports**: every node also consumes ``configdb.jobs``, where the API sends the configuration
  imports too large to answer within a request (``configdb.import_job``, configdb/tasks.py); one takes a
  thread of the node's pool while it runs.
* **Scheduler**: ``celery.beat:Scheduler`` (in memory): no ``celerybeat-schedule`` file, so several nodes can
  run from one directory. The embedded beat is a child process; on Linux it asks the kernel to stop it when
  the worker dies (``PR_SET_PDEATHSIG``), so a killed node leaves no beat sending to its queue.
* **Logs**: Celery's lines per task (three a second per node) are kept at WARNING unless ``--loglevel DEBUG``;
  the cycle logs one line per posted cycle and one when a node's state changes (logger ``pacing.cycle``).
"""

import ctypes
import ctypes.util
import logging
import os
import signal
import sys

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacingsite.settings")

app = Celery("pacingsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

DISPATCH = "pacing-dispatch"
UPKEEP = "pacing-upkeep"
UPKEEP_EVERY_S = 6 * 3600.0
app.conf.beat_schedule = {
    DISPATCH: {"task": "pacing.dispatch", "schedule": 1.0, "args": (), "options": {"expires": 1.0}},
    # the histories' retention (pacing/retention.py): idempotent, so every node's beat may send it
    UPKEEP: {"task": "pacing.prune_history", "schedule": UPKEEP_EVERY_S, "args": (),
             "options": {"expires": UPKEEP_EVERY_S}},
}


@signals.celeryd_after_setup.connect
def _node_queue(sender=None, instance=None, conf=None, **kwargs):
    """The worker named ``sender`` (``node-1@host``) consumes its own queue, and its beat sends there; it
    consumes the background imports' queue too."""
    from configdb.tasks import JOBS_QUEUE
    from pacing.tasks import queue_of

    queue = queue_of(str(sender))
    instance.app.amqp.queues.select_add(queue)
    # background configuration imports (configdb/tasks.py): every node takes them, even one started with -Q
    instance.app.amqp.queues.select_add(JOBS_QUEUE)
    entry = dict(conf.beat_schedule[DISPATCH])
    entry["args"] = (str(sender),)
    entry["options"] = {**entry.get("options", {}), "queue": queue}
    conf.beat_schedule = {**conf.beat_schedule, DISPATCH: entry}


@signals.worker_process_init.connect
@signals.celeryd_init.connect
def _engine_memory(**kwargs):
    """The process that runs pacing cycles keeps the engine's scratch memory between blocks (pacing/malloc.py:
    without it half of the engine's time on 100,000 targets is page faults)."""
    from pacing.malloc import keep_freed_memory

    keep_freed_memory()


#: Celery's per-task lines ("Sending due task", "received", "succeeded in …") every second per node drown the
#: cycle's own line; they are kept at WARNING unless the worker runs with --loglevel DEBUG
CHATTY_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")


@signals.after_setup_logger.connect
def _quiet_task_lines(logger=None, loglevel=None, **kwargs):
    if loglevel is None or loglevel > logging.DEBUG:
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


@signals.beat_embedded_init.connect
def _die_with_worker(**kwargs):
    """The embedded beat process gets SIGTERM when its worker dies (Linux), instead of living on as an orphan."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except OSError:
        pass


@signals.worker_ready.connect
def _start_monitor(sender=None, **kwargs):
    """The node's own health (alarms.monitors): collector pauses, memory, the metrics reports and the ``log``
    options, against the options of the node's application: ``PACING_NODE_APPLICATION`` (ours; e.g.
    ``Pacing_Server_Node_01``), else the application named like the node (``node-1``), else the defaults."""
    from alarms.monitors import Monitor
    from pacing.tasks import node_of

    node = node_of(getattr(sender, "hostname", None))
    application = os.environ.get("PACING_NODE_APPLICATION", "").strip() or node
    try:
        sender.app.pacing_monitor = Monitor.for_node(node, application=application).start()
    except Exception:  # the node paces without its monitor rather than not at all
        logging.getLogger("pacing.node").exception("%s: the node monitor did not start", node)


@signals.worker_shutdown.connect
def _stop_monitor(sender=None, **kwargs):
    monitor = getattr(app, "pacing_monitor", None)
    if monitor is not None:
        monitor.stop()


@signals.task_prerun.connect
def _task_actor(task_id=None, task=None, **kwargs):
    """Configuration changed by a task is recorded as ``celery:<task name>``."""
    from configdb.history import set_actor

    task.request.pacing_actor_token = set_actor(f"celery:{task.name}", "celery")


@signals.task_postrun.connect
def _task_actor_done(task_id=None, task=None, **kwargs):
    from configdb.history import reset_actor

    token = getattr(task.request, "pacing_actor_token", None)
    if token is not None:
        reset_actor(token)
