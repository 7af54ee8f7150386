"""The provisioning operations and the deployment wizard's under the API fuzzer of tests/pacingsite/test_fuzz_api.py
(its harness, these operations only): no 5xx, every answer within the schema, for a superuser and a read-only grant."""

import pytest
import schemathesis

from tests.pacingsite.test_fuzz_api import fuzz_operation, fuzz_redis, in_test_transaction, token_for, users  # noqa: F401

OPERATIONS = [("/api/v1/provisioning/provision/", "POST"), ("/api/v1/provisioning/environment/", "GET"),
              ("/api/v1/provisioning/deploy/{cluster}/", "GET"),
              ("/api/v1/provisioning/deploy/{cluster}/{step}/", "POST")]


@pytest.mark.parametrize("role", ["superuser", "read-only"])
def test_provisioning_operations_answer_within_their_schema(role, demo, fuzz_redis, in_test_transaction):  # noqa: F811
    from pacingsite.wsgi import application

    headers = {"Authorization": f"Token {token_for(users(demo)[role])}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers)
    failures = []
    for path, method in OPERATIONS:
        sent, failed = fuzz_operation(schema[path][method], headers)
        assert sent >= 1
        failures += failed
    assert not failures, "\n\n".join(failures)
