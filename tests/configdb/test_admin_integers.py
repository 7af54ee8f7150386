"""Integers beyond a signed 64 bits in any admin's URLs and forms: "not found" or a refused filter, never a 500.

The walk is derived from the admin site's registry, so an admin added later is covered without editing this
file: every registered admin's list with out-of-range integer filters (on its primary key, on each of its
foreign keys, on its date hierarchy's year, month and day), each of its actions asked for out-of-range ids,
and its object pages (change, delete, history) at an out-of-range id. On SQLite such a number reaching the
database is an OverflowError; the test client re-raises it, so a 500 fails the test with the traceback.
"""

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.db import models
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from pacingsite.admin_site import BoundedIntegersMixin

HUGE = "99999999999999999999"
VALUES = [HUGE, f"-{HUGE}", str(2**63), str(-(2**63) - 1)]

pytestmark = pytest.mark.django_db

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = [model._meta.label for model, _ in REGISTRY]


def info(model):
    return model._meta.app_label, model._meta.model_name


def foreign_keys(model) -> list[str]:
    return [f.name for f in model._meta.get_fields() if f.many_to_one and f.concrete]


def filter_params(model, model_admin) -> list[dict]:
    params = []
    for value in VALUES[:2]:
        params += [{"id__in": value}, {"id__in": f"1,{value}"}, {"pk__in": f"1,{value}"}, {"id": value},
                   {"pk": value}, {"id__exact": value}, {"id__gt": value}, {"id__gte": value}, {"id__lt": value},
                   {"id__lte": value}, {"id__range": f"1,{value}"}]
        if model_admin.date_hierarchy:
            hierarchy = model_admin.date_hierarchy
            params += [{f"{hierarchy}__year": value}, {f"{hierarchy}__year": "2026", f"{hierarchy}__month": value},
                       {f"{hierarchy}__year": "2026", f"{hierarchy}__month": "1", f"{hierarchy}__day": value}]
        for fk in foreign_keys(model):
            params += [{fk: value}, {f"{fk}__exact": value}, {f"{fk}__id__exact": value}, {f"{fk}__in": value},
                       {f"{fk}__id__in": f"1,{value}"}, {f"{fk}__pk": value}]
    return params


def assert_not_a_server_error(response, what):
    assert response.status_code < 500, (what, response.status_code)
    if response.status_code == 302:
        location = response["Location"]
        assert "e=1" in location or "/login/" not in location, (what, location)


def test_every_registered_admin_has_the_bounds():
    assert REGISTRY
    for model, model_admin in REGISTRY:
        assert isinstance(model_admin, BoundedIntegersMixin), model._meta.label


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=IDS)
def test_out_of_range_integer_filters_are_refused_not_a_500(demo, admin_client, model, model_admin):
    url = reverse("admin:{}_{}_changelist".format(*info(model)))
    for params in filter_params(model, model_admin):
        response = admin_client.get(url, params)
        assert_not_a_server_error(response, params)
        if response.status_code == 302:  # Django's "bad filter": the list again, with ?e=1, and a page
            assert admin_client.get(response["Location"]).status_code == 200


def test_an_out_of_range_filter_is_djangos_bad_filter_redirect(demo, admin_client):
    response = admin_client.get("/admin/configdb/databaseaccesspoint/", {"pk": HUGE})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    response = admin_client.get("/admin/configdb/switch/", {"id__in": f"1,{HUGE}"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert admin_client.get("/admin/configdb/switch/", {"id__in": "1,2"}).status_code == 200  # in range: a list
    number = admin_client.get("/admin/configdb/dn/", {"number": HUGE})  # a text field: an ordinary filter
    assert number.status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=IDS)
def test_actions_on_out_of_range_ids_are_not_a_500(demo, admin_client, admin_user, model, model_admin):
    request = RequestFactory().get("/")
    request.user = admin_user
    url = reverse("admin:{}_{}_changelist".format(*info(model)))
    real = model_admin.get_queryset(request).values_list("pk", flat=True).first()
    for action in model_admin.get_actions(request):
        for selected in ([HUGE], [HUGE, f"-{HUGE}"], *([[str(real), HUGE]] if real is not None else [])):
            response = admin_client.post(url, {"action": action, helpers.ACTION_CHECKBOX_NAME: selected})
            assert_not_a_server_error(response, (action, selected))


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=IDS)
def test_object_pages_at_an_out_of_range_id_are_not_found(demo, admin_client, model, model_admin):
    pk = model._meta.pk.target_field if model._meta.pk.is_relation else model._meta.pk
    if not isinstance(pk, models.IntegerField):
        pytest.skip("not an integer primary key")
    for page in ("change", "delete", "history"):
        for value in VALUES:
            try:
                url = reverse("admin:{}_{}_{}".format(*info(model), page), args=[value])
            except NoReverseMatch:
                continue
            response = admin_client.get(url)
            # 403: an admin that deletes nothing (alarms, the history) says so before it looks the object up
            assert response.status_code in (302, 404, *([403] if page == "delete" else [])), \
                (page, value, response.status_code)
            if response.status_code == 302:  # Django's "… with ID … doesn't exist", back to the index
                assert admin_client.get(response["Location"]).status_code == 200
    response = admin_client.post(reverse("admin:{}_{}_change".format(*info(model)), args=[HUGE]), {})
    assert response.status_code in (302, 403, 404)  # 403: a read-only admin (alarms, the history)


def test_the_odbc_builder_of_an_out_of_range_dap_is_a_404(demo, admin_client):
    assert admin_client.get("/admin/configdb/databaseaccesspoint/odbc-builder/", {"dap": HUGE}).status_code == 404
    for page in ("export", "import"):
        url = f"/admin/configdb/databaseaccesspoint/{HUGE}/options/options/{page}/"
        assert admin_client.get(url).status_code == 404, page
