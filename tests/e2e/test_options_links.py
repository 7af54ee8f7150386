"""Every Export / Import button of options and annexes, clicked from each object type's change page.

The links once were relative (``options/<field>/export/``) and resolved under ``…/change/``, where
nothing answers: every button was a 404 that no test clicked. Here each admin that offers the
buttons is found from the admin site's registry, so a new object type is covered without editing
this file.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory
from playwright.sync_api import expect

from configdb import services
from configdb.admin.base import OptionsAdminMixin
from configdb.models import ApplicationTemplate, ApplicationType, DatabaseAccessPoint, DBMSType, Tenant

# The object types the issue (11) named; every one must be covered, whatever else is.
NAMED = {"virtualqueue", "agentgroup", "application", "transaction", "tenant", "host", "switch", "dn", "person",
         "applicationtemplate", "alarmcondition"}


def options_admins() -> list:
    """The registered admins that show at least one options / annex field."""
    return [
        model_admin for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, OptionsAdminMixin) and services.options_fields(model)
    ]


@pytest.fixture
def every_object_type(demo):
    """The demo configuration plus what it lacks: a database access point."""
    tenant = Tenant.objects.get(name="Environment")
    template = services.save_object(ApplicationTemplate(tenant=tenant, name="T_DAP", version="8.5",
                                                        app_type=ApplicationType.DATABASE_ACCESS_POINT))
    services.save_object(DatabaseAccessPoint(name="Pacing_DAP", tenant=tenant, template=template,
                                             dbms_type=DBMSType.POSTGRESQL, database_name="pacing"))
    return demo


def shown_fields(model_admin, obj, user) -> list[str]:
    """The options fields the change form shows (an application template's form, say, may leave one out)."""
    request = RequestFactory().get("/")
    request.user = user
    return model_admin.options_fields_shown(request, obj)


def test_every_export_and_import_button_opens_its_page(every_object_type, admin_page, admin_user, live_server):
    page = admin_page
    covered = set()
    for model_admin in options_admins():
        opts = model_admin.model._meta
        obj = model_admin.model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {opts.verbose_name} to open: add one to the fixture"
        change_url = f"{live_server.url}/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/"
        fields = shown_fields(model_admin, obj, admin_user)
        assert fields, f"{opts.verbose_name} shows no options field"

        page.goto(change_url)
        exports = page.locator("#content .object-tools a.options-export")
        imports = page.locator("#content .object-tools a.options-import")
        expect(exports).to_have_count(len(fields))
        expect(imports).to_have_count(len(fields))

        for index, field in enumerate(fields):
            label = opts.get_field(field).verbose_name
            page.goto(change_url)
            with page.expect_download() as download_info, page.expect_response(
                lambda response: "/export/" in response.url
            ) as response_info:
                page.locator("#content .object-tools a.options-export").nth(index).click()
            response = response_info.value
            assert response.status == 200, f"{opts.model_name} export {field}: {response.status} at {response.url}"
            assert response.url == f"{live_server.url}/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/options/" \
                                   f"{field}/export/"
            download = download_info.value
            assert download.suggested_filename.endswith(f"-{field}.txt")
            with open(download.path(), encoding="utf-8") as exported:
                assert exported.read() == services.export_options(obj, field)

            page.goto(change_url)
            button = page.locator("#content .object-tools a.options-import").nth(index)
            expect(button).to_have_text(f"Import {label}")
            with page.expect_navigation() as navigation:
                button.click()
            assert navigation.value.status == 200, f"{opts.model_name} import {field}: {navigation.value.status}"
            assert page.url.endswith(f"/{obj.pk}/options/{field}/import/")
            expect(page.locator("#content h1")).to_have_text(f"Import {label} of {obj}")
            expect(page.locator("input[type=file][name=file]")).to_have_count(1)
        covered.add(opts.model_name)

    missing = NAMED - covered
    assert not missing, f"object types without a tested Export / Import button: {sorted(missing)}"
