"""The application metadata ``.xml`` of a template (ours: GAX's format is not public; docs/templates.md).

    <application-metadata format="1" template="Pacing_Server_Cluster">
      <section name="metrics" origin="vendor">
        <description>Metrics produced by the nodes.</description>
        <option name="GcLatency.threshold" type="number" default="1000" above="0" mandatory="false"
                origin="vendor">
          <description>…</description>
          <valid-values><value>…</value></valid-values>     (optional)
        </option>
      </section>
    </application-metadata>

``origin`` says whose the option is: ``vendor`` (the seeds publish it) or ``ours``. Pure: bytes in, a frozen
:class:`Metadata` out; each default is checked against its own valid values with configdb.option_metadata, the
rule the model applies to an application's options.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from configdb import option_metadata as rules
from configdb import options as opts

from .apd import TemplateFile
from .files import Node, Problem, Reader, TemplateError, parse_xml, refuse

FORMAT = "1"
ROOT = "application-metadata"
_OPTION_ATTRS = ("name", "type", "default", "mandatory", "origin", "min", "max", "above")


@dataclass(frozen=True)
class OptionSpec:
    section: str
    key: str
    type: str
    default: str
    description: str
    valid_values: tuple[str, ...]
    minimum: float | None
    maximum: float | None
    above: float | None
    mandatory: bool
    origin: str
    line: int = field(default=0, compare=False)

    def as_json(self) -> dict:
        return {"description": self.description, "type": self.type, "default": self.default,
                "valid_values": list(self.valid_values), "min": self.minimum, "max": self.maximum,
                "above": self.above, "mandatory": self.mandatory, "origin": self.origin}


@dataclass(frozen=True)
class SectionSpec:
    name: str
    description: str
    origin: str
    options: tuple[OptionSpec, ...]


@dataclass(frozen=True)
class Metadata:
    template: str
    sections: tuple[SectionSpec, ...]

    def option(self, section: str, key: str) -> OptionSpec | None:
        for s in self.sections:
            if s.name == section:
                return next((o for o in s.options if o.key == key), None)
        return None

    def defaults(self) -> dict[str, dict[str, str]]:
        return {s.name: {o.key: o.default for o in s.options} for s in self.sections}

    def as_json(self) -> dict:
        """The ApplicationTemplate.metadata value (configdb.option_metadata reads it)."""
        return {"format": int(FORMAT), "sections": {
            s.name: {"description": s.description, "origin": s.origin,
                     "options": {o.key: o.as_json() for o in s.options}} for s in self.sections}}


def _flag(reader: Reader, node: Node, raw: str | None) -> bool:
    if raw is None or raw in ("false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    reader.problem(node, f"mandatory={raw!r} is not true or false.")
    return False


def _bound(reader: Reader, node: Node, name: str, raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        reader.problem(node, f"{name}={raw!r} is not a number.")
        return None
    return value


def _origin(reader: Reader, node: Node, raw: str | None) -> str:
    if raw not in rules.ORIGINS:
        reader.problem(node, f"origin={raw!r}: it must be one of {', '.join(rules.ORIGINS)} (whose option it is).")
    return raw or ""


def _description(reader: Reader, node: Node) -> str:
    reader.attrs(node, ())
    if node.children:
        reader.problem(node.children[0], "<description> holds text only.")
    return " ".join(node.text.split())


def _option(reader: Reader, section: str, node: Node) -> OptionSpec | None:
    attrs = reader.attrs(node, ("name", "type", "origin"), _OPTION_ATTRS)
    reader.no_text(node)
    key = attrs.get("name")
    if key is None:
        return None
    where = f"option {section}/{key}"
    for problem in opts.validate_names(section, key):
        reader.problem(node, problem)
    kind = attrs.get("type", "string")
    if kind not in rules.TYPES:
        reader.problem(node, f"{where}: type {kind!r} is not one of {', '.join(rules.TYPES)}.")
        kind = "string"
    description, valid = "", []
    for child in reader.children(node, ("description", "valid-values"), once=("description", "valid-values")):
        if child.tag == "description":
            description = _description(reader, child)
            continue
        reader.attrs(child, ())
        reader.no_text(child)
        for value in reader.children(child, ("value",)):
            reader.attrs(value, ())
            if value.text in valid:
                reader.problem(value, f"{where}: the valid value {value.text!r} is listed twice.")
            else:
                valid.append(value.text)
        if not valid:
            reader.problem(child, f"{where}: <valid-values> lists no <value>.")
    spec = OptionSpec(
        section=section, key=key, type=kind, default=attrs.get("default", ""), description=description,
        valid_values=tuple(valid), minimum=_bound(reader, node, "min", attrs.get("min")),
        maximum=_bound(reader, node, "max", attrs.get("max")), above=_bound(reader, node, "above", attrs.get("above")),
        mandatory=_flag(reader, node, attrs.get("mandatory")), origin=_origin(reader, node, attrs.get("origin")),
        line=node.line)
    if any(b is not None for b in (spec.minimum, spec.maximum, spec.above)) and kind not in ("integer", "number"):
        reader.problem(node, f"{where}: min, max and above apply to integer and number options, not {kind}.")
    low = spec.minimum if spec.minimum is not None else spec.above
    if low is not None and spec.maximum is not None and low > spec.maximum:
        reader.problem(node, f"{where}: its lower bound {low:g} is above its maximum {spec.maximum:g}.")
    for value in spec.valid_values:
        problem = rules.value_problem({**spec.as_json(), "valid_values": []}, value)
        if problem:
            reader.problem(node, f"{where}: the valid value {problem}.")
    problem = rules.value_problem(spec.as_json(), spec.default)
    if problem:
        reader.problem(node, f"{where}: its default {problem} — the default lies outside its own valid values.")
    return spec


def parse_metadata(data: bytes, file: str) -> Metadata:
    """Read a metadata ``.xml``; TemplateError names the file and line of every problem."""
    root = parse_xml(data, file)
    reader = Reader(file)
    if root.tag != ROOT:
        raise refuse(file, root.line, f"the root element is <{root.tag}>; a metadata file's is <{ROOT}>.")
    attrs = reader.attrs(root, ("template",), ("format",))
    if attrs.get("format", FORMAT) != FORMAT:
        reader.problem(root, f"format {attrs['format']!r} is not known; this version reads format {FORMAT}.")
    reader.no_text(root)
    sections: list[SectionSpec] = []
    seen: set[str] = set()
    for node in reader.children(root, ("section",)):
        sattrs = reader.attrs(node, ("name", "origin"))
        reader.no_text(node)
        name = sattrs.get("name")
        if name is None:
            continue
        if name in seen:
            reader.problem(node, f"section '{name}' appears twice.")
            continue
        seen.add(name)
        description, options, keys = "", [], set()
        for child in reader.children(node, ("description", "option"), once=("description",)):
            if child.tag == "description":
                description = _description(reader, child)
                continue
            spec = _option(reader, name, child)
            if spec is None:
                continue
            if spec.key in keys:
                reader.problem(child, f"option {name}/{spec.key} is described twice.")
                continue
            keys.add(spec.key)
            options.append(spec)
        sections.append(SectionSpec(name, description, _origin(reader, node, sattrs.get("origin")), tuple(options)))
    reader.raise_any()
    return Metadata(template=attrs["template"], sections=tuple(sections))


def check_template(template: TemplateFile, metadata: Metadata, apd_file: str, xml_file: str) -> None:
    """The ``.apd`` against its metadata: the same template, and every default an option the metadata
    describes, with a value it accepts (ours: a template must not start applications off invalid)."""
    problems: list[Problem] = []
    if metadata.template != template.name:
        problems.append(Problem(xml_file, None, f"this metadata is for template {metadata.template!r}, not "
                                                f"{template.name!r} (the .apd's name)."))
    for section, keys in template.options.items():
        for key, value in keys.items():
            line = template.lines.get(("options", section, key))
            spec = metadata.option(section, key)
            if spec is None:
                problems.append(Problem(apd_file, line, f"unknown key {section}/{key}: {xml_file} does not "
                                                        "describe it."))
                continue
            problem = rules.value_problem(spec.as_json(), value)
            if problem:
                problems.append(Problem(apd_file, line, f"{section}/{key}: {problem} (per {xml_file}: "
                                                        f"{rules.describe(spec.as_json())})."))
    if problems:
        raise TemplateError(problems)


def check_defaults(defaults: Mapping[str, Mapping[str, str]], metadata: Metadata, file: str, xml_file: str) -> None:
    """Plain-text defaults (no line numbers kept) against the metadata."""
    problems = []
    for section, keys in defaults.items():
        for key, value in keys.items():
            spec = metadata.option(section, key)
            if spec is None:
                problems.append(Problem(file, None, f"unknown key {section}/{key}: {xml_file} does not describe it."))
                continue
            problem = rules.value_problem(spec.as_json(), value)
            if problem:
                problems.append(Problem(file, None, f"{section}/{key}: {problem}."))
    if problems:
        raise TemplateError(problems)


def to_xml(metadata: Metadata) -> bytes:
    """Write metadata as its ``.xml`` (the round trip of the tests)."""
    from xml.sax.saxutils import escape, quoteattr

    def num(value: float) -> str:
        return f"{value:g}"

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<{ROOT} format="{FORMAT}" template={quoteattr(metadata.template)}>']
    for s in metadata.sections:
        out.append(f"  <section name={quoteattr(s.name)} origin={quoteattr(s.origin)}>")
        if s.description:
            out.append(f"    <description>{escape(s.description)}</description>")
        for o in s.options:
            attrs = [f"name={quoteattr(o.key)}", f"type={quoteattr(o.type)}", f"default={quoteattr(o.default)}"]
            for name, value in (("min", o.minimum), ("max", o.maximum), ("above", o.above)):
                if value is not None:
                    attrs.append(f'{name}="{num(value)}"')
            attrs += [f'mandatory="{"true" if o.mandatory else "false"}"', f"origin={quoteattr(o.origin)}"]
            out.append(f"    <option {' '.join(attrs)}>")
            out.append(f"      <description>{escape(o.description)}</description>")
            if o.valid_values:
                values = "".join(f"<value>{escape(v)}</value>" for v in o.valid_values)
                out.append(f"      <valid-values>{values}</valid-values>")
            out.append("    </option>")
        out.append("  </section>")
    out.append(f"</{ROOT}>")
    return ("\n".join(out) + "\n").encode("utf-8")
