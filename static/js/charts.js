/* Usage charts: draws every [data-chart] element with plotly.js.
 *
 * The figure (data, layout, config) is built in Python (runs_app/charts.py) and
 * emitted with json_script under the id the element's data-chart names. Charts
 * are drawn on `htmx:load`, which htmx fires for the page at start-up and for
 * every swapped-in fragment, so changing a usage page's range or reporting
 * group redraws its charts in place. Text and grid colours follow the page's
 * theme (app.css variables) and change with it.
 *
 * Hooks:
 *   [data-chart="<id>"]     draw the figure in <script type="application/json" id="<id>">
 *   [data-custom-range]     typing here switches the form's range select to "custom"
 */
(function () {
  "use strict";

  var darkMode = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  function themed(layout) {
    var text = cssVar("--text-muted", "#5f5f6b");
    var grid = cssVar("--border", "#e4e4ea");
    var axis = function (base) {
      return Object.assign({}, base, {
        color: text,
        gridcolor: grid,
        linecolor: grid,
        zerolinecolor: grid
      });
    };
    return Object.assign({}, layout, {
      font: Object.assign({ family: cssVar("--font-sans", "sans-serif"), size: 12 }, layout.font, { color: text }),
      xaxis: axis(layout.xaxis),
      yaxis: axis(layout.yaxis),
      hoverlabel: {
        bgcolor: cssVar("--surface-raised", "#ffffff"),
        bordercolor: grid,
        font: { color: cssVar("--text", "#18181d") }
      }
    });
  }

  function figureFor(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) return null;
    try {
      return JSON.parse(source.textContent);
    } catch (error) {
      return null;
    }
  }

  function draw(el) {
    if (!window.Plotly) return;
    var figure = el._figure || figureFor(el);
    if (!figure) return;
    el._figure = figure;
    window.Plotly.react(el, figure.data, themed(figure.layout), figure.config || {});
    el.setAttribute("data-drawn", "");
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-chart]")) draw(scope);
    scope.querySelectorAll("[data-chart]").forEach(draw);
  }

  document.addEventListener("htmx:load", function (event) {
    drawAll(event.target);
  });
  // Before htmx swaps a panel out, free its charts' listeners.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !window.Plotly || !target.querySelectorAll) return;
    target.querySelectorAll("[data-drawn]").forEach(function (el) {
      window.Plotly.purge(el);
    });
  });
  // htmx fires htmx:load for the page once it starts; without htmx, draw here.
  if (!window.htmx) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
    } else {
      drawAll(document);
    }
  }
  if (darkMode && darkMode.addEventListener) {
    darkMode.addEventListener("change", function () {
      document.querySelectorAll("[data-drawn]").forEach(draw);
    });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-custom-range")) return;
    var range = input.form && input.form.elements.namedItem("range");
    if (range && range.value !== "custom") range.value = "custom";
  });
})();
