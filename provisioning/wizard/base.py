"""The deployment wizard's machinery: a step, its status, and the rule that a step opens only after the earlier ones.

Why no state store (ours): each step's status is computed from the configuration itself — the template exists, the
cluster exists and has a Stat Server connection, … — so a wizard left half-way is resumed by naming the cluster
again, and a change made elsewhere (the admin's change page, the API, ``manage.py provision``) is seen at once.
A step's ``apply`` writes through configdb/services.py or the provisioning services with the acting user; it
raises :class:`WizardError` (a field and a message), Django's ValidationError / PermissionDenied, or the
provisioning and template errors, and the callers (the admin pages, the API) turn each into a message naming the
field. Every ``apply`` runs in one transaction: a refused step writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Status", "Step", "Wizard", "WizardError", "first_incomplete", "gate"]


class WizardError(Exception):
    """A step refused its input; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class Status:
    """``done``: the configuration has what the step produces (``optional`` steps count as done when skipped).
    ``detail``: one line saying what is there or what is missing. ``warnings``: the seeds' advice not followed."""

    done: bool
    detail: str
    optional: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """May the next step be opened (an optional step never holds the wizard back)."""
        return self.done or self.optional

    @property
    def label(self) -> str:
        if self.done:
            return "done"
        return "optional" if self.optional else "to do"


@dataclass(frozen=True)
class Step:
    """One of the seed's nine steps. ``serializer(cluster, …)`` validates its input (also the admin form's fields);
    ``status(cluster)`` reads the configuration; ``apply(cluster, data, user)`` writes and returns a list of
    messages (what was done) and, for the install step, the plan; ``context(cluster, user)`` adds what the page
    shows beside the form (the plan preview, the alarm conditions, …)."""

    number: int
    key: str
    title: str
    seed: str
    serializer: type
    status: Callable[[str], Status]
    apply: Callable[..., dict]
    context: Callable[..., dict] = field(default=lambda cluster, user: {})
    files: tuple[str, ...] = ()         # inputs that are uploads on the admin page (bytes), text in the API
    initial: Callable[[str], dict] = field(default=lambda cluster: {})   # the form's values on the admin page


def first_incomplete(steps: list[Step], statuses: dict[str, Status]) -> Step | None:
    """The first step that is not done (None: all are, the summary may be shown)."""
    return next((s for s in steps if not statuses[s.key].passed), None)


def gate(steps: list[Step], step: Step, statuses: dict[str, Status]) -> Step | None:
    """The earlier step that keeps ``step`` closed (None: it may be opened)."""
    return next((s for s in steps if s.number < step.number and not statuses[s.key].passed), None)


@dataclass(frozen=True)
class Wizard:
    """Ours: a wizard is a list of steps and how its subject (the name in the URL) is checked and resolved, so the
    pacing deployment wizard and the Interaction Server cluster wizard share flow.submit, the API views and the
    admin pages. ``check_name(name)``: why the name cannot name a subject (None: it can). ``subject(name)``: the
    configuration object named (None: not created yet), used to hide another tenant's subject (404)."""

    key: str
    title: str
    steps: tuple[Step, ...]
    check_name: Callable[[str], str | None]
    subject: Callable[[str], object]
    #: the subjects the start page lists: ``subjects(user)`` → names (the user's readable tenants only)
    subjects: Callable[..., list[str]] = field(default=lambda user: [])
    #: steps the admin page repeats before moving on (one node, one pair at a time)
    repeated: frozenset[str] = frozenset()
    start_template: str = "admin/wizard/start.html"
    #: the config doctor's findings the summary shows: ``findings(name, user)`` → doctor.Finding rows
    findings: Callable[..., list] = field(default=lambda name, user: [])

    @property
    def by_key(self) -> dict[str, Step]:
        return {s.key: s for s in self.steps}
