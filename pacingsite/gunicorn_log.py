"""gunicorn's access log with the query string's values masked (``gunicorn_conf.logger_class``; OURS).

A query string can carry anything a client typed: the options filter takes ``?option=gpe/client_secret=…``, a
script may pass a token where it should send a header, and a Referer repeats another page's query. The access
log is read by more people, and kept longer, than the data it describes, so every value is masked and only the
parameter names stay (``GET /api/v1/transactions/?option=*&limit=* HTTP/1.1``): enough to see which filters were
used, nothing to leak. The log line's shape (gunicorn's ``access_log_format``) is unchanged.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

MASK = "*"


def redact_query(query: str) -> str:
    """``a=1&b=x`` → ``a=*&b=*``: every value masked, names and separators kept (a bare ``flag`` stays)."""
    if not query:
        return query
    parts = []
    for item in query.split("&"):
        name, sep, _value = item.partition("=")
        parts.append(f"{name}{sep}{MASK}" if sep else item)
    return "&".join(parts)


def redact_uri(uri: str) -> str:
    """A path or URL with its query string redacted (its fragment, never sent by browsers, dropped)."""
    path, sep, query = uri.partition("?")
    if not sep:
        return uri
    return f"{path}?{redact_query(query.partition('#')[0])}"


class RedactingLogger(Logger):
    """gunicorn's Logger whose access-log atoms carry redacted query strings: the request line (``%(r)s``),
    the query (``%(q)s``) and the Referer (``%(f)s``)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        method, _, rest = atoms["r"].partition(" ")
        uri, _, protocol = rest.rpartition(" ")
        if uri:
            atoms["r"] = f"{method} {redact_uri(uri)} {protocol}"
        atoms["q"] = redact_query(atoms.get("q") or "")
        if atoms.get("f") and atoms["f"] != "-":
            atoms["f"] = redact_uri(atoms["f"])
        for key in ("{referer}i",):
            if atoms.get(key):
                atoms[key] = redact_uri(atoms[key])
        return atoms
