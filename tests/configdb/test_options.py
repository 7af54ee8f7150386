"""Options tables and GAX's plain-text format (configdb/options.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from configdb import options as opts
from configdb import validators
from configdb.secrets import MASK, is_secret_key

SAMPLE = {
    "pacing": {"media": "chat", "optimizationGoal": "3"},
    "log": {"verbose": "standard", "all": "stdout", "empty": ""},
}


def test_text_round_trip():
    text = opts.to_text(SAMPLE)
    assert text.startswith("[log]\n")
    assert "media=chat" in text
    assert opts.from_text(text) == SAMPLE


def test_text_format_details():
    text = "\ufeff; comment\n# also a comment\n\n[pacing]\nmedia = chat\nurl=https://x/?a=b=c\n[ s2 ]\nk=\n"
    parsed = opts.from_text(text.encode("utf-8"))
    assert parsed == {"pacing": {"media": " chat", "url": "https://x/?a=b=c"}, "s2": {"k": ""}}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("key=value\n", "line 1: 'key=value' before any '[section]' line"),
        ("[s]\njust words\n", "line 2: expected '[section]' or 'key=value'"),
        ("[s\nk=v\n", "line 1: a section header must end with ']'"),
        ("[]\n", "line 1: the section name is empty"),
        ("[s]\n=v\n", "line 2: the key name is empty"),
        ("[s]\nk=1\nk=2\n", "line 3: key 'k' appears twice in section 's'"),
        ("[s]\nk=" + "x" * 5000 + "\n", "line 2: the value is longer than 4096 characters"),
    ],
)
def test_text_errors_name_the_line(text, problem):
    with pytest.raises(opts.OptionsError) as err:
        opts.from_text(text)
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_text_rejects_binary_and_non_utf8():
    with pytest.raises(opts.OptionsError, match="not UTF-8"):
        opts.from_text(b"[s]\nk=\xff\xfe\n")
    with pytest.raises(opts.OptionsError, match="NUL"):
        opts.from_text("[s]\nk=a\x00b\n")
    with pytest.raises(opts.OptionsError, match="larger than"):
        opts.from_text(b"[s]\n" + b"k=v\n" * 300_000)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"": {"k": "v"}}, "section name is empty"),
        ({"s": {"": "v"}}, "key name is empty"),
        ({"s" * 256: {"k": "v"}}, "longer than 255"),
        ({"s": {"k" * 256: "v"}}, "longer than 255"),
        ({"s": {"k": "v" * 4097}}, "longer than 4096"),
        ({"s": {"k": 3}}, "must be text"),
        ({"s": ["k"]}, "must hold keys and values"),
        ({"s": {"k": "a\nb"}}, "line break"),
        ({"s]": {"k": "v"}}, "cannot contain"),
        ({"s": {"a=b": "v"}}, "cannot contain '='"),
        ("not a table", "options must be an object"),
    ],
)
def test_validate_names_each_problem(table, problem):
    with pytest.raises(opts.OptionsError) as err:
        opts.validate(table)
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_rows_are_sorted_and_round_trip():
    rows = opts.rows(SAMPLE)
    assert [(r.section, r.key) for r in rows][:2] == [("log", "all"), ("log", "empty")]
    assert opts.from_rows((r.section, r.key, r.value) for r in rows) == SAMPLE


def test_from_rows_skips_blank_rows_and_names_duplicates():
    assert opts.from_rows([("", "", ""), ("s", "k", "v")]) == {"s": {"k": "v"}}
    with pytest.raises(opts.OptionsError, match="row 2: key 'k' appears twice"):
        opts.from_rows([("s", "k", "1"), ("s", "k", "2")])
    with pytest.raises(opts.OptionsError, match="row 1: the section name is empty"):
        opts.from_rows([("", "k", "v")])


def test_secrets_are_masked_on_export_and_kept_on_import():
    annex = {"ewt": {"client_id": "id", "password": "s3cret"}}
    text = opts.to_text(annex)
    assert "s3cret" not in text and f"password={MASK}" in text
    assert opts.keep_masked_secrets(opts.from_text(text), annex) == annex
    assert opts.keep_masked_secrets({"ewt": {"password": ""}}, annex) == {"ewt": {"password": "s3cret"}}
    assert opts.keep_masked_secrets({"ewt": {"password": "new"}}, annex) == {"ewt": {"password": "new"}}


@pytest.mark.parametrize("key", ["password", "client_secret", "db-passwd", "api_key", "Token", "pwd"])
def test_secret_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["client_id", "media", "base_auth_url", "optimizationGoal"])
def test_plain_keys(key):
    assert not is_secret_key(key)


names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip() == s and s and "]" not in s and "=" not in s and not s.startswith(("[", ";", "#"))
    and validators.text_problem(s) is None
)
values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60).filter(
    lambda s: validators.text_problem(s, allow_tab=True) is None)


@given(st.dictionaries(names, st.dictionaries(names, values, max_size=5), max_size=5))
def test_any_valid_table_round_trips_through_text(table):
    table = {s: {k: v for k, v in keys.items() if not is_secret_key(k)} for s, keys in table.items()}
    assert opts.from_text(opts.to_text(table)) == table


@pytest.mark.parametrize("key", ["bypass", "passive-mode", "compass", "cwd"])
def test_words_containing_pass_are_not_secrets(key):
    assert not is_secret_key(key)


def test_the_mask_is_never_saved_as_a_secret():
    with pytest.raises(opts.OptionsError, match="holds the mask"):
        opts.keep_masked_secrets({"ewt": {"password": MASK}}, {})


@pytest.mark.parametrize(
    "table",
    [{" s": {"k": "v"}}, {"s": {"k ": "v"}}, {"s": {"#k": "v"}}, {"s": {";k": "v"}}, {"s": {"[k": "v"}},
     {"s": {"k": "a\u2028b"}}, {"s": {"k": "a\x0bb"}}, {"s": {"k": "a\x85b"}}],
)
def test_tables_the_text_format_could_not_keep_are_refused(table):
    with pytest.raises(opts.OptionsError):
        opts.validate(table)
