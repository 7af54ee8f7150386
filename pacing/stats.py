"""The stats store: the latest statistics snapshot of each pacing target, kept in Redis.

Writers: the bulk push API (``POST /api/v1/pacing/stats/``, what a Stat Server bridge calls) and the built-in
contact-centre simulator. Reader: the pacing cycle (``StatsStore.state_for``) and the targets API.

A snapshot holds, for one target (``StatsSnapshot``): agents of the target's groups READY for its media (an
agent in several of the groups counts once) and BUSY, PACS_VQ_Current (``current``: accepted interactions
waiting in the virtual queue), PACS_VQ_Accepted and PACS_VQ_Abandoned over the stats window, the average
handle time (seconds; NaN when unknown), invitations sent / declined / expired over the window when known,
and when it was taken (unix time).

Layout (ours): one Redis hash per tenant, ``<prefix>:t<tenant id>:stats`` (``pacing:t1:stats``: by id, so a
renamed tenant keeps its stats), field = target name, value = the snapshot as a compact JSON array
(``_encode``). A push is ONE ``HSET`` of all its rows (in a pipeline with the hash's expiry), a read of N
targets ONE ``HMGET``. The hash expires ``STATS_KEY_TTL_S`` (a day) after the last write, so a tenant nobody
writes for any more leaves nothing behind. The cycle's latest invitations are read from
``<prefix>:t<tenant id>:invitations`` (field = target name, value ``{"invitations": n, "pending": p,
"share": s, "tick": t, "epoch": e, "at": unix, "cluster": c, "error": …}``), written by the pacing cycle
(pacing/history.py).

Staleness: a snapshot older than ``settings.PACING_STATS_MAX_AGE_S`` (default 30 s), or dated more than that
in the future, is stale; so is a target with no snapshot at all. ``state_for`` gives a stale target 0 ready
and 0 busy agents, so the engine allows it 0 invitations, and lists it in the stale names.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import orjson
from django.conf import settings

from pacing.gcpause import gc_paused

from .redis import get_redis, tenant_key

__all__ = ["DEFAULT_MAX_AGE_S", "STATS_FIELDS", "StatsSnapshot", "StatsStore", "decode_columns", "decode_invitations",
           "decode_stats", "stats_max_age_s"]

logger = logging.getLogger("pacing.stats")

DEFAULT_MAX_AGE_S = 30.0
STATS_KEY_TTL_S = 86_400


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    target: str
    ready_agents: float
    busy_agents: float
    current: float                   # PACS_VQ_Current
    accepted: float                  # PACS_VQ_Accepted over the stats window
    abandoned: float                 # PACS_VQ_Abandoned over the stats window
    aht_s: float                     # average handle time, seconds (NaN: unknown)
    sent: float | None = None        # invitations sent over the window (None: unknown)
    declined: float | None = None
    expired: float | None = None
    taken_at: float = 0.0            # unix time

    def to_dict(self) -> dict:
        """JSON-ready (an unknown AHT is ``None``)."""
        data = {f: getattr(self, f) for f in _FIELD_NAMES}
        if not math.isfinite(data["aht_s"]):
            data["aht_s"] = None
        return data


_FIELD_NAMES = tuple(f.name for f in fields(StatsSnapshot))
#: the measured fields, in order (all but ``target`` and ``taken_at``)
STATS_FIELDS = tuple(name for name in _FIELD_NAMES if name not in ("target", "taken_at"))


def stats_max_age_s() -> float:
    """``settings.PACING_STATS_MAX_AGE_S`` (default 30 s)."""
    return float(getattr(settings, "PACING_STATS_MAX_AGE_S", DEFAULT_MAX_AGE_S))


#: the stored form: a JSON array [FORMAT, ready, busy, current, accepted, abandoned, aht_s, sent, declined,
#: expired, taken_at] (compact, and ~3x faster to decode than an object); NaN / inf are stored as null
FORMAT = 1
_STORED = ("ready_agents", "busy_agents", "current", "accepted", "abandoned", "aht_s", "sent", "declined",
           "expired", "taken_at")


def _encode(s: StatsSnapshot) -> bytes:
    return orjson.dumps([FORMAT, s.ready_agents, s.busy_agents, s.current, s.accepted, s.abandoned, s.aht_s, s.sent,
                         s.declined, s.expired, s.taken_at])


def _snapshot(name: str, data) -> StatsSnapshot:
    """A decoded stored array → snapshot (TypeError / ValueError if it is not one)."""
    if type(data) is not list or len(data) != len(_STORED) + 1 or data[0] != FORMAT:
        raise ValueError("not a stats snapshot")
    ready, busy, current, accepted, abandoned, aht, sent, declined, expired, taken_at = data[1:]
    return StatsSnapshot(
        name, float(ready or 0.0), float(busy or 0.0), float(current or 0.0), float(accepted or 0.0),
        float(abandoned or 0.0), math.nan if aht is None else float(aht),
        None if sent is None else float(sent), None if declined is None else float(declined),
        None if expired is None else float(expired), float(taken_at or 0.0),
    )


def _decode(name: str, blob: bytes) -> StatsSnapshot | None:
    try:
        return _snapshot(name, orjson.loads(blob))
    except (orjson.JSONDecodeError, TypeError, ValueError):
        logger.warning("Unreadable stats snapshot of target '%s' ignored.", name)
        return None


class StatsStore:
    """The latest stats snapshot per target of one tenant: ``StatsStore(tenant)``, a Tenant or its id (the keys
    are the id's, so a rename keeps them; a name is a TypeError: resolve it first, as the push API does)."""

    def __init__(self, tenant, redis=None):
        self.tenant_id = getattr(tenant, "pk", tenant)
        self.redis = redis if redis is not None else get_redis()
        self.key = tenant_key(self.tenant_id, "stats")
        self.invitations_key = tenant_key(self.tenant_id, "invitations")

    # --- write ---------------------------------------------------------------------------------------------

    def put_many(self, snapshots: Iterable[StatsSnapshot]) -> int:
        """Store the snapshots (each replaces its target's previous one) in one round trip; returns how many."""
        mapping = {s.target: _encode(s) for s in snapshots}
        if not mapping:
            return 0
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.key, mapping=mapping)
        pipe.expire(self.key, STATS_KEY_TTL_S)
        pipe.execute()
        return len(mapping)

    def prune(self, keep: Iterable[str]) -> int:
        """Drop the snapshots of targets not in ``keep`` (targets removed from the configuration)."""
        keep = set(keep)
        gone = [name for name in (n.decode() for n in self.redis.hkeys(self.key)) if name not in keep]
        if gone:
            self.redis.hdel(self.key, *gone)
        return len(gone)

    def clear(self) -> None:
        self.redis.delete(self.key)

    # --- read ----------------------------------------------------------------------------------------------

    def get_many(self, target_names: Sequence[str]) -> dict[str, StatsSnapshot]:
        """The latest snapshot of each named target that has one (one round trip)."""
        names = list(target_names)
        if not names:
            return {}
        return decode_stats(names, self.redis.hmget(self.key, names))

    def get_invitations(self, target_names: Sequence[str]) -> dict[str, dict]:
        """The pacing cycle's latest result per target (``INVITATION_FIELDS``)."""
        names = list(target_names)
        if not names:
            return {}
        return decode_invitations(names, self.redis.hmget(self.invitations_key, names))

    @staticmethod
    def stale(snapshot: StatsSnapshot | None, max_age_s: float | None = None, now: float | None = None) -> bool:
        """Older than ``max_age_s`` (default ``PACING_STATS_MAX_AGE_S``), dated that far in the future, or none."""
        if snapshot is None:
            return True
        limit = stats_max_age_s() if max_age_s is None else max_age_s
        age = (time.time() if now is None else now) - snapshot.taken_at
        return not (math.isfinite(age) and -limit <= age <= limit)

    def state_for(self, targets: Sequence, max_age_s: float | None = None,
                  now: float | None = None) -> tuple[dict[str, np.ndarray | None], list[str]]:
        """The engine's inputs for ``targets`` (Target objects or names), in their order, and the stale names.

        Returns ``(arrays, stale_names)``: ``arrays`` maps TargetState field names (``ready_agents``,
        ``busy_agents``, ``queued``, ``accepted``, ``abandoned``, ``sent``, ``aht_s``, ``declined``,
        ``expired``, and ``goal_pct`` when Target objects are given) to float64 arrays, so that
        ``TargetState(**arrays, pending=…, interval_s=…)`` is ready. A stale or missing snapshot gives 0 ready
        and 0 busy agents (the engine then allows 0 invitations) and NaN elsewhere; unknown sent counts are
        NaN; ``declined`` / ``expired`` are None when no target reports them.
        """
        names = [t if isinstance(t, str) else t.name for t in targets]
        size = len(names)
        limit = stats_max_age_s() if max_age_s is None else max_age_s
        now = time.time() if now is None else now
        snapshots = self.get_many(names)
        columns = {f: np.full(size, np.nan, dtype=np.float64) for f in STATS_FIELDS}
        stale_names = []
        for index, name in enumerate(names):
            snapshot = snapshots.get(name)
            if self.stale(snapshot, limit, now):
                stale_names.append(name)
                columns["ready_agents"][index] = 0.0
                columns["busy_agents"][index] = 0.0
                continue
            for f in STATS_FIELDS:
                value = getattr(snapshot, f)
                if value is not None:
                    columns[f][index] = value
        arrays: dict[str, np.ndarray | None] = {
            "ready_agents": columns["ready_agents"], "busy_agents": columns["busy_agents"],
            "queued": columns["current"], "accepted": columns["accepted"], "abandoned": columns["abandoned"],
            "sent": columns["sent"], "aht_s": columns["aht_s"],
        }
        for f in ("declined", "expired"):
            arrays[f] = columns[f] if not np.isnan(columns[f]).all() else None
        if size and all(not isinstance(t, str) for t in targets):
            arrays["goal_pct"] = np.array([t.goal_pct for t in targets], dtype=np.float64)
        return arrays, stale_names


def decode_stats(names: Sequence[str], blobs: Sequence[bytes | None]) -> dict[str, StatsSnapshot]:
    """HMGET replies of the stats hash → snapshots of the names that have one.

    All blobs are parsed by ONE orjson call (as one JSON array: 10,000 calls cost more than the parsing); if
    any blob is unreadable, each is parsed on its own and the unreadable ones are logged and left out."""
    present = [(name, blob) for name, blob in zip(names, blobs, strict=True) if blob is not None]
    if not present:
        return {}
    try:
        with gc_paused():
            parsed = orjson.loads(b"[" + b",".join(blob for _, blob in present) + b"]")
            if len(parsed) != len(present):
                raise ValueError("a blob is not one JSON value")
            return {name: _snapshot(name, data) for (name, _), data in zip(present, parsed, strict=True)}
    except (orjson.JSONDecodeError, TypeError, ValueError):
        pass
    result = {}
    for name, blob in present:
        snapshot = _decode(name, blob)
        if snapshot is not None:
            result[name] = snapshot
    return result


#: what the pacing cycle stores per target in ``<prefix>:t<tenant id>:invitations`` (pacing/history.py)
INVITATION_FIELDS = ("invitations", "pending", "share", "tick", "epoch", "at", "cluster", "error")


def decode_invitations(names: Sequence[str], blobs: Sequence[bytes | None]) -> dict[str, dict]:
    result = {}
    for name, blob in zip(names, blobs, strict=True):
        if blob is None:
            continue
        try:
            data = orjson.loads(blob)
        except orjson.JSONDecodeError:
            logger.warning("Unreadable invitations entry of target '%s' ignored.", name)
            continue
        if isinstance(data, dict):
            result[name] = {key: data.get(key) for key in INVITATION_FIELDS}
    return result


#: what a missing or unreadable snapshot becomes in ``decode_columns``: no agents, dated never (stale)
_MISSING = b"[1,0,0,0,0,0,null,null,null,null,-1]"
#: stands for JSON null while the columns are parsed as numbers (orjson has no NaN); no stored value is this
_NULL = b"-1.7976931348623157e308"
_NULL_VALUE = -1.7976931348623157e308


def decode_columns(blobs: Sequence[bytes | None], now: float, max_age_s: float
                   ) -> tuple[dict[str, np.ndarray | None], np.ndarray, np.ndarray]:
    """HMGET replies of a stats hash → the engine's input columns, for the pacing cycle (vectorised).

    Returns ``(arrays, stale, age_s)``: ``arrays`` as ``StatsStore.state_for`` builds them (``ready_agents``,
    ``busy_agents``, ``queued``, ``accepted``, ``abandoned``, ``sent``, ``aht_s``, ``declined``, ``expired``;
    stale targets get 0 ready and 0 busy agents and NaN elsewhere), ``stale`` a bool array and ``age_s`` the
    seconds since each snapshot was taken (NaN without one). All blobs are parsed by ONE orjson call into one
    2-D array; if any blob is unreadable, they are decoded one by one (``decode_stats``) and the unreadable
    ones count as missing."""
    size = len(blobs)
    width = len(_STORED) + 1
    table = None
    if size:
        try:
            with gc_paused():
                joined = b"[" + b",".join(_MISSING if b is None else b for b in blobs) + b"]"
                rows = orjson.loads(joined.replace(b"null", _NULL))
                if len(rows) != size or set(map(len, rows)) != {width}:
                    raise ValueError("not one snapshot per blob")
                table = np.fromiter(itertools.chain.from_iterable(rows), np.float64, count=size * width)
                table = table.reshape(size, width)
            if not (table[:, 0] == FORMAT).all():
                table = None
        except (orjson.JSONDecodeError, TypeError, ValueError):
            table = None
        if table is None:
            names = [str(i) for i in range(size)]
            snapshots = decode_stats(names, blobs)
            table = np.full((size, width), _NULL_VALUE)
            table[:, 0] = FORMAT
            table[:, 1:6] = 0.0
            table[:, -1] = -1.0
            for key, s in snapshots.items():
                row = table[int(key)]
                row[1:] = [s.ready_agents, s.busy_agents, s.current, s.accepted, s.abandoned, s.aht_s,
                           _NULL_VALUE if s.sent is None else s.sent,
                           _NULL_VALUE if s.declined is None else s.declined,
                           _NULL_VALUE if s.expired is None else s.expired, s.taken_at]
    else:
        table = np.zeros((0, width))
    table[table == _NULL_VALUE] = np.nan
    taken_at = table[:, -1]
    age = now - taken_at
    age[taken_at <= 0] = np.nan
    stale = ~(np.abs(age) <= max_age_s)
    columns = {name: table[:, i + 1] for i, name in enumerate(_STORED[:-1])}
    for name in ("ready_agents", "busy_agents", "current", "accepted", "abandoned"):
        np.nan_to_num(columns[name], copy=False, nan=0.0)  # stored null = 0, as _snapshot reads it
    if stale.any():
        for name, column in columns.items():
            column[stale] = 0.0 if name in ("ready_agents", "busy_agents") else np.nan
    arrays: dict[str, np.ndarray | None] = {
        "ready_agents": columns["ready_agents"], "busy_agents": columns["busy_agents"],
        "queued": columns["current"], "accepted": columns["accepted"], "abandoned": columns["abandoned"],
        "sent": columns["sent"], "aht_s": columns["aht_s"],
    }
    for name in ("declined", "expired"):
        arrays[name] = columns[name] if size and not np.isnan(columns[name]).all() else None
    return arrays, stale, age
