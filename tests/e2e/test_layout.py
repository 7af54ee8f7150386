"""Every admin page fits a 1,280 px window: no page wider than the window, no table cell clipping its text.

The pages come from the admin's registry, not from a list kept here, so a model, a column or an inline
added later is walked too: for every registered model its list page and the change page of each of its
demo objects (up to ``PER_MODEL``) and the history page of the first, or its add page where it has none.
Each page is kept as a full-page screenshot in ``PACING_SCREENSHOTS_DIR`` (default ``artifacts/screenshots/``
of the checkout; `.ci/run` prints it), one folder per database so the SQLite and PostgreSQL runs do not
overwrite each other.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from alarms import catalog, runtime

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1280
DEMO_CLUSTER = "Pacing_Service_Cluster_9.0"
PER_MODEL = 6  # change pages per model: every demo object of most models, a sample of the history

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
  return problems;
}
"""


def screenshots_dir(*, clear: bool = True) -> Path:
    """This database's screenshot folder (emptied of the last run's pictures unless ``clear`` is false)."""
    base = Path(os.environ.get("PACING_SCREENSHOTS_DIR") or ROOT / "artifacts" / "screenshots")
    folder = base / connection.vendor
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png") if clear else ():
        old.unlink()
    return folder


def admin_pages(superuser) -> list[tuple[str, str]]:
    """(name, path) of the index, of every list page, of the change (or add) pages and one history page of
    every registered model, and of the index's other entries."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    pages = [("index", reverse("admin:index"))]
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        label = f"{model._meta.app_label}-{model._meta.model_name}"
        if not model_admin.has_view_or_change_permission(request):
            continue
        pages.append((f"{label}-list", reverse(f"{info}_changelist")))
        objects = list(model_admin.get_queryset(request).order_by("pk")[:PER_MODEL])
        for obj in objects:
            pages.append((f"{label}-{obj.pk}", reverse(f"{info}_change", args=[obj.pk])))
        if objects:
            pages.append((f"{label}-{objects[0].pk}-history", reverse(f"{info}_history", args=[objects[0].pk])))
        if not objects and model_admin.has_add_permission(request):
            pages.append((f"{label}-add", reverse(f"{info}_add")))
    # the index's other entries (pages that are not a model's list, e.g. the pacing nodes)
    known = {path for _, path in pages}
    for section in admin.site.get_app_list(request):
        for entry in section["models"]:
            if entry.get("admin_url") and entry["admin_url"] not in known:
                known.add(entry["admin_url"])
                pages.append((f"page-{entry['object_name'].lower()}", entry["admin_url"]))
    # the deployment wizard's pages need a cluster's name, so the index leads to its start page only: walk them
    # for the demo's cluster (every step done, so each opens, and the summary too)
    from provisioning.wizard.steps import STEPS

    for step in STEPS:
        pages.append((f"wizard-{step.key}", reverse("admin:pacing-deploy-step",
                                                    kwargs={"cluster": DEMO_CLUSTER, "step": step.key})))
    pages.append(("wizard-summary", reverse("admin:pacing-deploy-summary", kwargs={"cluster": DEMO_CLUSTER})))
    return pages


def test_every_admin_page_fits_1280_px(demo, admin_page, admin_user, live_server):
    # a row for the lists that the demo leaves empty, so their columns are measured too
    runtime.raise_alarm(catalog.PACING_REQUESTS_FAILED, "GPE refused the connection (a long reason, as a GPE "
                        "error message gives it, to see that the column wraps it)",
                        source="Pacing_Service_Cluster_9.0", node="node-1")
    page = admin_page
    assert page.viewport_size["width"] == WIDTH
    folder = screenshots_dir()
    pages = admin_pages(admin_user)
    walked = {name.rsplit("-", 1)[0] for name, _ in pages}
    registered = {f"{model._meta.app_label}-{model._meta.model_name}" for model in admin.site._registry}
    assert registered <= walked, f"no page walked for {sorted(registered - walked)}"

    failures = []
    for name, path in pages:
        response = page.goto(live_server.url + path)
        status = response.status if response else 0
        if status != 200:
            failures.append(f"{path}: answered {status}")
            continue
        page.wait_for_selector("html[data-layout-fitted]", state="attached")  # admin-layout.js has run
        shot = folder / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".png")
        page.screenshot(path=str(shot), full_page=True)
        failures.extend(f"{path}: {problem}" for problem in page.evaluate(FIT_CHECK))

    print(f"{len(pages)} admin pages checked at {WIDTH} px; screenshots in {folder}")
    assert not failures, f"{len(failures)} layout problem(s) at {WIDTH} px:\n" + "\n".join(failures)


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
    page.screenshot(path=str(screenshots_dir(clear=False) / "configdb-application-port-errors.png"), full_page=True)
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
    page.screenshot(path=str(screenshots_dir(clear=False) / "configdb-application-added-connection.png"),
                    full_page=True)
    assert page.evaluate(FIT_CHECK) == []
