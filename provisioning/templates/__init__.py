"""Application template import: the ``.apd`` template file and its ``.xml`` option metadata (docs/templates.md).

``files`` (the checks every file gets), ``apd`` and ``metadata`` are pure: bytes in, frozen dataclasses out, no
Django (the parsers only import configdb's pure option rules). ``service`` writes a parsed template through
configdb.services.
"""
