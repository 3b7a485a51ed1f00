/* Progressive enhancement only: every page works without this file (the CSP allows no inline script).
   - A filter form left open (no filter set) folds away on a phone, so the list comes first.
   - A print button (hidden until this runs, since it needs a script) prints the page. */
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 40rem)");
  function fold() {
    if (!narrow.matches) {
      return;
    }
    document.querySelectorAll("details[data-fold-narrow][open]").forEach(function (details) {
      if (!details.querySelector(".errorlist")) {
        details.open = false;
      }
    });
  }
  fold();
  narrow.addEventListener("change", fold);
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
