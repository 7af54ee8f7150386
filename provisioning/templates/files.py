"""What every template file gets before it is read: a size limit, no NUL byte, UTF-8 — and the safe XML reader.

Errors are :class:`TemplateError`, a list of :class:`Problem` (file, line, words), so the command, the admin page
and the API all say "``Pacing_Server.xml``, line 12: …" the same way. The XML reader is defusedxml's SAX parser:
entity declarations (an entity bomb) and external references (an external entity, an external DTD) are refused
before anything is expanded or fetched; each element keeps its line number for the messages.
"""

from __future__ import annotations

import re
import xml.sax
from dataclasses import dataclass, field

import defusedxml
import defusedxml.sax

#: the largest template file read (ours: the shipped ones are a few KiB; an options table holds at most 10,000
#: keys). Larger files are refused unread.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: the encoding an XML declaration names (the files are UTF-8: another name would make expat misread them)
_DECLARED_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class TemplateError(ValueError):
    """A template file refused; ``problems`` lists each one (file, line, words)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    @property
    def messages(self) -> list[str]:
        return [str(p) for p in self.problems]


def refuse(file: str, line: int | None, message: str) -> TemplateError:
    return TemplateError([Problem(file, line, message)])


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def check_bytes(data: bytes, file: str, *, limit: int = MAX_FILE_BYTES) -> str:
    """The file as text, or TemplateError: too large, empty, a NUL byte, not UTF-8 (each with its line)."""
    if not isinstance(data, bytes | bytearray):
        raise refuse(file, None, "not a file's bytes.")
    if len(data) > limit:
        raise refuse(file, None, f"the file is {len(data):,} bytes, larger than the limit of "
                                 f"{limit // (1024 * 1024)} MiB; nothing was read.")
    if not data.strip():
        raise refuse(file, None, "the file is empty.")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise refuse(file, _line_of(data, nul), f"a NUL byte at byte {nul}: this is not a text file.")
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(file, _line_of(data, exc.start), f"invalid UTF-8 at byte {exc.start}: the file must be "
                                                      "UTF-8 text.") from None


@dataclass
class Node:
    """One XML element: its tag, attributes, text (stripped), line and children."""

    tag: str
    attrs: dict[str, str]
    line: int
    text: str = ""
    children: list[Node] = field(default_factory=list)


class _Builder(xml.sax.handler.ContentHandler):
    def __init__(self, parser):
        super().__init__()
        self.parser = parser
        self.stack: list[Node] = []
        self.root: Node | None = None
        self._text: list[list[str]] = []

    def startElement(self, name, attrs):  # noqa: N802 (SAX's name)
        node = Node(name, {k: attrs[k] for k in attrs.getNames()}, self.parser.getLineNumber())
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)
        self._text.append([])

    def characters(self, content):
        if self._text:
            self._text[-1].append(content)

    def endElement(self, name):  # noqa: N802
        node = self.stack.pop()
        node.text = "".join(self._text.pop()).strip()


def parse_xml(data: bytes, file: str) -> Node:
    """The document's root element, or TemplateError naming the line: malformed or truncated XML, an entity
    declaration (entity bomb), an external entity or DTD."""
    check_bytes(data, file)
    declared = _DECLARED_ENCODING.match(bytes(data[:200]))
    if declared and declared.group(1).decode().lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise refuse(file, 1, f"the XML declares the encoding {declared.group(1).decode()!r}; template files are "
                              "UTF-8 (declare encoding=\"UTF-8\" or none).")
    parser = defusedxml.sax.make_parser()
    parser.forbid_dtd = False          # a DOCTYPE alone is harmless; what it may declare is refused below
    parser.forbid_entities = True
    parser.forbid_external = True
    builder = _Builder(parser)
    parser.setContentHandler(builder)
    parser.setErrorHandler(xml.sax.handler.ErrorHandler())
    try:
        parser.feed(bytes(data))
        parser.close()
    except xml.sax.SAXParseException as exc:
        message = exc.getMessage()
        if "no element found" in message or "unclosed token" in message:
            message += " (the XML is truncated or not closed)"
        raise refuse(file, exc.getLineNumber(), f"not well-formed XML: {message}.") from None
    except defusedxml.EntitiesForbidden as exc:
        external = f", external: {exc.sysid!r}" if exc.sysid or exc.pubid else ""
        raise refuse(file, parser.getLineNumber(),
                     f"the XML declares an entity ({exc.name!r}{external}); entity declarations are refused "
                     "(they are how entity bombs and external entities get in).") from None
    except defusedxml.ExternalReferenceForbidden as exc:
        raise refuse(file, parser.getLineNumber(), f"the XML refers to an external resource ({exc.sysid!r}); "
                                                   "external entities and DTDs are refused.") from None
    except defusedxml.DefusedXmlException as exc:
        raise refuse(file, parser.getLineNumber(), f"refused XML construct: {exc}.") from None
    if builder.root is None:
        raise refuse(file, None, "no XML element found.")
    return builder.root


class Reader:
    """Strict reading of a Node tree: unknown elements or attributes, missing ones and repeats are problems,
    collected (not raised one by one) so a file's every problem is told at once."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, node: Node | int | None, message: str) -> None:
        line = node.line if isinstance(node, Node) else node
        self.problems.append(Problem(self.file, line, message))

    def attrs(self, node: Node, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
        for name in node.attrs:
            if name not in required and name not in optional:
                allowed = ", ".join(required + optional) or "none"
                self.problem(node, f"<{node.tag}> has an unknown attribute {name!r} (allowed: {allowed}).")
        for name in required:
            if name not in node.attrs:
                self.problem(node, f"<{node.tag}> needs the attribute {name!r}.")
        return node.attrs

    def children(self, node: Node, allowed: tuple[str, ...], *, once: tuple[str, ...] = ()) -> list[Node]:
        seen: set[str] = set()
        kept = []
        for child in node.children:
            if child.tag not in allowed:
                self.problem(child, f"unknown element <{child.tag}> in <{node.tag}> (allowed: "
                                    f"{', '.join(f'<{a}>' for a in allowed)}).")
                continue
            if child.tag in once and child.tag in seen:
                self.problem(child, f"<{child.tag}> appears twice in <{node.tag}>.")
                continue
            seen.add(child.tag)
            kept.append(child)
        return kept

    def no_text(self, node: Node) -> None:
        if node.text:
            self.problem(node, f"<{node.tag}> holds text {node.text[:40]!r}; only elements belong there.")

    def raise_any(self) -> None:
        if self.problems:
            raise TemplateError(self.problems)
