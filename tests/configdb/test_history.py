"""Change history from the paths the API and admin tests do not cover: Celery tasks and plain code."""

from configdb import services
from configdb.history import acting_as
from configdb.models import ChangeAction, ObjectChange, Transaction, TransactionType, VirtualQueue
from pacingsite.celery import app

from . import factories as f


def changes_of(obj):
    return ObjectChange.objects.filter(content_type__model=obj._meta.concrete_model._meta.model_name,
                                       object_id=str(obj.pk))


@app.task(name="tests.rename_queue")
def rename_queue(pk: int, alias: str) -> None:
    queue = VirtualQueue.objects.get(pk=pk)
    queue.alias = alias
    services.save_object(queue)


def test_a_celery_task_is_recorded_as_itself(env_tenant):
    queue = services.save_object(VirtualQueue(switch=f.switch(env_tenant), number="VQ1", alias="VQ1"))
    rename_queue.apply(args=[queue.pk, "renamed"])
    change = changes_of(queue).first()
    assert (change.actor, change.via, change.action) == ("celery:tests.rename_queue", "celery", ChangeAction.UPDATE)
    assert change.diff == {"alias": ["VQ1", "renamed"]}
    assert change.user is None


def test_plain_code_is_recorded_as_the_process_and_contexts_nest(env_tenant):
    queue = services.save_object(VirtualQueue(switch=f.switch(env_tenant), number="VQ2"))
    assert changes_of(queue).get().actor.startswith("process:")
    with acting_as("command:outer", "command"):
        with acting_as("celery:inner", "celery"):
            queue.alias = "x"
            services.save_object(queue)
        queue.alias = "y"
        services.save_object(queue)
    actors = list(changes_of(queue).values_list("actor", flat=True))
    assert actors[:2] == ["command:outer", "celery:inner"]


def test_history_never_holds_a_secret(env_tenant):
    txn = services.save_object(Transaction(tenant=env_tenant, name="hybrid_integration",
                                           transaction_type=TransactionType.LIST,
                                           annex={"ewt": {"client_id": "c", "password": "s3cret-value"}}))
    txn.annex = {"ewt": {"client_id": "c", "password": "another-s3cret"}}
    services.save_object(txn)
    rows = list(changes_of(txn).values("prechange", "postchange"))
    assert len(rows) == 2
    assert "s3cret" not in str(rows)
    assert rows[1]["postchange"]["annex"]["ewt"]["password"] == "********"
    assert rows[0]["postchange"]["annex"]["ewt"]["password"] == "******** (changed)"
    assert rows[0]["prechange"]["annex"]["ewt"]["password"] == "********"


def test_saving_without_a_change_records_nothing(env_tenant):
    queue = services.save_object(VirtualQueue(switch=f.switch(env_tenant), number="VQ3"))
    services.save_object(queue)
    assert changes_of(queue).count() == 1


def test_deletes_and_links_are_recorded(demo):
    from configdb.models import AgentGroup

    group = AgentGroup.objects.get(name="Proactive Chat")
    queue = VirtualQueue.objects.get(number="Proactive Voice")
    group.origination_dns.add(queue)
    link = ObjectChange.objects.filter(object_repr="Proactive Chat", content_type__model="agentgroup").first()
    assert link.action == ChangeAction.UPDATE and queue.pk in link.postchange["origination_dns"]
    pk = group.pk
    group.delete()
    assert ObjectChange.objects.filter(object_id=str(pk), action=ChangeAction.DELETE,
                                       content_type__model="agentgroup").exists()


def test_deleting_a_tenant_and_a_folder_tree_is_recorded(db):
    from configdb.models import Folder, FolderType, Tenant

    tenant = services.save_object(Tenant(name="Doomed"))
    top = services.save_object(Folder(tenant=tenant, name="Top", folder_type=FolderType.DNS))
    services.save_object(Folder(tenant=tenant, name="Child", folder_type=FolderType.DNS, parent=top))
    tenant_pk = tenant.pk
    Folder.objects.filter(tenant=tenant).delete()
    tenant.delete()
    deleted = ObjectChange.objects.filter(action=ChangeAction.DELETE, tenant_id=tenant_pk)
    assert sorted(deleted.values_list("content_type__model", flat=True)) == ["folder", "folder", "tenant"]
