"""The GPE client of the pacing service: OAuth client credentials and the pacing post (requests + urllib3).

What is the vendor's: the configuration it reads -- the ``hybrid_integration`` transaction's annex
``general/base_auth_url``, ``general/base_service_url``, ``ewt/client_id``, ``ewt/password`` and the
cluster's ``pacingEndpoint/targetEndpoint`` (seeds) -- and the alarms a failed exchange raises. What is ours:
the exchange itself (docs/gpe-protocol.md, encoded by ``pacing.gpe.protocol``), the cluster options
``pacingEndpoint/timeout`` and the ``forward-proxy`` section, and everything below.

* **Token.** ``POST base_auth_url`` with ``grant_type=client_credentials`` and HTTP Basic
  ``urlencode(client_id):urlencode(secret)`` (RFC 6749 sections 2.3.1 and 4.4). The token is cached until
  ``expires_in`` minus a margin (a tenth of its life, at most 30 s); a pacing post answered 401 drops it,
  fetches a new one and posts once more (a second 401 is a failure).
* **Post.** ``POST base_service_url`` joined with ``targetEndpoint`` (one slash between them), body and
  headers from ``protocol.encode_request`` (``Idempotency-Key: <cluster>:<tick>``, ``X-Pacing-Epoch``,
  gzip above 64 KiB). No automatic retry (urllib3 ``Retry(0)``): a post is bounded by ``timeout_s`` for the
  whole exchange, token included, which must stay below the refresh period, and the next cycle posts anew.
* **Proxy.** Only the configured one (``proxies=``); the environment's proxies and ``.netrc`` are ignored
  (``trust_env = False``) so what the options say is what happens.
* **Errors** (all ``GPEError``): ``RequestFailed`` -- connection refused, timeout, proxy refusal, HTTP 4xx/5xx
  other than 409, a token endpoint answering 500 or HTML (``TokenError``, a subclass) -- the cycle raises
  PacingRequestsFailed; ``InvalidReply`` -- a 200 reply that is not the documented shape (PacingResponse
  ValidationError); ``Fenced`` -- 409 ``stale_epoch`` / ``tick_already_accepted`` / ``stale_tick``: another
  leader's post counts, do not retry. ``ConfigError`` -- the options are missing or malformed.
* **Secrets.** The client secret and the access token are never logged nor put in an exception message;
  ``ClientConfig``'s repr hides the secret.
"""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import protocol
from .protocol import Reply, ReplyValidationError

__all__ = ["DEFAULT_TIMEOUT_S", "ClientConfig", "ConfigError", "Fenced", "GPEClient", "GPEError", "InvalidReply",
           "RequestFailed", "TokenError", "config_from_options"]

log = logging.getLogger("pacing.gpe.client")

DEFAULT_TIMEOUT_S = 4.0            # pacingEndpoint/timeout (ours)
DEFAULT_REFRESH_S = 5.0            # pacing/refreshPeriod (ours), only to bound the timeout here
TOKEN_MARGIN_MAX_S = 30.0
USER_AGENT = "pacing-console/0.1"
_warned: set[str] = set()


class GPEError(Exception):
    """Base of the client's errors."""


class ConfigError(GPEError):
    """The configuration of the exchange is missing or malformed; ``option`` names it (``section/key``, with
    the object it belongs to)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


class RequestFailed(GPEError):
    """The request did not get a usable answer. ``kind``: ``connect`` (refused, DNS, proxy refused),
    ``timeout``, ``http`` (a status GPE should not answer: 4xx other than 409, 5xx), ``unauthorized`` (401
    after a fresh token) or ``token`` (see TokenError); ``status``: the HTTP status when there was one."""

    def __init__(self, message: str, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.status = kind, status


class TokenError(RequestFailed):
    """The token endpoint failed: refused, timed out, 4xx/5xx, or an answer that is not a token (HTML, no
    ``access_token``)."""

    def __init__(self, message: str, status: int | None = None, kind: str = "token") -> None:
        super().__init__(message, kind, status)


class InvalidReply(GPEError):
    """A 200 reply that is not the documented shape; ``field`` names what is wrong."""

    def __init__(self, problem: ReplyValidationError) -> None:
        super().__init__(f"invalid GPE reply: {problem}")
        self.field = problem.field
        self.problem = problem


class Fenced(GPEError):
    """409: GPE counts another post for this tick, or a higher epoch (``code``: ``stale_epoch``,
    ``tick_already_accepted``, ``stale_tick``). Not a failure of GPE: this node must not retry."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"GPE refused the post ({code}): {message}")
        self.code = code


@dataclass(frozen=True)
class ClientConfig:
    """Everything the client needs, plain values (no Django)."""

    auth_url: str
    service_url: str
    endpoint_path: str
    client_id: str
    client_secret: str = field(repr=False)
    timeout_s: float = DEFAULT_TIMEOUT_S
    proxy_url: str | None = None
    verify: bool | str = True
    gzip_threshold: int | None = protocol.GZIP_THRESHOLD
    user_agent: str = USER_AGENT
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def pacing_url(self) -> str:
        return join_url(self.service_url, self.endpoint_path)


def join_url(base: str, path: str) -> str:
    """``base_service_url`` + ``targetEndpoint`` with exactly one slash between them."""
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


@dataclass
class _Token:
    value: str
    refresh_at: float          # monotonic


class GPEClient:
    """One client per cluster (thread-safe token cache). ``session``: a requests.Session to use (tests)."""

    def __init__(self, config: ClientConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or requests.Session()
        self.session.trust_env = False
        adapter = HTTPAdapter(max_retries=Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0,
                                                raise_on_status=False, raise_on_redirect=False),
                              pool_connections=2, pool_maxsize=4)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = config.user_agent
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self.token_requests = 0          # how many times a token was fetched (tests, metrics)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> GPEClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- HTTP ---------------------------------------------------------------------------------------------------

    @property
    def _proxies(self) -> dict[str, str]:
        url = self.config.proxy_url
        return {"http": url, "https": url} if url else {}

    def _send(self, url: str, deadline: float, what: str, error=RequestFailed, **kwargs) -> requests.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0.01:
            raise error(f"{what}: no time left within the {self.config.timeout_s:g} s timeout", kind="timeout")
        try:
            return self.session.post(url, timeout=(min(remaining, self.config.timeout_s), remaining),
                                     proxies=self._proxies, verify=self.config.verify, allow_redirects=False,
                                     **kwargs)
        except requests.exceptions.ProxyError as exc:
            raise error(f"{what}: the proxy {self.config.proxy_url} refused or failed ({_cause(exc)})",
                        kind="connect") from None
        except requests.exceptions.Timeout:
            raise error(f"{what}: no answer within {self.config.timeout_s:g} s", kind="timeout") from None
        except requests.exceptions.SSLError as exc:
            raise error(f"{what}: TLS failure ({_cause(exc)})", kind="connect") from None
        except requests.exceptions.ConnectionError as exc:
            raise error(f"{what}: cannot connect ({_cause(exc)})", kind="connect") from None
        except requests.exceptions.RequestException as exc:
            raise error(f"{what}: {type(exc).__name__}", kind="connect") from None

    # --- token --------------------------------------------------------------------------------------------------

    def token(self, deadline: float | None = None, *, fresh: bool = False) -> str:
        """A valid access token: the cached one, or a new one from the token endpoint (TokenError)."""
        with self._lock:
            now = time.monotonic()
            if not fresh and self._token is not None and now < self._token.refresh_at:
                return self._token.value
            self._token = None
            deadline = deadline if deadline is not None else now + self.config.timeout_s
            cid = urllib.parse.quote_plus(self.config.client_id)
            secret = urllib.parse.quote_plus(self.config.client_secret)
            basic = base64.b64encode(f"{cid}:{secret}".encode()).decode("ascii")
            self.token_requests += 1
            response = self._send(self.config.auth_url, deadline, f"token request to {self.config.auth_url}",
                                  error=TokenError, data={"grant_type": "client_credentials"},
                                  headers={"Authorization": f"Basic {basic}", "Accept": "application/json"})
            self._token = self._read_token(response)
            return self._token.value

    def _read_token(self, response: requests.Response) -> _Token:
        where = f"token endpoint {self.config.auth_url}"
        status = response.status_code
        ctype = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if status != 200:
            detail = ""
            if ctype.endswith("json"):
                try:
                    data = orjson.loads(response.content)
                    if isinstance(data, dict) and isinstance(data.get("error"), str):
                        detail = f" ({data['error'][:80]})"
                except orjson.JSONDecodeError:
                    pass
            hint = " -- check ewt/client_id and ewt/password" if status in (400, 401) else ""
            raise TokenError(f"{where} answered HTTP {status}{detail}{hint}", status)
        if not (ctype == "application/json" or ctype.endswith("+json")):
            raise TokenError(f"{where} answered {ctype or 'an untyped body'}, not a JSON token (a proxy or "
                             "sign-in page?)", status)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise TokenError(f"{where} answered a body that is not JSON", status) from None
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise TokenError(f"{where} answered no access_token", status)
        token_type = data.get("token_type", "bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise TokenError(f"{where} answered a token of type {str(token_type)[:20]!r}, not bearer", status)
        expires = data.get("expires_in", 3600)
        if isinstance(expires, str) and expires.isdigit():
            expires = int(expires)
        if isinstance(expires, bool) or not isinstance(expires, int | float) or not math.isfinite(expires) \
                or expires <= 0:
            expires = 60                     # unknown life: keep it a minute (a 401 refreshes it anyway)
        margin = min(TOKEN_MARGIN_MAX_S, expires / 10.0)
        return _Token(data["access_token"], time.monotonic() + expires - margin)

    def forget_token(self) -> None:
        with self._lock:
            self._token = None

    # --- pacing post --------------------------------------------------------------------------------------------

    def post_targets(self, cluster: str, tick: int, epoch: int, interval_s: float,
                     targets: Iterable[Mapping[str, Any]] | protocol.EncodedRequest) -> Reply:
        """Post one tick's invitations; the validated Reply, or RequestFailed / TokenError / InvalidReply /
        Fenced. ``targets``: mappings (``name``, ``invitations``, optional ``virtualQueue``, ``media``,
        ``agentGroups``) or an already ``protocol.encode_request``-ed request."""
        deadline = time.monotonic() + self.config.timeout_s
        if isinstance(targets, protocol.EncodedRequest):
            request = targets
        else:
            request = protocol.encode_request(cluster, tick, epoch, interval_s, targets,
                                              gzip_threshold=self.config.gzip_threshold)
        url = self.config.pacing_url
        what = f"pacing post to {url}"
        response = None
        for attempt in (1, 2):
            token = self.token(deadline, fresh=attempt == 2)
            headers = {**request.headers, "Authorization": f"Bearer {token}"}
            response = self._send(url, deadline, what, data=request.body, headers=headers)
            if response.status_code != 401:
                break
            log.info("GPE answered 401 to the post of %s tick %s; fetching a new token", cluster, tick)
            self.forget_token()
        status = response.status_code
        if status == 401:
            raise RequestFailed(f"{what}: HTTP 401 with a fresh token (the token is not accepted)", "unauthorized",
                                401)
        if status == 409:
            code, message = _error_of(response)
            raise Fenced(code or "conflict", message or "conflict")
        if status != 200:
            code, message = _error_of(response)
            detail = f" ({code}: {message})" if code else ""
            raise RequestFailed(f"{what}: HTTP {status}{detail}", "http", status)
        try:
            reply = protocol.parse_reply(response.content, set(request.targets), response.headers.get("Content-Type"))
        except ReplyValidationError as exc:
            raise InvalidReply(exc) from None
        if response.headers.get("Idempotent-Replayed", "").lower() == "true":
            reply = Reply(reply.pending, reply.errors, replayed=True, size=reply.size)
        return reply


def _cause(exc: BaseException) -> str:
    """A short reason from a requests exception (urllib3's chain), without URLs' credentials."""
    text = str(exc)
    for marker in ("Connection refused", "timed out", "Name or service not known", "Tunnel connection failed",
                   "Remote end closed connection", "Connection reset", "certificate verify failed",
                   "No route to host", "Temporary failure in name resolution"):
        if marker in text:
            return marker
    return type(exc).__name__


def _error_of(response: requests.Response) -> tuple[str, str]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    code = data.get("code") or data.get("error") or ""
    return str(code)[:80], str(data.get("message") or data.get("error_description") or "")[:300]


# ------------------------------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------------------------------

def _section(options: Mapping[str, Mapping[str, str]] | None, name: str, owner: str) -> Mapping[str, str]:
    section = (options or {}).get(name)
    if section is None:
        raise ConfigError(f"{owner} {name}", "the section is missing")
    if not isinstance(section, Mapping):
        raise ConfigError(f"{owner} {name}", "must be a section of keys")
    return section


def _value(section: Mapping[str, str], key: str, option: str) -> str:
    value = section.get(key)
    if value is None or not str(value).strip():
        raise ConfigError(option, "is missing or empty")
    return str(value).strip()


def _url(value: str, option: str) -> str:
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(option, f"{value!r} is not an http:// or https:// URL with a host")
    try:
        parts.port                               # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(option, f"{value!r} has a bad port") from None
    if parts.username or parts.password:
        raise ConfigError(option, "must not carry credentials (use ewt/client_id and ewt/password)")
    return value


def _seconds(raw: Any, default: float) -> float | None:
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _flag(raw: Any, option: str) -> bool:
    text = str(raw if raw is not None else "false").strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise ConfigError(option, f"{raw!r} is not true or false")


def config_from_options(transaction_annex: Mapping[str, Mapping[str, str]] | None,
                        cluster_options: Mapping[str, Mapping[str, str]] | None, *,
                        refresh_period_s: float | None = None, transaction: str = "hybrid_integration",
                        cluster: str = "cluster") -> ClientConfig:
    """The ClientConfig of a cluster from the ``hybrid_integration`` transaction's annex (secrets DECRYPTED,
    e.g. ``configdb.crypto.decrypt_options``) and the cluster application's options. Raises ConfigError
    naming the option for a missing section or key or a bad URL. ``pacingEndpoint/timeout`` (ours; seconds,
    default 4) that is not a positive number falls back to the default; one at or above the refresh period
    is lowered to 80 % of it; both with a message in ``warnings``."""
    txn = f"transaction {transaction}"
    general = _section(transaction_annex, "general", txn)
    ewt = _section(transaction_annex, "ewt", txn)
    auth_url = _url(_value(general, "base_auth_url", f"{txn} general/base_auth_url"),
                    f"{txn} general/base_auth_url")
    service_url = _url(_value(general, "base_service_url", f"{txn} general/base_service_url"),
                       f"{txn} general/base_service_url")
    client_id = _value(ewt, "client_id", f"{txn} ewt/client_id")
    secret = ewt.get("password")
    if secret is None or secret == "":
        raise ConfigError(f"{txn} ewt/password", "is missing or empty")

    owner = f"cluster {cluster}"
    endpoint = _section(cluster_options, "pacingEndpoint", owner)
    path = _value(endpoint, "targetEndpoint", f"{owner} pacingEndpoint/targetEndpoint")
    if "://" in path or any(c.isspace() for c in path):
        raise ConfigError(f"{owner} pacingEndpoint/targetEndpoint",
                          f"{path!r} must be a path under general/base_service_url")
    warnings: list[str] = []
    refresh = refresh_period_s
    if refresh is None:
        refresh = _seconds(((cluster_options or {}).get("pacing") or {}).get("refreshPeriod", DEFAULT_REFRESH_S),
                           DEFAULT_REFRESH_S) or DEFAULT_REFRESH_S
    timeout = DEFAULT_TIMEOUT_S
    raw_timeout = endpoint.get("timeout")
    if raw_timeout not in (None, ""):
        parsed = _seconds(raw_timeout, DEFAULT_TIMEOUT_S)
        if parsed is None:
            warnings.append(f"{owner} pacingEndpoint/timeout {raw_timeout!r} is not a positive number of seconds; "
                            f"using {DEFAULT_TIMEOUT_S:g}")
        else:
            timeout = parsed
    if timeout >= refresh:
        lowered = round(0.8 * refresh, 3)
        warnings.append(f"{owner} pacingEndpoint/timeout {timeout:g} s is not below the refresh period "
                        f"{refresh:g} s; using {lowered:g}")
        timeout = lowered

    proxy_url = None
    proxy = (cluster_options or {}).get("forward-proxy")
    if proxy is not None:
        if not isinstance(proxy, Mapping):
            raise ConfigError(f"{owner} forward-proxy", "must be a section of keys")
        if _flag(proxy.get("enabled"), f"{owner} forward-proxy/enabled"):
            host = _value(proxy, "host", f"{owner} forward-proxy/host")
            raw_port = _value(proxy, "port", f"{owner} forward-proxy/port")
            if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
                raise ConfigError(f"{owner} forward-proxy/port", f"{raw_port!r} is not a port number (1-65535)")
            if "://" in host:
                parts = urllib.parse.urlsplit(host)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    raise ConfigError(f"{owner} forward-proxy/host", f"{host!r} is not a host name")
                proxy_url = f"{parts.scheme}://{parts.hostname}:{int(raw_port)}"
            else:
                if any(c in host for c in "/@ ") or not host:
                    raise ConfigError(f"{owner} forward-proxy/host", f"{host!r} is not a host name")
                proxy_url = f"http://{host}:{int(raw_port)}"
    for w in warnings:
        if w not in _warned:                # once per distinct message, not every cycle
            _warned.add(w)
            log.warning("%s", w)
    return ClientConfig(auth_url=auth_url, service_url=service_url, endpoint_path=path, client_id=client_id,
                        client_secret=str(secret), timeout_s=timeout, proxy_url=proxy_url,
                        warnings=tuple(warnings))
