// The thank-you page's "Copy link" button. Without JavaScript the link is still there, as
// selectable text; this only adds the button. Nothing leaves the page: the clipboard only.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var result = document.getElementById("copy-result");
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      var done = function () { if (result) { result.textContent = button.getAttribute("data-copied"); } };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
      }
    });
  });
})();
