"""Template import through the service, the command, the API and the admin page; an application's options
checked against its template's metadata on every write path."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from configdb import services
from configdb.models import Application, ApplicationTemplate, Host, ObjectChange, Tenant
from provisioning.templates import service
from provisioning.templates.files import MAX_FILE_BYTES, TemplateError
from tests.configdb.api_helpers import client_for, make_user

from .helpers import ENTITY_BOMB, GOAL, GOAL_VALUE, SHIPPED, TEMPLATES, shipped
from .helpers import apd as make_apd
from .helpers import metadata as make_metadata

IMPORT_URL = "/api/v1/provisioning/templates/import/"


def import_shipped(name: str, user=None):
    return service.import_template(shipped(name, "apd"), shipped(name, "xml"), user=user, apd_name=f"{name}.apd",
                                   xml_name=f"{name}.xml")


def snapshot():
    return (list(ApplicationTemplate.objects.order_by("pk").values()), ObjectChange.objects.count())


# -- the service -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_round_trip_export_parse_import_same_data(env_tenant, name):
    """The shipped files → import → the stored template → written again as files → parsed: the same data."""
    from provisioning.templates import apd, metadata

    result = import_shipped(name)
    assert result.created and result.metadata
    stored = ApplicationTemplate.objects.get(name=name)
    parsed, meta = service.parse(shipped(name, "apd"), shipped(name, "xml"))
    assert stored.tenant == env_tenant
    assert (stored.app_type, stored.version, stored.default_options) == (parsed.app_type, parsed.version,
                                                                         parsed.options)
    assert stored.metadata == meta.as_json()
    exported = apd.TemplateFile(name=stored.name, app_type=stored.app_type, version=stored.version,
                                options=stored.default_options)
    again, meta_again = service.parse(apd.to_apd(exported), metadata.to_xml(meta))
    assert again == parsed and meta_again == meta
    # importing the same files again changes nothing but reports an update
    before = ApplicationTemplate.objects.get(name=name).default_options
    assert not import_shipped(name).created
    assert ApplicationTemplate.objects.get(name=name).default_options == before
    assert ApplicationTemplate.objects.count() == 1


def test_plain_text_defaults_replace_the_apd_defaults(env_tenant):
    result = service.import_template(shipped("Pacing_Server_Cluster", "apd"), shipped("Pacing_Server_Cluster", "xml"),
                                     user=None, defaults_bytes=b"[pacing]\noptimizationGoal=7\n",
                                     defaults_name="export.txt")
    assert result.template.default_options == {"pacing": {"optimizationGoal": "7"}}
    with pytest.raises(TemplateError) as info:
        service.import_template(shipped("Pacing_Server_Cluster", "apd"), shipped("Pacing_Server_Cluster", "xml"),
                                user=None, defaults_bytes=b"[pacing]\noptimizationGoal=700\n",
                                defaults_name="export.txt")
    assert info.value.messages == ["export.txt: pacing/optimizationGoal: '700' is above the maximum 100."]


BAD_FILES = {
    "oversized": (b"<" + b" " * MAX_FILE_BYTES, None, "larger than the limit"),
    "nul": (b"<application-template>\x00", None, "a NUL byte"),
    "utf8": (b"<application-template>\xff", None, "invalid UTF-8"),
    "truncated": (shipped("Pacing_Server", "apd")[:200], None, "not well-formed XML"),
    "bomb": (shipped("Pacing_Server", "apd"), ENTITY_BOMB, "declares an entity"),
    "unknown type": (make_apd(app_type="Fax Server"), None, "unknown application type"),
    "default outside": (make_apd(GOAL_VALUE.format("3")), make_metadata(GOAL.replace('default="3"', 'default="-1"')),
                        "outside its own valid values"),
    "unknown key": (make_apd(GOAL_VALUE.format("3").replace("optimizationGoal", "other")), make_metadata(GOAL),
                    "unknown key pacing/other"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_are_refused_and_nothing_is_written(env_tenant, case):
    import_shipped("Pacing_Server")
    before = snapshot()
    apd_bytes, xml_bytes, words = BAD_FILES[case]
    with pytest.raises(TemplateError) as info:
        service.import_template(apd_bytes, xml_bytes, user=None, apd_name="bad.apd", xml_name="bad.xml")
    assert words in str(info.value)
    assert str(info.value).startswith(("bad.apd", "bad.xml"))
    assert snapshot() == before


def test_a_model_refusal_writes_nothing(env_tenant):
    """A re-import that changes the type of a template applications are created from: the model refuses it."""
    import_shipped("Pacing_Server")
    host = services.save_object(Host(tenant=env_tenant, name="h1", ip_address="10.0.0.1"))
    services.save_object(Application(tenant=env_tenant, name="Node_1", host=host, working_directory=".",
                                     command_line=".", template=ApplicationTemplate.objects.get(name="Pacing_Server")))
    before = snapshot()
    changed = shipped("Pacing_Server", "apd").replace(b"Genesys Generic Server", b"Application Cluster")
    with pytest.raises(ValidationError) as info:
        service.import_template(changed, shipped("Pacing_Server", "xml"), user=None)
    assert "app_type" in info.value.message_dict
    assert snapshot() == before


def test_a_read_only_user_is_refused(env_tenant):
    reader = make_user("reader", grants={env_tenant: "read"})
    with pytest.raises(PermissionDenied):
        import_shipped("Pacing_Server", user=reader)
    assert not ApplicationTemplate.objects.exists()


# -- an application created from the template ------------------------------------------------------------------


@pytest.fixture
def cluster(env_tenant):
    import_shipped("Pacing_Server_Cluster")
    host = services.save_object(Host(tenant=env_tenant, name="lb", ip_address="10.0.0.2"))
    return services.save_object(Application(
        tenant=env_tenant, name="Pacing_Service_Cluster_9.0", host=host, working_directory=".", command_line=".",
        template=ApplicationTemplate.objects.get(name="Pacing_Server_Cluster")))


def test_an_application_inherits_the_template_defaults(cluster):
    template = ApplicationTemplate.objects.get(name="Pacing_Server_Cluster")
    assert cluster.options == template.default_options
    assert cluster.app_type == "application_cluster" and cluster.version == "9.0.0"


@pytest.mark.parametrize(("section", "key", "value", "words"), [
    ("pacing", "optimizationGoal", "101", "'101' is above the maximum 100"),
    ("log", "verbose", "loud", "'loud' is not one of its valid values"),
    ("metrics", "reporter.log.enabled", "maybe", "'maybe' is not true or false"),
    ("metrics", "reporter.log.logFrequency", "often", "is not a duration"),
    ("forward-proxy", "port", "70000", "'70000' is above the maximum 65535"),
    ("pacingEndpoint", "targetEndpoint", "", "is mandatory"),
])
def test_a_value_outside_the_metadata_is_refused_by_the_model(cluster, section, key, value, words):
    cluster.options[section][key] = value
    with pytest.raises(ValidationError) as info:
        services.save_object(cluster)
    (message,) = info.value.message_dict["options"]
    assert message.startswith(f"{section}/{key}: ") and words in message
    assert Application.objects.get(pk=cluster.pk).options[section][key] != value


def test_the_options_import_refuses_a_value_outside_the_metadata(cluster):
    with pytest.raises(ValidationError) as info:
        services.import_options(cluster, "options", b"[pacing]\noptimizationGoal=-3\n")
    assert "pacing/optimizationGoal: '-3' is below the minimum 0" in info.value.message_dict["options"][0]
    services.import_options(cluster, "options", b"[pacing]\noptimizationGoal=12.5\n[custom]\nmine=1\n")
    assert Application.objects.get(pk=cluster.pk).options["pacing"]["optimizationGoal"] == "12.5"


def test_the_api_refuses_a_value_outside_the_metadata(cluster):
    client = client_for(make_user("root", superuser=True))
    options = {**cluster.options, "pacing": {"optimizationGoal": "abc"}}
    response = client.patch(f"/api/v1/applications/{cluster.pk}/", {"options": options}, format="json")
    assert response.status_code == 400, response.content
    assert "pacing/optimizationGoal: 'abc' is not a number" in response.content.decode()


def test_a_template_default_outside_its_metadata_is_refused(cluster):
    template = ApplicationTemplate.objects.get(name="Pacing_Server_Cluster")
    template.default_options["pacing"]["refreshPeriod"] = "0"
    with pytest.raises(ValidationError) as info:
        services.save_object(template)
    assert "pacing/refreshPeriod: '0' must be above 0" in info.value.message_dict["default_options"][0]


# -- the command --------------------------------------------------------------------------------------------


def test_the_command_imports_the_shipped_templates(env_tenant):
    out = io.StringIO()
    call_command("import_template", str(TEMPLATES / "Pacing_Server_Cluster.apd"),
                 str(TEMPLATES / "Pacing_Server_Cluster.xml"), stdout=out)
    assert out.getvalue().strip() == ("Created application template 'Pacing_Server_Cluster' (Application Cluster, "
                                      "version 9.0.0) with its option metadata.")
    assert ObjectChange.objects.get(object_repr="Pacing_Server_Cluster").actor == "command:import_template"


def test_the_command_names_the_file_and_line_and_exits_1(env_tenant, tmp_path):
    bad = tmp_path / "Bad.apd"
    bad.write_bytes(make_apd(app_type="Fax Server"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_template", str(bad), stderr=err)
    assert "Bad.apd, line 4: unknown application type 'Fax Server'" in err.getvalue()
    big = tmp_path / "Big.xml"
    big.write_bytes(b" " * (50 * 1024 * 1024))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_template", str(TEMPLATES / "Pacing_Server.apd"), str(big), stderr=err)
    assert "Big.xml: the file is 52,428,800 bytes, larger than the limit of 2 MiB" in err.getvalue()
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("import_template", str(tmp_path / "missing.apd"))
    assert not ApplicationTemplate.objects.exists()


# -- the API ------------------------------------------------------------------------------------------------


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_the_api_imports_a_template(env_tenant):
    client = client_for(make_user("writer", grants={env_tenant: "write"}))
    files = {"apd": upload("Pacing_Server.apd", shipped("Pacing_Server", "apd")),
             "metadata": upload("Pacing_Server.xml", shipped("Pacing_Server", "xml"))}
    response = client.post(IMPORT_URL, files, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Pacing_Server" and response.json()["created"] is True
    files = {"apd": upload("Pacing_Server.apd", shipped("Pacing_Server", "apd"))}
    response = client.post(IMPORT_URL, files, format="multipart")
    assert response.status_code == 200 and response.json()["created"] is False
    assert ApplicationTemplate.objects.get(name="Pacing_Server").metadata  # kept: no metadata sent


def test_the_api_refuses_a_read_only_user(env_tenant):
    client = client_for(make_user("reader", grants={env_tenant: "read"}))
    response = client.post(IMPORT_URL, {"apd": upload("a.apd", shipped("Pacing_Server", "apd"))}, format="multipart")
    assert response.status_code == 403
    assert not ApplicationTemplate.objects.exists()
    assert client_for(None).post(IMPORT_URL, {}, format="multipart").status_code == 401


def test_the_api_names_the_file_and_line_of_each_problem(env_tenant):
    client = client_for(make_user("root", superuser=True))
    response = client.post(IMPORT_URL, {"apd": upload("x.apd", shipped("Pacing_Server", "apd")),
                                        "metadata": upload("bomb.xml", ENTITY_BOMB)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("bomb.xml, line 3: the XML declares an entity")
    response = client.post(IMPORT_URL, {"apd": "not a file", "colour": "red"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == ["colour: unknown field."]
    response = client.post(IMPORT_URL, {"apd": "not a file"}, format="multipart")
    assert response.json()["errors"] == ["apd: must be a file."]
    response = client.post(IMPORT_URL, {"apd": upload("big.apd", b" " * (MAX_FILE_BYTES + 1))}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("big.apd: the file is 2,097,153 bytes")
    assert not ApplicationTemplate.objects.exists()


def test_the_api_refuses_a_50_mb_body_unread(env_tenant):
    client = client_for(make_user("root", superuser=True))
    response = client.post(IMPORT_URL, {"apd": upload("huge.apd", b" " * (50 * 1024 * 1024))}, format="multipart")
    assert response.status_code == 413
    assert "nothing was read or written" in response.json()["detail"]


# -- the admin page -----------------------------------------------------------------------------------------


def test_the_admin_list_has_the_import_button_and_the_page_imports(admin_client, env_tenant):
    page = admin_client.get("/admin/configdb/applicationtemplate/").content.decode()
    assert 'href="/admin/configdb/applicationtemplate/import/"' in page
    response = admin_client.post("/admin/configdb/applicationtemplate/import/", {
        "apd": upload("Pacing_Server_Cluster.apd", shipped("Pacing_Server_Cluster", "apd")),
        "metadata": upload("Pacing_Server_Cluster.xml", shipped("Pacing_Server_Cluster", "xml"))}, follow=True)
    assert response.status_code == 200
    assert "Created application template &#x27;Pacing_Server_Cluster&#x27;" in response.content.decode()
    template = ApplicationTemplate.objects.get(name="Pacing_Server_Cluster")
    # the options editor of the template and of an application created from it show the metadata
    page = admin_client.get(f"/admin/configdb/applicationtemplate/{template.pk}/change/").content.decode()
    assert "Option reference (19 options described by template &#x27;Pacing_Server_Cluster&#x27;)" in page
    assert "The highest allowable percentage of proactively triggered interactions" in page


def test_the_admin_page_shows_each_problem_and_writes_nothing(admin_client, env_tenant):
    response = admin_client.post("/admin/configdb/applicationtemplate/import/", {
        "apd": upload("Bad.apd", make_apd(app_type="Fax Server"))})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The template was not imported; nothing was written." in page
    assert "Bad.apd, line 4: unknown application type &#x27;Fax Server&#x27;" in page
    assert not ApplicationTemplate.objects.exists()


def test_the_admin_page_is_refused_to_a_read_only_user(client, env_tenant):
    from django.contrib.auth.models import Permission

    user = make_user("reader", staff=True, grants={env_tenant: "read"})
    user.user_permissions.set(Permission.objects.filter(codename__endswith="applicationtemplate"))
    client.force_login(user)
    page = client.get("/admin/configdb/applicationtemplate/").content.decode()
    assert "applicationtemplate/import/" not in page
    assert client.get("/admin/configdb/applicationtemplate/import/").status_code == 403


def test_the_application_editor_shows_descriptions_and_valid_values(admin_client, cluster):
    page = admin_client.get(f"/admin/configdb/application/{cluster.pk}/change/").content.decode()
    assert '<datalist id="options-choices-' in page
    assert "<option value=\"standard\">" in page
    assert "Accepts: number, at least 0, at most 100." in page
    options = cluster.options
    data = {"options-present": "1", "options-section": [], "options-key": [], "options-value": []}
    for section, keys in options.items():
        for key, value in keys.items():
            data["options-section"].append(section)
            data["options-key"].append(key)
            data["options-value"].append("500" if key == "optimizationGoal" else value)
    form = admin_client.get(f"/admin/configdb/application/{cluster.pk}/change/").context["adminform"].form
    post = {name: form[name].value() for name in form.fields if name != "options" and form[name].value() is not None}
    assert post  # the form's other fields, as shown
    response = admin_client.post(f"/admin/configdb/application/{cluster.pk}/change/", {**data, **_plain(post),
                                                                                          **_inlines()})
    assert response.status_code == 200
    assert "pacing/optimizationGoal: &#x27;500&#x27; is above the maximum 100" in response.content.decode()
    assert Application.objects.get(pk=cluster.pk).options["pacing"]["optimizationGoal"] == "3"


def _plain(values: dict) -> dict:
    return {k: ("on" if v is True else v) for k, v in values.items() if v is not False}


def _inlines() -> dict:
    data = {}
    for prefix in ("ports", "connections", "applicationtenant_set"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


def test_a_new_template_needs_the_environment_tenant_or_a_named_one(other_tenant):
    """A template imported with no Environment tenant asks for one (or a named tenant)."""
    Tenant.objects.filter(name="Environment").delete()
    with pytest.raises(TemplateError, match="no tenant named 'Environment'"):
        import_shipped("Pacing_Server")
    result = service.import_template(shipped("Pacing_Server", "apd"), None, user=None, tenant=other_tenant)
    assert result.template.tenant == other_tenant and not result.metadata


def test_hand_written_metadata_of_the_wrong_shape_is_never_a_crash(env_tenant):
    """Metadata comes from the .xml, but a configuration import carries it as free JSON: odd shapes are ignored."""
    from configdb import option_metadata

    odd = {"sections": {"pacing": {"options": {"optimizationGoal": {"type": "number", "min": "abc", "max": None,
                                                                     "valid_values": "x", "description": 5}},
                                   "other": 3}, "log": []}}
    assert option_metadata.options_problems({"pacing": {"optimizationGoal": "7"}}, odd) == []
    assert option_metadata.options_problems({"pacing": {"optimizationGoal": "x"}}, odd) == [
        "pacing/optimizationGoal: 'x' is not a number (the template's metadata: number)."]
    assert option_metadata.options_problems({}, ["not", "a", "table"]) == []
