"""Prometheus figures of the alarms: active alarms by condition, read from the database at scrape time.

A collector (not a gauge a process keeps) because alarms are shared state: any node may raise one and
any web worker may answer the scrape, so the truth is the table, not a process's memory.
"""

from __future__ import annotations

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from .models import Alarm, AlarmState


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
