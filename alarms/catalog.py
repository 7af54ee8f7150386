"""The five alarm conditions of the Agent Pacing Service (seeds/pacing-provisioning.txt).

The vendor's provisioning tool creates them in the tenant's ``PacingService`` alarm folder, category
Major, timeout 86400 s, with these detect / cancel log-event ids. They are the one declaration of the
conditions: ``load_demo`` and the provisioning service create the configuration rows from here, and the
runtime (``alarms.runtime``) maps a condition's code to the event ids it logs.

The descriptions of GC Latency and Heap Memory Usage are GAX's list truncated in the seed; the text after
the truncation is ours.
"""

from __future__ import annotations

from dataclasses import dataclass

FOLDER = "PacingService"
CATEGORY = "major"
TIMEOUT_S = 86400


@dataclass(frozen=True)
class Condition:
    """One alarm condition as Configuration Server stores it (CfgAlarmCondition)."""

    code: str            # the condition's name, also the code callers raise it by
    description: str
    detect_event_id: int
    cancel_event_id: int
    category: str = CATEGORY
    timeout_s: int = TIMEOUT_S


GC_LATENCY = "GC Latency"
HEAP_MEMORY_USAGE = "Heap Memory Usage"
PACING_REQUESTS_FAILED = "PacingRequestsFailed"
PACING_RESPONSE_TARGET_ERROR = "PacingResponseTargetError"
PACING_RESPONSE_VALIDATION_ERROR = "PacingResponseValidationError"

CONDITIONS: tuple[Condition, ...] = (
    Condition(GC_LATENCY, "Defines the garbage collection latency threshold; raised when a collection pause "
              "exceeds it.", 10005, 10006),
    Condition(HEAP_MEMORY_USAGE, "Defines the heap memory usage threshold; raised when the used share exceeds "
              "it.", 10001, 10002),
    Condition(PACING_REQUESTS_FAILED, "Indicates that error occurs during pacing requests to Genesys Predictive "
              "Engagement.", 100603, 100604),
    Condition(PACING_RESPONSE_TARGET_ERROR, "Triggers if response contains error of pacing target processing.",
              100605, 100606),
    Condition(PACING_RESPONSE_VALIDATION_ERROR, "Triggers if response contains invalid data.", 100607, 100608),
)

BY_CODE: dict[str, Condition] = {c.code: c for c in CONDITIONS}
BY_EVENT: dict[int, Condition] = {**{c.detect_event_id: c for c in CONDITIONS},
                                  **{c.cancel_event_id: c for c in CONDITIONS}}


def get(code: str | int) -> Condition:
    """The condition named ``code``, or whose detect or cancel event id it is; KeyError otherwise."""
    if isinstance(code, int):
        return BY_EVENT[code]
    return BY_CODE[code]
