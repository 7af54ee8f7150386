"""Option metadata of an application template: the ONE check of an option's value against its description.

An application template's ``metadata`` (imported from the template's ``.xml`` by provisioning/templates,
docs/templates.md) describes options as ``{"format": 1, "sections": {section: {"description", "origin",
"options": {key: spec}}}}``, a spec being ``{"description", "type", "default", "valid_values", "min", "max",
"above", "mandatory", "origin"}``.

Why it lives here, in configdb (ours): the layering lets provisioning import configdb, never the reverse, and the
rule is about what a stored application may hold, so ``Application.clean`` calls :func:`options_problems` and
every write path that runs ``full_clean()`` through configdb.services — the admin form, the options import page,
the REST API, the configuration import, the commands — refuses a value outside the metadata. The template parser
(provisioning/templates/metadata.py) calls :func:`value_problem` on each default, so a default outside its own
valid values is refused at import with the same words.

Pure Python, no Django. Ours, all of it: the vendor's metadata format is not public. An empty value is "unset"
(allowed unless the option is mandatory); keys the metadata does not describe are allowed on an application (as
in GAX, an administrator may add options of their own).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

FORMAT = 1
TYPES = ("string", "integer", "number", "boolean", "duration")
ORIGINS = ("vendor", "ours")
BOOLEANS = ("true", "false")

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: ``30min``, ``30s``, ``2h``, ``1d``, ``500ms`` or plain seconds (as alarms/config.py reads them)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m|h|d)?", re.IGNORECASE)
_LISTED = 12


def _number(text: str) -> float | None:
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _fmt(value: float) -> str:
    return f"{value:g}"


def _bound(spec: Mapping, name: str) -> float | None:
    """A bound of the spec; None when absent or not a finite number (metadata written by hand, or by an older
    configuration export, is never a crash)."""
    value = spec.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _valid_values(spec: Mapping) -> list[str]:
    values = spec.get("valid_values")
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def value_problem(spec: Mapping, value: str) -> str | None:
    """What is wrong with ``value`` for the option ``spec`` describes (None: nothing). Words only, no path."""
    if not isinstance(value, str):
        return "is not text"
    if value == "":
        return "is mandatory: it cannot be empty" if spec.get("mandatory") else None
    kind = spec.get("type") or "string"
    text = value.strip()
    number = None
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            return f"{value[:60]!r} is not a whole number"
        number = float(int(text))
    elif kind == "number":
        number = _number(text)
        if number is None:
            return f"{value[:60]!r} is not a number"
    elif kind == "boolean":
        if text.lower() not in BOOLEANS:
            return f"{value[:60]!r} is not true or false"
    elif kind == "duration":
        match = _DURATION.fullmatch(text)
        if not match or float(match.group(1)) <= 0:
            return f"{value[:60]!r} is not a duration above 0 (30min, 30s, 2h, 1d, 500ms or seconds)"
    valid = _valid_values(spec)
    if valid and value not in valid:
        listed = ", ".join(valid[:_LISTED]) + (", …" if len(valid) > _LISTED else "")
        return f"{value[:60]!r} is not one of its valid values ({listed})"
    if number is not None:
        low, high, above = _bound(spec, "min"), _bound(spec, "max"), _bound(spec, "above")
        if low is not None and number < low:
            return f"{value[:60]!r} is below the minimum {_fmt(low)}"
        if above is not None and number <= above:
            return f"{value[:60]!r} must be above {_fmt(above)}"
        if high is not None and number > high:
            return f"{value[:60]!r} is above the maximum {_fmt(high)}"
    return None


def describe(spec: Mapping) -> str:
    """What the option accepts, in a few words (the admin's reference table, the errors' hints)."""
    kind = spec.get("type") if spec.get("type") in TYPES else "string"
    parts = [kind]
    if _valid_values(spec):
        parts.append("one of " + ", ".join(_valid_values(spec)))
    for name, words in (("above", "above"), ("min", "at least"), ("max", "at most")):
        bound = _bound(spec, name)
        if bound is not None:
            parts.append(f"{words} {_fmt(bound)}")
    if spec.get("mandatory"):
        parts.append("mandatory")
    return ", ".join(parts)


def specs(metadata: Mapping | None):
    """``(section, key, spec)`` of every option the metadata describes, sorted; nothing for a malformed table."""
    sections = (metadata or {}).get("sections") if isinstance(metadata, Mapping) else None
    if not isinstance(sections, Mapping):
        return
    for section in sorted(sections):
        options = sections[section].get("options") if isinstance(sections[section], Mapping) else None
        if not isinstance(options, Mapping):
            continue
        for key in sorted(options):
            if isinstance(options[key], Mapping):
                yield section, key, options[key]


def options_problems(options: Mapping | None, metadata: Mapping | None, *, mandatory: bool = True) -> list[str]:
    """Each value of ``options`` the metadata refuses, and (unless ``mandatory`` is False: a template's own
    defaults may leave a mandatory option to each application) each mandatory option missing, as
    ``section/key: problem (the template's metadata: …)``."""
    options = options if isinstance(options, Mapping) else {}
    problems = []
    for section, key, spec in specs(metadata):
        keys = options.get(section)
        value = keys.get(key) if isinstance(keys, Mapping) else None
        if value is None:
            if mandatory and spec.get("mandatory"):
                problems.append(f"{section}/{key}: missing; the template's metadata says it is mandatory.")
            continue
        problem = value_problem(spec, value)
        if problem:
            problems.append(f"{section}/{key}: {problem} (the template's metadata: {describe(spec)}).")
    return problems
