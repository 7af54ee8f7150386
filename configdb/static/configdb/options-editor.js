/* The GAX-style options table: add and remove rows, quick filter. Plain DOM, no dependencies. */
(function () {
  "use strict";

  function rowText(row) {
    return Array.from(row.querySelectorAll("input"))
      .map(function (input) { return input.type === "password" ? "" : input.value; })
      .join(" ").toLowerCase();
  }

  function refresh(editor) {
    var needle = editor.querySelector(".options-filter").value.trim().toLowerCase();
    var rows = editor.querySelectorAll("tbody .options-row");
    var shown = 0;
    rows.forEach(function (row) {
      var match = !needle || rowText(row).indexOf(needle) !== -1;
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    editor.querySelector(".options-count").textContent =
      needle ? shown + " of " + rows.length + " rows" : rows.length + " rows";
  }

  function init(editor) {
    if (editor.dataset.ready) { return; }
    editor.dataset.ready = "1";
    var body = editor.querySelector("tbody");
    var template = editor.querySelector(".options-template");
    editor.querySelector(".options-add").addEventListener("click", function () {
      var row = template.content.firstElementChild.cloneNode(true);
      body.appendChild(row);
      editor.querySelector(".options-filter").value = "";
      refresh(editor);
      row.querySelector("input").focus();
    });
    body.addEventListener("click", function (event) {
      var button = event.target.closest(".options-remove");
      if (!button) { return; }
      button.closest("tr").remove();
      refresh(editor);
    });
    editor.querySelector(".options-filter").addEventListener("input", function () { refresh(editor); });
    refresh(editor);
  }

  function initAll() { document.querySelectorAll(".options-editor").forEach(init); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
