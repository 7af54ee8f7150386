"""Filters of the pacing API's computed lists: ``targets/``, ``nodes/``, ``cycles/`` and ``cycles/series/``.

Targets are computed (discovered from the configuration, joined with stats from Redis), not rows of a table,
so these filters work on the discovered targets rather than through django-filter; they follow the same
rules as the configuration API's (configdb/api/base.py ``StrictFilterBackend``): an unknown query parameter
or a malformed value is a 400 naming the parameter, never silently ignored.

* ``?tenant=`` — a tenant's name or id (default: every tenant the user may read);
* ``?media=`` — the target's media, exactly (``chat``);
* ``?q=`` — a substring of the target's name, any letter case;
* ``?stale=true|false`` — whether the target's stats are stale (or missing);
* ``?limit=`` / ``?offset=`` — pagination (``OrderedLimitOffsetPagination``); ``?format=json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import exceptions

__all__ = ["CycleFilterBackend", "CycleFilters", "NodeFilterBackend", "NodeFilters", "QueryFilterBackend",
           "SeriesFilterBackend", "TargetFilterBackend", "TargetFilters"]

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
MAX_VALUE_LENGTH = 255


@dataclass(frozen=True)
class TargetFilters:
    tenant: str | None = None
    media: str | None = None
    q: str | None = None
    stale: bool | None = None

    def tenant_lookup(self) -> dict:
        """The Tenant queryset filter for ``?tenant=`` (an id when all digits, else a name)."""
        if self.tenant is None:
            return {}
        return {"pk": int(self.tenant)} if self.tenant.isdigit() else {"name": self.tenant}

    def keep(self, target) -> bool:
        """Whether a discovered target passes the media and name filters (``stale`` needs the stats)."""
        if self.media is not None and target.media != self.media:
            return False
        return self.q is None or self.q.casefold() in target.name.casefold()


PARAMETERS = {
    "tenant": "A tenant's name or id; default: every tenant you may read.",
    "media": "The target's media type, exactly (e.g. chat).",
    "q": "A substring of the target's name, any letter case.",
    "stale": "true: only targets whose stats are stale or missing; false: only those with fresh stats.",
}
PAGINATION_PARAMS = {"limit", "offset", "format"}


class QueryFilterBackend:
    """Parses and checks a computed list's query parameters, and documents them in the OpenAPI schema.

    A subclass declares ``parameters`` (name → description), which of them are ``booleans`` (true/false),
    which have a fixed set of ``choices``, which are ``required``, and the ``filters`` dataclass built from the
    values. Every problem is a 400 naming its parameter, all of them at once."""

    parameters: dict[str, str] = {}
    booleans: frozenset[str] = frozenset()
    choices: dict[str, tuple[str, ...]] = {}
    required: tuple[str, ...] = ()
    filters: type = dict

    def filter_queryset(self, request, queryset, view):  # DRF's backend interface; the view filters itself
        return queryset

    def allowed(self, name: str) -> tuple[str, ...] | None:
        return self.choices.get(name)

    def parse(self, request):
        params = request.query_params
        unknown = sorted(set(params) - set(self.parameters) - PAGINATION_PARAMS)
        if unknown:
            raise exceptions.ValidationError(dict.fromkeys(unknown, "Unknown filter parameter."))
        errors, values = {}, {}
        for name in self.parameters:
            raw = params.get(name)
            if raw is None:
                continue
            if len(raw) > MAX_VALUE_LENGTH or "\x00" in raw:
                errors[name] = f"At most {MAX_VALUE_LENGTH} characters, no NUL."
                continue
            raw = raw.strip()
            allowed = self.allowed(name)
            if name in self.booleans:
                lowered = raw.lower()
                if lowered not in _TRUE | _FALSE:
                    errors[name] = "Expected true or false."
                    continue
                values[name] = lowered in _TRUE
            elif raw and allowed is not None and raw not in allowed:
                errors[name] = f"Expected one of {', '.join(allowed)}."
            elif raw:
                values[name] = raw
        for name in self.required:
            if name not in values and name not in errors:
                errors[name] = "Required."
        if errors:
            raise exceptions.ValidationError(errors)
        return self.filters(**values)

    def get_schema_operation_parameters(self, view):
        return [{"name": name, "required": name in self.required, "in": "query", "description": description,
                 "schema": {"type": "boolean"} if name in self.booleans
                 else {"type": "string", "maxLength": MAX_VALUE_LENGTH}}
                for name, description in self.parameters.items()]


class TargetFilterBackend(QueryFilterBackend):
    """The query parameters of ``GET /api/v1/pacing/targets/``."""

    parameters = PARAMETERS
    booleans = frozenset({"stale"})
    filters = TargetFilters


NODE_PARAMETERS = {
    "cluster": "A pacing cluster's name or id; default: every pacing cluster you may read.",
    "leader": "true: only the nodes holding their cluster's lease; false: only the others.",
}


@dataclass(frozen=True)
class NodeFilters:
    cluster: str | None = None
    leader: bool | None = None


class NodeFilterBackend(QueryFilterBackend):
    """The query parameters of ``GET /api/v1/pacing/nodes/``."""

    parameters = NODE_PARAMETERS
    booleans = frozenset({"leader"})
    filters = NodeFilters


CYCLE_PARAMETERS = {
    "cluster": "A pacing cluster's name or id; default: every pacing cluster you may read.",
    "outcome": "Only cycles with this outcome (posted, not_posted, config_error, request_failed, fenced, "
               "invalid_reply, redis_unavailable, error).",
}
SERIES_PARAMETERS = {
    "cluster": "The pacing cluster's name or id (required).",
    "target": "The target's name, e.g. 'Proactive Chat - chat' (required).",
}


@dataclass(frozen=True)
class CycleFilters:
    cluster: str | None = None
    outcome: str | None = None
    target: str | None = None


class CycleFilterBackend(QueryFilterBackend):
    """The query parameters of ``GET /api/v1/pacing/cycles/``."""

    parameters = CYCLE_PARAMETERS
    filters = CycleFilters

    def allowed(self, name: str) -> tuple[str, ...] | None:
        if name == "outcome":
            from .types import Outcome

            return tuple(Outcome.ALL)
        return None


class SeriesFilterBackend(CycleFilterBackend):
    """The query parameters of ``GET /api/v1/pacing/cycles/series/``: ``cluster`` and ``target``, both required."""

    parameters = SERIES_PARAMETERS
    required = ("cluster", "target")
