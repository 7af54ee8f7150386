"""Fuzzing of the whole REST API with schemathesis, in-process: every operation of ``/api/schema/``.

The schema is loaded from the Django WSGI application itself (``schemathesis.openapi.from_wsgi``), with a
token (``Authorization: Token …``, pacingsite/authentication.py) of each of two users: a superuser, and a user
with a read-only grant on the demo tenant. For every operation, a bounded number of examples generated from the
schema (``MAX_EXAMPLES``; Hypothesis derandomised, so each run sends the same requests) is sent through the
application and each response is checked with schemathesis' ``not_a_server_error`` (no 5xx) and
``response_schema_conformance`` (the status is documented and the body matches its schema). The test fails
listing every operation that failed, with the request that shows it.

Examples per operation: generated from the schema (valid, and invalid: schemathesis' positive and negative
modes) and, for a detail route, with the id of one of its first three stored objects (random ids are all 404s);
the export with the demo tenant's name.

Nothing is excluded. ``DELETE`` operations run last, against the demo's own objects, under the same checks;
the test's transaction is rolled back afterwards, so the other operations, and the other role, see the demo
whole. The pacing API reads a real Redis
(``PACING_TEST_REDIS_URL``, else the embedded one) under a key prefix of the test's own.

About 25 s per role on two cores on SQLite, 30-40 s on PostgreSQL (the figures are printed: operations,
requests by status class, failing operations, seconds).
"""

from __future__ import annotations

import os
import time
import uuid

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from configdb.models import Access, TenantGrant
from pacing import redis as pacing_redis
from pacing import targets as pacing_targets
from pacingsite.models import ApiToken
from tests.configdb.api_helpers import make_user

#: examples per operation (Hypothesis' max_examples)
MAX_EXAMPLES = int(os.environ.get("PACING_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, response_schema_conformance]
SCHEMA_URL = "/api/schema/"
#: responses by class (2xx, 4xx, …), for the printed figures
STATUSES: dict[int, int] = {}


@pytest.fixture
def fuzz_redis(settings, tmp_path_factory):
    """The Redis of the pacing API: PACING_TEST_REDIS_URL, else the embedded one, under a prefix of its own."""
    url = os.environ.get("PACING_TEST_REDIS_URL", "")
    settings.REDIS_URL = url
    if not url:
        settings.VAR_DIR = tmp_path_factory.mktemp("fuzz-redis")
    settings.PACING_REDIS_PREFIX = prefix = f"test-fuzz-{uuid.uuid4().hex}"
    pacing_redis.reset_clients()
    pacing_targets.clear_cache()
    client = pacing_redis.get_redis()
    yield client
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    pacing_redis.reset_clients()
    pacing_targets.clear_cache()


@pytest.fixture
def in_test_transaction():
    """Requests sent to the WSGI application run in the test's transaction, as Django's test client arranges:
    the handler must not close the connection at the start and end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def token_for(user) -> str:
    """A real API token (``manage.py api_token issue`` does the same), sent as ``Authorization: Token …``."""
    return ApiToken.issue(user, description="fuzz")[1]


def users(demo) -> dict[str, object]:
    readonly = make_user("fuzz-reader", staff=True)
    TenantGrant.objects.create(user=readonly, tenant=demo, access=Access.READ)
    return {"superuser": make_user("fuzz-admin", superuser=True), "read-only": readonly}


def seeds(operation) -> list[dict]:
    """Fixed parts that make examples reach existing data (``as_strategy`` keyword arguments): the ids of the
    first objects of a detail route (random ids are all 404s), the demo tenant of the export."""
    from django.urls import Resolver404, resolve

    if "{id}" in operation.path:
        try:
            view = resolve(operation.path.split("{id}")[0])
        except Resolver404:
            return []
        viewset = getattr(view.func, "cls", None)
        queryset = getattr(viewset, "queryset", None)
        if queryset is None:
            return []
        ids = list(queryset.model._base_manager.order_by("pk").values_list("pk", flat=True)[:3])
        return [{"path_parameters": {"id": pk}} for pk in ids]
    if operation.path.endswith("/config/export/"):
        return [{"query": {"tenant": "Environment"}}]
    return []


def fuzz_operation(operation, headers: dict) -> tuple[int, list[str]]:
    """Run one operation's examples; returns (examples sent, failures as text)."""
    from hypothesis import strategies as st

    sent, failures = [0], []
    from schemathesis import GenerationMode

    strategy = st.one_of(operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE),
                         *[operation.as_strategy(**seed) for seed in seeds(operation)])

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    def run(case):
        sent[0] += 1
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        STATUSES[response.status_code // 100] = STATUSES.get(response.status_code // 100, 0) + 1

    try:
        run()
    except Unsatisfiable:   # no example could be generated (none so far): nothing sent
        pass
    except (Exception, BaseExceptionGroup) as exc:  # a failed check: schemathesis' FailureGroup (a
        # BaseExceptionGroup), naming each failure with the request that replays it
        failures.append(f"{operation.label}: {type(exc).__name__}: {_describe(exc)[:3000]}")
    return sent[0], failures


def _describe(exc: BaseException) -> str:
    """The failure's text, with those of a group's members (schemathesis raises a group per failing case)."""
    parts = [str(exc)]
    for inner in getattr(exc, "exceptions", ()):
        parts.append(_describe(inner))
    return "\n".join(parts)


@pytest.mark.parametrize("role", ["superuser", "read-only"])
def test_every_operation_answers_within_its_schema(role, demo, fuzz_redis, in_test_transaction, capsys):
    from pacingsite.wsgi import application

    STATUSES.clear()
    user = users(demo)[role]
    headers = {"Authorization": f"Token {token_for(user)}"}
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, application, headers=headers)
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
    total, failures = 0, []
    for operation in operations:
        sent, failed = fuzz_operation(operation, headers)
        total += sent
        failures += failed
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(f"\nfuzz ({role}): {len(operations)} operations, {total} requests "
              f"({', '.join(f'{k}xx: {v}' for k, v in sorted(STATUSES.items()))}), {len(failures)} failing "
              f"operations, {seconds:.1f} s")
    assert not failures, "\n\n".join(failures)


def test_the_fuzzer_reports_a_server_error_and_a_schema_mismatch(demo, fuzz_redis, in_test_transaction,
                                                                 monkeypatch):
    """The harness itself: a view that fails, or answers outside its schema, is reported (not passed)."""
    from rest_framework.response import Response

    from pacing.api import views
    from pacingsite.wsgi import application

    headers = {"Authorization": f"Token {token_for(make_user('fuzz-meta', superuser=True))}"}
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, application, headers=headers)
    nodes = schema["/api/v1/pacing/nodes/"]["GET"]

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.PacingNodeListView, "get", broken)
    sent, failures = fuzz_operation(nodes, headers)
    assert sent >= 1 and len(failures) == 1 and "500" in failures[0]

    def off_schema(self, request, *args, **kwargs):
        return Response({"count": "many", "next": None, "previous": None, "results": [{"name": 7}]})

    monkeypatch.setattr(views.PacingNodeListView, "get", off_schema)
    sent, failures = fuzz_operation(nodes, headers)
    assert sent >= 1 and len(failures) == 1 and "schema" in failures[0].lower()
