"""Export and import of a tenant's whole configuration as one JSON document (the format is ours).

The document (docs/config-transfer.md)::

    {"format": "pacing-console-config", "version": 1, "exported": "<ISO time>", "tenant": "<name>",
     "objects": {"tenant": {...}, "folders": [...], "hosts": [...], ...}}

holds one list per object type, in dependency order, and names every related object by its
natural key (a name, a folder path, a switch + number), never by a database id, so a file made
here imports into another database. Secrets (option keys named like one, a DAP's password) are
written as the ``enc:v1:`` tokens of ``configdb.crypto``: a file moves between installations that
share PACING_SECRETS_KEY, and never holds a secret in clear.

Import is all or nothing. The whole document is checked first (shape, types, unknown keys,
duplicates, secret tokens), then every record is written through ``services.save_object`` /
``services.set_links`` inside one transaction, so ``full_clean()`` runs and the history records
each change; any problem anywhere rolls everything back and every problem is reported, each
naming its record (``virtual-queues[3] (Proactive Chat): switch: no switch named 'X'``).

The package, by what each module does:

* ``document`` -- the format's constants and errors, reading a document from text or a file, writing it;
* ``codecs`` -- how one field is written and read back (names, numbers, options tables, secrets, references);
* ``specs`` -- what each list of the document holds, and the natural key of its records;
* ``export`` -- a tenant's objects as a document;
* ``importer`` -- a document written into its tenant, all or nothing.
"""

from .document import (
    FORMAT,
    MAX_DOCUMENT_BYTES,
    MAX_REPORTED,
    STATUSES,
    VERSION,
    TransferError,
    dumps,
    parse_json,
    progress_bar,
    read_document,
)
from .export import export_tenant
from .importer import Summary, import_document
from .specs import LIST_KEYS, OBJECT_KEYS, SPECS

__all__ = [
    "FORMAT", "LIST_KEYS", "MAX_DOCUMENT_BYTES", "MAX_REPORTED", "OBJECT_KEYS", "SPECS", "STATUSES", "VERSION",
    "Summary", "TransferError", "dumps", "export_tenant", "import_document", "parse_json", "progress_bar",
    "read_document",
]
