"""The ``.apd`` application template file (ours: GAX's format is not public; docs/templates.md) and GAX's
plain-text option export used as the template's defaults.

    <application-template format="1">
      <name>Pacing_Server_Cluster</name>
      <type>Application Cluster</type>
      <version>9.0.0</version>
      <options>
        <section name="pacing">
          <option name="optimizationGoal" value="3"/>
        </section>
      </options>
      <annex/>                      (optional, same shape as <options>)
    </application-template>

Pure: bytes in, a frozen :class:`TemplateFile` out. The application types known are given by the caller
(configdb.models.ApplicationType, which needs Django), as ``{name or label: value}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from configdb import options as opts

from .files import Node, Problem, Reader, TemplateError, check_bytes, parse_xml, refuse

FORMAT = "1"
ROOT = "application-template"


@dataclass(frozen=True)
class TemplateFile:
    """What an ``.apd`` says: name, application type (its configdb value), version, default options and annex.
    ``lines`` gives the line of each ``(table, section, key)`` for the messages of later checks."""

    name: str
    app_type: str
    version: str
    options: Mapping[str, Mapping[str, str]]
    annex: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    lines: Mapping[tuple[str, str, str], int] = field(default_factory=dict, compare=False)


def _table(reader: Reader, node: Node, table: str, lines: dict) -> dict[str, dict[str, str]]:
    reader.attrs(node, ())
    reader.no_text(node)
    result: dict[str, dict[str, str]] = {}
    for section_node in reader.children(node, ("section",)):
        attrs = reader.attrs(section_node, ("name",))
        reader.no_text(section_node)
        section = attrs.get("name")
        if section is None:
            continue
        if section in result:
            reader.problem(section_node, f"section '{section}' appears twice in <{node.tag}>.")
            continue
        keys = result[section] = {}
        for option in reader.children(section_node, ("option",)):
            found = reader.attrs(option, ("name", "value"))
            reader.no_text(option)
            key, value = found.get("name"), found.get("value")
            if key is None or value is None:
                continue
            if key in keys:
                reader.problem(option, f"key '{key}' appears twice in section '{section}'.")
                continue
            try:
                opts.validate({section: {key: value}})
            except opts.OptionsError as exc:
                for problem in exc.problems:
                    reader.problem(option, problem)
                continue
            keys[key] = value
            lines[(table, section, key)] = option.line
    return result


def _text(reader: Reader, node: Node | None, what: str, root: Node) -> str:
    if node is None:
        reader.problem(root, f"<{what}> is missing.")
        return ""
    reader.attrs(node, ())
    if node.children:
        reader.problem(node.children[0], f"<{what}> holds text only.")
    if not node.text:
        reader.problem(node, f"<{what}> is empty.")
    elif len(node.text) > 255 or any(c in node.text for c in "\r\n\t"):
        reader.problem(node, f"<{what}> must be one line of at most 255 characters.")
    return node.text


def parse_apd(data: bytes, file: str, app_types: Mapping[str, str]) -> TemplateFile:
    """Read an ``.apd``; TemplateError names the file and line of every problem. ``app_types``: each known
    application type's value and label → its value (``"Application Cluster"`` → ``"application_cluster"``)."""
    root = parse_xml(data, file)
    reader = Reader(file)
    if root.tag != ROOT:
        raise refuse(file, root.line, f"the root element is <{root.tag}>; an .apd file's is <{ROOT}>.")
    attrs = reader.attrs(root, ("format",))
    if attrs.get("format", FORMAT) != FORMAT:
        reader.problem(root, f"format {attrs['format']!r} is not known; this version reads format {FORMAT}.")
    reader.no_text(root)
    once = ("name", "type", "version", "options", "annex")
    children = {c.tag: c for c in reader.children(root, once, once=once)}
    name = _text(reader, children.get("name"), "name", root)
    type_text = _text(reader, children.get("type"), "type", root)
    version = _text(reader, children.get("version"), "version", root)
    app_type = app_types.get(type_text, "")
    if type_text and not app_type:
        known = ", ".join(sorted(name for name in app_types if name not in app_types.values()) or app_types)
        reader.problem(children["type"], f"unknown application type {type_text!r} (known: {known}).")
    lines: dict = {}
    options = _table(reader, children["options"], "options", lines) if "options" in children else {}
    if "options" not in children:
        reader.problem(root, "<options> is missing (write <options/> for a template without defaults).")
    annex = _table(reader, children["annex"], "annex", lines) if "annex" in children else {}
    reader.raise_any()
    return TemplateFile(name=name, app_type=app_type, version=version, options=options, annex=annex, lines=lines)


def parse_defaults_text(data: bytes, file: str) -> dict[str, dict[str, str]]:
    """GAX's plain-text option export (``[section]`` / ``key=value``, configdb.options' reader) as the template's
    default options; each problem names the file and the line."""
    check_bytes(data, file)
    try:
        return opts.from_text(bytes(data))
    except opts.OptionsError as exc:
        problems = []
        for message in exc.problems:
            line = None
            head, sep, rest = message.partition(": ")
            if sep and head.startswith("line ") and head[5:].isdigit():
                line, message = int(head[5:]), rest
            problems.append((line, message))
        raise TemplateError([Problem(file, line, message) for line, message in problems]) from None


def to_apd(template: TemplateFile) -> bytes:
    """Write a template as an ``.apd`` (the round trip of the tests, and an export)."""
    from xml.sax.saxutils import quoteattr

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def table(tag: str, data: Mapping[str, Mapping[str, str]]) -> list[str]:
        if not data:
            return [f"  <{tag}/>"]
        out = [f"  <{tag}>"]
        for section in sorted(data):
            out.append(f"    <section name={quoteattr(section)}>")
            for key in sorted(data[section]):
                out.append(f"      <option name={quoteattr(key)} value={quoteattr(data[section][key])}/>")
            out.append("    </section>")
        out.append(f"  </{tag}>")
        return out

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{ROOT} format="{FORMAT}">',
             f"  <name>{esc(template.name)}</name>", f"  <type>{esc(template.app_type)}</type>",
             f"  <version>{esc(template.version)}</version>", *table("options", template.options)]
    if template.annex:
        lines += table("annex", template.annex)
    lines.append(f"</{ROOT}>")
    return ("\n".join(lines) + "\n").encode("utf-8")
