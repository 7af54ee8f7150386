/* The GAX-style options table: add and remove rows, quick filter. Plain DOM, no dependencies. */
(function () {
  "use strict";

  function rowText(row) {
    return Array.from(row.querySelectorAll("input"))
      .map(function (input) { return input.type === "password" ? "" : input.value; })
      .join(" ").toLowerCase();
  }

  // A row counts once something is typed in it: the blank row for a new option (and a row just added)
  // is not an option yet, so an empty table says "0 rows", not "1 rows".
  function isFilled(row) {
    // as configdb.options.is_blank_row: spaces around a section or key do not count, a value's do
    return Array.from(row.querySelectorAll("input")).some(function (input) {
      return /-value$/.test(input.name) ? input.value !== "" : input.value.trim() !== "";
    });
  }

  function plural(count) { return count === 1 ? " row" : " rows"; }

  function count(editor, needle) {
    var filled = Array.from(editor.querySelectorAll("tbody .options-row")).filter(isFilled);
    var shown = filled.filter(function (row) { return !row.hidden; }).length;
    editor.querySelector(".options-count").textContent =
      needle ? shown + " of " + filled.length + plural(filled.length) : filled.length + plural(filled.length);
  }

  function refresh(editor) {
    var needle = editor.querySelector(".options-filter").value.trim().toLowerCase();
    editor.querySelectorAll("tbody .options-row").forEach(function (row) {
      row.hidden = needle !== "" && rowText(row).indexOf(needle) === -1;
    });
    count(editor, needle);
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
    body.addEventListener("input", function () {  // typing in a row: count it, but never hide the row being typed in
      count(editor, editor.querySelector(".options-filter").value.trim().toLowerCase());
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
