"""Every admin page fits a 1,280 px window: no page wider than the window, no table cell clipping its text, no
object-tool button drawn over the title.

The pages come from the admin's URL patterns, not from a list kept here, so a model, a ModelAdmin's own view
(``get_urls()``), a wizard step, a column or an inline added later is walked too. Every named admin URL that answers
GET with a page is opened with the values the demo gives its parameters: every list and add page, every demo
object's change page (of the history's own records, the first six: MACHINE_WRITTEN) and the first object's history
and delete pages, one options / annex import page per options
field, the section (``/admin/section/<slug>/``) and app index pages, the ModelAdmins' own pages (the application
template import, the ODBC builder, the proxy error codes), and the two wizards' pages the demo reaches. A URL that
is not a page (a download, JSON, a redirect) is listed in ``NOT_PAGES`` with the reason; a new URL whose parameters
this file cannot fill fails the walk until it is taught them or listed there.
Each page is kept as a full-page screenshot (tests/e2e/screenshots.py: the folder `.ci/run` prints).
"""

from __future__ import annotations

import re
import time

from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, resolve, reverse

from alarms import catalog, runtime
from tests.e2e.screenshots import save_screenshot, screenshots_dir

WIDTH = 1280
#: the deployment wizard's subject in the demo (every step done, so each step and the summary open)
DEMO_CLUSTER = "Pacing_Service_Cluster_9.0"
#: a wizard without a subject in the demo (the Interaction Server cluster's) is walked for a new one of this name:
#: its first step opens, the others stay closed until it is done (they redirect to it)
NEW_SUBJECT = "Layout_Check_Cluster"

#: the admin URL names that answer GET with no page of their own, and why they are not walked
NOT_PAGES = {
    "login": "redirects a signed-in user to the index",
    "logout": "POST only",
    "autocomplete": "JSON for the autocomplete widgets",
    "jsi18n": "JavaScript",
    "view_on_site": "redirects to the object's site URL",
    "configdb_application_ports": "JSON for the connection inline's port-ID picker",
}
#: name endings of the URLs of every options admin that are no page: the export is a download
NOT_PAGE_SUFFIXES = {"_export_options": "a file download"}

# What "does not fit" means, asked of the page itself:
# - the document is wider than the window (a horizontal scroll bar on the whole page);
# - an element that cuts or scrolls what overflows it (overflow-x other than visible: the changelist's
#   .results box, a cell with text-overflow: ellipsis) holds content wider than itself — a column cut
#   off at the right of the list or a value ending in "…";
# - a text input in a table row (the options editor, a tabular inline) holds more text than it shows,
#   unless its tooltip (title) gives the whole value; an option's section and key are always shown whole.
# - a table sticks out of the box that holds it (drawn over its neighbours, or off the module);
# - a drop-down is narrower than its chosen option (measured in its own font).
# Elements that are hidden (display: none, zero size) and the admin's own scrolling widgets
# (the two-box filter_horizontal selector, textareas) are not counted.
FIT_CHECK = r"""
() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) {
    problems.push(`page is ${root.scrollWidth} px wide in a ${window.innerWidth} px window`);
  }
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) { name += "#" + el.id; }
    const classes = Array.from(el.classList).slice(0, 3);
    if (classes.length) { name += "." + classes.join("."); }
    const cell = el.closest("td, th");
    const table = el.closest("table");
    if (cell && table) {
      const index = Array.from(cell.parentElement.children).indexOf(cell);
      const head = table.querySelector("thead tr");
      const title = head && head.children[index] ? head.children[index].innerText.trim() : "";
      name += ` (column ${index + 1}${title ? " " + JSON.stringify(title) : ""})`;
    }
    const text = (el.value !== undefined && typeof el.value === "string" ? el.value : el.innerText || "")
      .trim().replace(/\s+/g, " ").slice(0, 60);
    return text ? `${name}: ${JSON.stringify(text)}` : name;
  };
  const visible = (el) => el.offsetParent !== null && el.clientWidth > 0;
  const skip = "textarea, option, svg, .selector, .visually-hidden, .select2-hidden-accessible";
  const measure = document.createElement("canvas").getContext("2d");
  for (const el of document.body.querySelectorAll("*")) {
    if (!visible(el) || el.matches(skip) || el.closest(skip)) { continue; }
    const style = getComputedStyle(el);
    if (el.matches("select")) {
      // a drop-down shows its chosen option in its box, less the paddings and the arrow (~20 px)
      const chosen = el.multiple || el.selectedIndex < 0 ? "" : el.options[el.selectedIndex].text;
      measure.font = style.font;
      const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
      if (chosen && measure.measureText(chosen).width > room + 1) {
        problems.push(`drop-down cuts its choice: ${describe(el)} ${JSON.stringify(chosen)}`);
      }
      continue;
    }
    if (el.matches("input") && ["text", "search", "url", "email", "number", ""].includes(el.type)) {
      const cut = el.closest("td, th") && el.scrollWidth > el.clientWidth + 1;
      const optionName = el.closest(".options-table") && /-(section|key)$/.test(el.name);
      if (cut && (optionName || el.title !== el.value)) {
        problems.push(`input cuts its text: ${describe(el)}`);
      }
      continue;
    }
    if (el.matches("table") && el.getBoundingClientRect().right > el.parentElement.getBoundingClientRect().right + 1) {
      problems.push(`table runs out of its box by ${Math.round(el.getBoundingClientRect().right -
        el.parentElement.getBoundingClientRect().right)} px: ${describe(el)}`);
    }
    if (style.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${describe(el)} clips ${el.scrollWidth - el.clientWidth} px (overflow-x: ${style.overflowX})`);
    }
  }
  // the object tools (History, Export options, …) drawn over the page's title: a line of the title's text
  // (h1, or the h2 under it) that meets a button
  const titles = Array.from(document.querySelectorAll("#content h1, #content h2")).filter(visible);
  const buttons = Array.from(document.querySelectorAll("#content .object-tools li, #content .object-tools a"))
    .filter(visible).map((button) => button.getBoundingClientRect());
  for (const title of titles) {
    const range = document.createRange();
    range.selectNodeContents(title);
    const lines = Array.from(range.getClientRects()).filter((line) => line.width > 0 && line.height > 0);
    const meets = (line, box) => line.right > box.left + 1 && line.left < box.right - 1 &&
      line.bottom > box.top + 1 && line.top < box.bottom - 1;
    if (lines.some((line) => buttons.some((box) => meets(line, box)))) {
      problems.push(`object tools overlap the title: ${describe(title)}`);
    }
  }
  return problems;
}
"""


def _parameters(pattern: URLPattern) -> frozenset[str]:
    """The names of a URL pattern's parameters (a path's, or a regular expression's, named groups)."""
    return frozenset(pattern.pattern.regex.groupindex)


def _wizards() -> dict:
    """The wizards by key (their admin URLs are ``pacing-<key>[-cluster|-step|-summary]``)."""
    from provisioning.wizard import flow, ixn_steps

    return {wizard.key: wizard for wizard in (flow.PACING, ixn_steps.WIZARD)}


def _wizard_pages(wizard, what: str, user) -> list[tuple[str, str]]:
    """A wizard's step pages that open for its subject (the demo's, else a new one), or its summary once every
    step is done. Closed steps only redirect to the open one, so they are not walked twice."""
    from provisioning.wizard import flow
    from provisioning.wizard.base import first_incomplete, gate

    subjects = wizard.subjects(user)
    cluster = DEMO_CLUSTER if DEMO_CLUSTER in subjects else (subjects[0] if subjects else NEW_SUBJECT)
    statuses = flow.statuses(cluster, wizard)
    steps = list(wizard.steps)
    if what == "summary":
        if first_incomplete(steps, statuses) is not None:
            return []
        return [(f"{wizard.key}-summary", reverse(f"admin:pacing-{wizard.key}-summary", kwargs={"cluster": cluster}))]
    return [(f"{wizard.key}-{step.key}", reverse(f"admin:pacing-{wizard.key}-step",
                                                 kwargs={"cluster": cluster, "step": step.key}))
            for step in steps if gate(steps, step, statuses) is None]


def _site_pages(name: str, params: frozenset[str], request) -> list[tuple[str, str]] | None:
    """The pages of one of the admin site's own URLs (None: parameters this walk cannot fill)."""
    if not params:
        return [(f"site-{name}", reverse(f"admin:{name}"))]
    if params == {"app_label"}:
        labels = sorted({model._meta.app_label for model in admin.site._registry})
        return [(f"app-{label}", reverse(f"admin:{name}", kwargs={"app_label": label})) for label in labels]
    if params == {"slug"}:  # the section pages: every link of the index to this URL
        urls = sorted({section["app_url"] for section in admin.site.get_app_list(request)
                       if resolve(section["app_url"]).url_name == name})
        return [(f"{name}-{resolve(url).kwargs['slug']}", url) for url in urls]
    found = re.fullmatch(r"pacing-(?P<key>.+?)-(?P<what>cluster|step|summary)", name)
    wizard = _wizards().get(found["key"]) if found else None
    if wizard is None:
        return None
    if found["what"] == "cluster":
        return []  # the resume page redirects to the first open step (walked as a step)
    return _wizard_pages(wizard, found["what"], request.user)


#: models whose rows the product writes (one template over rows of one shape): the first few of their change pages
#: stand for all (the demo has ~76 history records, each page like the others; walking them all cost ~35 s)
MACHINE_WRITTEN = {"objectchange": 6}


def _model_pages(model_admin, name: str, params: frozenset[str], request) -> list[tuple[str, str]] | None:
    """The pages of one URL of a ModelAdmin (None: parameters this walk cannot fill)."""
    model = model_admin.model
    label = f"{model._meta.app_label}-{model._meta.model_name}"
    url = f"admin:{name}"
    short = name.removeprefix(f"{model._meta.app_label}_{model._meta.model_name}_")  # changelist, add, history, …
    if not params:
        if short == "add" and not model_admin.has_add_permission(request):
            return []
        return [(f"{label}-{'list' if short == 'changelist' else short}", reverse(url))]
    objects = list(model_admin.get_queryset(request).order_by("pk"))
    if params in ({"object_id"}, {"id"}):
        (param,) = params
        if short == "change":  # every demo object's change page
            if model._meta.model_name in MACHINE_WRITTEN:
                objects = objects[:MACHINE_WRITTEN[model._meta.model_name]]
            return [(f"{label}-{obj.pk}", reverse(url, kwargs={param: obj.pk})) for obj in objects]
        first = objects[:1]
        if short == "delete":  # the confirmation page, where the user may delete
            first = [obj for obj in first if model_admin.has_delete_permission(request, obj)]
        return [(f"{label}-{obj.pk}-{short}", reverse(url, kwargs={param: obj.pk})) for obj in first]
    if params == {"object_id", "field"} and hasattr(model_admin, "options_fields_shown"):
        # one page per options / annex field, on the first object that shows it
        pages, done = [], set()
        for obj in objects:
            for field in model_admin.options_fields_shown(request, obj):
                if field not in done:
                    done.add(field)
                    pages.append((f"{label}-{obj.pk}-{short}-{field}",
                                  reverse(url, kwargs={"object_id": obj.pk, "field": field})))
        return pages
    return None


def admin_pages(superuser) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, path) of every page of the admin's URLs (above), and the URLs whose parameters could not be filled."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    pages, unfilled = [("index", reverse("admin:index"))], []

    def add(name: str, params: frozenset[str], found: list | None) -> None:
        if found is None:
            unfilled.append(f"admin:{name} (parameters {sorted(params)})")
        else:
            pages.extend(found)

    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLPattern) and pattern.name and pattern.name not in ("index", *NOT_PAGES):
            params = _parameters(pattern)
            add(pattern.name, params, _site_pages(pattern.name, params, request))
    for _model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        if not model_admin.has_view_or_change_permission(request):
            continue
        for pattern in model_admin.get_urls():
            name = pattern.name
            if not name or name in NOT_PAGES or name.endswith(tuple(NOT_PAGE_SUFFIXES)):
                continue
            params = _parameters(pattern)
            add(name, params, _model_pages(model_admin, name, params, request))
    return pages, unfilled


def test_every_admin_page_fits_1280_px(demo, admin_page, admin_user, live_server):
    # a row for the lists that the demo leaves empty, so their columns are measured too
    runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "GPE refused the connection (a long reason, as a GPE "
                        "error message gives it, to see that the column wraps it)",
                        source="Pacing_Service_Cluster_9.0", node="node-1")
    page = admin_page
    assert page.viewport_size["width"] == WIDTH
    pages, unfilled = admin_pages(admin_user)
    assert not unfilled, ("admin URLs this walk cannot open (teach admin_pages their parameters, or list them in "
                          f"NOT_PAGES with the reason): {unfilled}")
    walked = {path for _, path in pages}
    lists = {name.removesuffix("-list") for name, _ in pages if name.endswith("-list")}
    registered = {f"{model._meta.app_label}-{model._meta.model_name}" for model in admin.site._registry}
    assert registered <= lists, f"no list page walked for {sorted(registered - lists)}"
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    index_links = {url for section in admin.site.get_app_list(request)
                   for url in [section["app_url"], *(entry.get("admin_url") for entry in section["models"])] if url}
    assert index_links <= walked, f"links of the index not walked: {sorted(index_links - walked)}"
    assert len(walked) == len(pages), "a page is walked twice"

    failures = []
    started = time.monotonic()
    for name, path in pages:
        response = page.goto(live_server.url + path)
        status = response.status if response else 0
        if status != 200:
            failures.append(f"{path}: answered {status}")
            continue
        if page.url != live_server.url + path:
            failures.append(f"{path}: redirected to {page.url} (a page that is not one: NOT_PAGES)")
            continue
        page.wait_for_selector("html[data-layout-fitted]", state="attached")  # admin-layout.js has run
        save_screenshot(page, name)
        failures.extend(f"{path}: {problem}" for problem in page.evaluate(FIT_CHECK))

    print(f"{len(pages)} admin pages checked at {WIDTH} px in {time.monotonic() - started:.1f} s; screenshots in "
          f"{screenshots_dir()}")
    assert not failures, f"{len(failures)} layout problem(s) at {WIDTH} px:\n" + "\n".join(failures)


def test_the_fit_check_sees_object_tools_over_the_title(demo, admin_page, live_server):
    """The overlap rule finds what the issue saw on the application template page: the buttons moved over the
    title's text are reported; in their place they are not."""
    from configdb.models import ApplicationTemplate

    template = ApplicationTemplate.objects.order_by("pk").first()
    page = admin_page
    page.goto(f"{live_server.url}/admin/configdb/applicationtemplate/{template.pk}/change/")
    page.wait_for_selector("html[data-layout-fitted]", state="attached")
    assert page.evaluate(FIT_CHECK) == []
    page.evaluate("""() => {
      window.scrollTo(0, 0);
      const title = document.querySelector("#content h1").getBoundingClientRect();
      Object.assign(document.querySelector("#content .object-tools").style,
                    {position: "fixed", left: `${title.left}px`, top: `${title.top}px`, margin: "0", float: "none"});
    }""")
    assert any(problem.startswith("object tools overlap the title: h1") for problem in page.evaluate(FIT_CHECK))


def test_an_inline_error_has_room_to_be_read(demo, admin_page, live_server):
    """A port's errors (its id in use by connections, its number out of range) are shown in their own
    cells, which are wide enough to read them, and the page still fits."""
    from configdb.models import Application, Port

    server = Application.objects.get(name="Message_Server")
    port = Port.objects.get(application=server)
    page = admin_page
    page.goto(f"{live_server.url}/admin/configdb/application/{server.pk}/change/")
    page.fill("#id_ports-0-port_id", "renamed")
    page.fill("#id_ports-0-port", "70000")
    with page.expect_navigation():
        page.click("input[name=_continue]")
    page.wait_for_selector("html[data-layout-fitted]", state="attached")
    errors = page.locator("#ports-group td .errorlist")
    assert errors.count() == 2, page.locator("#ports-group").inner_text()
    assert "used by connections of" in errors.nth(0).inner_text()
    assert "65535" in errors.nth(1).inner_text()
    widths = errors.evaluate_all("lists => lists.map((ul) => ul.getBoundingClientRect().width)")
    assert min(widths) >= 160, f"error cells {widths} px wide: too narrow to read"
    save_screenshot(page, "configdb-application-port-errors")
    assert page.evaluate(FIT_CHECK) == []
    port.refresh_from_db()
    assert (port.port_id, port.port) != ("renamed", 70000)


def test_a_wide_inline_is_stacked_and_its_added_rows_too(demo, admin_page, live_server):
    """At 1,280 px a node's connections do not fit as a table: each row's fields wrap under their column's
    title. A row added with *Add another Connection* is laid out the same way, and a long parameter typed
    into a narrow field stays readable as its tooltip."""
    from configdb.models import Application

    node = Application.objects.get(name="Pacing_Server_Node_01")
    page = admin_page
    page.goto(f"{live_server.url}/admin/configdb/application/{node.pk}/change/")
    page.wait_for_selector("html[data-layout-fitted]", state="attached")
    group = page.locator("#connections-group .inline-related.tabular")
    assert "pc-stacked" in group.get_attribute("class")
    rows = page.locator("#connections-group tr.form-row:not(.empty-form)")
    before = rows.count()
    page.locator("#connections-group .add-row a").click()
    assert rows.count() == before + 1
    added = rows.last
    assert added.locator("td.field-port_id").get_attribute("data-label") == "Port ID"
    assert added.locator("td.field-trace_mode").evaluate("(td) => getComputedStyle(td, '::before').content") \
        == '"Trace mode"'
    long_value = "transport=tls;certificate=/etc/pki/pacing/node-01.pem;trusted-ca=/etc/pki/ca.pem"
    field = added.locator("td.field-transport_parameters input")
    field.fill(long_value)
    assert field.get_attribute("title") == long_value
    page.evaluate("window.scrollTo(0, 0)")  # the sticky sidebar is drawn where the page is scrolled
    save_screenshot(page, "configdb-application-added-connection")
    assert page.evaluate(FIT_CHECK) == []
