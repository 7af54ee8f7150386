"""Links between objects stay inside one tenant, whatever path adds them.

Many-to-many links are written after ``full_clean()`` runs, so the rule cannot live in a model's
``clean()``; it lives here, on ``m2m_changed``, and the admin forms check the same thing first
(``services.check_same_tenant``) to show the error next to the field.
"""

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from . import services
from .models import AgentGroup, Person


def _guard(field: str):
    def check(sender, instance, action, reverse, model, pk_set, **kwargs):
        if action != "pre_add" or not pk_set:
            return
        if reverse:
            # instance is the linked object (a DN, a person, a media type); the owners are in pk_set
            owners = model._default_manager.filter(pk__in=pk_set)
            services.check_same_tenant(getattr(instance, "tenant_id", None), owners, field)
        else:
            services.check_same_tenant(instance.tenant_id, model._default_manager.filter(pk__in=pk_set), field)

    return check


LINKS = {
    AgentGroup.agents.through: "agents",
    AgentGroup.supervisors.through: "supervisors",
    AgentGroup.origination_dns.through: "origination_dns",
    Person.media_types.through: "media_types",
}

for _through, _field in LINKS.items():
    receiver(m2m_changed, sender=_through, weak=False, dispatch_uid=f"same-tenant-{_field}")(_guard(_field))
