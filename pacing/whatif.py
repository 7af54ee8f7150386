"""What-if (OURS; the vendor has no such tool): the invitations the engine would allow one target now, and with
the operator's changes to its agents, accept ratio, handle time or goal.

Both answers come from ONE call of ``pacing.engine.compute_invitations`` on a two-row ``TargetState`` (row 0:
the target as it is, row 1: with the overrides), built from the target's latest stats snapshot the way the
cycle builds it (``StatsStore.state_for``: stale or missing stats count as 0 ready and 0 busy agents), GPE's
last pending count for the target and its cluster's refresh period. What the cycle knows and this does not:
the cycle's record of invitations sent since the snapshot (``sent_since_snapshot`` / ``pending_at_snapshot``;
here the engine estimates them from ``pending`` and the snapshot's age) and the split of agents shared with
other targets. So "current" can differ from the invitations last posted (both are shown); the difference
between "current" and "what-if" is the engine's answer to the change.

The accept ratio is not an input of the engine: it estimates it from the window's counters (accepted over
resolved invitations, with a Beta prior worth ``prior_accept_weight`` resolved invitations). An accept ratio
override rewrites the window with the same number of resolved invitations, ``accepted = ratio × resolved``
(``declined`` the rest, ``expired`` 0) and the abandoned count scaled with ``accepted`` (the abandonment %
kept). With no resolved invitations in the window the engine has no evidence to weigh and runs on its cold
start (what free agents can certainly take): the override then changes nothing, and the answer says so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .engine import TargetState, compute_invitations
from .stats import StatsStore
from .types import DEFAULT_REFRESH_PERIOD_S

__all__ = ["OVERRIDES", "WhatIf", "what_if"]

#: the fields an operator may change: name → (label, lowest, highest, lowest excluded)
OVERRIDES = {
    "ready_agents": ("Ready agents", 0.0, 1e6, False),
    "busy_agents": ("Busy agents", 0.0, 1e6, False),
    "accept_ratio": ("Accept ratio", 0.0, 1.0, True),
    "aht_s": ("Average handle time (s)", 0.0, 86400.0, True),
    "goal_pct": ("Goal (% abandoned)", 0.0, 100.0, False),
}

#: the inputs reported with each answer, in order
_INPUTS = ("ready_agents", "busy_agents", "queued", "pending", "accepted", "abandoned", "sent", "declined",
           "expired", "aht_s", "goal_pct", "stats_age_s")


@dataclass
class WhatIf:
    current: dict        # {"invitations": n, "inputs": {...}, "accept_ratio": r | None}
    what_if: dict
    stale: bool          # the stats are stale or missing (the cycle then counts 0 agents)
    interval_s: float
    notes: list[str]


def _resolved(accepted: float, declined: float, expired: float, sent: float, pending: float) -> float:
    """The resolved invitations of the window as the engine counts them."""
    if math.isnan(declined) and math.isnan(expired):
        return max(_num(accepted), _num(sent) - pending)
    return _num(accepted) + _num(declined) + _num(expired)


def _num(value: float) -> float:
    return 0.0 if value is None or not math.isfinite(value) or value < 0 else float(value)


def what_if(tenant_id: int, target, overrides: dict, *, pending: float = 0.0,
            interval_s: float = DEFAULT_REFRESH_PERIOD_S, store: StatsStore | None = None,
            now: float | None = None) -> WhatIf:
    """The engine's answer for ``target`` (a pacing.targets.Target) as it is and with ``overrides`` (checked by
    the caller: names of ``OVERRIDES``, numbers in range)."""
    store = store or StatsStore(tenant_id)
    now = time.time() if now is None else now
    arrays, stale = store.state_for([target], now=now)
    snapshot = store.get_many([target.name]).get(target.name)
    row = {name: (float(value[0]) if value is not None else math.nan) for name, value in arrays.items()}
    row["pending"] = float(pending or 0)
    row["stats_age_s"] = 0.0 if snapshot is None or stale else max(0.0, now - snapshot.taken_at)
    notes = []
    if stale:
        notes.append("The target's stats are stale or missing: the engine counts 0 ready and 0 busy agents "
                     "(as the pacing cycle does) unless you change them.")
    changed = dict(row)
    for name in ("ready_agents", "busy_agents", "aht_s", "goal_pct"):
        if name in overrides:
            changed[name] = float(overrides[name])
    resolved = _resolved(row["accepted"], row["declined"], row["expired"], row["sent"], row["pending"])
    if "accept_ratio" in overrides:
        ratio = float(overrides["accept_ratio"])
        if resolved <= 0:
            notes.append("No resolved invitations in the stats window: the engine has no accept ratio to weigh "
                         "(cold start), so changing it changes nothing.")
        else:
            accepted = _num(row["accepted"])
            changed["accepted"] = ratio * resolved
            changed["declined"] = resolved - changed["accepted"]
            changed["expired"] = 0.0
            changed["abandoned"] = _num(row["abandoned"]) * changed["accepted"] / accepted if accepted else 0.0
    fields = {name: np.array([row[name], changed[name]], dtype=np.float64) for name in _INPUTS}
    for name in ("declined", "expired"):    # None, not NaN, when unknown: the engine's other path
        if np.isnan(fields[name]).all():
            fields[name] = None
        elif np.isnan(fields[name]).any():
            fields[name] = np.nan_to_num(fields[name], nan=0.0)
    invitations = compute_invitations(TargetState(**fields, interval_s=interval_s))

    def answer(values: dict, index: int) -> dict:
        res = _resolved(values["accepted"], values["declined"], values["expired"], values["sent"],
                        values["pending"])
        return {"invitations": int(invitations[index]),
                "accept_ratio": round(_num(values["accepted"]) / res, 4) if res > 0 else None,
                "inputs": {name: (None if not math.isfinite(values[name]) else round(values[name], 4))
                           for name in _INPUTS}}

    return WhatIf(current=answer(row, 0), what_if=answer(changed, 1), stale=bool(stale), interval_s=interval_s,
                  notes=notes)
