"""Application template import: the ``.apd`` template file and its ``.xml`` option metadata (docs/templates.md).

``files`` (the checks every file gets, the safe XML reader), ``apd`` and ``metadata`` are pure: bytes in, frozen
dataclasses out, no Django (they only import configdb's pure option rules). ``service`` writes a parsed template
through configdb.services; ``admin`` is the admin's upload page. The HTML templates under ``admin/`` are Django's
(this folder is also the app's template directory).
"""
