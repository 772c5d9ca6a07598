/* Compare mode, bound to data-* hooks.
 *
 *   [data-compare-form]      the revision checkboxes ([data-compare-revision]) and
 *                            the inputs: an input no chosen revision takes is
 *                            hidden ([data-used-by] lists the revisions that do);
 *                            the count of chosen revisions is shown
 *                            ([data-compare-count]); Run ([data-compare-button]) is
 *                            disabled until data-min..data-max revisions are chosen
 *                            and every shown [data-required] field has a value;
 *                            Ctrl+Enter (⌘↩) runs
 *
 * The server checks everything again; this only spares a pointless round trip.
 */
(function () {
  "use strict";

  function chosen(form) {
    return Array.prototype.filter.call(
      form.querySelectorAll("[data-compare-revision]"),
      function (box) { return box.checked; }
    ).map(function (box) { return box.value; });
  }

  function ready(form, picked) {
    var min = Number(form.dataset.min || 2);
    var max = Number(form.dataset.max || 4);
    if (picked.length < min || picked.length > max) return false;
    var fields = form.querySelectorAll("[data-required]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.closest("[hidden]")) continue;
      if (field.type === "file" ? field.files.length === 0 : !field.value.trim()) return false;
    }
    return true;
  }

  function update(form) {
    var picked = chosen(form);
    form.querySelectorAll("[data-used-by]").forEach(function (field) {
      var users = field.dataset.usedBy.split(" ");
      field.hidden = !users.some(function (id) { return picked.indexOf(id) !== -1; });
    });
    var count = form.querySelector("[data-compare-count]");
    if (count) {
      var max = Number(form.dataset.max || 4);
      count.textContent = picked.length + " chosen · " +
        (picked.length > max ? "at most " + max : "choose " + form.dataset.min + " to " + max) +
        " · test revisions included";
    }
    var busy = form.classList.contains("htmx-request");
    var ok = ready(form, picked) && !busy;
    document.querySelectorAll("[data-compare-button]").forEach(function (button) {
      if (button.form === form) button.disabled = !ok;
    });
  }

  function setUp(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-compare-form]")) update(scope);
    scope.querySelectorAll("[data-compare-form]").forEach(update);
  }

  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }

  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var target = event.target instanceof Element ? event.target : null;
      var form = target && target.closest("[data-compare-form]");
      if (!form) return;
      update(form);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var target = event.target instanceof Element ? event.target : null;
    var form = target && target.closest("[data-compare-form]");
    if (!form) return;
    var button = form.querySelector("[data-compare-button]");
    if (!button || button.disabled) return;
    event.preventDefault();
    form.requestSubmit(button);
  });
})();
