"""Blended agents: splitting the agents that several pacing targets share, so none is offered twice.

The vendor lets an agent in several agent groups count for each target of each media they handle (seed:
"How pacing works"); the stats store reports each target's ready and busy agents counting such an agent in
every one of them. Left alone, the engine would offer the same ready agent to two targets in one interval,
and the invitations of both would land on that agent. The rule here is OURS:

* **Who is shared.** From the configuration: a target's agents are the enabled agents (``is_agent``) of its
  regular agent groups who handle its media (a person listing no media type counts for every media). An
  agent who is an agent of two or more targets is *shared*. Members of virtual groups (skill expressions)
  are not known to the configuration and are never split.
* **How it is split.** Each shared agent's capacity (1 agent) is divided between the targets they serve in
  proportion to each target's **demand** ``1 + accepted + queued`` (PACS_VQ_Accepted over the stats window
  plus PACS_VQ_Current now; the 1 makes it an equal split when nothing is known). A target's **share** is
  ``(exclusive agents + Σ its part of each shared agent) / its agents``, in (0, 1]; the cycle gives the
  engine ``ready × share`` and ``busy × share`` (fractional agents are fine for the engine). Over all the
  targets of a shared agent, the parts sum to 1: the agent is counted once.
* **What it assumes.** The stats give counts, not which agents are ready: a target's ready and busy agents
  are taken as spread evenly over its agents. The share is shown per target in the targets API
  (``invitations.share``).

``Membership`` is built from the configuration (two SQL queries, cached while the targets are); ``shares``
is numpy only and runs every cycle (a few ms for 100,000 targets).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Membership", "demand_weights", "load_membership", "shares"]


@dataclass(frozen=True)
class Membership:
    """Which known agents each target has, in the order of the cycle's targets (numpy arrays)."""

    total: np.ndarray        # float64 per target: its known agents
    exclusive: np.ndarray    # float64 per target: those that serve no other target
    pair_agent: np.ndarray   # int64: for each (shared agent, target) pair, the shared agent's index
    pair_target: np.ndarray  # int64: ... and the target's index
    shared_agents: int

    @property
    def size(self) -> int:
        return int(self.total.size)

    @property
    def shared_targets(self) -> np.ndarray:
        """bool per target: some of its agents serve other targets too."""
        return self.exclusive < self.total

    @classmethod
    def from_agents(cls, agents_per_target: Sequence[Sequence[int]]) -> Membership:
        """From each target's agent ids (any hashable ids; duplicates within a target count once)."""
        size = len(agents_per_target)
        owners: dict = {}
        total = np.zeros(size)
        for index, agents in enumerate(agents_per_target):
            unique = set(agents)
            total[index] = len(unique)
            for agent in unique:
                entry = owners.get(agent)
                if entry is None:
                    owners[agent] = index
                elif isinstance(entry, list):
                    entry.append(index)
                else:
                    owners[agent] = [entry, index]
        shared = [targets for targets in owners.values() if isinstance(targets, list)]
        pair_agent = np.fromiter((a for a, targets in enumerate(shared) for _ in targets), dtype=np.int64)
        pair_target = np.fromiter((t for targets in shared for t in targets), dtype=np.int64)
        exclusive = total - np.bincount(pair_target, minlength=size).astype(np.float64)
        return cls(total, exclusive, pair_agent, pair_target, len(shared))

    @classmethod
    def empty(cls, size: int) -> Membership:
        zeros = np.zeros(size)
        none = np.zeros(0, dtype=np.int64)
        return cls(zeros, zeros.copy(), none, none.copy(), 0)


def demand_weights(accepted: np.ndarray, queued: np.ndarray) -> np.ndarray:
    """``1 + accepted + queued`` per target, NaN / negative counted as 0."""
    weights = np.nan_to_num(np.asarray(accepted, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    weights = np.maximum(weights, 0.0)
    weights += np.maximum(np.nan_to_num(np.asarray(queued, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0),
                          0.0)
    weights += 1.0
    return weights


def shares(membership: Membership, weights: np.ndarray) -> np.ndarray:
    """Each target's share of its ready and busy agents, in (0, 1] (1 for targets that share nobody)."""
    size = membership.size
    result = np.ones(size)
    if membership.shared_agents == 0 or size == 0:
        return result
    w = np.asarray(weights, dtype=np.float64)[membership.pair_target]
    denom = np.bincount(membership.pair_agent, weights=w, minlength=membership.shared_agents)
    part = w / denom[membership.pair_agent]
    shared_part = np.bincount(membership.pair_target, weights=part, minlength=size)
    known = membership.total > 0
    result[known] = (membership.exclusive[known] + shared_part[known]) / membership.total[known]
    np.clip(result, 0.0, 1.0, out=result)
    return result


# --- from the configuration (Django) ---------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[tuple, Membership] = {}


def load_membership(targets: Sequence, tenant_ids: Sequence[int], cache_key: tuple | None = None) -> Membership:
    """The membership of ``targets`` (pacing.targets.Target, in the cycle's order) of the given tenants.

    Two SQL queries (group members, their media); cached under ``cache_key`` (the cycle passes the targets'
    discovery versions) while it is unchanged.
    """
    if cache_key is not None:
        found = _cache.get(cache_key)
        if found is not None and found.size == len(targets):
            return found
    from configdb.models import AgentGroup, Person, State

    members = (AgentGroup.agents.through.objects
               .filter(agentgroup__tenant_id__in=list(tenant_ids), person__state=State.ENABLED,
                       person__is_agent=True)
               .values_list("agentgroup_id", "person_id"))
    group_agents: dict[int, list[int]] = {}
    for group_id, person_id in members:
        group_agents.setdefault(group_id, []).append(person_id)
    media_rows = (Person.media_types.through.objects
                  .filter(person__agent_groups__tenant_id__in=list(tenant_ids))
                  .values_list("person_id", "mediatype__name").distinct())
    media: dict[int, set[str]] = {}
    for person_id, name in media_rows:
        media.setdefault(person_id, set()).add(name)
    per_target = []
    for target in targets:
        agents = []
        for group in target.agent_groups:
            for person_id in group_agents.get(group.id, ()):
                handled = media.get(person_id)
                if handled is None or target.media in handled:
                    agents.append(person_id)
        per_target.append(agents)
    membership = Membership.from_agents(per_target)
    if cache_key is not None:
        with _cache_lock:
            if len(_cache) > 64:
                _cache.clear()
            _cache[cache_key] = membership
    return membership


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
