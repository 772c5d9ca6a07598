/* The Run view, bound to data-* hooks.
 *
 *   [data-run-form]     Run is disabled until every [data-required] field has a
 *                       value; Ctrl+Enter (⌘↩ on a Mac) runs from anywhere in it
 *   [data-prompt-editor] once its prompts or format are edited, the
 *                       [data-promote] box (Save as revision) is marked dirty
 *                       and its button disabled: it saves the test revision
 *                       as it was run, not the edits
 *
 * The server checks the inputs again: this only saves a pointless round trip.
 */
(function () {
  "use strict";

  function ready(form) {
    var fields = form.querySelectorAll("[data-required]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "file" ? field.files.length === 0 : !field.value.trim()) return false;
    }
    return true;
  }

  function update(form) {
    var button = form.querySelector("[data-run-button]");
    if (button) button.disabled = !ready(form) || form.classList.contains("htmx-request");
  }

  function setUp(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("[data-run-form]").forEach(update);
  }

  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }

  function markEdited() {
    document.querySelectorAll("[data-promote]").forEach(function (box) {
      box.classList.add("is-dirty");
      var button = box.querySelector("[data-promote-button]");
      if (button) button.disabled = true;
    });
  }

  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var target = event.target instanceof Element ? event.target : null;
      if (target && target.closest("[data-prompt-editor]")) markEdited();
      var form = target && (target.form || target.closest("[data-run-form]"));
      if (form && !form.matches("[data-run-form]")) form = null;
      if (!form) return;
      update(form);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var target = event.target instanceof Element ? event.target : null;
    var own = target && (target.form || target.closest("[data-run-form]"));
    var form = own && own.matches("[data-run-form]") ? own : document.querySelector("[data-run-form]");
    if (!form) return;
    var button = form.querySelector("[data-run-button]");
    if (!button || button.disabled) return;
    event.preventDefault();
    form.requestSubmit(button);
  });
})();
