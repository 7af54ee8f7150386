"""Log lines never carry a credential, whatever code wrote them."""

import logging

import pytest

from pacingsite.logfilters import RedactSecretsFilter, redact


@pytest.mark.parametrize(
    "line",
    [
        'posting {"ewt": {"client_id": "c", "password": "s3cret-1"}}',
        "connect user=genesys password=s3cret-1 host=db",
        "Authorization: Token s3cret-1",
        "client_secret=s3cret-1&grant_type=client_credentials",
        "db_password: 's3cret-1'",
    ],
)
def test_redact_masks_the_value(line):
    cleaned = redact(line)
    assert "s3cret-1" not in cleaned and "********" in cleaned


def test_plain_lines_are_untouched():
    assert redact("pacing cycle 42: 3 targets, 12 invitations") == "pacing cycle 42: 3 targets, 12 invitations"


def test_filter_rewrites_records_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed with password=%s", ("s3cret-1",), None)
    try:
        raise ValueError("token=s3cret-2")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactSecretsFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "s3cret-1" not in text and "s3cret-2" not in text
