// The Slow Crossing -- sample blog script: open share links in a small window.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".share a[href^='http']");
    if (!link) { return; }
    event.preventDefault();
    window.open(link.href, "share", "width=560,height=480,noopener");
  });
})();
