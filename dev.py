#!/usr/bin/env python3
"""Pacing Console's set-up commands. Needs only Python 3.11+; everything else it installs itself.

    python3 dev.py run     create .venv, install, migrate, load the demo data, create the admin
                           account, print how to log in, serve the web UI on http://127.0.0.1:8000/
                           (and the GPE simulator on http://127.0.0.1:8089/ while it runs)
    python3 dev.py test    install the test tools, then: ruff check, makemigrations --check, pytest
                           (SQLite by default; set DATABASE_URL to run on PostgreSQL)
    python3 dev.py bench NAME [ARGS]   run bench/NAME.py in the project's environment

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test -k options`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("PACING_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*cmd: str | Path, env: dict | None = None) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_env(extras: str) -> None:
    """Create .venv and install the project (with ``extras``) unless pyproject.toml is unchanged."""
    if sys.version_info < (3, 11):
        sys.exit(f"Pacing Console needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        say(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say("installing dependencies (first run only; a minute or two)")
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target)
    stamp.write_text(digest)


def manage(*args: str) -> None:
    run(PY, "manage.py", *args)


def cmd_run(args: argparse.Namespace) -> None:
    ensure_env("")
    say("applying database migrations")
    manage("migrate", "--no-input", "-v", "0")
    say("loading the demo configuration")
    manage("load_demo")
    url = f"http://{args.host}:{args.port}/admin/"
    manage("ensure_admin", "--url", url)
    # The GPE simulator (token + pacing endpoints of the demo's hybrid_integration transaction) runs in the
    # background for as long as the UI does.
    say("starting the GPE simulator on http://127.0.0.1:8089/ (manage.py gpe_simulator)")
    gpe = subprocess.Popen([str(PY), "manage.py", "gpe_simulator", "--host", "127.0.0.1", "--port", "8089"],
                           cwd=ROOT)
    try:
        say(f"serving the web UI on {url} (Ctrl-C stops)")
        run(BIN / "gunicorn", "-c", "python:pacingsite.gunicorn_conf", "pacingsite.wsgi:application",
            "--bind", f"{args.host}:{args.port}", "--workers", str(args.workers))
    except KeyboardInterrupt:
        say("stopped")
    finally:
        if gpe.poll() is None:
            gpe.terminate()
            try:
                gpe.wait(timeout=10)
            except subprocess.TimeoutExpired:
                gpe.kill()
                gpe.wait()


def cmd_test(args: argparse.Namespace) -> None:
    ensure_env("test")
    database = os.environ.get("DATABASE_URL", "").split("://", 1)[0] or "sqlite"
    say("ruff check")
    run(BIN / "ruff", "check", ".")
    say("checking that no migration is missing")
    manage("makemigrations", "--check", "--dry-run", "-v", "1")
    say(f"pytest on {database}")
    run(PY, "-m", "pytest", *args.pytest_args)


def cmd_bench(args: argparse.Namespace) -> None:
    ensure_env("test")
    script = ROOT / "bench" / f"{args.name}.py"
    if not script.exists():
        names = ", ".join(sorted(p.stem for p in (ROOT / "bench").glob("*.py") if not p.stem.startswith("_")))
        sys.exit(f"No benchmark '{args.name}'. Available: {names}")
    run(PY, script, *args.bench_args)


def main() -> None:
    parser = argparse.ArgumentParser(prog="dev.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="install, migrate, load demo data, create the admin, serve the UI")
    p_run.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p_run.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p_run.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p_run.set_defaults(func=cmd_run)
    p_test = sub.add_parser("test", help="ruff, migration check and the test suite (other arguments go to pytest)")
    p_test.set_defaults(func=cmd_test)
    p_bench = sub.add_parser("bench", help="run a benchmark from bench/ (other arguments go to it)")
    p_bench.add_argument("name", help="benchmark name, e.g. admin_changelist")
    p_bench.set_defaults(func=cmd_bench)
    # Everything after `test` or `bench NAME` is passed on as it is (pytest's -k, -x, … included).
    args, rest = parser.parse_known_args()
    if rest and args.command == "run":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.pytest_args = args.bench_args = rest
    args.func(args)


if __name__ == "__main__":
    main()
