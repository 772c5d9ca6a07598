/* Share pages: behaviour bound by data-* hooks (no inline scripts; see app.js).
 *
 * Hooks:
 *   [data-swap-errors]   htmx swaps this element's answers even when they carry
 *                        an error status (403, 413, 415, 422, 429): the server sends
 *                        the run panel with a message, and the status is kept
 *                        for API-like clients and tests.
 */
(function () {
  "use strict";

  var SWAPPED_ERRORS = [400, 403, 404, 413, 415, 422, 429];

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var elt = detail && detail.elt;
    if (!elt || !elt.closest || !elt.closest("[data-swap-errors]")) return;
    if (SWAPPED_ERRORS.indexOf(detail.xhr.status) !== -1) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
