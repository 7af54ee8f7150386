"""The cluster's ``log`` section applied to a running node process (alarms.config.log_options reads it).

``apply_log_options(options, node=…, message_server_connected=…)``:

* ``verbose`` sets the root logger's level (all/debug → DEBUG, trace → INFO, interaction → 25, standard →
  WARNING, none → nothing is written); unset or unreadable, the process keeps ``LOG_LEVEL``.
* the output options (``all``, ``debug``, ``trace``, ``interaction``, ``standard``) each list outputs that
  receive the records of that level and above: ``stdout``, ``stderr``, ``network`` or a file name (relative
  names under ``<PACING_VAR_DIR>/log/``). An output named by several options gets one handler, at the lowest
  of their levels. When at least one output is named, these handlers replace the settings' own root handlers
  (LOGGING's ``console``), so nothing is written twice; when none is named, the settings' handlers stay.
* ``network`` sends records to the network sinks (alarms.sinks.emit_network, ``Kind.LOG``) — only when the
  node or its cluster has a connection to a Message Server application (the seed: "add a connection to
  Message Server (to apply the network logging options)"); otherwise one warning says why it is off.
  Records of the sinks themselves, of the structured event log and of urllib3 are never forwarded (they
  would loop).

Calling it again with the same options changes nothing; with new options it swaps the handlers. Every
handler it adds carries the settings' secret-redacting filter (``PACING_SINK_REDACT``).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from .config import NETWORK, NONE, LogOptions, log_options
from .events import Event, Kind

__all__ = ["NetworkHandler", "apply_log_options", "reset_log_options"]

log = logging.getLogger("alarms.logconfig")

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_NOT_FORWARDED = ("alarms.sinks", "pacing.events", "urllib3")
_MARK = "_pacing_log_option"


class _RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from . import sinks

        redact = sinks.redactor()
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


class NetworkHandler(logging.Handler):
    """Sends log records to the network sinks as ``Kind.LOG`` events (the Message Server output)."""

    _busy = threading.local()

    def __init__(self, node: str, level: int = logging.NOTSET):
        super().__init__(level)
        self.node = node

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_NOT_FORWARDED) or getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            from . import sinks

            message = self.format(record) if record.exc_info else record.getMessage()
            sinks.emit_network(Event(Kind.LOG, None, message, severity=record.levelname.lower(), node=self.node,
                                     source=self.node, context={"logger": record.name, "level": record.levelname,
                                                                "levelno": record.levelno}))
        except Exception:
            self.handleError(record)
        finally:
            self._busy.on = False


class _Applied:
    def __init__(self):
        self.lock = threading.Lock()
        self.signature: tuple | None = None
        self.handlers: list[logging.Handler] = []
        self.detached: list[logging.Handler] = []
        self.original_level: int | None = None
        self.warned: set[str] = set()


_applied = _Applied()


def _log_dir() -> Path:
    try:
        from django.conf import settings

        if settings.configured and getattr(settings, "VAR_DIR", None):
            return Path(settings.VAR_DIR) / "log"
    except Exception:  # noqa: S110 - no settings: the working directory
        pass
    return Path.cwd()


def _settings_handler_names() -> set[str]:
    try:
        from django.conf import settings

        return set((getattr(settings, "LOGGING", {}) or {}).get("handlers", {})) if settings.configured else set()
    except Exception:
        return set()


def _warn_once(message: str, *args) -> None:
    key = message % args
    if key not in _applied.warned:
        _applied.warned.add(key)
        log.warning(message, *args)


def _handler(output: str, level: int, node: str, log_dir: Path) -> logging.Handler | None:
    if output == "stdout":
        handler: logging.Handler = logging.StreamHandler(sys.stdout)
    elif output == "stderr":
        handler = logging.StreamHandler(sys.stderr)
    elif output == NETWORK:
        handler = NetworkHandler(node)
    else:
        path = Path(output)
        if not path.is_absolute():
            path = log_dir / path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8", delay=False)
        except OSError as exc:
            _warn_once("%s: the log output file %s cannot be opened (%s); it is skipped.", node, path,
                       exc.strerror or exc)
            return None
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_RedactFilter())
    setattr(handler, _MARK, output)
    return handler


def apply_log_options(options: Mapping | None, *, node: str, message_server_connected: bool,
                      log_dir: str | Path | None = None) -> LogOptions:
    """Set this process's log level and outputs from the node's effective options (all sections)."""
    parsed = log_options(options, where=node)
    outputs = dict(parsed.outputs)
    if NETWORK in outputs and not message_server_connected:
        _warn_once("%s: the log options name the 'network' output, but neither the node nor its cluster has a "
                   "connection to a Message Server application: network logging is off (add a connection to "
                   "Message Server to apply the network logging options).", node)
        outputs.pop(NETWORK)
    directory = Path(log_dir) if log_dir is not None else _log_dir()
    signature = (node, parsed.level, tuple(sorted(outputs.items())), str(directory))
    root = logging.getLogger()
    with _applied.lock:
        if signature == _applied.signature:
            return parsed
        if _applied.original_level is None:
            _applied.original_level = root.level
        new = [h for h in (_handler(o, lvl, node, directory) for o, lvl in sorted(outputs.items())) if h]
        for handler in _applied.handlers:
            root.removeHandler(handler)
            handler.close()
        _applied.handlers = new
        names = _settings_handler_names()
        if outputs:
            for handler in list(root.handlers):
                if handler.name in names and not hasattr(handler, _MARK):
                    root.removeHandler(handler)
                    _applied.detached.append(handler)
        else:
            _restore_detached(root)
        for handler in new:
            root.addHandler(handler)
        root.setLevel(_applied.original_level if parsed.level is None else parsed.level)
        _applied.signature = signature
    level_name = "none" if parsed.level == NONE else (logging.getLevelName(parsed.level) if parsed.level is not None
                                                     else "unchanged")
    if parsed.level != NONE:
        log.info("%s: log level %s, outputs %s", node, level_name, ", ".join(sorted(outputs)) or "(the settings')")
    return parsed


def _restore_detached(root: logging.Logger) -> None:
    for handler in _applied.detached:
        if handler not in root.handlers:
            root.addHandler(handler)
    _applied.detached = []


def reset_log_options() -> None:
    """Undo ``apply_log_options``: the settings' handlers and level come back (tests, shutdown)."""
    root = logging.getLogger()
    with _applied.lock:
        for handler in _applied.handlers:
            root.removeHandler(handler)
            handler.close()
        _applied.handlers = []
        _restore_detached(root)
        if _applied.original_level is not None:
            root.setLevel(_applied.original_level)
        _applied.original_level = None
        _applied.signature = None
        _applied.warned.clear()
