/* The assistant's suggestions in the task editor, bound to data-* hooks.
 *
 *   [data-assistant-suggestion]   one suggestion, swapped in by htmx
 *     [data-assistant-insert]     Insert prompt: replaces the user and system
 *                                 prompts with [data-assistant-text] texts
 *     [data-assistant-field]      adds one output field (its JSON) to the format
 *     [data-assistant-accept-all] adds every field not yet added
 *     [data-assistant-set]        sets one setting (name, description, llm_model,
 *                                 temperature) to its data-value
 *     [data-assistant-apply-all]  sets every setting
 *     [data-assistant-dismiss]    closes the suggestion
 *
 * Values go into the editor's own fields and fire their usual events, so the
 * editor refreshes what depends on them (inputs, fields, model settings).
 * Nothing is saved: the user saves the task as always.
 */
(function () {
  "use strict";

  function field(editor, name) { return editor.querySelector('[name="' + name + '"]'); }

  function setValue(input, value, eventName) {
    input.value = value;
    input.dispatchEvent(new Event(eventName || "input", { bubbles: true }));
  }

  function finish(suggestion, text) {
    var note = document.createElement("p");
    note.className = "assistant-done";
    note.setAttribute("role", "status");
    note.textContent = text;
    suggestion.replaceWith(note);
  }

  function say(suggestion, text) {
    var out = suggestion.querySelector("[data-assistant-message]");
    if (!out) return;
    out.textContent = text;
    out.hidden = !text;
  }

  function insertPrompt(editor, suggestion) {
    var user = suggestion.querySelector('[data-assistant-text="user_prompt"]');
    var system = suggestion.querySelector('[data-assistant-text="system_prompt"]');
    var systemField = field(editor, "system_prompt");
    if (system && systemField) {
      setValue(systemField, system.textContent);
      var details = systemField.closest("details");
      if (details) details.open = true;
    }
    var userField = field(editor, "user_prompt");
    if (user && userField) setValue(userField, user.textContent);
    finish(suggestion, "Prompt inserted. Save the task to keep it.");
    if (userField) {
      // From the top, where the Goal is, not the caret's place at the end.
      userField.setSelectionRange(0, 0);
      userField.scrollTop = 0;
      userField.focus();
    }
  }

  /* The output format in the JSON view as an object of fields, or null when it
     cannot take more fields as it stands. */
  function currentFormat(editor) {
    var input = field(editor, "output_format");
    var text = input ? input.value.trim() : "";
    if (!text) return {};
    var value;
    try { value = JSON.parse(text); } catch (error) { return null; }
    if (Array.isArray(value)) {
      var fields = {};
      for (var i = 0; i < value.length; i++) {
        var item = value[i];
        if (!item || typeof item.name !== "string") return null;
        var spec = Object.assign({}, item);
        delete spec.name;
        fields[item.name] = spec;
      }
      return fields;
    }
    if (!value || typeof value !== "object" || (value.type === "object" && value.properties)) return null;
    return value;
  }

  function addFields(editor, suggestion, buttons) {
    var format = currentFormat(editor);
    var input = field(editor, "output_format");
    if (!format || !input) {
      say(suggestion, "The output format in the Schema (JSON) view has an error or is a JSON Schema: fix or convert it first, then add the fields.");
      return false;
    }
    buttons.forEach(function (button) {
      Object.assign(format, JSON.parse(button.getAttribute("data-assistant-field")));
      button.disabled = true;
      button.textContent = "Added";
    });
    say(suggestion, "");
    setValue(input, JSON.stringify(format, null, 2));
    return true;
  }

  function applySetting(editor, name, value) {
    if (name === "temperature") {
      var range = field(editor, "temperature");
      if (!range) return false;
      var set = field(editor, "temperature_set");
      if (set && !set.checked) set.checked = true;
      setValue(range, value);
      return true;
    }
    if (name === "llm_model") {
      var select = field(editor, "llm_model");
      if (!select || !select.querySelector('option[value="' + value + '"]')) return false;
      if (select.value !== value) setValue(select, value, "change");
      return true;
    }
    var input = field(editor, name);
    if (!input) return false;
    setValue(input, value);
    return true;
  }

  function useSetting(editor, button) {
    if (applySetting(editor, button.getAttribute("data-assistant-set"), button.getAttribute("data-value"))) {
      button.disabled = true;
      button.textContent = "Used";
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var button = target && target.closest("button");
    var suggestion = button && button.closest("[data-assistant-suggestion]");
    var editor = suggestion && suggestion.closest("[data-task-editor]");
    if (!editor) return;
    if (button.hasAttribute("data-assistant-insert")) {
      insertPrompt(editor, suggestion);
    } else if (button.hasAttribute("data-assistant-field")) {
      addFields(editor, suggestion, [button]);
    } else if (button.hasAttribute("data-assistant-accept-all")) {
      var waiting = Array.prototype.filter.call(
        suggestion.querySelectorAll("[data-assistant-field]"), function (b) { return !b.disabled; });
      if (addFields(editor, suggestion, waiting)) finish(suggestion, "Fields added to the output. Save the task to keep them.");
    } else if (button.hasAttribute("data-assistant-set")) {
      useSetting(editor, button);
    } else if (button.hasAttribute("data-assistant-apply-all")) {
      // The model last: choosing it redraws the model settings from the form,
      // which by then holds the suggested temperature.
      var settings = Array.prototype.slice.call(suggestion.querySelectorAll("[data-assistant-set]"));
      settings.sort(function (a, b) {
        return (a.getAttribute("data-assistant-set") === "llm_model") - (b.getAttribute("data-assistant-set") === "llm_model");
      });
      settings.forEach(function (b) { if (!b.disabled) useSetting(editor, b); });
      finish(suggestion, "Settings filled in. Save the task to keep them.");
    } else if (button.hasAttribute("data-assistant-dismiss")) {
      suggestion.remove();
    } else {
      return;
    }
    event.preventDefault();
  });
})();
