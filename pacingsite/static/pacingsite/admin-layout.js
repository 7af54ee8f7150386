/* Pacing Console: what CSS alone cannot do to fit the admin in its window (issue 11). Plain DOM.
   - List cells get break opportunities after "_" and "/" and inside camelCase names
     (Pacing_Service_Cluster_9.0 and PacingResponseValidationError wrap between their words, not in
     the middle of one); a list that still does not fit its box is "squeezed":
     its cells may then break anywhere, so no column is ever cut off at the right.
   - A tabular inline (ports, connections, ...) wider than its box is "stacked": each row's fields wrap
     onto several lines, each under its column's title, instead of the page scrolling sideways.
   - A text input in a table cell carries its whole value as a tooltip (title), kept up to date, so a
     long option key or parameter that its column shows cut is still readable. */
(function () {
  "use strict";

  var BREAK_AT = /[_/]|[a-z][A-Z]/;
  var SPLIT = /(?<=[_/])|(?<=[a-z])(?=[A-Z])/;

  function addBreaks(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) {
      if (BREAK_AT.test(walker.currentNode.nodeValue)) { nodes.push(walker.currentNode); }
    }
    nodes.forEach(function (node) {
      var parts = node.nodeValue.split(SPLIT);
      if (parts.length < 2) { return; }
      var fragment = document.createDocumentFragment();
      parts.forEach(function (part, i) {
        if (i) { fragment.appendChild(document.createElement("wbr")); }
        fragment.appendChild(document.createTextNode(part));
      });
      node.parentNode.replaceChild(fragment, node);
    });
  }

  function fitList(table) {
    var box = table.parentElement;
    table.classList.remove("pc-squeeze");
    if (box.scrollWidth > box.clientWidth + 1) { table.classList.add("pc-squeeze"); }
  }

  function labelCells(table) {
    var heads = table.querySelectorAll("thead th");
    var titles = Array.from(heads).map(function (th) { return th.textContent.trim().replace(/\s+/g, " "); });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.from(row.children).forEach(function (cell, i) {
        if (titles[i] && !cell.dataset.label) { cell.dataset.label = titles[i]; }
      });
    });
  }

  function fitInline(group) {
    var table = group.querySelector("table");
    if (!table) { return; }
    labelCells(table);
    group.classList.remove("pc-stacked");
    var box = table.parentElement;
    if (table.offsetWidth > box.clientWidth + 1) { group.classList.add("pc-stacked"); }
  }

  function titleInput(input) {
    if (input.matches("td input[type=text], td input:not([type])")) { input.title = input.value; }
  }

  function fitAll() {
    document.querySelectorAll("#result_list").forEach(fitList);
    document.querySelectorAll(".inline-related.tabular").forEach(fitInline);
  }

  function init() {
    document.querySelectorAll("#result_list tbody, .dashboard .module table tbody").forEach(addBreaks);
    document.querySelectorAll("td input").forEach(titleInput);
    fitAll();
    document.addEventListener("input", function (event) { if (event.target.matches("input")) { titleInput(event.target); } });
    document.addEventListener("formset:added", function () { fitAll(); });
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(fitAll, 100);
    });
    if (document.fonts && document.fonts.ready) { document.fonts.ready.then(fitAll); }
  }

  // Measured once the page is complete: the autocompletes (select2) are built by jQuery's ready
  // handlers, which may run after DOMContentLoaded; and again just after, for handlers queued by load.
  function start() {
    init();
    window.setTimeout(function () {
      fitAll();
      document.documentElement.dataset.layoutFitted = "1";  // the browser tests wait for this
    }, 0);
  }

  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();
