"""Hypothesis tests of the two parsers of untrusted text: the options text format (configdb/options.py) and the
configuration document (configdb/transfer/). Whatever they are given, they either succeed or raise their
documented error — ``OptionsError`` (a ValueError listing each problem), ``TransferError`` — never anything else.
Derandomised and bounded (a few seconds each)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configdb import options as opts
from configdb import transfer

BOUNDED = settings(max_examples=300, derandomize=True, database=None, deadline=None)

#: text built from the format's own pieces (headers, keys, '=', comments, line breaks of every kind, NUL,
#: control, bidi and zero-width characters, the secret prefix), so most examples get past the first line
PIECES = st.sampled_from(["[", "]", "=", ";", "#", " ", "\t", "\n", "\r\n", "\r", "\x0b", "\x85", "\u2028",
                          "\x00", "\x1b", "\u202e", "\u200b", "\ufeff", "enc:v1:", "pacing", "media", "chat",
                          "password", "*****", "é", "e\u0301"])
OPTION_TEXTS = st.one_of(st.text(max_size=200), st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=40)
                         .map("".join))


@BOUNDED
@given(OPTION_TEXTS)
def test_options_text_is_parsed_or_refused_with_options_error(text):
    try:
        table = opts.from_text(text)
    except opts.OptionsError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    # what it accepted is a valid table that writes back to text and reads back the same
    assert opts.validate(table) == table
    assert opts.from_text(opts.to_text(table, mask_secrets=False)) == table


@BOUNDED
@given(st.binary(max_size=200))
def test_options_bytes_are_parsed_or_refused_with_options_error(data):
    try:
        table = opts.from_text(data)
    except opts.OptionsError:
        return
    assert opts.from_text(opts.to_text(table, mask_secrets=False)) == table


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=4),
                    max_leaves=20)


@BOUNDED
@given(JSON)
def test_an_options_table_of_any_json_is_valid_or_options_error(value):
    try:
        table = opts.validate(value)
    except opts.OptionsError:
        return
    assert opts.from_text(opts.to_text(table, mask_secrets=False)) == table


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200), JSON.map(json.dumps)))
def test_document_text_is_parsed_or_refused_with_transfer_error(data):
    try:
        transfer.parse_json(data)
    except transfer.TransferError as exc:
        assert exc.detail


@pytest.fixture
def demo_document(demo):
    return transfer.export_tenant(demo)


def _paths(value, prefix=()):
    """Every place in a JSON value (for replacing one of them)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replace(document, path, new):
    if not path:
        return new
    document = copy.deepcopy(document)
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return document


def _like(value):
    """Values of the same JSON type as ``value`` (so many changed documents are still valid)."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers()
    if isinstance(value, str):
        return st.text(max_size=30)
    if isinstance(value, list):
        return st.just([]) | st.just(value[:1])
    return JSON


def test_any_document_is_imported_or_refused_with_transfer_error(demo_document):
    """The demo's own export with one place replaced by a value of its type, or by any JSON value, or any JSON
    at all: ``import_document`` (a dry run) either succeeds or raises TransferError — never another exception.
    Some of the examples are imported (the test would prove little if every one were refused)."""
    paths = list(_paths(demo_document))
    outcomes = {"imported": 0, "refused": 0}

    @settings(max_examples=80, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def run(data):
        how = data.draw(st.sampled_from(["like", "any value", "any JSON"]), label="how")
        if how == "any JSON":
            document = data.draw(JSON, label="document")
        else:
            path = data.draw(st.sampled_from(paths), label="path")
            node = demo_document
            for step in path:
                node = node[step]
            new = data.draw(_like(node) if how == "like" else JSON, label="value")
            document = _replace(demo_document, path, new)
        replace = data.draw(st.booleans(), label="replace")
        try:
            summary = transfer.import_document(document, replace=replace, dry_run=True)
        except transfer.TransferError as exc:
            assert exc.detail and all(isinstance(e, str) for e in exc.errors)
            outcomes["refused"] += 1
        else:
            assert summary.dry_run
            outcomes["imported"] += 1

    run()
    assert outcomes["imported"] > 0 and outcomes["refused"] > 0, outcomes
