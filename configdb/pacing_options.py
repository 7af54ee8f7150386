"""A virtual queue's ``pacing`` options: the ONE rule that target discovery and every write path apply.

The vendor (seeds/pacing-deployment-guide.txt, "Configuration", "Virtual queue"): the pacing service monitors
virtual queues whose options have a ``pacing`` section with a ``media`` option naming "a single media type. You
cannot specify a list of media types", and optionally ``optimizationGoal``, "a float between 0 and 100", default 3.

Why it lives here, in configdb (ours): the layering lets pacing import configdb, never the reverse, and the rule is
about what a stored configuration object may hold, so the model validates it (``DN.clean_fields`` calls
:func:`queue_problems`) and so every write path that runs ``full_clean()`` through configdb.services — the admin
form, the options import page, the REST API (one object or a list), the configuration import, the commands — refuses
what discovery would reject; ``pacing.targets`` calls :func:`check_queue_pacing` on every queue it reads, so a row
written before the rule existed (or by a path that bypasses validation) is skipped with the same words.

The pure part (:func:`parse_media`, :func:`parse_goal`, :func:`check_queue_pacing`, :func:`alias_warning`) needs no
database; :func:`queue_problems` reads the tenant's media type names (one query, or none inside
:func:`media_types_cached`, which the bulk paths use).

Also ours: a media type "exists in the tenant" when a MediaType of the queue's tenant has exactly that name (any
state; case kept: ``Chat`` is not ``chat``). Only DNs of type Virtual Queue are checked (discovery looks at no
other). A queue whose alias differs from its number is saved, with a warning (:func:`alias_warning`): the admin's
message, the API's ``warnings`` and the configuration import's report (:func:`queue_warnings`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import NamedTuple

SECTION = "pacing"
MEDIA = "media"
GOAL = "optimizationGoal"
MEDIA_PATH = f"{SECTION}/{MEDIA}"
GOAL_PATH = f"{SECTION}/{GOAL}"

#: the troubleshooting entry of the seed whose cause is an alias that differs from the number
ALIAS_CONSEQUENCE = "Abandoned statistics are not calculated (always 0)"

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_MEDIA_NAME = re.compile(r"\w[\w.\-]*")
_LIST_SEPARATORS = re.compile(r"[,;|\s]")
#: media type names listed in the "not a media type of the tenant" problem
_LISTED_MEDIA = 10


class QueuePacing(NamedTuple):
    """What a queue's pacing section says: its media, its goal (None: unset) and the problems (empty: usable)."""

    media: str | None
    goal: float | None
    problems: tuple[str, ...]


@functools.lru_cache(maxsize=4096)
def parse_media(raw) -> tuple[str | None, str | None]:
    """``(media, None)`` for a single media type name, else ``(None, problem)`` (the problem names the key)."""
    if raw is None:
        return None, (f"{MEDIA_PATH}: missing; a queue with a '{SECTION}' section must name a single media type "
                      "(e.g. chat)")
    if not isinstance(raw, str):
        return None, f"{MEDIA_PATH}: {raw!r} is not text"
    value = raw.strip()
    if not value:
        return None, f"{MEDIA_PATH}: empty; it must name a single media type (e.g. chat)"
    if value.startswith(("[", "{", '"')) or _LIST_SEPARATORS.search(value):
        return None, (f"{MEDIA_PATH}: {raw!r} lists several media types; a pacing queue is dedicated to a single "
                      "media type (you cannot specify a list)")
    if not _MEDIA_NAME.fullmatch(value):
        return None, f"{MEDIA_PATH}: {raw!r} is not a media type name"
    return value, None


@functools.lru_cache(maxsize=4096)
def parse_goal(raw) -> tuple[float | None, str | None]:
    """``(goal, None)``; ``(None, None)`` when unset or empty; ``(None, problem)`` when not a number in [0, 100]."""
    if raw is None:
        return None, None
    text = str(raw).strip()
    if not text:
        return None, None
    problem = f"{GOAL_PATH}: {raw!r} is not a number between 0 and 100"
    if not _NUMBER.fullmatch(text):
        return None, problem
    value = float(text)
    if not math.isfinite(value):
        return None, problem
    if value < 0.0:
        return None, f"{problem} (it is below 0)"
    if value > 100.0:
        return None, f"{problem} (it is above 100)"
    return value, None


def check_queue_pacing(raw_media, raw_goal, media_types: Collection[str] | None = None,
                       tenant: str | Callable[[], str | None] | None = None) -> QueuePacing:
    """The one rule: a queue's ``pacing/media`` and ``pacing/optimizationGoal`` as stored (text, or None when
    the key is missing), against the names of its tenant's media types (None: not checked). ``tenant``, its
    name (or a function that reads it, called only when a problem names it)."""
    media, media_problem = parse_media(raw_media)
    goal, goal_problem = parse_goal(raw_goal)
    problems = [p for p in (media_problem, goal_problem) if p]
    if media is not None and media_types is not None and media not in media_types:
        known = sorted(media_types)
        listed = ", ".join(known[:_LISTED_MEDIA]) + (", …" if len(known) > _LISTED_MEDIA else "")
        name = tenant() if callable(tenant) else tenant
        whose = f"tenant '{name}'" if name else "the queue's tenant"
        problems.insert(0, f"{MEDIA_PATH}: {raw_media!r} is not a media type of {whose} "
                           + (f"(its media types: {listed})" if known else "(it has no media types)"))
        media = None
    return QueuePacing(media, goal, tuple(problems))


def alias_warning(number: str, alias: str) -> str | None:
    """The warning for a pacing virtual queue whose alias is not its number (None when they are equal)."""
    if alias == number:
        return None
    said = f"its alias '{alias}' differs from its number '{number}'" if alias else "its alias is empty"
    return (f"Virtual queue '{number}': {said}. It was saved, but the pacing deployment guide's troubleshooting "
            f"says the alias must equal the number, or: \"{ALIAS_CONSEQUENCE}\". Set the alias to '{number}'.")


# --- on a DN (Django) -------------------------------------------------------------------------------------------

_media_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar("pacing_media_cache", default=None)


@contextlib.contextmanager
def media_types_cached() -> Iterator[None]:
    """Read each tenant's media type names once inside the block (configdb.bulk: thousands of queues, one query
    per tenant). Only for a block that writes no media type."""
    token = _media_cache.set({})
    try:
        yield
    finally:
        _media_cache.reset(token)


def _media_types(tenant_id: int) -> frozenset[str]:
    cache = _media_cache.get()
    if cache is not None and tenant_id in cache:
        return cache[tenant_id]
    from .models import MediaType

    names = frozenset(MediaType._base_manager.filter(tenant_id=tenant_id).values_list("name", flat=True))
    if cache is not None:
        cache[tenant_id] = names
    return names


def tenant_media_types(tenant_id: int) -> frozenset[str]:
    """The names of a tenant's media types (cached inside :func:`media_types_cached`); the Interaction Server
    ``media-types`` rule (configdb.models.Application) reads them the same way."""
    return _media_types(tenant_id)


def _pacing_section(dn) -> Mapping | None:
    from .models import DNType

    options = dn.options
    if dn.dn_type != DNType.VIRTUAL_QUEUE or not isinstance(options, Mapping):
        return None
    section = options.get(SECTION)
    return section if isinstance(section, Mapping) else None


def queue_problems(dn) -> list[str]:
    """What is wrong with a DN's pacing options (empty when it is not a virtual queue with a pacing section)."""
    section = _pacing_section(dn)
    if section is None:
        return []
    media_types = _media_types(dn.tenant_id) if dn.tenant_id else None
    tenant = (lambda: dn.tenant.name) if dn.tenant_id else None
    return list(check_queue_pacing(section.get(MEDIA), section.get(GOAL), media_types, tenant).problems)


def queues_using_media(tenant_id: int, name: str) -> list[str]:
    """The numbers of the tenant's virtual queues whose pacing/media names ``name`` (read as discovery reads it,
    with :func:`parse_media`): a media type they pace on cannot be renamed, moved or deleted (ours: the queues
    would drop out of pacing, and could not be saved again until their options were changed)."""
    from django.db.models.fields.json import KT

    from .models import DN, DNType

    rows = (DN._base_manager.filter(tenant_id=tenant_id, dn_type=DNType.VIRTUAL_QUEUE,
                                    options__pacing__has_key=MEDIA)
            .annotate(media=KT(f"options__{SECTION}__{MEDIA}")).values_list("number", "media"))
    return sorted(number for number, raw in rows if parse_media(raw)[0] == name)


def media_in_use_message(name: str, queues: list[str]) -> str:
    listed = ", ".join(f"'{q}'" for q in queues[:_LISTED_MEDIA])
    more = f" and {len(queues) - _LISTED_MEDIA} more" if len(queues) > _LISTED_MEDIA else ""
    return (f"Media type '{name}' is the {MEDIA_PATH} of virtual queues of its tenant ({listed}{more}): "
            f"change their {MEDIA_PATH} first.")


def queue_warnings(dn) -> list[str]:
    """What to tell after saving a DN: a pacing virtual queue whose alias differs from its number."""
    if _pacing_section(dn) is None:
        return []
    warning = alias_warning(dn.number or "", dn.alias or "")
    return [warning] if warning else []
