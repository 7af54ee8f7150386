"""Settings come from the environment: development works with nothing set, production refuses to guess."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def _settings(env: dict, tmp_path) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SECRET_KEY", "DEBUG", "PACING_PRODUCTION", "PACING_SECRETS_KEY", "PACING_SECRETS_KEY_FILE")}
    clean.update({"DJANGO_SETTINGS_MODULE": "pacingsite.settings", "PACING_VAR_DIR": str(tmp_path)}, **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=60)


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    first = _settings({}, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "False"  # DEBUG is off unless asked
    key = (tmp_path / "secret_key").read_text()
    assert len(key) > 40 and oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    assert _settings({}, tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


def test_production_mode_requires_a_secret_key(tmp_path):
    result = _settings({"PACING_PRODUCTION": "1"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "secret_key").exists()
    fernet_key = Fernet.generate_key().decode()
    ok = _settings({"PACING_PRODUCTION": "1", "SECRET_KEY": "x" * 50, "PACING_SECRETS_KEY": fernet_key}, tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_production_mode_requires_the_secrets_key(tmp_path):
    result = _settings({"PACING_PRODUCTION": "1", "SECRET_KEY": "x" * 50}, tmp_path)
    assert result.returncode != 0 and "PACING_SECRETS_KEY (or PACING_SECRETS_KEY_FILE) is not set" in result.stderr
    result = _settings({"PACING_PRODUCTION": "1", "SECRET_KEY": "x" * 50, "PACING_SECRETS_KEY": "short"}, tmp_path)
    assert result.returncode != 0 and "is not a Fernet key" in result.stderr
    key_file = tmp_path / "key"
    key_file.write_text(Fernet.generate_key().decode())
    result = _settings({"PACING_PRODUCTION": "1", "SECRET_KEY": "x" * 50, "PACING_SECRETS_KEY_FILE": str(key_file)},
                       tmp_path)
    assert result.returncode == 0, result.stderr


def test_debug_only_when_asked(tmp_path):
    assert _settings({"DEBUG": "1"}, tmp_path).stdout.strip() == "True"


def test_ensure_admin_creates_once_and_says_how_to_log_in(db, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("ensure_admin")
    out = capsys.readouterr().out
    password = (tmp_path / "admin-password").read_text().strip()
    assert f"password: {password}" in out
    assert get_user_model().objects.get(username="admin").check_password(password)
    call_command("ensure_admin")
    assert f"password: {password}" in capsys.readouterr().out
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_health_endpoint_needs_no_login(client):
    assert client.get("/healthz").json() == {"status": "ok"}
