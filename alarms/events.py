"""What the alarm runtime hands to the sinks: one log event, with its Configuration Server event id.

Django-free, so the sinks (log, syslog, webhook) and their tests need nothing else.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any


class Kind:
    ALARM_RAISED = "alarm.raised"      # a detect event that raised (or updated) an active alarm
    ALARM_CLEARED = "alarm.cleared"    # a cancel event, a timeout, or a user's clear
    EVENT = "event"                    # a detect or cancel event that raised nothing (condition missing/disabled)
    METRICS = "metrics.report"         # a periodic metrics report (the cluster's metrics/reporter.* options)
    LOG = "log"                        # an ordinary log record sent to the network (Message Server) output


@dataclass(frozen=True)
class Event:
    kind: str
    event_id: int | None               # detect / cancel event id; None for metrics reports and plain log lines
    message: str
    condition: str = ""                # the alarm condition's name, when the event belongs to one
    severity: str = "info"             # critical / major / minor for alarms (the condition's category), else info
    node: str = ""                     # the application (pacing node) that logged it
    source: str = ""                   # what the alarm is about (the pacing cluster, or the node itself)
    context: dict[str, Any] = field(default_factory=dict)
    time: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "eventId": self.event_id, "message": self.message,
                "condition": self.condition, "severity": self.severity, "node": self.node,
                "source": self.source, "context": dict(self.context), "time": self.time.isoformat()}
