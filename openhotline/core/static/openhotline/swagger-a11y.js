// Accessibility fixes for the API documentation page (Swagger UI from drf-spectacular-sidecar).
// Loaded after swagger-ui-bundle.js and before drf-spectacular's init script, which receives
// the plugin through SWAGGER_UI_SETTINGS["presets"] (see settings.py).
(function () {
  "use strict";

  // An operation's summary is one <button> (expand/collapse) holding the path; with deep
  // linking on, Swagger UI renders that path as a link, a control inside a control (axe's
  // nested-interactive). Render it as text: the button still toggles, expanding still puts
  // the operation's address in the location bar, and an address with #/tag/operation still
  // opens it (both done by Swagger UI's deep-linking plugin, not by this link).
  window.OpenHotlineSwaggerA11y = function () {
    return {
      wrapComponents: {
        OperationSummaryPath: function (Original, system) {
          return function (props) {
            var operationProps = props.operationProps.set("isDeepLinkingEnabled", false);
            return system.React.createElement(
              Original,
              Object.assign({}, props, { operationProps: operationProps })
            );
          };
        },
      },
    };
  };

  // Controls Swagger UI leaves without a name: a parameter's list of allowed values (and
  // its text field, otherwise named by its placeholder or by an error such as "Required
  // field is not provided"), named after the parameter; the dialog's close button (an icon
  // only). React keeps attributes it does not manage; redrawn elements are named anew.
  var PARAMETER_FIELDS = "tr[data-param-name] :is(select, input, textarea):not([aria-label])";
  function nameControls(root) {
    root.querySelectorAll(PARAMETER_FIELDS).forEach(function (field) {
      var row = field.closest("tr[data-param-name]");
      field.setAttribute("aria-label", row.getAttribute("data-param-name"));
    });
    root.querySelectorAll("button.close-modal:not([aria-label])").forEach(function (button) {
      button.setAttribute("aria-label", "Close dialog");
    });
    // The Authorize window is a dialog (Escape closes it): say so, with its heading's name.
    root.querySelectorAll(".modal-ux:not([role])").forEach(function (modal) {
      var heading = modal.querySelector(".modal-ux-header h3");
      modal.setAttribute("role", "dialog");
      modal.setAttribute("aria-label", heading ? heading.textContent : "Dialog");
    });
    // A schema's or a property's show/hide arrow is an empty button: name it after them.
    root.querySelectorAll("button.model-box-control:not([aria-label])").forEach(function (toggle) {
      if (toggle.textContent.trim() === "") { toggle.setAttribute("aria-label", toggleName(toggle)); }
    });
    // An example or a response too wide for its box scrolls: let the keyboard reach it.
    root.querySelectorAll(".highlight-code > pre:not([tabindex])").forEach(function (code) {
      code.setAttribute("tabindex", "0");
    });
  }

  function toggleName(toggle) {
    var row = toggle.closest("tr.property-row");
    var model = toggle.closest("[id^='model-']");
    var name = "Details";
    if (row) {
      name = row.cells[0].textContent.replace("*", "").trim();
    } else if (model) {
      name = model.id.slice("model-".length);
    }
    return toggle.closest(".prop-enum") ? name + " (allowed values)" : name;
  }

  var root = document.getElementById("swagger-ui");
  if (root) {
    nameControls(root);
    new MutationObserver(function () { nameControls(root); }).observe(root, {
      childList: true,
      subtree: true,
    });
  }
})();
