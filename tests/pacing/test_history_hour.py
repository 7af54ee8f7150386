"""The charts' last hour (pacing/history.py, ``HourBucket`` and ``History.hour``): one point per step, the means
of the step's cycles; an hour kept and no more; a fixed size per target; a removed target leaves with its hour; the
upkeep (pacing/retention.py) deletes a removed cluster's steps and leaves a configured one's."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from pacing import history
from pacing import redis as pacing_redis
from pacing.history import HOUR_DTYPE, HOUR_HEADER_BYTES, HOUR_S, History, hour_bucket, names_digest
from tests.pacing.test_cycle import rc, redis_url  # noqa: F401 - fixtures

T0 = 1_800_000_000          # a multiple of 20: the first cycle starts a step
NAN = float("nan")


def names_of(h: History, rc, names):  # noqa: F811
    blob = orjson.dumps(names)
    digest = names_digest(blob)
    pipe = rc.pipeline()
    h.write_names(pipe, digest, blob)
    pipe.execute()
    return digest


def post(h: History, rc, bucket, names, digest, at, tick, *, invitations, pending=None, ready=None,  # noqa: F811
         abandoned=None, share=None, step=20):
    """One posted cycle as the cycle records it: the open bucket, added to and written in one pipeline."""
    n = len(names)
    bucket = hour_bucket(bucket, digest=digest, size=n, at=at, step=step)
    bucket.add(at=at, tick=tick, invitations=np.asarray(invitations, dtype=float),
               pending=np.asarray(pending if pending is not None else [0] * n, dtype=float),
               share=np.asarray(share if share is not None else [1.0] * n),
               ready=np.asarray(ready if ready is not None else [NAN] * n, dtype=float),
               abandoned_pct=np.asarray(abandoned if abandoned is not None else [NAN] * n, dtype=float))
    pipe = rc.pipeline()
    h.write_hour(pipe, bucket)
    pipe.execute()
    return bucket


@pytest.fixture
def h(rc):  # noqa: F811
    history._NAMES_LRU.clear()
    return History(rc, "C", pacing_redis.key_prefix())


def test_a_point_is_the_mean_of_its_steps_cycles_and_unknowns_stay_out(h, rc):  # noqa: F811
    names = ["a", "b"]
    digest = names_of(h, rc, names)
    bucket = None
    # four cycles of 5 s in the step [T0, T0 + 20), then one in the next step
    rows = [([4, 1], [2, 0], [3, NAN], [10.0, NAN], [1.0, 0.5]),
            ([6, 1], [4, 0], [5, NAN], [NAN, NAN], [1.0, 0.5]),
            ([2, 1], [0, 0], [NAN, NAN], [20.0, NAN], [1.0, 0.7]),
            ([0, 1], [2, 0], [4, NAN], [30.0, NAN], [1.0, 0.3])]
    for i, (inv, pend, ready, ab, share) in enumerate(rows):
        bucket = post(h, rc, bucket, names, digest, T0 + 5 * i, 100 + i, invitations=inv, pending=pend, ready=ready,
                      abandoned=ab, share=share)
    first = h.hour("a", now=T0 + 19)
    assert len(first) == 1
    p = first[0]
    assert (p["start"], p["step_s"], p["cycles"], p["tick"]) == (T0, 20, 4, 103)
    assert p["at"] == T0 + 7.5                                    # the mean start of its cycles
    assert (p["invitations"], p["pending"]) == (3.0, 2.0)
    assert p["ready_agents"] == 4.0                               # (3 + 5 + 4) / 3: the NaN is left out
    assert p["abandoned_pct"] == 20.0                             # (10 + 20 + 30) / 3
    assert p["share"] == 1.0
    b = h.hour("b", now=T0 + 19)[0]
    assert b["ready_agents"] is None and b["abandoned_pct"] is None and b["share"] == 0.5
    bucket = post(h, rc, bucket, names, digest, T0 + 20, 104, invitations=[9, 9], ready=[1, 1])
    points = h.hour("a", now=T0 + 21)
    assert [q["start"] for q in points] == [T0, T0 + 20] and points[1]["invitations"] == 9.0
    assert points[1]["cycles"] == 1 and points[0]["cycles"] == 4     # the closed step stays as it was


def test_the_newest_point_follows_every_cycle(h, rc):  # noqa: F811
    names = ["a"]
    digest = names_of(h, rc, names)
    bucket = post(h, rc, None, names, digest, T0, 1, invitations=[2])
    assert h.hour("a", now=T0 + 1)[0]["invitations"] == 2.0
    post(h, rc, bucket, names, digest, T0 + 5, 2, invitations=[4])
    assert h.hour("a", now=T0 + 6)[0]["invitations"] == 3.0 and h.hour("a", now=T0 + 6)[0]["cycles"] == 2


def test_an_hour_is_kept_bounded_in_points_and_bytes(h, rc):  # noqa: F811
    names = [f"t{i}" for i in range(50)]
    digest = names_of(h, rc, names)
    bucket = None
    # 90 minutes of 5-s cycles
    for i in range(90 * 12):
        bucket = post(h, rc, bucket, names, digest, T0 + 5 * i, i, invitations=[i % 7] * 50, ready=[2] * 50)
    now = T0 + 5 * (90 * 12 - 1)
    points = h.hour("t3", now=now)
    assert 179 <= len(points) <= 181                              # 3,600 s / 20 s, plus the open step
    assert points[0]["at"] >= now - HOUR_S and points[-1]["start"] == now // 20 * 20
    assert [p["at"] for p in points] == sorted(p["at"] for p in points)
    assert all(p["cycles"] == 4 for p in points[:-1])
    keys = list(rc.scan_iter(match=h.hour_base + "*"))
    assert len(keys) == 90 * 3                                    # in the test's fake time: the expiries bound them
    value = rc.get(h.hour_base + str(T0))
    assert len(value) == HOUR_HEADER_BYTES + HOUR_DTYPE.itemsize * 50 and HOUR_DTYPE.itemsize == 16
    ttl = rc.ttl(h.hour_base + str(T0))
    assert HOUR_S < ttl <= HOUR_S + 2 * 20 + 60                  # gone an hour after its last write


def test_a_removed_target_leaves_with_its_hour(h, rc):  # noqa: F811
    before, after = ["a", "b", "c"], ["a", "c"]
    d1, d2 = names_of(h, rc, before), names_of(h, rc, after)
    bucket = post(h, rc, None, before, d1, T0, 1, invitations=[1, 2, 3])
    bucket = post(h, rc, bucket, before, d1, T0 + 20, 2, invitations=[1, 2, 3])
    bucket = post(h, rc, bucket, after, d2, T0 + 25, 3, invitations=[5, 6])      # "b" removed mid-step
    assert bucket.size == 2 and bucket.cycles == 1                # a new target list starts the step again
    assert [p["invitations"] for p in h.hour("c", now=T0 + 30)] == [3.0, 6.0]
    assert [p["start"] for p in h.hour("b", now=T0 + 30)] == [T0]
    post(h, rc, bucket, after, d2, T0 + 40, 4, invitations=[5, 6])
    assert h.hour("b", now=T0 + HOUR_S + 30) == []                # an hour later nothing of it is read
    assert len(h.hour("a", now=T0 + HOUR_S + 30)) == 1
    assert h.hour("nobody", now=T0 + 30) == []


def test_the_upkeep_deletes_a_removed_clusters_hour_and_keeps_a_configured_ones(demo, settings, rc):  # noqa: F811
    from pacing.retention import upkeep

    prefix = pacing_redis.key_prefix()
    mine = History(rc, "Pacing_Service_Cluster_9.0", prefix)
    gone = History(rc, "Gone_Cluster", prefix)
    for hist in (mine, gone):
        digest = names_of(hist, rc, ["a"])
        post(hist, rc, None, ["a"], digest, T0, 1, invitations=[1])
    lost = mine.hour_base + "1000000000"                          # far past the hour, with no expiry
    rc.set(lost, b"x")
    report = upkeep()
    assert report.hour_steps_deleted == 1 and "step(s) of the charts' hour" in report.line()
    assert not rc.exists(lost) and not rc.exists(gone.hour_base + str(T0))
    assert rc.exists(mine.hour_base + str(T0))
    assert report.clusters_removed == 1


def test_the_encoding_rounds_as_documented():
    bucket = hour_bucket(None, digest="d", size=3, at=T0 + 3, step=20)
    assert bucket.start == T0
    bucket.add(at=T0 + 3, tick=1, invitations=np.array([1.0, 2.0, 3.0]), pending=np.zeros(3),
               share=np.array([0.33333, 1.0, NAN]), ready=np.array([1.5, NAN, 2.0]),
               abandoned_pct=np.array([12.3456, 1e6, NAN]))
    raw = bucket.encode()
    header = orjson.loads(raw[:HOUR_HEADER_BYTES])
    assert header["count"] == 3 and header["names"] == "d" and header["cycles"] == 1
    records = np.frombuffer(raw[HOUR_HEADER_BYTES:], dtype=HOUR_DTYPE)
    assert records["abandoned"].tolist() == [1235, 65534, 65535]  # hundredths of a %, capped; 65535 unknown
    assert records["share"].tolist() == [3333, 10000, 10000]      # a NaN share counts as the whole (as posted)
    assert math.isnan(records["ready"][1]) and records["ready"][0] == 1.5
    assert hour_bucket(bucket, digest="d", size=3, at=T0 + 19, step=20) is bucket
    assert hour_bucket(bucket, digest="d", size=3, at=T0 + 20, step=20) is not bucket
