"""Where the browser tests keep their screenshots: one folder that `.ci/run` prints and CI keeps as an artifact.

``PACING_SCREENSHOTS_DIR`` (default ``artifacts/screenshots/`` of the checkout), one sub-folder per database so the
SQLite and PostgreSQL runs do not overwrite each other. The tests only add pictures, never remove any: under
pytest-xdist another worker may be writing its own at the same moment, so clearing the last run's pictures is
`.ci/run`'s job, done once before the tests start.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def screenshots_dir() -> Path:
    """This database's screenshot folder (created if missing)."""
    base = Path(os.environ.get("PACING_SCREENSHOTS_DIR") or ROOT / "artifacts" / "screenshots")
    folder = base / connection.vendor
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(page, name: str) -> Path:
    """A full-page screenshot of ``page`` as ``<name>.png`` in :func:`screenshots_dir` (its path)."""
    path = screenshots_dir() / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
