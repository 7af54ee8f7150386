"""The CLI with the vendor's flags (provisioning/cli.py, provisioning/bin/provisioning.sh) against a live server.

The server is pytest-django's ``live_server`` (a real HTTP server in a thread of this process, on a free
loopback port); the CLI runs as a subprocess, each bounded by a timeout.
"""

import io
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from configdb.models import AlarmCondition
from pacingsite.models import ApiToken

ROOT = Path(__file__).resolve().parents[2]
SUCCESS = "Provisioning script successfully finished his work"
CLUSTER, NODE = "Pacing_Service_Cluster_9.0", "Pacing_Server_Node_01"


@pytest.fixture
def server(transactional_db, live_server):
    call_command("load_demo", stdout=io.StringIO())
    get_user_model().objects.create_superuser("ops", None, "pw-ops-1")
    parts = urlsplit(live_server.url)
    return parts.hostname, str(parts.port)


def run(*args, env=None, script=None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PACING_API_")}
    command = [str(script), *args] if script else [sys.executable, "-m", "provisioning.cli", *args]
    done = subprocess.run(command, cwd=ROOT, env={**base, **(env or {})}, capture_output=True, text=True,
                          timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_success_with_user_and_password(server):
    host, port = server
    AlarmCondition.objects.filter(name="PacingRequestsFailed").delete()
    code, out, err = run("-host", host, "-port", port, "-user", "ops", "-password", "pw-ops-1", "-app", NODE)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[-1] == SUCCESS
    assert "create alarm condition 'PacingService / PacingRequestsFailed'" in out
    assert AlarmCondition.objects.filter(name="PacingRequestsFailed").exists()


def test_success_with_a_token_and_the_shell_script(server):
    host, port = server
    _, key = ApiToken.issue(get_user_model().objects.get(username="ops"))
    script = ROOT / "provisioning" / "bin" / "provisioning.sh"
    code, out, err = run("-host", host, "-port", port, "-app", CLUSTER, "-overwrite", script=script,
                         env={"PACING_API_TOKEN": key, "PACING_PYTHON": sys.executable})
    assert (code, out.strip(), err) == (0, SUCCESS, "")


def test_dry_run_prints_the_changes_and_writes_nothing(server):
    host, port = server
    AlarmCondition.objects.filter(name="GC Latency").delete()
    code, out, err = run("-host", host, "-port", port, "-user", "ops", "-app", CLUSTER, "-dry-run",
                         env={"PACING_API_PASSWORD": "pw-ops-1"})
    assert code == 0, err
    assert "create alarm condition 'PacingService / GC Latency'" in out
    assert "nothing was written" in out.splitlines()[-1]
    assert not AlarmCondition.objects.filter(name="GC Latency").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_server_down_is_one_line_and_non_zero():
    code, out, err = run("-host", "127.0.0.1", "-port", str(free_port()), "-user", "u", "-password", "p",
                         "-app", NODE)
    assert code == 3 and out == ""
    assert "connection refused" in one_line(err)


def test_wrong_password_is_one_line_and_non_zero(server):
    host, port = server
    code, out, err = run("-host", host, "-port", port, "-user", "ops", "-password", "wrong", "-app", NODE)
    assert code == 4 and out == ""
    assert "wrong user or password" in one_line(err)


def test_https_against_an_http_server_is_one_line(server):
    host, port = server
    code, out, err = run("-host", host, "-port", port, "-user", "ops", "-password", "pw-ops-1", "-app", NODE,
                         "-https", "-timeout", "10")
    assert code == 3 and out == ""
    assert "TLS" in one_line(err) or "reach" in one_line(err)


def test_unknown_app_is_one_line_and_non_zero(server):
    host, port = server
    code, out, err = run("-host", host, "-port", port, "-user", "ops", "-password", "pw-ops-1", "-app", "Nope")
    assert code == 1 and out == ""
    assert one_line(err) == "provisioning: provisioning refused: application: No application named 'Nope'."


def test_read_only_apply_is_refused(server):
    from configdb.models import Tenant, TenantGrant
    host, port = server
    reader = get_user_model().objects.create_user("reader", None, "pw-reader-1")
    TenantGrant.objects.create(user=reader, tenant=Tenant.objects.get(name="Environment"), access="read")
    code, _, err = run("-host", host, "-port", port, "-user", "reader", "-password", "pw-reader-1", "-app", NODE)
    assert code == 1 and "read-only grant allows the dry run only" in one_line(err)
    code, out, _ = run("-host", host, "-port", port, "-user", "reader", "-password", "pw-reader-1", "-app", NODE,
                       "-dry-run")
    assert code == 0 and "nothing was written" in out


@pytest.mark.parametrize(("args", "message"), [
    ((), "required"),
    (("-host", "h", "-port", "80"), "-app"),
    (("-host", "h", "-port", "http", "-app", "A"), "-port must be a number"),
    (("-host", "h", "-port", "0", "-app", "A"), "-port must be a number"),
    (("-host", "h/x", "-port", "80", "-app", "A"), "-host"),
    (("-host", "h", "-port", "80", "-app", "A", "-colour"), "unrecognized"),
    (("-host", "h", "-port", "80", "-app", "A", "-password", "p"), "-password needs -user"),
    (("-host", "h", "-port", "80", "-app", "A", "-user", "u"), "-user needs -password"),
    (("-host", "h", "-port", "80", "-app", "A"), "no credentials"),
])
def test_bad_flags_are_one_line_and_exit_2(args, message):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert message in one_line(err)
