#!/usr/bin/env python3
"""Benchmark: how far the engine is from the OPTIMAL pacing policy of a small team (issue 9's 20-agent edge).

The count simulator's model (memoryless handle times, patience and answers; plenty of leads) is a
continuous-time Markov decision process with the state (B busy agents, Q queued visitors, U pending
invitations): completions at rate B / AHT, abandonments Q / patience, answers U / accept delay (each an accept
with probability p). After every event the controller may send invitations (U -> any U' >= U, free). The
optimal policy for "busy agents - c x abandonments per second" is found by relative value iteration on the
uniformised chain (Puterman, *Markov Decision Processes*, 1994, 8.5.5 and 11.5); it is a send-up-to level
S(B, Q), and varying c traces the frontier of occupancy against abandonment that no policy with exact,
current statistics can beat. Its stationary distribution gives the occupancy and the abandonment ratio.

Printed per team size and cost c: the optimal policy's occupancy and abandonment (control after every event:
an upper bound), its levels as expected accepts in flight per free agent, and with ``--simulate`` the same
policy applied only every refresh period (5 s) in both simulators of bench/quality.py (steady load, exact
statistics, ``--seeds`` seeds x 3 targets), beside the real engine on the same runs.

    python3 dev.py bench optimal                         # 20 agents, c = 300, 500, 800
    python3 dev.py bench optimal --agents 5,10,20 --costs 300,1000 --simulate
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import quality  # noqa: E402  (bench/quality.py: the scenarios, simulators and totals)

AHT_S, PATIENCE_S, DELAY_S, P_ACCEPT = 300.0, 60.0, 20.0, 0.3     # bench/quality.py's common parameters
QUEUE_MAX, PENDING_MAX_PER_AGENT = 14, 0.8     # pending up to 0.8 n / p (all agents free: 0.8 n accepts)


class TeamMDP:
    """The pacing MDP of one team of ``n`` agents (truncated: queue <= QUEUE_MAX, pending <= u_max)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.u_max = int(max(12, PENDING_MAX_PER_AGENT * n / P_ACCEPT))
        self.mu, self.theta, self.delta = 1 / AHT_S, 1 / PATIENCE_S, 1 / DELAY_S
        self.b, self.q, self.u = np.meshgrid(np.arange(n + 1), np.arange(QUEUE_MAX + 1), np.arange(self.u_max + 1),
                                             indexing="ij")
        self.valid = (self.q == 0) | (self.b == n)        # visitors queue only while every agent is busy
        self.rate = self.mu * n + self.theta * QUEUE_MAX + self.delta * self.u_max   # uniformisation constant
        b, q, u = self.b, self.q, self.u
        self.after_completion = (np.where(q > 0, b, np.maximum(b - 1, 0)), np.where(q > 0, q - 1, q), u)
        self.after_abandon = (b, np.maximum(q - 1, 0), u)
        self.after_accept = (np.where(b < n, b + 1, b), np.where(b < n, q, np.minimum(q + 1, QUEUE_MAX)),
                             np.maximum(u - 1, 0))
        self.after_decline = (b, q, np.maximum(u - 1, 0))

    def _rates(self):
        return self.mu * self.b, self.theta * self.q, self.delta * self.u

    def solve(self, cost: float, max_iter: int = 200000, tol: float = 1e-7) -> np.ndarray:
        """The optimal send-up-to level S[B, Q] for reward B - cost * (abandonment rate).

        Relative value iteration, stopped when the span of one iteration's change (the gain's bounds) is
        under ``tol`` x the gain; raises if it has not converged in ``max_iter`` iterations.
        """
        r_c, r_a, r_d = self._rates()
        reward = self.b - cost * r_a
        stay = self.rate - r_c - r_a - r_d
        h = np.zeros(self.b.shape)
        for it in range(max_iter):
            w = np.maximum.accumulate(h[:, :, ::-1], axis=2)[:, :, ::-1]    # best U' >= U after the decision
            new = (reward + r_c * w[self.after_completion] + r_a * w[self.after_abandon]
                   + r_d * (P_ACCEPT * w[self.after_accept] + (1 - P_ACCEPT) * w[self.after_decline])
                   + stay * w) / self.rate
            diff = (new - h)[self.valid]
            new = np.where(self.valid, new, -1e12)
            new -= new[0, 0, 0]
            h = new
            if it % 100 == 99:
                span, gain = diff.max() - diff.min(), abs(diff.mean()) + 1e-300
                if span < tol * gain:
                    self.iterations = it + 1
                    return np.argmax(h, axis=2)
        raise RuntimeError(f"value iteration did not converge in {max_iter} iterations ({self.n} agents, c {cost:g})")

    def evaluate(self, level: np.ndarray, max_iter: int = 200000, tol: float = 1e-13) -> tuple[float, float]:
        """Occupancy and abandonment ratio of the policy S (control after every event), from its stationary law."""
        r_c, r_a, r_d = (x / self.rate for x in self._rates())
        stay = 1.0 - r_c - r_a - r_d
        target = (self.b, self.q, np.maximum(self.u, level[:, :, None]))
        shape = self.b.shape
        flat = {k: np.ravel_multi_index(v, shape).ravel() for k, v in
                (("post", target), ("c", self.after_completion), ("a", self.after_abandon),
                 ("acc", self.after_accept), ("dec", self.after_decline))}
        size = self.b.size
        pi = np.zeros(size)
        pi[0] = 1.0
        for _ in range(max_iter):
            post = np.bincount(flat["post"], weights=pi, minlength=size)
            nxt = (np.bincount(flat["c"], weights=post * r_c.ravel(), minlength=size)
                   + np.bincount(flat["a"], weights=post * r_a.ravel(), minlength=size)
                   + np.bincount(flat["acc"], weights=post * (r_d * P_ACCEPT).ravel(), minlength=size)
                   + np.bincount(flat["dec"], weights=post * (r_d * (1 - P_ACCEPT)).ravel(), minlength=size)
                   + post * stay.ravel())
            if np.max(np.abs(nxt - pi)) < tol:
                pi = nxt
                break
            pi = nxt
        post = np.bincount(flat["post"], weights=pi, minlength=size)
        occupancy = float(post @ self.b.ravel()) / self.n
        accepts = float(post @ self.u.ravel()) * self.delta * P_ACCEPT
        abandons = float(post @ self.q.ravel()) * self.theta
        return occupancy, abandons / accepts if accepts else 0.0


def policy_engine(level: np.ndarray):
    """compute_invitations' signature, sending up to the optimal level once per refresh period."""
    n = level.shape[0] - 1

    def invitations(state, config=None):
        b = np.clip(np.rint(np.asarray(state.busy_agents, dtype=float)), 0, n).astype(np.int64)
        q = np.clip(np.rint(np.asarray(state.queued, dtype=float)), 0, level.shape[1] - 1).astype(np.int64)
        return np.maximum(level[b, q] - np.asarray(state.pending, dtype=float), 0).astype(np.int64)

    return invitations


ENGINE = quality.compute_invitations        # the real engine (simulate_steady swaps quality's for a policy)


def simulate_steady(n: int, seeds: list[int], engine) -> dict[str, tuple[float, float, float]]:
    """Pooled abandonment %, occupancy and the lowest seed's occupancy of 3 steady targets of n agents, goal 3 %."""
    quality.TEAMS, quality.REPS, quality.GOALS = (n,), {n: 3}, (3.0,)
    quality.team_targets.__defaults__ = ((n,), {n: 3})
    quality._SPECS.clear()
    quality.compute_invitations = engine
    jobs = [("steady", kind, s, 1.0, 0) for kind in quality.SIMULATORS for s in seeds]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        done = pool.map(quality.simulate, jobs, chunksize=1)
    out = {}
    for kind in quality.SIMULATORS:
        per = [quality._sums(r["spans"]["run"], np.arange(3)) for r in done if r["job"][1] == kind]
        pooled = {k: sum(p[k] for p in per) for k in per[0]}
        out[kind] = (100 * quality._ab(pooled), quality._occ(pooled), min(quality._occ(p) for p in per))
    return out


def _numbers(text: str, kind, lo: float, hi: float):
    try:
        values = [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    bad = [v for v in values if not lo <= v <= hi]
    if not values or bad:
        raise argparse.ArgumentTypeError(f"each value must be between {lo:g} and {hi:g} (got {text!r})")
    return values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="optimal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", default="20", type=lambda t: _numbers(t, int, 1, 40),
                        help="team sizes, comma-separated, 1-40 (default 20)")
    parser.add_argument("--costs", default="300,500,800", type=lambda t: _numbers(t, float, 1, 1e6),
                        help="costs of one abandonment in agent-seconds (default 300,500,800)")
    parser.add_argument("--simulate", action="store_true",
                        help="also run each policy every 5 s in both simulators, beside the engine")
    parser.add_argument("--seeds", type=int, default=6, help="seeds for --simulate (default 6, from 7)")
    args = parser.parse_args(argv)
    if not 1 <= args.seeds <= 50:
        parser.error("--seeds: must be between 1 and 50")
    seeds = list(range(7, 7 + args.seeds))
    print(f"optimal pacing of one team (AHT {AHT_S:g} s, patience {PATIENCE_S:g} s, answers after {DELAY_S:g} s, "
          f"accept {100 * P_ACCEPT:g} %; memoryless); control after every event unless said otherwise")
    quality._warm_engine()
    for n in args.agents:
        mdp = TeamMDP(n)
        if args.simulate:
            eng = simulate_steady(n, seeds, ENGINE)
            print(f"\n{n} agents, the engine every 5 s (goal 3 %): " + "; ".join(
                f"{k} ab {a:.2f} %, occ {o:.3f} (lowest seed {m:.3f})" for k, (a, o, m) in eng.items()))
        for cost in args.costs:
            t0 = time.perf_counter()
            level = mdp.solve(cost)
            occ, ab = mdp.evaluate(level)
            free = np.arange(1, n + 1)
            per_free = P_ACCEPT * level[n - free, 0] / free
            line = (f"{n} agents, c {cost:g}: optimum occ {occ:.3f} at ab {100 * ab:.2f} %; accepts in flight per "
                    f"free agent {per_free[:6].round(2).tolist()} (1..6 free), with all busy {level[n, 0]} pending")
            if args.simulate:
                sim = simulate_steady(n, seeds, policy_engine(level))
                line += "; every 5 s: " + "; ".join(f"{k} ab {a:.2f} %, occ {o:.3f} (lowest seed {m:.3f})"
                                                    for k, (a, o, m) in sim.items())
            print(line + f"  [{time.perf_counter() - t0:.0f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
