"""The document: its format constants, its errors, reading it from text or a file, writing it, progress.

The layout is described in docs/config-transfer.md (the format is ours).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FORMAT = "pacing-console-config"
#: secrets are bound to their tenant (codecs.bind) since the first release: a token without its tag is refused
VERSION = 1
#: the largest document read (a file, standard input, or the API's request body)
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
#: at most this many problems are listed (then "… and N more")
MAX_REPORTED = 1000

TOP_KEYS = ("format", "version", "exported", "tenant", "secrets", "objects")
#: the value of "secrets" in an export made for a user without a read-write grant: no token, every secret masked
WITHHELD = "withheld"
STATUSES = ("created", "updated", "deleted", "unchanged")


class TransferError(Exception):
    """The document cannot be exported or imported; ``errors`` lists every problem, one a line."""

    def __init__(self, detail: str, errors: list[str] | None = None):
        self.detail = detail
        self.errors = list(errors or [])
        super().__init__("\n".join([detail, *self.errors]))


class Problem(Exception):
    """A problem with one value; ``attached`` messages start with an index (``[2] …``)."""

    def __init__(self, *messages: str, attached: bool = False):
        self.messages = list(messages)
        self.attached = attached
        super().__init__("; ".join(messages))


FAILED = object()  # a reference to a record that has problems of its own (already reported)


# -- progress ---------------------------------------------------------------------------------------


def _grow(progress, count: int) -> None:
    if progress is not None and count:
        progress.total = (progress.total or 0) + count
        progress.refresh()


def _tick(progress) -> None:
    if progress is not None:
        progress.update(1)


@contextmanager
def progress_bar(stream, *, force: bool = False, desc: str = "") -> Iterator[Any]:
    """A tqdm bar on ``stream`` (stderr), shown only on a terminal unless ``force``, so CI logs stay clean."""
    from tqdm import tqdm

    enabled = force or bool(getattr(stream, "isatty", None) and stream.isatty())
    bar = tqdm(total=0, desc=desc, unit="obj", file=stream, disable=not enabled, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()



def dumps(document: dict) -> str:
    """The document as the text of a file (2-space indent, UTF-8, a final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- reading a file ---------------------------------------------------------------------------------


def _too_large() -> TransferError:
    return TransferError(f"The document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB.",
                         [f"at most {MAX_DOCUMENT_BYTES} bytes are read."])


def _object_pairs(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise TransferError("Malformed JSON.", [f"the key '{key[:80]}' appears twice in one object."])
        seen[key] = value
    return seen


def _no_constant(name):
    raise TransferError("Malformed JSON.", [f"{name} is not a JSON number."])


def parse_json(data: bytes | str) -> Any:
    """Parse the text of a document: UTF-8 JSON, no duplicate keys, no NaN/Infinity, at most 64 MiB."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _too_large()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TransferError("The document is not UTF-8 text.", [f"invalid UTF-8 at byte {exc.start}."]) from None
    if not data.strip():
        raise TransferError("The document is empty; expected JSON.")
    try:
        return json.loads(data, object_pairs_hook=_object_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise TransferError("Malformed JSON.", [f"line {exc.lineno}, column {exc.colno}: {exc.msg}."]) from None
    except RecursionError:
        raise TransferError("Malformed JSON.", ["the document is nested too deeply."]) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise TransferError("Malformed JSON.", [str(exc)]) from None


def read_document(source: str | os.PathLike) -> Any:
    """Read and parse a document from a file, or from standard input for ``-``."""
    if str(source) == "-":
        data = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
    else:
        path = Path(source)
        try:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise _too_large()
            with path.open("rb") as fh:
                data = fh.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise TransferError(f"Cannot read {source}: {exc.strerror or exc}.") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _too_large()
    return parse_json(data)


