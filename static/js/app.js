/* Rightbrain dashboard behaviour: small, dependency-free, bound to data-* hooks.
 *
 * Clicks, keys and changes are handled by delegation on document, so content that
 * htmx swaps in works without re-binding. Per-element set-up (auto-hiding messages,
 * making [data-copy] focusable) runs on every `htmx:load`, which htmx fires for the
 * page at start-up and for each swapped-in fragment.
 *
 * Hooks:
 *   [data-dismiss]            inside a .message: removes that message
 *   .message-success/-info    hide by themselves after AUTO_HIDE_MS (paused while
 *                             hovered or focused)
 *   [data-confirm]            asks before the click goes ahead (for non-htmx forms;
 *                             htmx elements use hx-confirm)
 *   [data-copy]               copies its text (or the value of data-copy, if given)
 *   select[data-autosubmit]   submits its form on change via requestSubmit(), so htmx
 *                             sees the submit event
 *   input[data-image-input]   shows the chosen JPEG/PNG images in the
 *                             [data-image-previews] box of its .field
 *   details.menu              one open at a time; closes on outside click or Escape
 *   htmx requests             the requesting element gets aria-busy="true"
 */
(function () {
  "use strict";

  var AUTO_HIDE_MS = 6000;
  var LEAVE_MS = 220;
  var COPIED_MS = 1600;

  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  /* Messages ---------------------------------------------------------------- */

  function removeMessage(message) {
    if (!message || message.dataset.leaving) return;
    message.dataset.leaving = "1";
    window.clearTimeout(message._hideTimer);
    message.classList.add("is-leaving");
    var delay = reducedMotion && reducedMotion.matches ? 0 : LEAVE_MS;
    window.setTimeout(function () {
      message.remove();
    }, delay);
  }

  function scheduleHide(message) {
    window.clearTimeout(message._hideTimer);
    message._hideTimer = window.setTimeout(function () {
      removeMessage(message);
    }, AUTO_HIDE_MS);
  }

  function setUpMessage(message) {
    if (message.dataset.bound) return;
    message.dataset.bound = "1";
    var autoHides = message.classList.contains("message-success") ||
      message.classList.contains("message-info");
    if (!autoHides) return;
    scheduleHide(message);
    // Someone reading or about to dismiss the message keeps it on screen.
    message.addEventListener("mouseenter", function () { window.clearTimeout(message._hideTimer); });
    message.addEventListener("focusin", function () { window.clearTimeout(message._hideTimer); });
    message.addEventListener("mouseleave", function () {
      if (!message.contains(document.activeElement)) scheduleHide(message);
    });
    message.addEventListener("focusout", function (event) {
      if (!message.contains(event.relatedTarget)) scheduleHide(message);
    });
  }

  /* Copy to clipboard ------------------------------------------------------- */

  var liveRegion = null;

  function announce(text) {
    if (!liveRegion) {
      liveRegion = document.createElement("div");
      liveRegion.className = "visually-hidden";
      liveRegion.setAttribute("role", "status");
      liveRegion.setAttribute("aria-live", "polite");
      document.body.appendChild(liveRegion);
    }
    liveRegion.textContent = "";
    // A fresh text node after a tick makes screen readers repeat the same words.
    window.setTimeout(function () { liveRegion.textContent = text; }, 50);
  }

  function setUpCopy(el) {
    if (el.dataset.copyBound) return;
    el.dataset.copyBound = "1";
    var isNativeControl = el.matches("button, a[href], input, select, textarea");
    if (!isNativeControl) {
      if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
      if (!el.hasAttribute("role")) el.setAttribute("role", "button");
    }
    if (!el.hasAttribute("title")) el.setAttribute("title", "Copy to clipboard");
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (error) {
      ok = false;
    }
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function showCopyState(el, state, label) {
    window.clearTimeout(el._copyTimer);
    el.dataset.copyState = state;
    el.dataset.copyLabel = label;
    el._copyTimer = window.setTimeout(function () {
      delete el.dataset.copyState;
      delete el.dataset.copyLabel;
    }, COPIED_MS);
  }

  function copy(el) {
    var value = el.getAttribute("data-copy");
    var text = (value ? value : el.textContent).trim();
    copyText(text).then(
      function () {
        showCopyState(el, "copied", "Copied");
        announce("Copied to clipboard");
      },
      function () {
        showCopyState(el, "failed", "Press Ctrl+C to copy");
        selectContents(el);
      }
    );
  }

  function selectContents(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  /* Menus (<details class="menu">) ------------------------------------------ */

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  /* Set-up for new content -------------------------------------------------- */

  function setUp(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches(".message")) setUpMessage(scope);
    scope.querySelectorAll(".message").forEach(setUpMessage);
    if (scope.matches && scope.matches("[data-copy]")) setUpCopy(scope);
    scope.querySelectorAll("[data-copy]").forEach(setUpCopy);
  }

  document.addEventListener("htmx:load", function (event) {
    setUp(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }

  /* Delegated events -------------------------------------------------------- */

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;

    var confirmEl = target.closest("[data-confirm]");
    if (confirmEl && !window.confirm(confirmEl.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }

    var dismiss = target.closest("[data-dismiss]");
    if (dismiss) {
      removeMessage(dismiss.closest(".message"));
      return;
    }

    var copyEl = target.closest("[data-copy]");
    if (copyEl) {
      event.preventDefault();
      copy(copyEl);
    }

    // A click outside every open menu closes them; a click inside one keeps only it.
    closeMenus(target.closest("details.menu"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = document.querySelector("details.menu[open]");
      if (open) {
        var focusWasInside = open.contains(document.activeElement);
        closeMenus(null);
        if (focusWasInside) open.querySelector("summary").focus();
      }
      return;
    }
    if (event.key === "Enter" || event.key === " ") {
      var target = event.target instanceof Element ? event.target : null;
      if (target && target.matches("[data-copy][role='button']")) {
        event.preventDefault();
        copy(target);
      }
    }
  });

  // `toggle` does not bubble, so listen in the capture phase.
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (menu instanceof HTMLDetailsElement && menu.matches(".menu") && menu.open) {
      closeMenus(menu);
    }
  }, true);

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) return;
    var form = select.form;
    if (!form) return;
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      // Very old browsers: a synthetic submit event htmx can intercept, then a plain submit.
      var submitEvent = new Event("submit", { bubbles: true, cancelable: true });
      if (form.dispatchEvent(submitEvent)) form.submit();
    }
  });

  /* Image previews ------------------------------------------------------------ */

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-image-input]")) return;
    var box = input.closest(".field") && input.closest(".field").querySelector("[data-image-previews]");
    if (!box) return;
    box.replaceChildren();
    Array.prototype.forEach.call(input.files, function (file) {
      if (!/^image\/(jpeg|png)$/.test(file.type)) return;
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.addEventListener("load", function () { URL.revokeObjectURL(img.src); });
      box.appendChild(img);
    });
  });

  /* htmx busy state --------------------------------------------------------- */

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.setAttribute) elt.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.removeAttribute) elt.removeAttribute("aria-busy");
  });
})();
