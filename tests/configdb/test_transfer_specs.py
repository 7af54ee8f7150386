"""Every field of every configuration model is in the transfer document, or kept out for a stated reason.

A new model field that no spec covers (configdb/transfer/specs.py) fails here, so an export can never silently
drop it. The reasons below are the only fields a document leaves out.
"""

from __future__ import annotations

import pytest
from django.apps import apps

from configdb.transfer.specs import CONNECTION, PORT, SKILL_LEVEL, SPECS, TENANT_SPEC

#: fields every record leaves out, and why
EVERY_RECORD = {
    "created": "kept by the database: the time the object was created here",
    "modified": "kept by the database: the time of the last change here",
    "tenant": "the document's own tenant (its top-level 'tenant')",
}
#: fields a record of one list leaves out, and why
NOT_IN_DOCUMENT = {
    "tenant": {"name": "the document's top-level 'tenant'"},
    "folders": {"folder_type": "written as 'type'", "name": "the last part of 'path'",
                "parent": "the rest of 'path'"},
    "database-access-points": {"app_type": "always Database Access Point (the list says it)",
                               "is_server": "always false for a DAP (its clean() sets it)"},
    "virtual-queues": {"dn_type": "always Virtual Queue (the list says it)"},
    "ports": {"application": "the record the row is nested in"},
    "connections": {"application": "the record the row is nested in"},
    "skill_levels": {"person": "the record the row is nested in"},
}
#: fields of the document that are not model fields: rows nested in their object's record
NESTED_ROWS = {"applications": {"ports", "connections"}, "database-access-points": {"ports", "connections"},
               "persons": {"skill_levels"}}
#: configuration models no list holds, and why
NOT_EXPORTED = {
    "objectchange": "the history stays with the installation that recorded it",
    "tenantgrant": "users and their grants are the installation's own (not a tenant's configuration)",
    "importjob": "a background import of this installation (its request, progress and outcome)",
    "applicationtenant": "the 'tenants' links of an application",
    "originationdn": "the 'origination_dns' links of an agent group",
    "virtualqueue": "the DNs of type Virtual Queue: the 'virtual-queues' list",
}

SPEC_LIST = [("tenant", TENANT_SPEC), *SPECS.items(), ("ports", PORT), ("connections", CONNECTION),
             ("skill_levels", SKILL_LEVEL)]


def model_fields(model) -> set[str]:
    return {f.name for f in model._meta.get_fields()
            if (f.concrete or f.many_to_many) and not f.auto_created
            and not (f.one_to_one and f.remote_field.parent_link)}


@pytest.mark.parametrize(("key", "spec"), SPEC_LIST, ids=[key for key, _ in SPEC_LIST])
def test_every_model_field_is_in_the_document_or_kept_out_for_a_reason(key, spec):
    fields = model_fields(spec.model)
    kept_out = set(EVERY_RECORD) | set(NOT_IN_DOCUMENT.get(key, {}))
    missing = fields - set(spec.fields) - kept_out
    assert not missing, f"{key}: no spec covers {sorted(missing)} (configdb/transfer/specs.py)"
    extra = set(spec.fields) - fields - NESTED_ROWS.get(key, set()) - {"type", "path"}
    assert not extra, f"{key}: the spec names {sorted(extra)}, which the model does not have"
    stale = set(NOT_IN_DOCUMENT.get(key, {})) - fields
    assert not stale, f"{key}: NOT_IN_DOCUMENT names {sorted(stale)}, which the model does not have"


def test_every_configuration_model_has_a_list_or_a_reason():
    covered = {spec.model._meta.model_name for _, spec in SPEC_LIST}
    models = {m._meta.model_name for m in apps.get_app_config("configdb").get_models()}
    assert models - covered - set(NOT_EXPORTED) == set()
    assert set(NOT_EXPORTED) <= models
