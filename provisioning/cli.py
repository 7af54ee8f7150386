"""The provisioning tool with the vendor's flags, against a running Pacing Console's API (stdlib only).

    python -m provisioning.cli -host H -port P [-user U -password PW] -app NAME [-overwrite] [-dry-run] [-https]

(``provisioning/bin/provisioning.sh`` and ``provisioning.bat`` run this.) The vendor's tool
(seeds/pacing-provisioning.txt) takes ``-host -port -user -password -app [-overwrite]`` of Configuration Server
and prints "Provisioning script successfully finished his work"; ours reaches the console's
``POST /api/v1/provisioning/provision/`` at ``http(s)://H:P`` and prints the same line, after the changes it
made. Ours too: ``-dry-run`` (the changes, nothing written), ``-https``, ``-timeout`` and the credentials:

- ``-user U -password PW``: HTTP Basic (the password may come from ``PACING_API_PASSWORD`` instead, out of
  sight of ``ps``);
- neither: the API token in ``PACING_API_TOKEN`` (``manage.py api_token issue --user NAME``).

Failure is one line on stderr and a non-zero exit, never a traceback: 2 bad flags, 3 the console cannot be
reached, 4 authentication refused, 1 provisioning refused (unknown application, no Stat Server, read-only
grant, …). No Django here: the tool runs on a machine that has only Python.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import ssl
import sys
import urllib.error
import urllib.request

SUCCESS = "Provisioning script successfully finished his work"  # the vendor's message, verbatim
PATH = "/api/v1/provisioning/provision/"

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_AUTH = 1, 2, 3, 4


class Failure(Exception):
    """A one-line reason and the exit code."""

    def __init__(self, message: str, code: int = EXIT_REFUSED):
        super().__init__(message)
        self.message, self.code = message, code


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise Failure(f"bad flags: {message} (try -help)", EXIT_USAGE)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(prog="provisioning", add_help=False, allow_abbrev=False,
                     description="Provision a pacing cluster or node through a running Pacing Console's API.")
    parser.add_argument("-help", "--help", action="help", help="show this help and exit")
    parser.add_argument("-host", required=True, help="host name or IP address of the Pacing Console")
    parser.add_argument("-port", required=True, help="its port (e.g. 8000)")
    parser.add_argument("-user", help="user name (HTTP Basic); without it, the token in PACING_API_TOKEN")
    parser.add_argument("-password", help="the user's password (or PACING_API_PASSWORD)")
    parser.add_argument("-app", required=True, help="the pacing application (cluster or node)")
    parser.add_argument("-overwrite", action="store_true", help="replace the pacing-specific objects that exist")
    parser.add_argument("-dry-run", dest="dry_run", action="store_true", help="list the changes; write nothing")
    parser.add_argument("-https", action="store_true", help="reach the console over https (recommended)")
    parser.add_argument("-timeout", type=float, default=60.0, help="seconds to wait for the answer (default 60)")
    args = parser.parse_args(argv)
    if not args.port.isdigit() or not 1 <= int(args.port) <= 65535:
        raise Failure(f"bad flags: -port must be a number from 1 to 65535, not {args.port!r}", EXIT_USAGE)
    if not args.host.strip() or any(c in args.host for c in "/?#@ "):
        raise Failure(f"bad flags: -host must be a host name or an IP address, not {args.host!r}", EXIT_USAGE)
    if not args.app.strip():
        raise Failure("bad flags: -app must name the pacing application", EXIT_USAGE)
    if not 0 < args.timeout <= 3600:
        raise Failure("bad flags: -timeout must be above 0 and at most 3600 seconds", EXIT_USAGE)
    if args.password is not None and not args.user:
        raise Failure("bad flags: -password needs -user", EXIT_USAGE)
    return args


def base_url(args: argparse.Namespace) -> str:
    host = args.host.strip()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"{'https' if args.https else 'http'}://{host}:{int(args.port)}"


def authorization(args: argparse.Namespace, environ=os.environ) -> str:
    if args.user:
        password = args.password if args.password is not None else environ.get("PACING_API_PASSWORD")
        if password is None:
            raise Failure("bad flags: -user needs -password (or PACING_API_PASSWORD in the environment)", EXIT_USAGE)
        pair = f"{args.user}:{password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    token = (environ.get("PACING_API_TOKEN") or "").strip()
    if not token:
        raise Failure("no credentials: give -user and -password, or set PACING_API_TOKEN (manage.py api_token issue)",
                      EXIT_USAGE)
    return f"Token {token}"


def _reason(body: bytes) -> str:
    """The server's reason, one line: {"detail": …} or {"<field>": ["…"]}."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return body.decode("utf-8", "replace").strip().splitlines()[0][:200] if body.strip() else "no reason given"
    if isinstance(data, dict):
        if isinstance(data.get("detail"), str):
            return data["detail"]
        parts = []
        for field, messages in data.items():
            text = " ".join(messages) if isinstance(messages, list) else str(messages)
            parts.append(f"{field}: {text}" if field != "detail" else text)
        return "; ".join(parts)[:500] or "no reason given"
    return str(data)[:200]


def call(args: argparse.Namespace, environ=os.environ) -> dict:
    """POST the request; the plan, or Failure."""
    url = base_url(args) + PATH
    body = json.dumps({"application": args.app, "overwrite": args.overwrite, "dry_run": args.dry_run}).encode()
    # the scheme is ours (http or https, base_url), never the user's: no file: or custom scheme can get in
    request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310
        "Content-Type": "application/json", "Accept": "application/json", "Authorization": authorization(args, environ),
        "User-Agent": "pacing-provisioning/1"})
    where = base_url(args)
    try:
        context = ssl.create_default_context() if args.https else None
        with urllib.request.urlopen(request, timeout=args.timeout, context=context) as response:  # noqa: S310
            raw = response.read(16 * 1024 * 1024)
    except urllib.error.HTTPError as exc:
        reason = _reason(exc.read(64 * 1024))
        if exc.code == 401:
            what = "wrong user or password" if args.user else "the token in PACING_API_TOKEN was refused"
            raise Failure(f"authentication failed at {where}: {what} ({reason})", EXIT_AUTH) from None
        if exc.code == 403:
            raise Failure(f"refused: {reason}", EXIT_REFUSED) from None
        if exc.code == 404:
            raise Failure(f"{where} has no provisioning API ({PATH}): is this a Pacing Console, and the right port?",
                          EXIT_UNREACHABLE) from None
        if exc.code == 400:
            raise Failure(f"provisioning refused: {reason}", EXIT_REFUSED) from None
        raise Failure(f"the console at {where} answered HTTP {exc.code}: {reason}", EXIT_REFUSED) from None
    except urllib.error.URLError as exc:
        cause = exc.reason
        if isinstance(cause, ssl.SSLError):
            raise Failure(f"TLS with {where} failed: {getattr(cause, 'reason', None) or cause} (is it https?)",
                          EXIT_UNREACHABLE) from None
        if isinstance(cause, ConnectionRefusedError):
            raise Failure(f"cannot reach the Pacing Console at {where}: connection refused (is it running?)",
                          EXIT_UNREACHABLE) from None
        if isinstance(cause, socket.gaierror):
            raise Failure(f"cannot reach the Pacing Console at {where}: unknown host {args.host!r}",
                          EXIT_UNREACHABLE) from None
        if isinstance(cause, TimeoutError):
            raise Failure(f"the Pacing Console at {where} did not answer within {args.timeout:g} s", EXIT_UNREACHABLE) \
                from None
        raise Failure(f"cannot reach the Pacing Console at {where}: {cause}", EXIT_UNREACHABLE) from None
    except TimeoutError:
        raise Failure(f"the Pacing Console at {where} did not answer within {args.timeout:g} s",
                      EXIT_UNREACHABLE) from None
    except (ConnectionError, OSError) as exc:
        raise Failure(f"the connection to {where} failed: {exc.strerror or exc}", EXIT_UNREACHABLE) from None
    try:
        plan = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Failure(f"{where} answered something that is not the provisioning API's JSON", EXIT_REFUSED) from None
    if not isinstance(plan, dict) or not isinstance(plan.get("changes"), list):
        raise Failure(f"{where} answered something that is not a provisioning plan", EXIT_REFUSED)
    return plan


def _line(change: dict) -> str:
    text = f"{change.get('action')} {change.get('object_type')} '{change.get('object')}'"
    if change.get("detail"):
        text += f": {change['detail']}"
    if change.get("lost"):
        text += f" ({'stored' if change.get('action') == 'keep' else 'loses'} {'; '.join(map(str, change['lost']))})"
    return text


def main(argv: list[str] | None = None, environ=os.environ) -> int:
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
        plan = call(args, environ)
        for change in plan["changes"]:
            print(f"  {_line(change)}")
        for kept in plan.get("kept") or []:
            print(f"  {_line(kept)}")
        if args.dry_run:
            print(f"Dry run: {len(plan['changes'])} change(s) planned; nothing was written.")
        else:
            print(SUCCESS)
        return 0
    except Failure as exc:
        print(f"provisioning: {exc.message}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("provisioning: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback: one line naming what failed
        print(f"provisioning: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
