"""Shapes of the pacing API (for the OpenAPI schema) and the validation of a stats push.

The stats push is validated by plain Python (``validate_snapshots``), not by a DRF serializer per row: a push
holds up to 10,000 rows and is sent every few seconds. The serializers below describe the same shapes for
the schema and Swagger UI.
"""

from __future__ import annotations

import math
import time

from rest_framework import serializers

from ..stats import StatsSnapshot

#: rows per push (one per target: a pacing node handles up to 10,000 targets, seeds/pacing-architecture)
MAX_SNAPSHOTS = 10_000
#: at most this many problems are listed in a 400
MAX_ERRORS = 100
#: how far in the future ``taken_at`` may be (clock skew between the bridge and this server), seconds
MAX_CLOCK_SKEW_S = 60.0

#: field → (required, upper bound, what it is)
NUMBER_FIELDS: dict[str, tuple[bool, float, str]] = {
    "ready_agents": (True, 1_000_000, "agents of the target's groups ready for its media"),
    "busy_agents": (True, 1_000_000, "agents of the target's groups handling an interaction"),
    "current": (True, 1_000_000_000, "PACS_VQ_Current: accepted interactions waiting in the virtual queue"),
    "accepted": (True, 1_000_000_000, "PACS_VQ_Accepted over the stats window"),
    "abandoned": (True, 1_000_000_000, "PACS_VQ_Abandoned over the stats window"),
    "aht_s": (False, 86_400, "average handle time, seconds (null or absent: unknown)"),
    "sent": (False, 1_000_000_000, "invitations sent over the stats window (null or absent: unknown)"),
    "declined": (False, 1_000_000_000, "invitations declined over the stats window (null or absent: unknown)"),
    "expired": (False, 1_000_000_000, "invitations expired over the stats window (null or absent: unknown)"),
}
ROW_FIELDS = ("target", *NUMBER_FIELDS, "taken_at")


# --- the stats push -----------------------------------------------------------------------------------------


def _number(value, name: str, bound: float) -> tuple[float | None, str | None]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "text" if isinstance(value, str) else type(value).__name__
        return None, f"{name}: must be a number, not {kind}."
    number = float(value)
    if not math.isfinite(number):
        return None, f"{name}: must be a finite number."
    if number < 0:
        return None, f"{name}: must not be negative."
    if number > bound:
        return None, f"{name}: must be at most {bound:,.0f}."
    return number, None


def validate_snapshots(rows, target_names, tenant_name: str, now: float | None = None
                       ) -> tuple[list[StatsSnapshot], list[str]]:
    """``rows`` (parsed JSON) → snapshots, or the problems, each naming its row (``snapshots[2].target: …``)."""
    now = time.time() if now is None else now
    if not isinstance(rows, list):
        return [], ["snapshots: expected a list of objects."]
    if not rows:
        return [], ["snapshots: the list is empty."]
    if len(rows) > MAX_SNAPSHOTS:
        return [], [f"snapshots: at most {MAX_SNAPSHOTS:,} rows per request (got {len(rows):,})."]
    errors: list[str] = []
    snapshots: list[StatsSnapshot] = []
    first_row: dict[str, int] = {}
    allowed = set(ROW_FIELDS)
    for index, row in enumerate(rows):
        where = f"snapshots[{index}]"
        if not isinstance(row, dict):
            errors.append(f"{where}: expected an object.")
            continue
        problems = [f"{where}.{str(key)[:80]}: unknown field." for key in row if key not in allowed]
        target = row.get("target")
        if target is None:
            problems.append(f"{where}.target: required.")
        elif not isinstance(target, str):
            problems.append(f"{where}.target: must be text.")
        elif target not in target_names:
            problems.append(f"{where}.target: no pacing target named {target[:200]!r} in tenant {tenant_name!r}.")
        elif target in first_row:
            problems.append(f"{where}.target: {target[:200]!r} is given twice (also snapshots[{first_row[target]}]).")
        else:
            first_row[target] = index
        values: dict[str, float | None] = {}
        for name, (required, bound, _what) in NUMBER_FIELDS.items():
            raw = row.get(name)
            if raw is None:
                if required:
                    problems.append(f"{where}.{name}: required." if name not in row else
                                    f"{where}.{name}: may not be null.")
                values[name] = None
                continue
            values[name], problem = _number(raw, f"{where}.{name}", bound)
            if problem:
                problems.append(problem)
        taken_at = now
        if row.get("taken_at") is not None:
            taken_at, problem = _number(row["taken_at"], f"{where}.taken_at", now + MAX_CLOCK_SKEW_S)
            if problem and "at most" in problem:
                problem = (f"{where}.taken_at: is in the future (more than {MAX_CLOCK_SKEW_S:.0f} s ahead of the "
                           "server's clock).")
            if problem:
                problems.append(problem)
        elif "taken_at" in row:
            problems.append(f"{where}.taken_at: may not be null (leave it out: the time of receipt).")
        if problems:
            errors += problems
            if len(errors) >= MAX_ERRORS:
                break
            continue
        snapshots.append(StatsSnapshot(
            target=target, ready_agents=values["ready_agents"], busy_agents=values["busy_agents"],
            current=values["current"], accepted=values["accepted"], abandoned=values["abandoned"],
            aht_s=math.nan if values["aht_s"] is None else values["aht_s"], sent=values["sent"],
            declined=values["declined"], expired=values["expired"], taken_at=taken_at,
        ))
    if len(errors) > MAX_ERRORS:
        errors = errors[:MAX_ERRORS] + ["… and more problems: fix these first."]
    return snapshots, errors


# --- schema shapes -------------------------------------------------------------------------------------------


class _Number(serializers.FloatField):
    def __init__(self, required: bool, bound: float, what: str):
        super().__init__(required=required, allow_null=not required, min_value=0, max_value=bound, help_text=what)


class StatsRowSerializer(serializers.Serializer):
    """One target's latest stats."""

    target = serializers.CharField(help_text="The pacing target's name, e.g. 'Proactive Chat - chat'.")
    ready_agents = _Number(*NUMBER_FIELDS["ready_agents"])
    busy_agents = _Number(*NUMBER_FIELDS["busy_agents"])
    current = _Number(*NUMBER_FIELDS["current"])
    accepted = _Number(*NUMBER_FIELDS["accepted"])
    abandoned = _Number(*NUMBER_FIELDS["abandoned"])
    aht_s = _Number(*NUMBER_FIELDS["aht_s"])
    sent = _Number(*NUMBER_FIELDS["sent"])
    declined = _Number(*NUMBER_FIELDS["declined"])
    expired = _Number(*NUMBER_FIELDS["expired"])
    taken_at = serializers.FloatField(required=False, min_value=0,
                                      help_text="When the stats were taken, unix time (default: the time of receipt).")


class StatsPushSerializer(serializers.Serializer):
    tenant = serializers.CharField(help_text="The tenant's name (or id) whose targets these are.")
    snapshots = StatsRowSerializer(many=True, max_length=MAX_SNAPSHOTS,
                                   help_text=f"One row per target, at most {MAX_SNAPSHOTS:,}.")


class StatsPushResultSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="Snapshots stored.")


class ProblemsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField(), required=False,
                                   help_text="One line per problem, naming the row and field.")


class PacingObjectSerializer(serializers.Serializer):
    """A related configuration object: id, API URL, name."""

    id = serializers.IntegerField()
    url = serializers.URLField(allow_null=True)
    name = serializers.CharField()


class TargetStatsSerializer(serializers.Serializer):
    ready_agents = serializers.FloatField()
    busy_agents = serializers.FloatField()
    current = serializers.FloatField(help_text="PACS_VQ_Current.")
    accepted = serializers.FloatField(help_text="PACS_VQ_Accepted over the stats window.")
    abandoned = serializers.FloatField(help_text="PACS_VQ_Abandoned over the stats window.")
    aht_s = serializers.FloatField(allow_null=True, help_text="Average handle time, seconds (null: unknown).")
    sent = serializers.FloatField(allow_null=True)
    declined = serializers.FloatField(allow_null=True)
    expired = serializers.FloatField(allow_null=True)
    taken_at = serializers.FloatField(help_text="Unix time.")
    age_s = serializers.FloatField(help_text="Seconds since taken_at when this answer was made.")


class TargetErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="GPE's error code for the target.")
    message = serializers.CharField(allow_blank=True)


class TargetInvitationsSerializer(serializers.Serializer):
    invitations = serializers.IntegerField(allow_null=True, help_text="Invitations posted for the interval.")
    pending = serializers.IntegerField(allow_null=True,
                                       help_text="Pending invitations from GPE's reply to that post: what the next "
                                                 "cycle counts as committed (kept from before when the reply was "
                                                 "invalid or named an error for the target).")
    share = serializers.FloatField(allow_null=True,
                                   help_text="Share of the target's ready and busy agents the engine counted "
                                             "(below 1 when agents serve several targets: blended agents).")
    tick = serializers.IntegerField(allow_null=True, help_text="The pacing cycle's tick.")
    epoch = serializers.IntegerField(allow_null=True, help_text="The lease epoch the cycle posted with.")
    at = serializers.FloatField(allow_null=True, help_text="Unix time of the cycle.")
    cluster = serializers.CharField(allow_null=True, help_text="The pacing cluster that posted it.")
    error = TargetErrorSerializer(allow_null=True, help_text="GPE's error for the target in that reply, or null.")


class PacingTargetSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="'<virtual queue> - <media>'.")
    tenant = PacingObjectSerializer()
    queue = PacingObjectSerializer(help_text="The virtual queue.")
    switch = serializers.CharField(help_text="The name of the virtual queue's switch.")
    media = serializers.CharField()
    agent_groups = PacingObjectSerializer(many=True, help_text="Enabled agent groups listing the queue, by name.")
    goal_pct = serializers.FloatField(help_text="optimizationGoal, percent.")
    goal_source = serializers.ChoiceField(choices=["queue", "cluster", "default"],
                                          help_text="Where the goal comes from.")
    stats = TargetStatsSerializer(allow_null=True, help_text="The latest stats snapshot (null: none).")
    stale = serializers.BooleanField(help_text="The stats are older than PACING_STATS_MAX_AGE_S, or missing: "
                                               "the engine gets no agents for the target (0 invitations).")
    invitations = TargetInvitationsSerializer(allow_null=True,
                                              help_text="The pacing cycle's latest result (null: none yet).")


class NodeLastCycleSerializer(serializers.Serializer):
    tick = serializers.IntegerField(allow_null=True)
    outcome = serializers.CharField(allow_null=True, help_text="posted, standby, not_posted, config_error, "
                                                               "request_failed, fenced, invalid_reply, error.")
    duration_ms = serializers.FloatField(allow_null=True)
    targets = serializers.IntegerField(allow_null=True)
    invitations = serializers.IntegerField(allow_null=True)
    refresh_s = serializers.FloatField(allow_null=True, help_text="The cluster's refresh period, seconds.")


class PacingNodeSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The node's name (the <node> of `celery … worker -n <node>@%h`).")
    cluster = PacingObjectSerializer(help_text="The pacing cluster (Application Cluster application).")
    leader = serializers.BooleanField(help_text="The node holds the cluster's leader lease now.")
    leader_node = serializers.CharField(allow_null=True, help_text="The cluster's leader, or null (no leader).")
    posting = serializers.BooleanField(help_text="The node's last cycle posted to GPE with a valid reply.")
    reason = serializers.CharField(allow_null=True, help_text="Why the node is not posting (null when it is).")
    last_heartbeat = serializers.FloatField(help_text="Unix time of the node's last heartbeat.")
    heartbeat_age_s = serializers.FloatField(allow_null=True)
    epoch = serializers.IntegerField(allow_null=True, help_text="The cluster's current epoch (fencing number).")
    node_epoch = serializers.IntegerField(allow_null=True, help_text="The epoch this node last held, or null.")
    lease_age_s = serializers.FloatField(allow_null=True, help_text="Seconds since the leader acquired the lease.")
    lease_ttl_ms = serializers.IntegerField(allow_null=True, help_text="The lease's remaining time to live.")
    last_cycle = NodeLastCycleSerializer()


class PacingCycleSerializer(serializers.Serializer):
    """One cycle of a leader, from the bounded history (pacing/history.py)."""

    cluster = serializers.CharField()
    node = serializers.CharField()
    tick = serializers.IntegerField()
    epoch = serializers.IntegerField(allow_null=True)
    leader = serializers.BooleanField()
    outcome = serializers.CharField(help_text="posted, not_posted, config_error, request_failed, fenced, "
                                              "invalid_reply, redis_unavailable, error.")
    reason = serializers.CharField(allow_blank=True, help_text="Why nothing was posted, or what went wrong.")
    started_at = serializers.FloatField(help_text="Unix time.")
    duration_ms = serializers.FloatField()
    durations_ms = serializers.DictField(child=serializers.FloatField(),
                                         help_text="Milliseconds per stage: config, lease, targets, stats, engine, "
                                                   "encode, post, record.")
    targets = serializers.IntegerField()
    invitations = serializers.IntegerField(help_text="Invitations posted (sum over the targets).")
    pending = serializers.IntegerField(help_text="GPE's pending invitations in the reply (sum).")
    target_errors = serializers.IntegerField()
    shared_targets = serializers.IntegerField(help_text="Targets whose agents were split with others.")
    bytes_sent = serializers.IntegerField(help_text="Bytes of the post on the wire.")
    interval_s = serializers.FloatField(help_text="The refresh period, seconds.")
    failure = serializers.CharField(allow_blank=True, help_text="Why there was no valid reply: config, connect, "
                                                                "timeout, http, unauthorized, token, invalid_reply, "
                                                                "fenced; empty when there was one.")


class PacingSeriesPointSerializer(serializers.Serializer):
    """One target's point of the last hour (for charts): means over the cycles posted in one step."""

    tick = serializers.IntegerField(help_text="The step's last posted tick.")
    at = serializers.FloatField(help_text="Unix time: the mean start of the step's cycles.")
    start = serializers.IntegerField(help_text="Unix time the step starts.")
    step_s = serializers.IntegerField(help_text="The step, seconds (PACING_HISTORY_HOUR_STEP_S).")
    cycles = serializers.IntegerField(help_text="Posted cycles in the step (so far, for the newest).")
    invitations = serializers.FloatField(help_text="Invitations allowed per cycle (mean).")
    pending = serializers.FloatField(help_text="GPE's pending invitations (mean).")
    ready_agents = serializers.FloatField(allow_null=True, help_text="Ready agents of the stats (mean; null: "
                                                                     "no fresh stats in the step).")
    abandoned_pct = serializers.FloatField(allow_null=True, help_text="100 × abandoned / accepted of the stats "
                                                                      "window (mean; null: nothing accepted).")
    share = serializers.FloatField(help_text="The blended share of the target's agents (mean).")


class _Override(serializers.FloatField):
    """A finite number (not a boolean) within an override's range (pacing/whatif.py ``OVERRIDES``), the
    message naming the range."""

    def __init__(self, name: str, **kwargs):
        from ..whatif import OVERRIDES

        self.label_text, self.lo, self.hi, self.lo_open = OVERRIDES[name]
        super().__init__(required=False, allow_null=True, help_text=self.range_text(), **kwargs)

    def range_text(self) -> str:
        return f"{self.label_text}: {'above' if self.lo_open else 'at least'} {self.lo:g}, at most {self.hi:g}."

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value) or value > self.hi or value < self.lo or (self.lo_open and value <= self.lo):
            raise serializers.ValidationError(f"Expected a number {'above' if self.lo_open else 'at least'} "
                                              f"{self.lo:g} and at most {self.hi:g}; got {value:g}.")
        return value


class WhatIfRequestSerializer(serializers.Serializer):
    tenant = serializers.CharField(max_length=255, help_text="The tenant's name or id.")
    target = serializers.CharField(max_length=255, help_text="The target's name, e.g. 'Proactive Chat - chat'.")
    ready_agents = _Override("ready_agents")
    busy_agents = _Override("busy_agents")
    accept_ratio = _Override("accept_ratio")
    aht_s = _Override("aht_s")
    goal_pct = _Override("goal_pct")


class WhatIfInputsSerializer(serializers.Serializer):
    ready_agents = serializers.FloatField(allow_null=True)
    busy_agents = serializers.FloatField(allow_null=True)
    queued = serializers.FloatField(allow_null=True)
    pending = serializers.FloatField(allow_null=True)
    accepted = serializers.FloatField(allow_null=True)
    abandoned = serializers.FloatField(allow_null=True)
    sent = serializers.FloatField(allow_null=True)
    declined = serializers.FloatField(allow_null=True)
    expired = serializers.FloatField(allow_null=True)
    aht_s = serializers.FloatField(allow_null=True, help_text="null: unknown (the engine's default, 300 s).")
    goal_pct = serializers.FloatField(allow_null=True)
    stats_age_s = serializers.FloatField(allow_null=True)


class WhatIfAnswerSerializer(serializers.Serializer):
    invitations = serializers.IntegerField()
    accept_ratio = serializers.FloatField(allow_null=True, help_text="accepted / resolved in the stats window.")
    inputs = WhatIfInputsSerializer()


class WhatIfSerializer(serializers.Serializer):
    tenant = PacingObjectSerializer()
    target = serializers.CharField()
    goal_source = serializers.CharField()
    stale = serializers.BooleanField()
    interval_s = serializers.FloatField()
    posted = TargetInvitationsSerializer(allow_null=True, help_text="The pacing cycle's latest result.")
    overrides = serializers.DictField(child=serializers.FloatField())
    current = WhatIfAnswerSerializer()
    what_if = WhatIfAnswerSerializer()
    notes = serializers.ListField(child=serializers.CharField())
