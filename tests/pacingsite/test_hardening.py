"""Hardening (issue 14, item 6): security headers on every answer, CSRF on every form, and query strings
redacted in the access log (a real gunicorn)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from pacingsite.gunicorn_log import redact_query, redact_uri
from pacingsite.middleware import CONTENT_SECURITY_POLICY
from tests.chaos.conftest import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/schema/", "/healthz", "/favicon.ico",
                                  "/api/v1/virtual-queues/", "/no-such-page/"])
def test_every_answer_carries_the_security_headers(db, client, path):
    response = client.get(path)
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_a_form_posted_without_its_csrf_token_is_refused(db, admin_user):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/admin/login/", {"username": "admin", "password": "password"}).status_code == 403
    browser.force_login(admin_user)
    # a session-authenticated API write needs the token too (DRF's SessionAuthentication)
    answer = browser.post("/api/v1/tenants/", {"name": "Nope"}, content_type="application/json")
    assert answer.status_code == 403 and "CSRF" in answer.json()["detail"]


def _views(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


#: views exempt from CSRF that are not DRF views (which check CSRF for session logins themselves), and why
CSRF_EXEMPT_ALLOWED: dict[str, str] = {}


def test_no_view_escapes_csrf_but_the_api_views_that_check_it_themselves():
    escaped = []
    for route, view in _views(get_resolver()):
        if not getattr(view, "csrf_exempt", False):
            continue
        cls = getattr(view, "cls", None)
        if isinstance(cls, type) and issubclass(cls, APIView):
            continue                 # APIView: CSRF enforced by SessionAuthentication, tokens need none
        if route not in CSRF_EXEMPT_ALLOWED:
            escaped.append(route)
    assert escaped == []


def test_the_query_string_is_masked_value_by_value():
    assert redact_query("option=gpe/client_secret=hunter2&limit=5&flag") == "option=*&limit=*&flag"
    assert redact_query("") == ""
    assert redact_uri("/api/v1/x/?token=abc#frag") == "/api/v1/x/?token=*"
    assert redact_uri("/admin/") == "/admin/"


def test_gunicorns_access_log_shows_no_query_value(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "PACING_"))}
    env.update(PACING_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True,
                   timeout=120)
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "python:pacingsite.gunicorn_conf",
                                 "pacingsite.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                                cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/healthz", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        requests.get(url + "/api/v1/transactions/?option=gpe/client_secret=hunter2&limit=5",
                     headers={"Referer": url + "/admin/?token=s3cr3t"}, timeout=10)
        deadline = time.monotonic() + 10
        while "\"GET /api/v1/transactions/" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_process(proc)
    text = log_path.read_text()
    line = next(line for line in text.splitlines() if "\"GET /api/v1/transactions/" in line)
    assert "GET /api/v1/transactions/?option=*&limit=* HTTP/1.1" in line
    assert f"{url}/admin/?token=*" in line
    assert "hunter2" not in text and "s3cr3t" not in text
