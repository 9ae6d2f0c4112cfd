/* The model editor's factor picker: a 🔍 button opens the dialog for its cell; a picked
   factor's id goes into that cell (and its unit into the row's unit cell when empty). */
(function () {
  "use strict";
  var target = null;
  var unitTarget = null;
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-picker-for]");
    var dialog = document.getElementById("factor-picker");
    if (opener && dialog) {
      target = document.getElementById(opener.getAttribute("data-picker-for"));
      unitTarget = document.getElementById(opener.getAttribute("data-unit-for"));
      dialog.showModal();
      var q = document.getElementById("picker-q");
      if (q) { q.focus(); q.select(); }
      return;
    }
    var pick = event.target.closest("[data-pick]");
    if (pick && dialog) {
      if (target) {
        var kind = document.getElementById(target.id.replace(/-ref$/, "-kind"));
        if (kind) { kind.value = pick.getAttribute("data-kind") || "factor"; }
        target.value = pick.getAttribute("data-pick");
        target.dispatchEvent(new Event("change", { bubbles: true }));
      }
      if (unitTarget && !unitTarget.value) {
        unitTarget.value = pick.getAttribute("data-unit");
      }
      dialog.close();
      if (target) { target.focus(); }
      return;
    }
    if (event.target.closest("[data-picker-close]") && dialog) {
      dialog.close();
    }
  });
})();
