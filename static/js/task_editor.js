/* Task editor and traffic editor behaviour, bound to data-* hooks.
 *
 *   [data-task-editor]        the editor form: tabs, unsaved-work guard
 *     [data-tabs] [data-tab]  tab links; their panels are [data-tab-panel]; the
 *                             chosen tab is kept in the form's hidden `tab` field
 *     [data-tab-go]           a link that opens another tab
 *     [data-temperature]      updates the slider's readout (percent and value)
 *     [data-input-format]     updates the input's format badge
 *     [data-enter-submits]    Enter in a text field there presses its save button
 *   [data-traffic-form]       live total of the weights; Save disabled unless 100 %
 *
 * Without script every panel shows, and every action still posts the form.
 */
(function () {
  "use strict";

  function editorOf(el) { return el && el.closest ? el.closest("[data-task-editor]") : null; }

  function showTab(editor, name, focus) {
    var tabs = editor.querySelectorAll("[data-tab]");
    if (!editor.querySelector('[data-tab-panel="' + name + '"]')) return;
    tabs.forEach(function (tab) {
      var on = tab.getAttribute("data-tab") === name;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.setAttribute("tabindex", on ? "0" : "-1");
      if (on && focus) tab.focus();
    });
    editor.querySelectorAll("[data-tab-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-tab-panel") !== name;
    });
    var field = editor.querySelector('input[name="tab"]');
    if (field) field.value = name;
    editor.setAttribute("data-active-tab", name);
  }

  function temperatureText(wrap) {
    var range = wrap.querySelector('input[type="range"]');
    var out = wrap.querySelector("[data-temperature-readout]");
    if (!range || !out) return;
    var percent = Number(range.value);
    var max = Math.min(Number(wrap.getAttribute("data-temperature-max")) || 1, 1);
    var band = percent <= 30 ? "highly consistent" : percent <= 50 ? "balanced" : "creative";
    out.textContent = percent + " % · " + (percent / 100 * max).toFixed(2) + " · " + band;
  }

  function setUp(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var editors = [];
    if (scope.matches && scope.matches("[data-task-editor]")) editors.push(scope);
    scope.querySelectorAll("[data-task-editor]").forEach(function (e) { editors.push(e); });
    editors.forEach(function (editor) {
      showTab(editor, editor.getAttribute("data-active-tab") || "prompts", false);
    });
    scope.querySelectorAll("[data-temperature]").forEach(temperatureText);
    scope.querySelectorAll("[data-traffic-form]").forEach(trafficTotal);
    if (scope.matches && scope.matches("[data-traffic-form]")) trafficTotal(scope);
  }

  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var tab = target.closest("[data-tab], [data-tab-go]");
    var editor = editorOf(tab);
    if (tab && editor) {
      event.preventDefault();
      showTab(editor, tab.getAttribute("data-tab") || tab.getAttribute("data-tab-go"), false);
      editor.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    // Arrow keys move between tabs (WAI-ARIA tabs pattern).
    if (target.matches("[data-tab]") && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
      var tabs = Array.prototype.slice.call(target.parentElement.querySelectorAll("[data-tab]"));
      var index = tabs.indexOf(target) + (event.key === "ArrowRight" ? 1 : -1);
      var next = tabs[(index + tabs.length) % tabs.length];
      showTab(editorOf(target), next.getAttribute("data-tab"), true);
      event.preventDefault();
      return;
    }
    if (event.key === "Enter" && target.matches("input:not([type=checkbox]):not([type=radio])")) {
      var area = target.closest("[data-enter-submits]");
      if (area) {
        var button = area.querySelector("[data-property-save]");
        if (button) {
          event.preventDefault();
          button.click();
        }
      }
    }
  });

  /* Unsaved work: warn before leaving a changed editor; saving clears it. */
  var dirty = false;
  document.addEventListener("input", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (editorOf(target)) dirty = true;
    var wrap = target.closest("[data-temperature]");
    if (wrap) temperatureText(wrap);
    var traffic = target.closest("[data-traffic-form]");
    if (traffic) trafficTotal(traffic);
  });
  document.addEventListener("change", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.matches("[data-input-format]")) {
      var row = target.closest(".input-row");
      var badge = row && row.querySelector("[data-format-label]");
      if (badge) badge.textContent = target.options[target.selectedIndex].text;
    }
  });
  document.addEventListener("submit", function (event) {
    if (editorOf(event.target)) {
      var submitter = event.submitter;
      if (!submitter || submitter.value === "save") dirty = false;
    }
  }, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    var params = event.detail && event.detail.requestConfig && event.detail.requestConfig.parameters;
    if (elt && editorOf(elt) && params && params.editor_action === "save") dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty || !document.querySelector("[data-task-editor]")) return;
    event.preventDefault();
    event.returnValue = "";
  });

  /* Traffic: the total of the weights, and Save only at exactly 100 %. */
  function trafficTotal(form) {
    var total = 0;
    form.querySelectorAll("[data-traffic-weight]").forEach(function (input) {
      var value = parseFloat(input.value);
      if (!isNaN(value)) total += value;
    });
    total = Math.round(total * 10000) / 10000;
    var out = form.querySelector("[data-traffic-total]");
    if (out) {
      out.textContent = total + " %";
      if (total === 100) out.removeAttribute("data-off"); else out.setAttribute("data-off", "");
    }
    var save = form.querySelector("[data-traffic-save]");
    if (save) save.disabled = total !== 100;
  }
})();
