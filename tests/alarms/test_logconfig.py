"""The cluster's log section applied at run time: the level, the outputs, and the network output only with a
connection to Message Server."""

import logging

import pytest

from alarms import config, sinks
from alarms.events import Kind
from alarms.logconfig import NetworkHandler, apply_log_options, reset_log_options

NODE = "Pacing_Server_Node_01"


@pytest.fixture(autouse=True)
def _restore_logging():
    config.reset_warnings()
    root = logging.getLogger()
    level, named = root.level, {h for h in root.handlers if h.name}    # the settings' (pytest's have no name)
    yield
    reset_log_options()
    config.reset_warnings()
    assert root.level == level and named <= set(root.handlers) and not ours()


@pytest.fixture
def network(monkeypatch):
    """What the network output hands to the sinks."""
    sent = []
    monkeypatch.setattr(sinks, "emit_network", lambda event, payload=None: sent.append(event))
    return sent


def ours():
    return [h for h in logging.getLogger().handlers if hasattr(h, "_pacing_log_option")]


def test_verbose_sets_the_level_at_run_time():
    root = logging.getLogger()
    apply_log_options({"log": {"verbose": "debug"}}, node=NODE, message_server_connected=False)
    assert root.level == logging.DEBUG
    apply_log_options({"log": {"verbose": "standard"}}, node=NODE, message_server_connected=False)
    assert root.level == logging.WARNING
    apply_log_options({"log": {"verbose": "none"}}, node=NODE, message_server_connected=False)
    assert not root.isEnabledFor(logging.CRITICAL)


def test_unset_or_bad_verbose_keeps_the_process_level(caplog):
    root = logging.getLogger()
    before = root.level
    apply_log_options({"log": {}}, node=NODE, message_server_connected=False)
    assert root.level == before
    caplog.set_level(logging.WARNING, logger="alarms.config")
    apply_log_options({"log": {"verbose": "loud"}}, node=NODE, message_server_connected=False)
    assert root.level == before
    assert [r for r in caplog.records if "log/verbose='loud'" in r.getMessage()]


def test_outputs_replace_the_settings_handlers(capsys):
    root = logging.getLogger()
    settings_handlers = [h for h in root.handlers if h.name == "console"]
    assert settings_handlers, "the settings' LOGGING console handler"
    apply_log_options({"log": {"verbose": "all", "all": "stdout", "standard": "stderr"}}, node=NODE,
                      message_server_connected=False)
    assert not [h for h in root.handlers if h.name == "console"]
    assert {h._pacing_log_option: h.level for h in ours()} == {"stdout": logging.NOTSET, "stderr": logging.WARNING}
    capsys.readouterr()
    logging.getLogger("pacing.cycle").info("cycle 1 done")
    logging.getLogger("pacing.cycle").warning("GPE slow password=hunter2")
    out, err = capsys.readouterr()
    assert "cycle 1 done" in out and "GPE slow" in out
    assert "GPE slow" in err and "cycle 1 done" not in err
    assert "hunter2" not in out + err and "********" in err        # the settings' redactor runs on our handlers
    apply_log_options({"log": {"verbose": "all"}}, node=NODE, message_server_connected=False)
    assert [h for h in root.handlers if h.name == "console"] == settings_handlers   # no outputs: back


def test_same_options_twice_change_nothing():
    options = {"log": {"verbose": "trace", "all": "stdout"}}
    apply_log_options(options, node=NODE, message_server_connected=False)
    first = ours()
    apply_log_options(options, node=NODE, message_server_connected=False)
    assert ours() == first and len(first) == 1


def test_a_file_output(tmp_path):
    apply_log_options({"log": {"verbose": "trace", "trace": "node.log"}}, node=NODE, message_server_connected=False,
                      log_dir=tmp_path)
    logging.getLogger("pacing.cycle").info("to the file")
    logging.getLogger("pacing.cycle").debug("not verbose enough")
    for handler in ours():
        handler.flush()
    text = (tmp_path / "node.log").read_text()
    assert "to the file" in text and "not verbose enough" not in text


def test_a_file_that_cannot_be_opened_is_skipped(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    caplog.set_level(logging.WARNING, logger="alarms.logconfig")
    apply_log_options({"log": {"verbose": "trace", "all": "stdout", "debug": "file/inside.log"}}, node=NODE,
                      message_server_connected=False, log_dir=tmp_path)
    assert [h._pacing_log_option for h in ours()] == ["stdout"]
    assert [r for r in caplog.records if "cannot be opened" in r.getMessage()]


def test_network_output_needs_a_message_server_connection(network, caplog):
    caplog.set_level(logging.WARNING, logger="alarms.logconfig")
    options = {"log": {"verbose": "trace", "all": "stdout", "standard": "network"}}
    for _ in range(2):
        apply_log_options(options, node=NODE, message_server_connected=False)
    assert not [h for h in ours() if isinstance(h, NetworkHandler)]
    warned = [r.getMessage() for r in caplog.records if "Message Server" in r.getMessage()]
    assert len(warned) == 1 and NODE in warned[0] and "'network'" in warned[0]
    logging.getLogger("pacing.cycle").error("not sent")
    assert network == []


def test_network_output_sends_log_records_to_the_sinks(network):
    apply_log_options({"log": {"verbose": "trace", "standard": "network"}}, node=NODE, message_server_connected=True)
    [handler] = [h for h in ours() if isinstance(h, NetworkHandler)]
    assert handler.level == logging.WARNING
    logging.getLogger("pacing.cycle").info("below the network output's level")
    logging.getLogger("pacing.cycle").error("GPE unreachable, token=abc123")
    logging.getLogger("alarms.sinks").error("a sink's own trouble")       # never forwarded: it would loop
    logging.getLogger("pacing.events").error("an event, sent by emit() already")
    [event] = network
    assert event.kind == Kind.LOG and event.node == NODE and event.event_id is None
    assert "GPE unreachable" in event.message and "abc123" not in event.message
    assert event.context["logger"] == "pacing.cycle" and event.context["levelno"] == logging.ERROR


def test_network_records_reach_a_real_sink():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        sinks.configure(syslog_url=f"udp://127.0.0.1:{server.getsockname()[1]}", webhook_url="")
        try:
            apply_log_options({"log": {"verbose": "trace", "all": "network"}}, node=NODE,
                              message_server_connected=True)
            logging.getLogger("pacing.cycle").warning("forwarded")
            data = ""
            while "forwarded" not in data:       # the first datagram is apply_log_options' own INFO line
                data = server.recvfrom(65535)[0].decode()
        finally:
            reset_log_options()
            sinks.reset()
    assert data.startswith(f"<{16 * 8 + 4}>1 ") and " log " in data and "forwarded" in data
