"""Input hygiene in one place: which characters a name, a number, an alias or an option may hold.

Pure Python (no Django), so the model fields (``ConfigModel.clean_fields``, the options validator), and
through them the admin, the API, bulk create, the configuration import and the commands, all apply the
same rule. The rules are ours; Configuration Server publishes none:

* Refused everywhere (names, aliases, numbers, descriptions, option sections, keys and values): C0
  control characters (U+0000–U+001F) and DEL (U+007F), C1 control characters (U+0080–U+009F), the bidi
  embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and marks (U+200E, U+200F, U+061C),
  the zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and the line and paragraph separators
  (U+2028, U+2029). They are invisible or reorder what an administrator reads (a name that shows as
  ``Sales`` may be another object), and some break the options text format.
* TAB (U+0009) is allowed in option values only (ours: Configuration Server stores option values as opaque
  strings, and a tab survives our text format and JSON unchanged, so an existing configuration that holds
  one — a separator or a format string — can be imported); it is refused in names, keys and sections.
* Names are normalised to Unicode NFC before they are stored and before uniqueness is checked, so the
  same name typed in NFC and in NFD (``é`` as one character, or ``e`` + combining accent) is one name.
  Option values are kept exactly as typed.
* Secrets (a DAP password, secret option values) may hold any character but NUL, and are not normalised.
"""

from __future__ import annotations

import re
import unicodedata

TAB = "\t"

#: the integers both databases hold in an integer column (a signed 64-bit integer)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)

#: every character refused in text (TAB among them; values of options allow it back)
FORBIDDEN = frozenset(
    [chr(c) for c in range(0x00, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
    + [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
    + ["\u2028", "\u2029"]
)

_KINDS = {
    "control": "a control character",
    "bidi": "a bidirectional-text control (it reorders what is shown)",
    "zero-width": "an invisible zero-width character",
    "separator": "a line or paragraph separator",
}


def _kind(char: str) -> str:
    code = ord(char)
    if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
        return "control"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069 or char in "\u200e\u200f\u061c":
        return "bidi"
    if char in "\u2028\u2029":
        return "separator"
    return "zero-width"


def describe(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def text_problem(value: str, *, allow_tab: bool = False) -> str | None:
    """The first forbidden character of ``value``, said in words (None when there is none)."""
    for position, char in enumerate(value, start=1):
        if char in FORBIDDEN and not (allow_tab and char == TAB):
            return (f"contains {_KINDS[_kind(char)]}, {describe(char)}, at position {position}; control, "
                    "invisible and bidirectional-text characters are not allowed.")
    return None


def normalize(value: str) -> str:
    """A name as stored and compared: Unicode NFC."""
    return unicodedata.normalize("NFC", value)


def out_of_range_integer(value: object) -> bool:
    """Whether ``value`` spells a whole number (``"99999999999999999999"``, ``"-9…"``) that no 64-bit integer
    column holds. Such a number can match no row, but handed to the database it is an error there (SQLite's
    driver raises OverflowError, a 500), so the admin and the API answer "not found" or refuse the filter
    before asking. Anything else (a name, a malformed number) is left to the caller's own parsing."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not INT64_MIN <= value <= INT64_MAX
    if not isinstance(value, str) or len(value) > 4300 or not _INTEGER.fullmatch(value):
        return False  # 4,300 digits: Python's own limit on int() of a string
    return not INT64_MIN <= int(value) <= INT64_MAX


#: the longest name any object has (every name and number field holds 255 characters)
MAX_NAME_LENGTH = 255


def json_type(value: object) -> str:
    """A decoded JSON value's type, said as a reader of the document or request would: ``an object``, ``text``."""
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", int: "a number", float: "a decimal number",
            type(None): "null"}.get(type(value), type(value).__name__)


def reference_name_problem(value: object) -> str | None:
    """Why ``value`` cannot be the name by which one object refers to another — a natural-key name, as the API's
    name-or-id fields and a configuration document's references give it (not text, empty, a NUL character, longer
    than any name) — or None. Said as the end of a sentence naming the field: ``tenant: must not be empty.``"""
    if not isinstance(value, str):
        return f"must be a name (text), not {json_type(value)}."
    if not value.strip():
        return "must not be empty."
    if "\x00" in value:
        return "contains a NUL character."
    if len(value) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters, which no name is."
    return None
