"""Prometheus figures of the alarms.

* ``pacing_active_alarms{condition, severity}``: a collector read from the database at scrape time, not a
  gauge a process keeps: alarms are shared state (any node may raise one, any web worker may answer the
  scrape), so the truth is the table, not a process's memory.
* ``pacing_alarm_events_total{kind, condition}``: what this process logged (multiprocess-safe counter).
"""

from __future__ import annotations

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from .models import Alarm, AlarmState

#: every event the runtime hands to the sinks, by kind (alarm.raised, alarm.cleared, event, ...); a process
#: metric, summed over the processes that share PROMETHEUS_MULTIPROC_DIR
ALARM_EVENTS = Counter("pacing_alarm_events", "Alarm events logged (raised, cleared, events without an alarm).",
                       ["kind", "condition"])


class ActiveAlarmsCollector:
    def collect(self):
        family = GaugeMetricFamily("pacing_active_alarms", "Active alarms by condition and severity.",
                                   labels=["condition", "severity"])
        try:
            rows = (Alarm.objects.filter(state=AlarmState.ACTIVE).values("condition_name", "severity")
                    .annotate(n=Count("id")).order_by("condition_name", "severity"))
            for row in rows:
                family.add_metric([row["condition_name"], row["severity"]], row["n"])
        except DatabaseError:  # the scrape still answers; /readyz names the database
            pass
        yield family


def collectors() -> list:
    return [ActiveAlarmsCollector()]
