#!/usr/bin/env python3
"""Benchmark: concurrent clients writing through the REST API of a real gunicorn — 5xx, lost writes, duplicates.

For each database (the embedded SQLite default, in a temporary file; PostgreSQL, in a throw-away database
test_<name>_bench_concurrency created and dropped here), it starts gunicorn the way `dev.py run` does (the
product's pacingsite/gunicorn_conf.py) on a free loopback port in 18600-18699, then runs --clients threads for
--seconds seconds, each with its own user, API token and HTTP session, mixing: PATCHes of different fields of
the SAME few virtual queues (each client writes one group of fields, with a value no other write uses), some
with If-Match, and whole-object PUTs of a GET's body with If-Match; creates, bulk creates (some with a name
already taken: all or nothing) and deletes of DNs, virtual queues and skills; renames; and creates of the
same name at the same moment (single and bulk, a DN and a virtual queue for one number). Afterwards it reads
the final objects and the whole change history through the API and checks:

* 5xx answers (none is acceptable);
* lost writes: every acknowledged (2xx) PATCH or PUT is a record of the object's history chain with the values it
  sent, changing no field it did not name, and the chain is continuous (each record's "before" is the
  previous record's "after"; the last "after" is the object as it is now) and in the order the requests
  were answered — so each acknowledged value is either the current one or superseded by a later change;
* phantom writes: a refused PATCH or PUT (412, 4xx) or a refused (bulk) create left nothing behind; a stale
  If-Match is a 412, not another 4xx;
* duplicates: no two objects with one natural key, at most one acknowledged create per raced name, every
  acknowledged create recorded and either present or deleted by a recorded delete.

Prints a table per database; figures only: exits 0 whatever they are (non-zero only when the bench itself
fails, e.g. PostgreSQL is unreachable or gunicorn does not start). Every process it starts is stopped by its
process group at the end, also on Ctrl-C, SIGTERM or an error.

    python3 dev.py bench concurrency [--database sqlite|postgres://...] [--clients 20] [--seconds 30] [--port N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import _common as common

PORTS = range(18600, 18700)
API = "/api/v1/"
TENANT, SWITCH = "Environment", "SIP_Switch"
HOT = 8                   # the virtual queues every client PATCHes
RACE_SLOT_S = 0.5         # clients that race within one slot create the same name
REQUEST_TIMEOUT_S = 60
#: the fields each client PATCHes (client i: GROUPS[i % 4]); all but state carry a value no other write uses
GROUPS = ("alias", "association", "options", "state")
#: the fields an API client may change here; the history's snapshots are compared on these
COMPARED = {"dn": ("number", "alias", "association", "options", "state", "dn_type"), "skill": ("name", "state"),
            "group": ("name", "state")}
OPERATIONS = {  # kind: weight
    "patch": 40, "patch If-Match": 5, "put If-Match": 5, "patch (pool)": 8, "create": 10, "bulk create": 5,
    "delete": 8, "race create": 12, "rename": 4, "read": 7, "group create": 4, "group links": 4,
}
KINDS = ("create", "bulk create", "patch", "patch If-Match", "put If-Match", "rename", "delete", "race create",
         "group create", "group links", "read")
WRITES = ("patch", "patch If-Match", "put If-Match")  # the kinds checked against the history

# Run in a subprocess with the bench's DATABASE_URL: migrate (SQLite), then the tenant, the switch and one
# user with an API token per client (even: superusers; odd: a read-write grant on the tenant).
SETUP = r"""
import json, sys
import django
django.setup()
from django.core.management import call_command
if sys.argv[1] == "migrate":
    call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
from configdb.models import MediaType, Switch, Tenant, TenantGrant
from pacingsite.models import ApiToken
tenant = Tenant.objects.get_or_create(name=sys.argv[3])[0]
Switch.objects.create(tenant=tenant, name=sys.argv[4], switch_type="sip")
MediaType.objects.get_or_create(tenant=tenant, name="chat")  # a pacing queue's media is one of its tenant's
users = []
for i in range(int(sys.argv[2])):
    name = f"bench-{i:02d}"
    if i % 2 == 0:
        user = get_user_model().objects.create_superuser(name, None, None)
    else:
        user = get_user_model().objects.create_user(name)
        TenantGrant.objects.create(user=user, tenant=tenant, access="write")
    users.append({"user": name, "key": ApiToken.issue(user, description="concurrency bench")[1]})
print(json.dumps(users))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="concurrency",
        description="Concurrent clients writing through the REST API of a real gunicorn (pacingsite/gunicorn_conf.py) "
                    "on the embedded SQLite (a temporary file) and on PostgreSQL (a throw-away database "
                    "test_<name>_bench_concurrency); then counts 5xx answers, lost writes (against the change "
                    "history) and duplicates. Figures only: exits 0 whatever they are.",
    )
    parser.add_argument(
        "--database", metavar="sqlite|URL", action="append",
        help="'sqlite' (a temporary file, the README's default set-up) or a PostgreSQL DATABASE_URL (only a "
             "throw-away test database derived from its name is written to); repeat for several. Default: "
             f"sqlite, then $BENCH_DATABASE_URL or {common.DEFAULT_DATABASE_URL}",
    )
    common.add_count_option(parser, "clients", 20, "concurrent clients (threads, each its own user, token and session)")
    common.add_count_option(parser, "seconds", 30, "seconds of load per database")
    common.add_count_option(parser, "workers", 4, "gunicorn workers")
    parser.add_argument("--port", type=int, metavar="N",
                        help=f"port for gunicorn on 127.0.0.1 (default: a free one in {PORTS.start}-{PORTS.stop - 1})")
    parser.add_argument("--seed", type=int, default=1, help="seed of the clients' random choices (default 1)")
    args = parser.parse_args(argv)
    common.require_positive(parser, args, "clients", "seconds", "workers")
    args.database = args.database or ["sqlite", os.environ.get("BENCH_DATABASE_URL") or common.DEFAULT_DATABASE_URL]
    for database in args.database:
        if database != "sqlite" and not database.startswith(("postgres://", "postgresql://")):
            parser.error(f"--database: expected 'sqlite' or a postgres:// URL, not {database!r}")
    return args


# --- processes ---------------------------------------------------------------------------------------------


def free_port(requested: int | None, tried: set[int]) -> int:
    """``requested``, or a port of PORTS nothing listens on (not one of ``tried``)."""
    if requested is not None:
        return requested
    candidates = [p for p in PORTS if p not in tried]
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    common.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def stop_group(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM to the process group ``proc`` leads (start_new_session), SIGKILL after ``timeout``; then whatever
    is left of the group (a worker that outlived its master) is killed too."""

    def signal_group(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def group_alive() -> bool:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    if proc.poll() is None:
        signal_group(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            signal_group(signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 5
    while group_alive() and time.monotonic() < deadline:
        signal_group(signal.SIGTERM)
        time.sleep(0.1)
    if group_alive():
        signal_group(signal.SIGKILL)


@contextlib.contextmanager
def gunicorn(env: dict, workers: int, port: int | None, log_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """gunicorn as `dev.py run` starts it (pacingsite/gunicorn_conf.py), in a process group of its own, logging to
    ``log_path``; yields (base URL, process) once /healthz answers; stopped by its process group on the way out."""
    import requests

    tried: set[int] = set()
    for _attempt in range(5):
        chosen = free_port(port, tried)
        tried.add(chosen)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and the product's gunicorn config
                [sys.executable, "-m", "gunicorn", "-c", "python:pacingsite.gunicorn_conf",
                 "pacingsite.wsgi:application", "--bind", f"127.0.0.1:{chosen}", "--workers", str(workers)],
                cwd=common.ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        try:
            base = f"http://127.0.0.1:{chosen}"
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    if requests.get(base + "/healthz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            if proc.poll() is None and time.monotonic() < deadline:
                yield base, proc
                return
            if proc.poll() is None:
                common.fail(f"gunicorn did not answer /healthz within 60 s; its log: {tail(log_path)}")
            if port is not None:
                common.fail(f"gunicorn exited with status {proc.returncode}; its log: {tail(log_path)}")
        finally:
            stop_group(proc)
        # the port was taken between the check and gunicorn's bind: try another one
    common.fail(f"gunicorn did not start; its log: {tail(log_path)}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(none)"


def tracebacks(path: Path, limit: int = 3) -> list[str]:
    """The first ``limit`` tracebacks of a log (each up to its exception line)."""
    found, current = [], None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("Traceback (most recent call last)"):
            current = [line]
        elif current is not None:
            current.append(line)
            if line and not line.startswith((" ", "\t")) and not line.startswith("Traceback"):
                found.append("\n".join(current[-12:]))
                current = None
                if len(found) >= limit:
                    break
    return found


def setup_site(env: dict, clients: int, migrate: bool) -> list[dict]:
    """The tenant, the switch and one user with a token per client, in the database of ``env`` (migrated first
    when ``migrate``); returns [{"user", "key"}]."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SETUP, "migrate" if migrate else "-", str(clients), TENANT, SWITCH],
        cwd=common.ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        common.fail(f"setting up the database failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def site_environment(database_url: str, var_dir: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "PACING_VAR_DIR": str(var_dir),
           "DJANGO_SETTINGS_MODULE": "pacingsite.settings", "LOG_LEVEL": "WARNING"}
    for name in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "PACING_PRODUCTION", "DEBUG"):
        env.pop(name, None)
    return env


# --- the clients -------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One request and what it answered (status None: no answer — a timeout or a dropped connection)."""

    kind: str
    client: int
    method: str
    path: str
    status: int | None
    started: float
    finished: float
    space: str = ""                 # "dn", "skill" or "group": the natural-key space of the object
    pk: int | None = None           # the object written (PATCH, DELETE)
    sent: dict | None = None        # what a PATCH sent
    marker: tuple | None = None     # (field, value) no other write uses, when the PATCH has one
    created: list = field(default_factory=list)   # [(space, id, name)] acknowledged creates
    names: list = field(default_factory=list)     # [(space, name)] every name a create sent
    fresh: list = field(default_factory=list)     # [(space, name)] the names of ``names`` no other request sends
    race: tuple | None = None       # (space, name) raced by several clients
    body: str = ""                  # the start of a 4xx/5xx body, or the error

    @property
    def ms(self) -> float:
        return (self.finished - self.started) * 1000


class Load:
    """What the clients share: the hot queues, the pool of objects created (to patch, rename, delete), the
    answers."""

    def __init__(self, base: str, users: list[dict], seconds: float, seed: int):
        self.base, self.users, self.seconds, self.seed = base, users, seconds, seed
        self.hot: list[int] = []
        self.pool: dict[tuple[str, int], str] = {}   # (route, id) -> name
        self.lock = threading.Lock()
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self.t0 = 0.0
        self.deadline = 0.0

    def take(self, rng: random.Random, routes: tuple[str, ...] | None = None) -> tuple[str, int, str] | None:
        with self.lock:
            choices = [k for k in self.pool if routes is None or k[0] in routes]
            if not choices:
                return None
            route, pk = rng.choice(choices)
            return route, pk, self.pool[(route, pk)]


SPACE = {"dns": "dn", "virtual-queues": "dn", "skills": "skill", "agent-groups": "group"}
NAME = {"dn": "number", "skill": "name", "group": "name"}   # the field that names an object of each space


def record_for(route: str, name: str) -> dict:
    if route in ("skills", "agent-groups"):
        return {"tenant": TENANT, "name": name}
    if route == "virtual-queues":
        return {"switch": SWITCH, "number": name, "alias": name, "options": {"pacing": {"media": "chat"}}}
    return {"switch": SWITCH, "number": name, "dn_type": "extension"}


def name_of(route: str, record: dict) -> str:
    return record[NAME[SPACE[route]]]


class Client:
    def __init__(self, load: Load, index: int):
        import requests

        self.load, self.index = load, index
        self.user = load.users[index]["user"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {load.users[index]['key']}"
        self.rng = random.Random(load.seed * 1000 + index)
        self.group = GROUPS[index % len(GROUPS)]
        self.seq = 0

    def call(self, kind: str, method: str, path: str, body=None, headers=None, **info) -> tuple[Answer, object]:
        import requests

        started = time.monotonic()
        response = None
        try:
            response = self.session.request(method, self.load.base + API + path, json=body, headers=headers,
                                            timeout=REQUEST_TIMEOUT_S)
            status, text = response.status_code, "" if response.status_code < 400 else response.text[:300]
        except requests.RequestException as exc:
            status, text = None, f"{type(exc).__name__}: {exc}"[:300]
        answer = Answer(kind, self.index, method, path, status, started, time.monotonic(), body=text, **info)
        with self.load.lock:
            self.load.answers.append(answer)
        return answer, response

    def unique(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}{self.index}.{self.seq}"

    # the operations ------------------------------------------------------------------------------------

    def patch_payload(self) -> tuple[dict, tuple | None]:
        if self.group == "alias":
            value = self.unique("a")
            return {"alias": value}, ("alias", value)
        if self.group == "association":
            value = self.unique("s")
            return {"association": value}, ("association", value)
        if self.group == "options":
            value = {"bench": {"writer": self.unique("o")}, "pacing": {"media": "chat"}}
            return {"options": value}, ("options", value)
        return {"state": self.rng.choice(("enabled", "disabled"))}, None

    def patch(self, kind: str) -> None:
        if kind == "patch (pool)":
            target = self.load.take(self.rng, ("dns", "virtual-queues"))
            if target is None:
                return
            route, pk, _ = target
            kind = "patch"
        else:
            route, pk = "virtual-queues", self.rng.choice(self.load.hot)
        headers = None
        if kind == "patch If-Match":
            got, response = self.call("read", "GET", f"{route}/{pk}/")
            if got.status != 200:
                return
            headers = {"If-Match": response.headers.get("ETag", "")}
        sent, marker = self.patch_payload()
        self.call(kind, "PATCH", f"{route}/{pk}/", sent, headers, space="dn", pk=pk, sent=sent, marker=marker)

    def put(self) -> None:
        """A whole-object edit: GET, change this client's field, PUT it all back with If-Match (200 or 412)."""
        pk = self.rng.choice(self.load.hot)
        got, response = self.call("read", "GET", f"virtual-queues/{pk}/")
        if got.status != 200:
            return
        # the GET's body sent back (read-only fields unchanged), the related objects it writes by id: their brief
        # form {id, url, name} is for reading
        body = {k: v["id"] if k in ("switch", "folder") and isinstance(v, dict) else v
                for k, v in response.json().items() if k != "warnings"}
        sent, marker = self.patch_payload()
        body.update(sent)
        self.call("put If-Match", "PUT", f"virtual-queues/{pk}/", body, {"If-Match": response.headers.get("ETag", "")},
                  space="dn", pk=pk, sent=sent, marker=marker)

    def create(self) -> None:
        route = self.rng.choice(("dns", "virtual-queues", "skills"))
        record = record_for(route, self.unique("c"))
        answer, response = self.call("create", "POST", f"{route}/", record, space=SPACE[route],
                                     names=[(SPACE[route], name_of(route, record))],
                                     fresh=[(SPACE[route], name_of(route, record))])
        if answer.status == 201:
            self._created(answer, route, [response.json()])

    def bulk(self) -> None:
        route = self.rng.choice(("dns", "virtual-queues", "skills"))
        records = [record_for(route, self.unique("b")) for _ in range(self.rng.randint(3, 10))]
        fresh = [(SPACE[route], name_of(route, r)) for r in records]
        taken = self.load.take(self.rng, (route,)) if self.rng.random() < 0.2 else None
        if taken is not None:  # a name that exists: the whole list is refused
            records.insert(self.rng.randrange(len(records) + 1), record_for(route, taken[2]))
        space = SPACE[route]
        answer, response = self.call("bulk create", "POST", f"{route}/", records, space=space,
                                     names=[(space, name_of(route, r)) for r in records], fresh=fresh)
        if answer.status == 201:
            self._created(answer, route, response.json())

    def _created(self, answer: Answer, route: str, objects: list[dict]) -> None:
        space = SPACE[route]
        for obj in objects:
            answer.created.append((space, obj["id"], obj[NAME[space]]))
        if answer.kind != "race create":
            with self.load.lock:
                for obj in objects:
                    self.load.pool[(route, obj["id"])] = obj[NAME[space]]

    def delete(self) -> None:
        target = self.load.take(self.rng)
        if target is None:
            return
        route, pk, _ = target
        answer, _ = self.call("delete", "DELETE", f"{route}/{pk}/", space=SPACE[route], pk=pk)
        if answer.status in (204, 404):
            with self.load.lock:
                self.load.pool.pop((route, pk), None)

    def race(self) -> None:
        """The same name as the clients racing in this slot: one may be created, the others answer 400."""
        slot = int((time.monotonic() - self.load.t0) / RACE_SLOT_S)
        name = f"race-{slot}"
        way = self.rng.randrange(5)
        route = ("dns", "dns", "virtual-queues", "skills", "skills")[way]
        space = SPACE[route]
        body: dict | list = record_for(route, name)
        names, fresh = [(space, name)], []
        if way in (1, 4):  # a bulk create with one name of its own: all or nothing
            companion = record_for(route, self.unique("r"))
            body = [body, companion]
            fresh.append((space, name_of(route, companion)))
        answer, response = self.call("race create", "POST", f"{route}/", body, space=space, names=names + fresh,
                                     fresh=fresh, race=(space, name))
        if answer.status == 201:
            self._created(answer, route, response.json() if isinstance(body, list) else [response.json()])

    def some_dns(self) -> list[int]:
        """One to three DNs or queues of the pool (some may be being deleted at this very moment)."""
        with self.load.lock:
            choices = [pk for (route, pk) in self.load.pool if route != "skills" and route != "agent-groups"]
        return self.rng.sample(choices, min(len(choices), self.rng.randint(1, 3)))

    def group_create(self) -> None:
        """An agent group listing DNs as its origination DNs, while other clients delete DNs."""
        record = {**record_for("agent-groups", self.unique("g")), "origination_dns": self.some_dns()}
        answer, response = self.call("group create", "POST", "agent-groups/", record, space="group",
                                     names=[("group", record["name"])], fresh=[("group", record["name"])])
        if answer.status == 201:
            self._created(answer, "agent-groups", [response.json()])

    def group_links(self) -> None:
        target = self.load.take(self.rng, ("agent-groups",))
        if target is None:
            return
        _route, pk, _ = target
        self.call("group links", "PATCH", f"agent-groups/{pk}/", {"origination_dns": self.some_dns()},
                  space="group", pk=pk)

    def rename(self) -> None:
        target = self.load.take(self.rng, ("dns", "virtual-queues"))
        if target is None:
            return
        route, pk, _ = target
        number = f"ren-{int((time.monotonic() - self.load.t0) / RACE_SLOT_S)}"
        answer, _ = self.call("rename", "PATCH", f"{route}/{pk}/", {"number": number}, space="dn", pk=pk,
                              sent={"number": number})
        if answer.status == 200:
            with self.load.lock:
                if (route, pk) in self.load.pool:
                    self.load.pool[(route, pk)] = number

    def read(self) -> None:
        if self.rng.random() < 0.5:
            self.call("read", "GET", f"virtual-queues/{self.rng.choice(self.load.hot)}/")
        else:
            self.call("read", "GET", f"dns/?switch={SWITCH}&limit=50&offset={self.rng.randrange(0, 200)}")

    def run(self, start: threading.Barrier) -> None:
        kinds, weights = list(OPERATIONS), list(OPERATIONS.values())
        start.wait()
        while not self.load.stop.is_set() and time.monotonic() < self.load.deadline:
            kind = self.rng.choices(kinds, weights)[0]
            if kind.startswith("patch"):
                self.patch(kind)
            elif kind == "put If-Match":
                self.put()
            elif kind == "create":
                self.create()
            elif kind == "bulk create":
                self.bulk()
            elif kind == "delete":
                self.delete()
            elif kind == "race create":
                self.race()
            elif kind == "rename":
                self.rename()
            elif kind == "group create":
                self.group_create()
            elif kind == "group links":
                self.group_links()
            else:
                self.read()


def run_load(load: Load, clients: int) -> float:
    """The hot queues, then ``clients`` threads until the deadline; returns the seconds the load ran."""
    import requests

    admin = requests.Session()
    admin.headers["Authorization"] = f"Token {load.users[0]['key']}"
    hot = [record_for("virtual-queues", f"hot-{i}") for i in range(HOT)]
    created = admin.post(load.base + API + "virtual-queues/", json=hot, timeout=REQUEST_TIMEOUT_S)
    if created.status_code != 201:
        common.fail(f"creating the hot queues answered {created.status_code}: {created.text[:300]}")
    load.hot = [obj["id"] for obj in created.json()]
    workers = [Client(load, i) for i in range(clients)]
    start = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=w.run, args=(start,), daemon=True, name=f"client-{i}")
               for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    load.t0 = time.monotonic()
    load.deadline = load.t0 + load.seconds
    start.wait()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
    finally:
        load.stop.set()
    return time.monotonic() - load.t0


# --- verification ------------------------------------------------------------------------------------------


def fetch_all(session, base: str, path: str) -> list[dict]:
    rows, offset = [], 0
    while True:
        sep = "&" if "?" in path else "?"
        got = session.get(f"{base}{API}{path}{sep}limit=1000&offset={offset}", timeout=REQUEST_TIMEOUT_S)
        if got.status_code != 200:
            common.fail(f"GET {path} answered {got.status_code}: {got.text[:300]}")
        page = got.json()
        rows += page["results"]
        offset += len(page["results"])
        if not page["next"] or not page["results"]:
            return rows


@dataclass
class Findings:
    counts: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=lambda: defaultdict(list))
    checked_patches: int = 0

    def add(self, check: str, example: str) -> None:
        self.counts[check] += 1
        if len(self.examples[check]) < 3:
            self.examples[check].append(example)


CHECKS = (
    ("5xx answers", "answers 500-599 (any is a bug)"),
    ("lost writes", "acknowledged PATCHes and PUTs whose values are not a record of the object's history chain"),
    ("clobbered fields", "history records changing a field their request did not name (a stale copy saved)"),
    ("chain breaks", "a record's 'before' differs from the previous record's 'after', or the last 'after' from "
                     "the object as it is"),
    ("out of order", "two acknowledged PATCHes recorded in the opposite order of their answers"),
    ("phantom writes", "a refused PATCH's value, or a name of a refused create, found in the history"),
    ("duplicates", "natural keys held by two objects, or raced names acknowledged twice"),
    ("missing creates", "acknowledged creates without a create record, or gone without a recorded delete"),
    ("undeleted", "acknowledged deletes whose object is still there"),
    ("unnamed refusals", "race 400s not naming the field (number / name)"),
    ("If-Match 400s", "conditional writes of valid bodies answered 400 (a stale version is a 412)"),
    ("orphans", "objects no acknowledged create answered for (a create that failed yet wrote)"),
)


def differs(before: dict | None, after: dict | None, fields: tuple[str, ...]) -> set[str]:
    before, after = before or {}, after or {}
    return {f for f in fields if f in before and f in after and before[f] != after[f]}


def current_of(space: str, obj: dict) -> dict:
    return {f: obj.get(f) for f in COMPARED[space]}


def verify(load: Load, session) -> Findings:
    found = Findings()
    base = load.base
    final = {("dn", o["id"]): o for o in fetch_all(session, base, "dns/")}
    final.update({("skill", o["id"]): o for o in fetch_all(session, base, "skills/")})
    final.update({("group", o["id"]): o for o in fetch_all(session, base, "agent-groups/")})
    chains: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for object_type, space in (("configdb.dn", "dn"), ("configdb.virtualqueue", "dn"), ("configdb.skill", "skill"),
                               ("configdb.agentgroup", "group")):
        for row in fetch_all(session, base, f"changes/?object_type={object_type}&ordering=id"):
            chains[(space, int(row["object_id"]))].append(row)
    for chain in chains.values():
        chain.sort(key=lambda r: r["id"])
    answers = load.answers
    group_of = {load.users[i]["user"]: GROUPS[i % len(GROUPS)] for i in range(len(load.users))}

    for answer in answers:
        if answer.status is not None and answer.status >= 500:
            found.add("5xx answers", f"{answer.method} {answer.path} {answer.status}: {answer.body[:160]}")

    # the chains: continuous, ending at the object as it is; no record changes a field its request did not name
    for (space, pk), chain in chains.items():
        fields = COMPARED[space]
        for previous, record in zip(chain, chain[1:], strict=False):
            if previous["action"] == "delete":
                found.add("chain breaks", f"{space} {pk}: record {record['id']} ({record['action']}) follows its "
                                          f"delete (record {previous['id']})")
            elif record["action"] == "create":
                found.add("chain breaks", f"{space} {pk}: a second create record ({record['id']})")
            else:
                broken = differs(previous["postchange"], record["prechange"], fields)
                if broken:
                    found.add("chain breaks", f"{space} {pk}: record {record['id']} ({record['action']}) starts "
                                              f"from other {sorted(broken)} than record {previous['id']} ended with")
        for record in chain:
            group = group_of.get(record["actor"])
            if record["action"] == "update" and group is not None and space == "dn":
                changed = differs(record["prechange"], record["postchange"], fields) - {group, "number"}
                if changed:
                    found.add("clobbered fields", f"dn {pk}: record {record['id']} by {record['actor']} (who writes "
                                                  f"{group}) changed {sorted(changed)}")
        last = chain[-1]
        obj = final.get((space, pk))
        if obj is not None:
            if last["action"] == "delete":
                found.add("chain breaks", f"{space} {pk} exists but its history ends with a delete")
            else:
                off = differs(last["postchange"], current_of(space, obj), fields)
                if off:
                    found.add("chain breaks", f"{space} {pk}: the last record {last['id']} says other {sorted(off)} "
                                              "than the object has")
        elif last["action"] != "delete":
            found.add("chain breaks", f"{space} {pk} is gone but its history records no delete")

    # every acknowledged PATCH is a record of its chain with the values it sent, in the order of the answers
    by_object: dict[int, list[tuple[int, Answer]]] = defaultdict(list)
    markers = defaultdict(set)   # (pk, field) -> the marker values recorded
    for (space, pk), chain in chains.items():
        if space != "dn":
            continue
        for record in chain:
            for name in ("alias", "association", "options"):
                value = (record["postchange"] or {}).get(name)
                if record["action"] == "update" and value is not None:
                    markers[(pk, name)].add(json.dumps(value, sort_keys=True))
    for answer in answers:
        if answer.kind not in WRITES or answer.marker is None or answer.status is None:
            continue
        name, value = answer.marker
        key = json.dumps(value, sort_keys=True)
        if answer.status >= 300:
            if key in markers[(answer.pk, name)]:
                found.add("phantom writes", f"refused ({answer.status}) PATCH of dn {answer.pk} {name}={value} is "
                                            "in the history")
            continue
        found.checked_patches += 1
        chain = chains.get(("dn", answer.pk), [])
        user = load.users[answer.client]["user"]
        match = next((i for i, r in enumerate(chain) if r["action"] == "update" and r["actor"] == user
                      and (r["postchange"] or {}).get(name) == value), None)
        if match is None:
            found.add("lost writes", f"acknowledged PATCH of dn {answer.pk} {name}={value} is not in its history")
            continue
        by_object[answer.pk].append((match, answer))
    for pk, writes in by_object.items():
        latest_start, latest = -1.0, None
        for _index, answer in sorted(writes, key=lambda w: w[0]):
            if latest is not None and answer.finished < latest_start:
                found.add("out of order", f"dn {pk}: the PATCH answered at {answer.finished - load.t0:.3f} s is "
                                          f"recorded after one sent at {latest_start - load.t0:.3f} s")
            if answer.started > latest_start:
                latest_start, latest = answer.started, answer

    # creates and deletes
    acknowledged: dict[tuple[str, int], Answer] = {}
    race_acks: Counter = Counter()
    for answer in answers:
        for space, pk, _name in answer.created:
            acknowledged[(space, pk)] = answer
        if answer.race is not None and answer.status == 201:
            race_acks[answer.race] += 1
    for race, count in race_acks.items():
        if count > 1:
            found.add("duplicates", f"{race[0]} '{race[1]}' was acknowledged as created {count} times")
    for (space, pk), answer in acknowledged.items():
        chain = chains.get((space, pk), [])
        if not chain or chain[0]["action"] != "create":
            found.add("missing creates", f"{space} {pk} ({answer.kind}) has no create record")
        elif (space, pk) not in final and chain[-1]["action"] != "delete":
            found.add("missing creates", f"{space} {pk} ({answer.kind}) is gone without a recorded delete")
    for answer in answers:
        if answer.kind == "delete" and answer.status == 204 and (answer.space, answer.pk) in final:
            found.add("undeleted", f"{answer.space} {answer.pk} answered 204 to DELETE but is still there")
        if answer.kind in ("patch If-Match", "put If-Match") and answer.status == 400:
            found.add("If-Match 400s", f"{answer.method} {answer.path}: {answer.body[:200]}")
        if answer.kind == "race create" and answer.status == 400:
            expected = "name" if answer.space == "skill" else "number"
            if expected not in answer.body:
                found.add("unnamed refusals", f"POST {answer.path} 400 without '{expected}': {answer.body[:160]}")
    # a refused create wrote nothing: none of the names only it used was ever recorded
    recorded_names = set()
    for (space, _pk), chain in chains.items():
        for record in chain:
            if record["action"] == "create":
                recorded_names.add((space, record["postchange"][NAME[space]]))
    for answer in answers:
        if answer.method == "POST" and answer.status is not None and 400 <= answer.status < 500:
            for space, name in answer.fresh:
                if (space, name) in recorded_names:
                    found.add("phantom writes", f"{space} '{name}' of a refused {answer.kind} ({answer.status}) "
                                                "was created")
    # natural keys
    keys: Counter = Counter()
    for (space, _pk), obj in final.items():
        keys[(space, obj["switch"]["id"] if space == "dn" else obj["tenant"]["id"], obj[NAME[space]])] += 1
    for key, count in keys.items():
        if count > 1:
            found.add("duplicates", f"{count} {key[0]}s named '{key[2]}'")
    hot = set(load.hot)
    for (space, pk), obj in final.items():
        if (space, pk) not in acknowledged and not (space == "dn" and pk in hot):
            found.add("orphans", f"{space} {pk} ('{obj[NAME[space]]}')")
    return found


# --- report ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    clients: int
    seconds: float
    workers: int
    answers: list[Answer]
    findings: Findings
    server_pid: int
    objects_created: int

    @property
    def requests(self) -> int:
        return len(self.answers)

    def status_count(self, low: int, high: int) -> int:
        return sum(1 for a in self.answers if a.status is not None and low <= a.status < high)

    @property
    def no_answer(self) -> int:
        return sum(1 for a in self.answers if a.status is None)

    def figure(self, check: str) -> int:
        return self.findings.counts[check]

    @property
    def lost_writes(self) -> int:
        return sum(self.figure(c) for c in ("lost writes", "clobbered fields", "chain breaks", "out of order"))

    @property
    def duplicates(self) -> int:
        return sum(self.figure(c) for c in ("duplicates", "missing creates", "orphans"))

    @property
    def other_findings(self) -> int:
        return sum(self.figure(c) for c in ("phantom writes", "undeleted", "unnamed refusals", "If-Match 400s"))


def latency(answers: list[Answer]) -> tuple[str, str]:
    samples = [a.ms for a in answers if a.status is not None]
    if not samples:
        return "-", "-"
    return f"{statistics.median(samples):.0f}", f"{common.percentile(samples, 0.95):.0f}"


def codes(answers: list[Answer], low: int, high: int) -> str:
    counted = Counter(a.status for a in answers if a.status is not None and low <= a.status < high)
    return " ".join(f"{code}x{n}" for code, n in sorted(counted.items())) or "-"


def report(result: Result) -> None:
    print(f"\n{result.database}: {result.clients} clients for {result.seconds:.1f} s, gunicorn with "
          f"{result.workers} workers (pacingsite/gunicorn_conf.py)\n")
    rows = []
    for kind in (*KINDS, "all"):
        answers = result.answers if kind == "all" else [a for a in result.answers if a.kind == kind]
        if not answers:
            continue
        p50, p95 = latency(answers)
        rows.append([kind, str(len(answers)), str(sum(1 for a in answers if a.status and a.status < 300)),
                     str(sum(1 for a in answers if a.status and 400 <= a.status < 500)), codes(answers, 400, 500),
                     str(sum(1 for a in answers if a.status and a.status >= 500)),
                     str(sum(1 for a in answers if a.status is None)), p50, p95])
    common.print_table(["request", "count", "2xx", "4xx", "4xx by status", "5xx", "no answer", "p50 ms", "p95 ms"],
                       rows)
    print(f"\nthroughput: {result.requests / result.seconds:.1f} requests/s; {result.objects_created} objects created; "
          f"{result.findings.checked_patches} acknowledged PATCHes with a value of their own checked against the "
          "history\n")
    common.print_table(["check", "found", "what it counts"],
                       [[name, str(result.figure(name)), meaning] for name, meaning in CHECKS])
    for name, _ in CHECKS:
        for example in result.findings.examples.get(name, []):
            print(f"  {name}: {example}")


def summary(results: list[Result]) -> None:
    print("\nsummary\n")
    rows = []
    for r in results:
        p50, p95 = latency(r.answers)
        rows.append([r.database, str(r.clients), f"{r.seconds:.0f}", str(r.requests), f"{r.requests / r.seconds:.1f}",
                     str(r.status_count(200, 300)), str(r.status_count(400, 500)), str(r.status_count(500, 600)),
                     str(r.no_answer), str(r.lost_writes), str(r.duplicates), str(r.other_findings), p50, p95])
    common.print_table(["database", "clients", "s", "requests", "req/s", "2xx", "4xx", "5xx", "no answer",
                        "lost writes", "duplicates", "other", "p50 ms", "p95 ms"], rows)
    print("\n'lost writes' = lost writes + clobbered fields + chain breaks + out of order; 'duplicates' = duplicates + "
          "missing creates + orphans; 'other' = phantom writes + undeleted + unnamed refusals + If-Match 400s (see "
          "each database's checks). Figures, not assertions.")


# --- main --------------------------------------------------------------------------------------------------


def run_site(label: str, env: dict, migrate: bool, clients: int, seconds: float, workers: int, port: int | None,
             seed: int, log_path: Path, quiet: bool = False) -> Result:
    """Set up the database of ``env``, serve it with gunicorn, run the load, verify; gunicorn is stopped before
    this returns (or raises)."""
    import requests

    users = setup_site(env, clients, migrate)
    with gunicorn(env, workers, port, log_path) as (base, proc):
        if not quiet:
            print(f"gunicorn (pid {proc.pid}, {workers} workers) on {base}; {clients} clients for {seconds} s ...",
                  flush=True)
        load = Load(base, users, seconds, seed)
        elapsed = run_load(load, clients)
        if not quiet:
            print(f"  {len(load.answers)} requests in {elapsed:.1f} s; reading the objects and the history ...",
                  flush=True)
        session = requests.Session()
        session.headers["Authorization"] = f"Token {users[0]['key']}"
        findings = verify(load, session)
        created = sum(len(a.created) for a in load.answers)
        result = Result(label, clients, elapsed, workers, load.answers, findings, proc.pid, created)
    if findings.counts["5xx answers"] and not quiet:
        print("\nthe first tracebacks in gunicorn's log:")
        for trace in tracebacks(log_path):
            print(trace, "\n")
    return result


def run_sqlite(clients: int, seconds: float, workers: int, port: int | None, seed: int,
               quiet: bool = False) -> Result:
    """The README's default set-up: the embedded SQLite in a temporary file."""
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
        db = Path(tmp) / "db.sqlite3"
        if not quiet:
            print(f"SQLite in a temporary file ({db}) ...", flush=True)
        env = site_environment(f"sqlite:///{db}", Path(tmp) / "var")
        return run_site("sqlite (file)", env, True, clients, seconds, workers, port, seed, Path(tmp) / "gunicorn.log",
                        quiet)


def run_postgres(database_url: str, clients: int, seconds: float, workers: int, port: int | None,
                 seed: int) -> Result:
    """A throw-away database test_<name>_bench_concurrency (created migrated, dropped at the end)."""
    from django.db import connection

    with common.throwaway_database("bench_concurrency", database_url):
        name = connection.settings_dict["NAME"]
        connection.close()  # the database must have no other session when it is dropped
        url = urlsplit(database_url)._replace(path=f"/{name}").geturl()
        with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
            env = site_environment(url, Path(tmp) / "var")
            try:
                return run_site(f"postgresql ({name})", env, False, clients, seconds, workers, port, seed,
                                Path(tmp) / "gunicorn.log")
            finally:
                connection.close()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    postgres = [d for d in args.database if d != "sqlite"]
    if len({*postgres}) > 1:
        sys.exit("concurrency: one PostgreSQL URL per run (Django is set up once per process)")
    if postgres:
        common.setup_django(postgres[0])
        try:
            common.check_connection(postgres[0])
        except common.BenchFailure as failure:
            sys.exit(f"concurrency: {failure}")
    old = signal.signal(signal.SIGTERM, _raise_interrupt)
    results = []
    try:
        for database in args.database:
            if database == "sqlite":
                result = run_sqlite(args.clients, args.seconds, args.workers, args.port, args.seed)
            else:
                result = run_postgres(database, args.clients, args.seconds, args.workers, args.port, args.seed)
            results.append(result)
            report(result)
    except KeyboardInterrupt:
        print("concurrency: interrupted (gunicorn stopped, the test database dropped)", file=sys.stderr)
        return 130
    except common.BenchFailure as failure:
        sys.exit(f"concurrency: {failure}")
    finally:
        signal.signal(signal.SIGTERM, old)
    summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
