"""The metrics and log options, typed: units, defaults, and one warning per unreadable value."""

import logging

import pytest

from alarms import config
from alarms.config import log_options, metrics_options, parse_duration


@pytest.fixture(autouse=True)
def _fresh_warnings():
    config.reset_warnings()
    yield
    config.reset_warnings()


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "alarms.config" and r.levelno == logging.WARNING]


def test_defaults_are_the_seeds():
    m = metrics_options({})
    assert (m.gc_latency_ms, m.gc_frequency_per_min, m.heap_fraction) == (1000, 24, 0.8)
    assert {n: (r.enabled, r.frequency_s) for n, r in m.reporters.items()} == {
        "console": (False, 1800), "log": (False, 1800), "messageServer": (True, 1800)}
    assert metrics_options(None) == m


def test_the_seed_values_read_as_the_defaults():
    from configdb.demo import CLUSTER_OPTIONS

    assert metrics_options(CLUSTER_OPTIONS) == metrics_options({})


@pytest.mark.parametrize("raw, seconds", [("30min", 1800), ("30s", 30), ("2h", 7200), ("1d", 86400), ("90", 90),
                                          ("1.5h", 5400), ("500ms", 0.5), (" 10 MIN ", 600), ("5m", 300)])
def test_durations(raw, seconds):
    assert parse_duration(raw) == pytest.approx(seconds)


@pytest.mark.parametrize("raw", ["soon", "", "-5s", "0", "10 parsecs", "1e400", "nan"])
def test_bad_durations(raw):
    with pytest.raises(ValueError):
        parse_duration(raw)


def test_values_are_typed():
    m = metrics_options({"metrics": {"GcLatency.threshold": "250.5", "GcFrequency.threshold": "3",
                                     "heapMemoryUsage.threshold": "75%", "reporter.console.enabled": "Yes",
                                     "reporter.log.enabled": "ON", "reporter.messageServer.enabled": "0",
                                     "reporter.console.logFrequency": "30s", "reporter.log.logFrequency": "2h"}})
    assert (m.gc_latency_ms, m.gc_frequency_per_min, m.heap_fraction) == (250.5, 3, 0.75)
    assert m.reporters["console"].enabled and m.reporters["log"].enabled
    assert not m.reporters["messageServer"].enabled
    assert (m.reporters["console"].frequency_s, m.reporters["log"].frequency_s) == (30, 7200)


BAD = {"reporter.console.logFrequency": "soon", "GcLatency.threshold": "-5", "reporter.log.enabled": "maybe",
       "GcFrequency.threshold": "many", "heapMemoryUsage.threshold": "1.5"}


def test_bad_values_fall_back_with_one_warning_each(caplog):
    caplog.set_level(logging.WARNING, logger="alarms.config")
    for _ in range(3):
        m = metrics_options({"metrics": BAD}, where="Node_1")
        assert m == metrics_options({})
    found = warnings(caplog)
    assert len(found) == len(BAD)
    for key, value in BAD.items():
        [line] = [w for w in found if f"metrics/{key}=" in w]
        assert repr(value) in line and "Node_1" in line and "using the default" in line


def test_a_different_bad_value_is_warned_about_again(caplog):
    caplog.set_level(logging.WARNING, logger="alarms.config")
    metrics_options({"metrics": {"GcLatency.threshold": "-5"}})
    metrics_options({"metrics": {"GcLatency.threshold": "-5"}})
    metrics_options({"metrics": {"GcLatency.threshold": "fast"}})
    assert len(warnings(caplog)) == 2


def test_a_section_that_is_not_a_table_is_ignored():
    assert metrics_options({"metrics": "oops"}) == metrics_options({})


def test_log_options():
    parsed = log_options({"log": {"verbose": "Trace", "all": "stdout, app.log", "standard": "stderr,network",
                                  "debug": "stdout"}})
    assert parsed.level == logging.INFO
    assert parsed.outputs == {"stdout": logging.NOTSET, "app.log": logging.NOTSET, "stderr": logging.WARNING,
                              "network": logging.WARNING}
    assert parsed.network


@pytest.mark.parametrize("verbose, level", [("all", logging.DEBUG), ("debug", logging.DEBUG), ("trace", logging.INFO),
                                            ("interaction", 25), ("standard", logging.WARNING),
                                            ("none", config.NONE)])
def test_verbose_levels(verbose, level):
    assert log_options({"log": {"verbose": verbose}}).level == level


def test_bad_log_values_warn_once(caplog):
    caplog.set_level(logging.WARNING, logger="alarms.config")
    for _ in range(2):
        parsed = log_options({"log": {"verbose": "loud", "all": "memory, stdout"}}, where="Node_1")
    assert parsed.level is None and parsed.outputs == {"stdout": logging.NOTSET}
    found = warnings(caplog)
    assert len(found) == 2
    assert any("log/verbose='loud'" in w for w in found) and any("'memory'" in w for w in found)


def test_problems_for_the_doctor(caplog):
    caplog.set_level(logging.WARNING, logger="alarms.config")
    found = config.problems({"metrics": BAD, "log": {"verbose": "loud"}})
    assert len(found) == len(BAD) + 1
    assert any("metrics/GcLatency.threshold='-5'" in p for p in found) and any("log/verbose" in p for p in found)
    assert warnings(caplog) == []                                 # collected, not logged
    assert config.problems({"metrics": {"GcLatency.threshold": "5"}}) == []
    metrics_options({"metrics": BAD})
    assert len(warnings(caplog)) == len(BAD)                      # the warn-once memory was left alone
