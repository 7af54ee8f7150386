"""Types of the pacing cycle that cross layers without Django (the cycle, the tasks, the API, the bench).

Plain dataclasses and functions of the standard library only: the Celery tasks, the cycle, the API views and
the benchmarks share them, and none of them needs Django to build or read one.

OURS (the vendor publishes only ``optimizationGoal`` and ``targetEndpoint`` of these sections):

* ``pacing/refreshPeriod`` — seconds between two pacing cycles of a cluster, default 5. A value that is not a
  finite number greater than 0 (``0``, ``-5``, ``soon``, ``nan``) falls back to 5; the cluster loader logs ONE
  warning naming the option, the cluster and the value (again only when the value changes). At most 3600.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_REFRESH_PERIOD_S", "MAX_REFRESH_PERIOD_S", "ClusterSpec", "CycleRecord", "Outcome",
    "parse_refresh_period",
]

#: pacing/refreshPeriod when unset or invalid (OURS, as the option itself)
DEFAULT_REFRESH_PERIOD_S = 5.0
#: the longest refresh period accepted (an hour); longer values are clipped, with the warning
MAX_REFRESH_PERIOD_S = 3600.0


def parse_refresh_period(raw: Any) -> tuple[float, str | None]:
    """``pacing/refreshPeriod`` → ``(seconds, problem)``; the problem is None when the value is usable or unset.

    >>> parse_refresh_period("10")
    (10.0, None)
    >>> parse_refresh_period("soon")[0]
    5.0
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_REFRESH_PERIOD_S, None
    text = str(raw).strip()
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_REFRESH_PERIOD_S, (f"pacing/refreshPeriod {text[:40]!r} is not a number of seconds; "
                                          f"using {DEFAULT_REFRESH_PERIOD_S:g}")
    if not math.isfinite(value) or value <= 0:
        return DEFAULT_REFRESH_PERIOD_S, (f"pacing/refreshPeriod {text[:40]!r} must be a number of seconds above 0; "
                                          f"using {DEFAULT_REFRESH_PERIOD_S:g}")
    if value > MAX_REFRESH_PERIOD_S:
        return MAX_REFRESH_PERIOD_S, (f"pacing/refreshPeriod {text[:40]!r} is above {MAX_REFRESH_PERIOD_S:g} s; "
                                      f"using {MAX_REFRESH_PERIOD_S:g}")
    return value, None


@dataclass(frozen=True)
class ClusterSpec:
    """A pacing cluster as the beat and the cycle see it (read from the configuration each second)."""

    id: int
    name: str
    tenant: str                          # the owning tenant (where hybrid_integration is looked up first)
    tenants: tuple[str, ...]             # the tenants it serves (their targets are paced), by name
    refresh_s: float                     # pacing/refreshPeriod, seconds (valid; the default when not)
    period_problem: str | None = None    # why the raw value was not used
    options: dict = field(default_factory=dict, compare=False, repr=False)

    def tick(self, now: float) -> int:
        """The cycle's tick: ``floor(unix time / refresh period)``."""
        return int(now // self.refresh_s)


class Outcome:
    """How a cycle ended (the ``outcome`` of a record and the label of the cycles metric)."""

    POSTED = "posted"                        # posted, GPE answered a valid reply (target errors possible)
    STANDBY = "standby"                      # not the leader: heartbeat only
    NOT_POSTED = "not_posted"                # leader, but the lease expired or the tick was already claimed
    CONFIG_ERROR = "config_error"            # hybrid_integration (or the cluster's options) unusable
    REQUEST_FAILED = "request_failed"        # no valid HTTP answer: refused, timed out, 5xx, token failure
    FENCED = "fenced"                        # GPE answered 409: another leader's post counts
    INVALID_REPLY = "invalid_reply"          # the answer was not the documented shape
    REDIS_UNAVAILABLE = "redis_unavailable"  # no lease, no stats, nothing posted
    ERROR = "error"                          # a bug: logged with its traceback, the next cycle runs again

    ALL = (POSTED, STANDBY, NOT_POSTED, CONFIG_ERROR, REQUEST_FAILED, FENCED, INVALID_REPLY, REDIS_UNAVAILABLE,
           ERROR)


@dataclass
class CycleRecord:
    """One cycle, as recorded in the bounded history and returned by ``pacing.cycle.run_cycle``."""

    cluster: str
    node: str
    tick: int
    started_at: float                        # unix time
    epoch: int | None = None
    leader: bool = False
    outcome: str = Outcome.ERROR
    reason: str = ""                         # why nothing was posted, or what went wrong ("" when posted cleanly)
    durations_ms: dict[str, float] = field(default_factory=dict)   # stage → milliseconds
    targets: int = 0
    invitations: int = 0                     # sum over the targets posted
    pending: int = 0                         # sum of GPE's pending counts in the reply
    target_errors: int = 0
    shared_targets: int = 0                  # targets whose agents were split with other targets
    bytes_sent: int = 0
    interval_s: float = DEFAULT_REFRESH_PERIOD_S
    failure: str = ""                        # why no valid reply: config, connect, timeout, http, unauthorized,
                                             # token, invalid_reply, fenced ("" when there was one)

    @property
    def posted(self) -> bool:
        return self.outcome == Outcome.POSTED

    @property
    def duration_ms(self) -> float:
        return round(sum(self.durations_ms.values()), 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "node": self.node, "tick": self.tick, "epoch": self.epoch,
            "leader": self.leader, "outcome": self.outcome, "reason": self.reason,
            "started_at": round(self.started_at, 3), "duration_ms": self.duration_ms,
            "durations_ms": {k: round(v, 3) for k, v in self.durations_ms.items()},
            "targets": self.targets, "invitations": self.invitations, "pending": self.pending,
            "target_errors": self.target_errors, "shared_targets": self.shared_targets,
            "bytes_sent": self.bytes_sent, "interval_s": self.interval_s, "failure": self.failure,
        }
