"""A logging filter that masks anything shaped like a credential before a line is written.

The code never logs secrets on purpose; this is the belt to those braces — a request body, an
exception message or a third-party library's debug line that carries ``password=…``,
``"client_secret": "…"`` or an ``Authorization`` header is written with the value masked.
"""

import logging
import re

_PATTERN = re.compile(
    r"""(?ix)
    (                                           # the name and its separator…
      (?:password|passwd|passphrase|pwd|secret|token|api[-_.]?key|authorization|db_password)
      [a-z0-9_.-]*["']?\s*(?:[:=]|%3D)\s*["']?(?:token\s+|bearer\s+)?
    )
    ([^"'\s,;&}]+)                             # …and the value, which is masked
    """
)


def redact(text: str) -> str:
    return _PATTERN.sub(lambda m: f"{m.group(1)}********", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
