"""Options and annexes: ``section → key → string``, exactly as Configuration Server stores them.

This module is pure Python (no Django models) so the admin widget, the importers, the API and
the tests share one definition of what a valid options table is and one reader/writer of the
GAX plain-text format::

    [pacing]
    media=chat
    optimizationGoal=3

Limits (ours; the vendor publishes none): section and key names 1–255 characters, values up to
4,096 characters, at most 10,000 keys in one table, no NUL bytes anywhere, no line breaks (any
character ``str.splitlines`` breaks on) in names or values, no white space around names, no
``]`` in a section name, no ``=`` in a key and no key starting with ``;``, ``#`` or ``[`` — so
every valid table survives the text format unchanged. No control, invisible or bidirectional-text
character anywhere (configdb.validators; TAB is allowed in values only), and no value starting
with ``enc:v1:`` (the prefix of stored secrets: a secret is given in clear). Values are kept exactly
as typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from . import validators
from .secrets import MASK, TOKEN_PREFIX, SealedSecret, is_secret_key

MAX_NAME_LENGTH = 255
MAX_VALUE_LENGTH = 4096
MAX_KEYS = 10_000
MAX_TEXT_BYTES = 1024 * 1024
#: every character str.splitlines() breaks on: none may appear in a name or value
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

Options = dict[str, dict[str, str]]


class OptionsError(ValueError):
    """A table or text that is not valid options; ``problems`` lists each one, readable alone."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Row:
    """One line of the GAX options table."""

    section: str
    key: str
    value: str

    @property
    def secret(self) -> bool:
        return is_secret_key(self.key)


def _name_problems(kind: str, name: object, where: str) -> list[str]:
    if not isinstance(name, str):
        return [f"{where}: the {kind} name must be text, not {type(name).__name__}."]
    problems = []
    if not name.strip():
        problems.append(f"{where}: the {kind} name is empty.")
    if len(name) > MAX_NAME_LENGTH:
        problems.append(f"{where}: the {kind} name is longer than {MAX_NAME_LENGTH} characters.")
    if "\x00" in name:
        problems.append(f"{where}: the {kind} name contains a NUL byte.")
    if LINE_BREAKS.intersection(name):
        problems.append(f"{where}: the {kind} name contains a line break.")
    elif "\x00" not in name:
        problem = validators.text_problem(name)
        if problem:
            problems.append(f"{where}: the {kind} name {problem}")
    if name.strip() and name != name.strip():
        problems.append(f"{where}: the {kind} name starts or ends with white space.")
    if kind == "section" and ("]" in name or name.startswith("[")):
        problems.append(f"{where}: a section name cannot contain '[' at its start or ']'.")
    if kind == "key" and "=" in name:
        problems.append(f"{where}: a key name cannot contain '='.")
    if kind == "key" and name.startswith((";", "#", "[")):
        problems.append(f"{where}: a key name cannot start with ';', '#' or '[' (the text format reads those "
                        "as comments or sections).")
    return problems


def _value_problems(value: object, where: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{where}: the value must be text, not {type(value).__name__}."]
    problems = []
    if len(value) > MAX_VALUE_LENGTH:
        problems.append(f"{where}: the value is longer than {MAX_VALUE_LENGTH} characters.")
    if "\x00" in value:
        problems.append(f"{where}: the value contains a NUL byte.")
    if LINE_BREAKS.intersection(value):
        problems.append(f"{where}: the value contains a line break.")
    elif "\x00" not in value:
        problem = validators.text_problem(value, allow_tab=True)
        if problem:
            problems.append(f"{where}: the value {problem}")
    if value.startswith(TOKEN_PREFIX) and not isinstance(value, SealedSecret):
        problems.append(f"{where}: a value cannot start with '{TOKEN_PREFIX}' (the prefix of stored secrets); "
                        "give a secret in clear.")
    return problems


def validate_names(section: str, key: str | None) -> list[str]:
    """Problems of a section name (and a key name, unless None) asked for alone, e.g. by a filter."""
    problems = _name_problems("section", section, f"section '{section[:80]}'")
    if key is not None:
        problems += _name_problems("key", key, f"key '{key[:80]}'")
    return problems


def validate(options: object) -> Options:
    """Return ``options`` if it is a valid table; raise OptionsError naming every problem."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise OptionsError(["options must be an object of sections, not " f"{type(options).__name__}."])
    problems: list[str] = []
    count = 0
    for section, keys in options.items():
        where = f"section '{str(section)[:80]}'"
        problems += _name_problems("section", section, where)
        if not isinstance(keys, Mapping):
            problems.append(f"{where}: must hold keys and values, not {type(keys).__name__}.")
            continue
        for key, value in keys.items():
            count += 1
            kwhere = f"section '{str(section)[:80]}', key '{str(key)[:80]}'"
            problems += _name_problems("key", key, kwhere)
            problems += _value_problems(value, kwhere)
    if count > MAX_KEYS:
        problems.append(f"too many options: {count} keys (at most {MAX_KEYS}).")
    if problems:
        raise OptionsError(problems[:50] + ([f"… and {len(problems) - 50} more."] if len(problems) > 50 else []))
    return {s: dict(k) for s, k in options.items()}


#: what an options table must be, said for a value of any other shape
TABLE_SHAPE = "must be an object of sections, each an object of keys and text values"


def read(table: object, secret: Callable[[str], object] | None = None, *, removable: bool = False) -> Options:
    """An options table from decoded JSON of any shape (an API request's, a configuration document's): each
    secret key's value (``is_secret_key``) passed through ``secret`` first, then :func:`validate`.

    ``secret`` is the reader's own rule for secrets and raises ValueError (its message said as the end of a
    sentence) for a value it refuses: the API keeps the mask (resolved later against the stored secret), the
    configuration document decrypts its ``enc:v1:`` token. With ``removable``, a secret key's ``null`` means
    "remove this secret" (the API's writes): kept as None, not validated. Raises OptionsError listing every
    problem, each naming its section and key."""
    if not isinstance(table, Mapping):
        raise OptionsError([f"{TABLE_SHAPE}, not {validators.json_type(table)}."])
    read_table: dict = {}
    problems: list[str] = []
    for section, keys in table.items():
        if not isinstance(keys, Mapping):
            read_table[section] = keys  # validate() names the problem
            continue
        read_table[section] = {}
        for key, value in keys.items():
            if not is_secret_key(key) or (value is None and removable):
                read_table[section][key] = value
                continue
            try:
                read_table[section][key] = value if secret is None else secret(value)
            except ValueError as exc:
                problems.append(f"section '{str(section)[:80]}', key '{str(key)[:80]}': {exc}")
    try:
        validate({s: ({k: v for k, v in keys.items() if not (v is None and removable and is_secret_key(k))}
                      if isinstance(keys, Mapping) else keys) for s, keys in read_table.items()})
    except OptionsError as exc:
        problems += exc.problems
    if problems:
        raise OptionsError(problems)
    return read_table


def rows(options: Mapping[str, Mapping[str, str]] | None) -> list[Row]:
    """The table as GAX shows it: one row per key, sorted by section then key."""
    out = []
    for section in sorted(options or {}):
        for key in sorted(options[section]):
            out.append(Row(section, key, options[section][key]))
    return out


def is_blank_row(section: str, key: str, value: str) -> bool:
    """An admin table row with nothing typed in it (spaces around a section or key do not count)."""
    return not (section or "").strip() and not (key or "").strip() and not (value or "")


def from_rows(table: Iterable[tuple[str, str, str]]) -> Options:
    """Build a table from (section, key, value) rows; blank rows are skipped.

    Raises OptionsError naming the row (1-based, blank rows not counted: the admin shows a table
    again without them) of each problem, including a key that appears twice in one section, so
    nothing is silently dropped.
    """
    options: Options = {}
    problems: list[str] = []
    number = 0
    for section, key, value in table:
        section = (section or "").strip()
        key = (key or "").strip()
        value = value or ""
        if is_blank_row(section, key, value):
            continue
        number += 1
        where = f"row {number}"
        found = _name_problems("section", section, where) + _name_problems("key", key, where)
        found += _value_problems(value, where)
        if not found and key in options.get(section, {}):
            found.append(f"{where}: key '{key}' appears twice in section '{section}'.")
        if found:
            problems += found
            continue
        options.setdefault(section, {})[key] = value
    if problems:
        raise OptionsError(problems)
    return validate(options)


def to_text(options: Mapping[str, Mapping[str, str]] | None, *, mask_secrets: bool = True) -> str:
    """Write the GAX plain-text format; secret values are written as the mask unless asked."""
    lines: list[str] = []
    for section in sorted(options or {}):
        if lines:
            lines.append("")
        lines.append(f"[{section}]")
        for key in sorted(options[section]):
            value = options[section][key]
            if mask_secrets and is_secret_key(key) and value:
                value = MASK
            lines.append(f"{key}={value}")
    return "\n".join(lines) + ("\n" if lines else "")


def from_text(data: bytes | str) -> Options:
    """Read the GAX plain-text format; raise OptionsError with the line number of each problem.

    Blank lines and lines starting with ``;`` or ``#`` are ignored. A key line before any
    section, a line that is neither, a repeated section header with a repeated key, or a file
    that is not UTF-8 is an error; nothing is guessed.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_TEXT_BYTES:
            raise OptionsError([f"the file is larger than {MAX_TEXT_BYTES // 1024} KiB."])
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise OptionsError([f"the file is not UTF-8 text (byte {exc.start})."]) from None
    elif len(data) > MAX_TEXT_BYTES:
        raise OptionsError([f"the text is longer than {MAX_TEXT_BYTES // 1024} KiB."])
    if "\x00" in data:
        raise OptionsError(["the file contains NUL bytes: it is not an options text file."])
    options: Options = {}
    problems: list[str] = []
    section: str | None = None
    for number, raw in enumerate(data.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        where = f"line {number}"
        if line.startswith("["):
            if not line.endswith("]"):
                problems.append(f"{where}: a section header must end with ']'.")
                section = None
                continue
            name = line[1:-1].strip()
            found = _name_problems("section", name, where)
            if found:
                problems += found
                section = None
                continue
            section = name
            options.setdefault(section, {})
            continue
        if "=" not in line:
            problems.append(f"{where}: expected '[section]' or 'key=value', found {line[:60]!r}.")
            continue
        if section is None:
            problems.append(f"{where}: 'key=value' before any '[section]' line.")
            continue
        key, value = raw.lstrip().split("=", 1)
        key = key.strip()
        found = _name_problems("key", key, where) + _value_problems(value, where)
        if not found and key in options[section]:
            found.append(f"{where}: key '{key}' appears twice in section '{section}'.")
        if found:
            problems += found
            continue
        options[section][key] = value
    if problems:
        raise OptionsError(problems)
    return validate(options)


def merge(base: Mapping[str, Mapping[str, str]], update: Mapping[str, Mapping[str, str]]) -> Options:
    """``base`` with every key of ``update`` set (sections and keys not in ``update`` are kept)."""
    merged = {s: dict(k) for s, k in (base or {}).items()}
    for section, keys in (update or {}).items():
        merged.setdefault(section, {}).update(keys)
    return merged


def keep_masked_secrets(new: Options, old: Mapping[str, Mapping[str, str]] | None) -> Options:
    """Where ``new`` holds the mask (or nothing) for a secret key that ``old`` has, keep the old value.

    This is what lets an administrator save a form, or re-import an exported file, without ever
    seeing or retyping a secret. The mask for a secret that has no stored value is an error: it
    would otherwise be saved as the secret itself.
    """
    old = old or {}
    result = {s: dict(k) for s, k in new.items()}
    problems = []
    for section, keys in result.items():
        for key, value in keys.items():
            if not is_secret_key(key) or value not in ("", MASK):
                continue
            if old.get(section, {}).get(key):
                keys[key] = old[section][key]
            elif value == MASK:
                problems.append(f"section '{section}', key '{key}': holds the mask {MASK} but no secret is "
                                "stored to keep; give the real value.")
    if problems:
        raise OptionsError(problems)
    return result
