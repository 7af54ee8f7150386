"""The configuration document's codecs and the API's field codecs read options tables and names with one function
each, in the layer below both (configdb.options.read, configdb.validators.reference_name_problem)."""

import pytest
from rest_framework import serializers

from configdb import crypto
from configdb import options as opts
from configdb.api.fields import NaturalKeyRelatedField, OptionsSerializerField
from configdb.models import Tenant
from configdb.transfer.codecs import Options, Ref
from configdb.transfer.document import Problem


def api_problems(value):
    try:
        OptionsSerializerField().to_internal_value(value)
    except serializers.ValidationError as exc:
        return [str(e) for e in exc.detail]
    return []


def document_problems(value):
    try:
        Options().clean(value)
    except Problem as exc:
        return list(exc.messages)
    return []


def test_both_read_options_with_the_same_function(monkeypatch):
    calls = []
    real = opts.read
    monkeypatch.setattr(opts, "read", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    OptionsSerializerField().to_internal_value({"pacing": {"media": "chat"}})
    Options().clean({"pacing": {"media": "voice"}})
    assert calls == [{"pacing": {"media": "chat"}}, {"pacing": {"media": "voice"}}]


@pytest.mark.parametrize("table", [
    "text", ["a"], {"s": ["k"]}, {"s": {"k=": "v"}}, {"s": {"k": "a\u202eb"}}, {"s": {"k": 3}}, {"": {"k": "v"}},
    {"s": {"k": "enc:v1:abc"}}, {"s": {"k": "v"}, "t": "x"},
])
def test_a_bad_table_is_refused_alike_in_both(table):
    api, document = api_problems(table), document_problems(table)
    assert api and api == document, (api, document)


def test_secrets_differ_on_purpose(settings):
    token = crypto.encrypt("s3cret")
    assert Options().clean({"ewt": {"password": token}}) == {"ewt": {"password": "s3cret"}}
    assert "this format never holds a secret in clear" in document_problems({"ewt": {"password": "clear"}})[0]
    assert document_problems({"ewt": {"password": "clear"}})[0].startswith("section 'ewt', key 'password': ")
    # through the API a secret is given in clear, the mask keeps the stored one, null removes it
    field = OptionsSerializerField()
    assert field.to_internal_value({"ewt": {"password": "clear"}}) == {"ewt": {"password": "clear"}}
    assert field.to_internal_value({"ewt": {"password": opts.MASK}}) == {"ewt": {"password": opts.MASK}}
    assert field.to_internal_value({"ewt": {"password": None}}) == {"ewt": {"password": None}}
    assert "must be text" in document_problems({"ewt": {"password": None}})[0]


@pytest.mark.parametrize(("value", "problem"), [
    ("", "must not be empty."), ("   ", "must not be empty."), ("a\x00b", "contains a NUL character."),
    ("x" * 256, "is longer than 255 characters, which no name is."),
])
def test_a_name_is_refused_alike_in_both(db, value, problem):
    with pytest.raises(Problem) as refused:
        Ref("tenant").clean(value)
    assert refused.value.messages == [problem]
    field = NaturalKeyRelatedField(queryset=Tenant.objects.all())
    with pytest.raises(serializers.ValidationError) as api:
        field.to_internal_value(value)
    assert problem[:-1] in str(api.value.detail[0])
