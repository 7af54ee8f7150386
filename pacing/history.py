"""What the pacing cycle keeps in Redis: the latest result per target, and the bounded history of cycles.

Why Redis, not a database table (OURS): the cycle already talks to Redis every refresh period (lease,
stats), the history is operational data rather than configuration (nothing in the admin edits it, the
configuration export leaves it out), and a capped Redis list is bounded by construction (``LTRIM`` in the
same round trip as the ``LPUSH``) where a table needs a pruning job and would take a write transaction on
the configuration database every 5 seconds per cluster. The embedded Redis saves it to its db file; a
Redis that is flushed loses the history, not the configuration.

Keys (``<prefix>`` = ``PACING_REDIS_PREFIX``, default ``pacing``):

``<prefix>:t<tenant id>:invitations`` (hash; the targets API reads it; by the tenant's id, so a rename keeps it)
    field = target name, value = ``{"invitations", "pending", "share", "tick", "epoch", "at", "cluster",
    "error"}`` (compact JSON): the latest cycle that posted the target. ``pending`` is GPE's count from
    that cycle's reply, which feeds the next cycle (kept as it was when the reply was invalid or the
    target had an error); ``share`` the part of its ready/busy agents the engine got (blended agents,
    pacing/blended.py); ``error`` GPE's ``{"code", "message"}`` for the target, or null.
``<prefix>:cluster:<cluster>:pending`` (string)
    GPE's pending counts of the cluster's last posted cycle, which feed the next cycle on whichever node leads
    then: a JSON header line (tick, epoch, count, names digest) and the int32 counts in the order of the names
    stored at ``…:names:<digest>``. ONE ``GET`` (a hash field per target cost ~150 ms to read at 100,000).
``<prefix>:cluster:<cluster>:cycles`` (list, newest first)
    one JSON summary per cycle (``pacing.types.CycleRecord.as_dict``), at most
    ``PACING_HISTORY_CYCLES`` (default 2,880: four hours at 5 s).
``<prefix>:cluster:<cluster>:results`` (list, newest first)
    per-target results of the cycles that posted, for the late statistics of the next cycles
    (``History.at_snapshots``), at most ``PACING_HISTORY_RESULTS`` (default 120: ten minutes at 5 s). One entry =
    a JSON header line (tick, at = the cycle's start, posted = when GPE's reply arrived, count, names digest) and
    the zlib-compressed int32 invitations, int32 pending and float32 shares, in the order of the names stored
    once per distinct target list at ``<prefix>:cluster:<cluster>:names:<digest>`` (written again at most once
    a minute; expires a day after its last use).
``<prefix>:cluster:<cluster>:hour:<start>`` (string; the charts' last hour, OURS)
    one point per ``PACING_HISTORY_HOUR_STEP_S`` seconds (default 20: 180 points an hour) for every target: the
    MEANS over the cycles posted in ``[start, start + step)`` of the invitations allowed, GPE's pending count, the
    ready agents of the stats snapshot (before the blended split; stale or missing stats are left out, a target
    with none in the step gets "unknown"), the abandonment % of the stats window (``100 × abandoned / accepted``,
    unknown when nothing was accepted) and the blended share. Layout: a JSON header padded to
    ``HOUR_HEADER_BYTES`` (start, step, cycles, mean time, first and last tick, count, names digest), then one
    fixed 16-byte record per target in the order of the digest's names (``HOUR_DTYPE``: float32 invitations,
    pending and ready agents, uint16 abandonment % in hundredths (65535 = unknown) and share in ten-thousandths),
    uncompressed so that a chart reads its target's record alone (``GETRANGE``, 16 bytes a point). The leader
    rewrites the open step's key with every posted cycle (``SET``, in the cycle's one pipeline; the sums are kept
    in the process, ``HourBucket``), so the newest point moves while you watch; each key expires an hour (and two
    steps) after its last write, which bounds the memory by time: 16 bytes × 180 points = 2,880 bytes per target
    per hour (+ 256 per step), ~29 MB at 10,000 targets, ~288 MB at 100,000. A new leader, or a new target list,
    starts the open step again from its own cycles (the step's earlier cycles drop out of that one point).
"""

from __future__ import annotations

import hashlib
import math
import operator
import time
import zlib
from collections.abc import Sequence

import numpy as np
import orjson

__all__ = ["HOUR_DTYPE", "History", "HourBucket", "hour_bucket", "hour_step_s", "names_digest"]

DEFAULT_CYCLES = 2880
DEFAULT_RESULTS = 120
NAMES_TTL_S = 86400
INVITATIONS_TTL_S = 86400
#: a stored pending count older than this many refresh periods counts as 0 (GPE's invitations lapse anyway)
PENDING_MAX_PERIODS = 10
#: ``at_snapshots`` reads at most this many posted cycles: statistics older than that many refresh periods get
#: NaN (the engine then estimates from the current pending); the stats go stale at 30 s anyway (6 periods of 5 s)
SNAPSHOT_MAX_CYCLES = 12
#: the charts' window (seconds) and its default step (``PACING_HISTORY_HOUR_STEP_S``; OURS)
HOUR_S = 3600
DEFAULT_HOUR_STEP_S = 20
HOUR_HEADER_BYTES = 256
HOUR_DTYPE = np.dtype([("invitations", "<f4"), ("pending", "<f4"), ("ready", "<f4"), ("abandoned", "<u2"),
                       ("share", "<u2")])
HOUR_UNKNOWN = 65535
#: names digest → {name: position}, for the charts' reads (a digest's names never change; a few lists kept)
_NAMES_LRU: dict[str, dict[str, int]] = {}
_NAMES_LRU_SIZE = 4


def _settings_int(name: str, default: int) -> int:
    try:
        from django.conf import settings

        value = int(getattr(settings, name, default))
    except Exception:  # noqa: BLE001 - Django not configured (bench, simulators): the default
        value = default
    return max(1, value)


def hour_step_s() -> int:
    """``PACING_HISTORY_HOUR_STEP_S`` (default 20), at least 1 and at most an hour."""
    return min(HOUR_S, _settings_int("PACING_HISTORY_HOUR_STEP_S", DEFAULT_HOUR_STEP_S))


def names_digest(names_blob: bytes) -> str:
    """The identity of a list of target names (its orjson bytes)."""
    return hashlib.sha1(names_blob, usedforsecurity=False).hexdigest()[:16]


class HourBucket:
    """The open point of a cluster's hour series, in the leader's process: sums over the cycles it posted in the
    step ``[start, start + step)`` for the target list of ``digest`` (``size`` targets). Pure numpy."""

    def __init__(self, start: int, step: int, digest: str, size: int) -> None:
        self.start, self.step, self.digest, self.size = int(start), int(step), digest, int(size)
        self.cycles, self.at_sum = 0, 0.0
        self.first_tick: int | None = None
        self.last_tick: int | None = None
        self.invitations, self.pending, self.share = np.zeros(size), np.zeros(size), np.zeros(size)
        self.ready, self.ready_n = np.zeros(size), np.zeros(size, dtype=np.int32)
        self.abandoned, self.abandoned_n = np.zeros(size), np.zeros(size, dtype=np.int32)

    def add(self, *, at: float, tick: int, invitations, pending, share, ready, abandoned_pct) -> None:
        """One posted cycle; ``ready`` and ``abandoned_pct`` NaN where unknown (left out of their means)."""
        self.cycles += 1
        self.at_sum += float(at)
        self.first_tick = int(tick) if self.first_tick is None else self.first_tick
        self.last_tick = int(tick)
        self.invitations += invitations
        self.pending += pending
        self.share += np.nan_to_num(share, nan=1.0)
        for total, count, values in ((self.ready, self.ready_n, ready), (self.abandoned, self.abandoned_n,
                                                                          abandoned_pct)):
            values = np.asarray(values, dtype=np.float64)
            known = np.isfinite(values)
            total += np.where(known, values, 0.0)
            count += known

    def encode(self) -> bytes:
        """The key's value: the padded JSON header, then one ``HOUR_DTYPE`` record per target (the means)."""
        n = max(1, self.cycles)
        header = orjson.dumps({"start": self.start, "step": self.step, "cycles": self.cycles,
                               "at": round(self.at_sum / n, 3), "first_tick": self.first_tick,
                               "last_tick": self.last_tick, "count": self.size, "names": self.digest})
        records = np.empty(self.size, dtype=HOUR_DTYPE)
        records["invitations"] = self.invitations / n
        records["pending"] = self.pending / n
        with np.errstate(invalid="ignore", divide="ignore"):
            records["ready"] = np.where(self.ready_n > 0, self.ready / self.ready_n, np.nan)
            abandoned = np.rint(self.abandoned / self.abandoned_n * 100.0)
        records["abandoned"] = np.where(self.abandoned_n > 0, np.clip(np.nan_to_num(abandoned), 0, HOUR_UNKNOWN - 1),
                                        HOUR_UNKNOWN)
        records["share"] = np.clip(np.rint(self.share / n * 10000.0), 0, 10000)
        return header.ljust(HOUR_HEADER_BYTES) + records.tobytes()


def hour_bucket(previous: HourBucket | None, *, digest: str, size: int, at: float,
                step: int | None = None) -> HourBucket:
    """The bucket a cycle started at ``at`` adds to: ``previous`` while it is the same step and target list, else
    a new one (the previous one is already in Redis: it was written with its last cycle)."""
    step = step or hour_step_s()
    start = int(at // step) * step
    if previous is not None and (previous.start, previous.step, previous.digest, previous.size) == (
            start, step, digest, size):
        return previous
    return HourBucket(start, step, digest, size)


class History:
    """The Redis side of one cluster's cycles (see the module's docstring)."""

    def __init__(self, client, cluster: str, prefix: str = "pacing") -> None:
        self.client, self.cluster, self.prefix = client, cluster, prefix or "pacing"
        base = f"{self.prefix}:cluster:{cluster}"
        self.pending_key = f"{base}:pending"
        self.cycles_key = f"{base}:cycles"
        self.results_key = f"{base}:results"
        self.names_base = f"{base}:names:"
        self.hour_base = f"{base}:hour:"

    def invitations_key(self, tenant_id: int) -> str:
        """``<prefix>:t<tenant id>:invitations`` (as ``pacing.redis.tenant_key`` names it, with this prefix)."""
        if isinstance(tenant_id, bool | str | bytes):
            raise TypeError(f"invitations_key() takes the tenant's id, not {tenant_id!r}")
        return f"{self.prefix}:t{operator.index(tenant_id)}:invitations"

    # --- write -----------------------------------------------------------------------------------------------

    def write_results(self, pipe, tenant_rows: dict[int, tuple[list[str], np.ndarray, np.ndarray, np.ndarray,
                                                                list]],
                      *, tick: int, epoch: int | None, at: float) -> None:
        """Queue on ``pipe`` the latest entries per target of each tenant: ``tenant id → (names, invitations,
        pending, shares, errors)`` (errors: None or ``{"code", "message"}`` per name)."""
        head = {"tick": tick, "epoch": epoch, "at": round(at, 3), "cluster": self.cluster}
        for tenant, (names, invitations, pending, share, errors) in tenant_rows.items():
            if not names:
                continue
            inv_list = np.asarray(invitations, dtype=np.int64).tolist()
            pend_list = np.asarray(pending).astype(np.int64).tolist()
            share_list = np.round(np.nan_to_num(share, nan=1.0), 4).tolist()
            # bytes formatting of the fixed shape (3x faster than a dict and orjson per target at 100,000
            # targets: ints, and a finite float whose repr is JSON); entries with an error go through orjson
            tail = orjson.dumps(head)[1:]
            mapping = {name: b'{"invitations":%d,"pending":%d,"share":%r,"error":null,%s' % (i, p, sh, tail)
                       for name, i, p, sh in zip(names, inv_list, pend_list, share_list, strict=True)}
            for index, error in enumerate(errors):
                if error is not None:
                    mapping[names[index]] = orjson.dumps({"invitations": inv_list[index], "pending": pend_list[index],
                                                          "share": share_list[index], "error": error, **head})
            key = self.invitations_key(tenant)
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, INVITATIONS_TTL_S)

    def write_names(self, pipe, digest: str, names_blob: bytes) -> None:
        pipe.set(self.names_base + digest, names_blob, ex=NAMES_TTL_S)

    def write_pending(self, pipe, digest: str, pending: np.ndarray, *, tick: int, epoch: int | None) -> None:
        """Queue the pending counts that feed the next cycle (in the order of the names of ``digest``)."""
        header = orjson.dumps({"tick": tick, "epoch": epoch, "count": int(pending.size), "names": digest})
        pipe.set(self.pending_key, header + b"\n" + np.asarray(pending, dtype=np.int32).tobytes(), ex=NAMES_TTL_S)

    def read_pending(self, names: Sequence[str], digest: str, tick: int,
                     max_periods: int = PENDING_MAX_PERIODS) -> tuple[np.ndarray, int]:
        """The pending counts of ``names`` (float64) from the last posted cycle, and how many were known: 0 for
        the first cycle, a blob older than ``max_periods`` ticks, an unreadable one, or names it lacks."""
        size = len(names)
        pending = np.zeros(size)
        raw = self.client.get(self.pending_key)
        if not raw:
            return pending, 0
        try:
            header_raw, _, body = raw.partition(b"\n")
            header = orjson.loads(header_raw)
            count, at_tick = int(header["count"]), int(header["tick"])
            values = np.frombuffer(body, dtype=np.int32, count=count)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return pending, 0
        if not tick - max_periods <= at_tick <= tick:
            return pending, 0
        values = np.maximum(values, 0)
        if header.get("names") == digest and count == size:
            return values.astype(np.float64), size
        names_raw = self.client.get(self.names_base + str(header.get("names")))   # the targets changed since
        if not names_raw:
            return pending, 0
        old = orjson.loads(names_raw)
        if len(old) != count:
            return pending, 0
        index = {name: i for i, name in enumerate(names)}
        known = 0
        for name, value in zip(old, values.tolist(), strict=True):
            i = index.get(name)
            if i is not None:
                pending[i] = value
                known += 1
        return pending, known

    def write_series(self, pipe, digest: str, invitations: np.ndarray, pending: np.ndarray,
                     share: np.ndarray, *, tick: int, at: float, posted: float | None = None) -> None:
        """Queue the per-target results of one posted cycle (the charts' series) on ``pipe``; the names of
        ``digest`` must be stored (``write_names``). ``at``: the cycle's start; ``posted``: when GPE's reply
        arrived (default ``at``). ``at_snapshots`` places the statistics snapshots against ``posted``: at 100,000
        targets a cycle posts ~0.9 s after it starts (bench/README.md, "cycle"), and a snapshot taken in between
        must not count as taken after the post (its allowance would be missed)."""
        head = {"tick": tick, "at": round(at, 3), "count": int(invitations.size), "names": digest}
        if posted is not None:
            head["posted"] = round(posted, 3)
        header = orjson.dumps(head)
        body = zlib.compress(np.asarray(invitations, dtype=np.int32).tobytes()
                             + np.asarray(pending, dtype=np.int32).tobytes()
                             + np.asarray(share, dtype=np.float32).tobytes(), 1)
        pipe.lpush(self.results_key, header + b"\n" + body)
        pipe.ltrim(self.results_key, 0, _settings_int("PACING_HISTORY_RESULTS", DEFAULT_RESULTS) - 1)

    def write_hour(self, pipe, bucket: HourBucket) -> None:
        """Queue on ``pipe`` the open point of the hour series (rewritten with every posted cycle)."""
        pipe.set(self.hour_base + str(bucket.start), bucket.encode(), ex=HOUR_S + 2 * bucket.step + 60)

    def write_cycle(self, pipe, record: dict) -> None:
        pipe.lpush(self.cycles_key, orjson.dumps(record))
        pipe.ltrim(self.cycles_key, 0, _settings_int("PACING_HISTORY_CYCLES", DEFAULT_CYCLES) - 1)

    def record_cycle(self, record: dict) -> None:
        """Record one summary on its own (cycles that posted nothing)."""
        pipe = self.client.pipeline(transaction=False)
        self.write_cycle(pipe, record)
        pipe.execute()

    # --- read ------------------------------------------------------------------------------------------------

    def cycles(self, limit: int = 100) -> list[dict]:
        """The latest ``limit`` cycle summaries, newest first."""
        return [orjson.loads(raw) for raw in self.client.lrange(self.cycles_key, 0, max(0, limit - 1))]

    def _names_index(self, digest: str, cache: dict[str, dict[str, int]]) -> dict[str, int]:
        """Name → position in the target list stored at ``digest`` (empty when it is gone); one GET per digest
        and call (``cache``)."""
        index_of = cache.get(digest)
        if index_of is None:
            names_raw = self.client.get(self.names_base + digest)
            index_of = {n: i for i, n in enumerate(orjson.loads(names_raw))} if names_raw else {}
            cache[digest] = index_of
        return index_of

    def series(self, target: str, limit: int = DEFAULT_RESULTS) -> list[dict]:
        """One target's results per posted cycle, oldest first: ``{"tick", "at", "invitations", "pending", "share"}``
        (the charts read ``hour``)."""
        out = []
        names_cache: dict[str, dict[str, int]] = {}
        for raw in self.client.lrange(self.results_key, 0, max(0, limit - 1)):
            header_raw, _, body = raw.partition(b"\n")
            header = orjson.loads(header_raw)
            index = self._names_index(header["names"], names_cache).get(target)
            if index is None:
                continue
            count = header["count"]
            data = zlib.decompress(body)
            inv = np.frombuffer(data, dtype=np.int32, count=count)
            pend = np.frombuffer(data, dtype=np.int32, count=count, offset=4 * count)
            share = np.frombuffer(data, dtype=np.float32, count=count, offset=8 * count)
            out.append({"tick": header["tick"], "at": header["at"], "invitations": int(inv[index]),
                        "pending": int(pend[index]), "share": round(float(share[index]), 4)})
        out.reverse()
        return out

    def _cached_names_index(self, digest: str) -> dict[str, int]:
        """``_names_index`` through a small process-wide cache (a digest's names never change)."""
        index_of = _NAMES_LRU.pop(digest, None)
        if index_of is None:
            index_of = self._names_index(digest, {})
            if not index_of:
                return index_of
        _NAMES_LRU[digest] = index_of
        while len(_NAMES_LRU) > _NAMES_LRU_SIZE:
            _NAMES_LRU.pop(next(iter(_NAMES_LRU)))
        return index_of

    def hour(self, target: str, now: float | None = None, step: int | None = None) -> list[dict]:
        """One target's points of the last hour (``HOUR_S`` before ``now``), oldest first: ``{"tick" (the step's
        last), "at" (the mean time of its cycles), "start", "step_s", "cycles", "invitations", "pending",
        "ready_agents", "abandoned_pct", "share"}`` (means over the step; None = unknown). Three round trips at
        most: the steps' headers, the names of each target list (cached), the target's 16-byte records."""
        now = time.time() if now is None else float(now)
        step = step or hour_step_s()
        first = int((now - HOUR_S) // step) * step
        starts = list(range(first, int(now // step) * step + 1, step))
        pipe = self.client.pipeline(transaction=False)
        for start in starts:
            pipe.getrange(self.hour_base + str(start), 0, HOUR_HEADER_BYTES - 1)
        wanted = []
        for start, raw in zip(starts, pipe.execute(), strict=True):
            if not raw:
                continue
            try:
                header = orjson.loads(raw)
                if header["at"] < now - HOUR_S:
                    continue
                index = self._cached_names_index(str(header["names"])).get(target)
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue
            if index is not None and index < int(header["count"]):
                wanted.append((start, header, index))
        if not wanted:
            return []
        size = HOUR_DTYPE.itemsize
        pipe = self.client.pipeline(transaction=False)
        for start, _, index in wanted:
            offset = HOUR_HEADER_BYTES + size * index
            pipe.getrange(self.hour_base + str(start), offset, offset + size - 1)
        out = []
        for (start, header, _), raw in zip(wanted, pipe.execute(), strict=True):
            if len(raw) != size:
                continue
            r = np.frombuffer(raw, dtype=HOUR_DTYPE)[0]
            ready, abandoned = float(r["ready"]), int(r["abandoned"])
            out.append({"tick": header.get("last_tick"), "at": header["at"], "start": start,
                        "step_s": header.get("step", step), "cycles": header.get("cycles", 1),
                        "invitations": round(float(r["invitations"]), 3), "pending": round(float(r["pending"]), 3),
                        "ready_agents": round(ready, 3) if math.isfinite(ready) else None,
                        "abandoned_pct": None if abandoned == HOUR_UNKNOWN else abandoned / 100.0,
                        "share": int(r["share"]) / 10000.0})
        out.sort(key=lambda p: p["at"])
        return out

    def at_snapshots(self, names: Sequence[str], digest: str, tick: int, taken_at: np.ndarray, refresh_s: float,
                     max_cycles: int = SNAPSHOT_MAX_CYCLES) -> tuple[np.ndarray, np.ndarray]:
        """``(sent_since_snapshot, pending_at_snapshot)`` of ``names`` (float64, NaN = unknown) for the cycle of
        ``tick``, whose statistics snapshots were taken at ``taken_at`` (unix seconds per target, NaN = none), from
        the cycles this cluster posted (the ``results`` list; ONE ``LRANGE``, plus a ``GET`` of the names of an
        entry whose target list differs from ``digest``'s).

        Per target, with ``k`` the latest cycle posted at or before its snapshot (by the time its reply arrived):

        * ``pending_at_snapshot`` = GPE's pending count in the reply to ``k``;
        * ``sent_since_snapshot`` = the invitations posted (the allowances) by the cycles after ``k``, up to the
          previous tick. OUR decision: GPE sends at most the allowance, so this is an upper bound of what was sent,
          which errs on the safe side (more in flight = fewer invitations). Not counted: what GPE sends of ``k``'s
          own allowance after its reply (the reply's pending is "right after the invitations were sent",
          docs/gpe-protocol.md; leads arriving later in that interval can still take the rest).

        NaN where it is not known: no snapshot; ``k`` not among the last ``max_cycles`` cycles (nor the
        ``ceil(age / refresh) + 1`` this cycle needs), or not recorded; a tick missing between ``k`` and the previous
        tick (a cycle that may have posted without being recorded; a tick that posted nothing also counts, which
        costs only the estimate for a few cycles); a target absent from ``k`` or from a cycle after it. A snapshot
        taken after the previous cycle's reply gets 0 sent and that reply's pending (the current pending): exact,
        as the engine's estimate would be at age 0.
        """
        size = len(names)
        sent_since, pending_at = np.full(size, np.nan), np.full(size, np.nan)
        taken = np.asarray(taken_at, dtype=np.float64)
        finite = np.isfinite(taken)
        if not size or not finite.any() or refresh_s <= 0:
            return sent_since, pending_at
        # entry i (newest first) is tick - 1 - i: the oldest snapshot needs ceil(tick - taken / refresh) + 1
        reach = tick - float(taken[finite].min()) / refresh_s
        need = int(min(max(1, max_cycles), max(1.0, math.ceil(reach) + 1)))
        heads, bodies = [], []
        for raw in self.client.lrange(self.results_key, 0, need - 1):
            header_raw, _, body = raw.partition(b"\n")
            try:
                header = orjson.loads(header_raw)
                at_tick, count = int(header["tick"]), int(header["count"])
                posted = float(header.get("posted", header["at"]))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                break
            if at_tick != tick - 1 - len(heads):         # a gap (or not the previous tick): unknown from here on
                break
            heads.append((posted, count, str(header.get("names"))))
            bodies.append(body)
        if not heads:
            return sent_since, pending_at
        posted_asc = np.array([h[0] for h in reversed(heads)])
        # per target: how many of the chain's cycles were posted after its snapshot (its k is entry ``after``)
        after = len(heads) - np.searchsorted(posted_asc, np.where(finite, taken, np.inf), side="right")
        valid = finite & (after < len(heads))
        if not valid.any():
            return sent_since, pending_at
        depth = int(after[valid].max()) + 1              # entries to decode: 0 .. k of the oldest snapshot
        invitations = np.empty((depth, size))
        pending = np.empty((depth, size))
        names_cache: dict[str, dict[str, int]] = {}
        for i in range(depth):
            _, count, entry_digest = heads[i]
            try:
                data = zlib.decompressobj().decompress(bodies[i], 8 * count)   # not the shares
                inv = np.frombuffer(data, dtype=np.int32, count=count)
                pend = np.frombuffer(data, dtype=np.int32, count=count, offset=4 * count)
            except (zlib.error, ValueError):
                invitations[i:], pending[i:] = np.nan, np.nan
                break
            if entry_digest == digest and count == size:
                invitations[i], pending[i] = inv, pend
                continue
            # the targets changed since that cycle: map by name (a Python loop, only on such cycles)
            index_of = self._names_index(entry_digest, names_cache)
            if len(index_of) != count:
                invitations[i], pending[i] = np.nan, np.nan
                continue
            where = np.fromiter((index_of.get(name, -1) for name in names), dtype=np.int64, count=size)
            there = where >= 0
            invitations[i], pending[i] = np.nan, np.nan
            invitations[i, there], pending[i, there] = inv[where[there]], pend[where[there]]
        # sent since = the allowances of entries 0 .. k-1 (a NaN, a target absent from one, stays NaN)
        np.cumsum(invitations, axis=0, out=invitations)
        rows = np.minimum(after, depth - 1)
        cols = np.arange(size)
        sent = invitations[np.maximum(rows - 1, 0), cols]
        sent[rows == 0] = 0.0
        sent_since[valid] = sent[valid]
        pending_at[valid] = np.maximum(pending[rows, cols][valid], 0.0)
        both = np.isfinite(sent_since) & np.isfinite(pending_at)
        sent_since[~both], pending_at[~both] = np.nan, np.nan
        return sent_since, pending_at

    def clear(self) -> None:
        names = list(self.client.scan_iter(match=self.names_base + "*", count=1000))
        names += self.client.scan_iter(match=self.hour_base + "*", count=1000)
        self.client.delete(self.pending_key, self.cycles_key, self.results_key, *names)
