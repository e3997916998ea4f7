
(function () {
  "use strict";
  var panel = document.getElementById("panel");
  var body = document.getElementById("panel-body");
  function each(selector, f) { Array.prototype.forEach.call(document.querySelectorAll(selector), f); }
  function close() {
    panel.hidden = true;
    panel.removeAttribute("data-open");
    each(".selected", function (el) { el.classList.remove("selected"); });
  }
  function open(id) {
    var t = document.getElementById("d-" + id);
    if (!t) { return false; }
    body.textContent = "";
    body.appendChild(t.content.cloneNode(true));
    panel.hidden = false;
    panel.setAttribute("data-open", id);
    each(".selected", function (el) { el.classList.remove("selected"); });
    each('[data-detail="' + id + '"], [data-guide="' + id + '"]', function (el) { el.classList.add("selected"); });
    return true;
  }
  var wired = 0;
  each("[data-detail]", function (el) {
    var id = el.getAttribute("data-detail");
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", "button");
    el.addEventListener("click", function (e) {
      e.stopPropagation();
      open(id);
      try { history.replaceState(null, "", "#" + id); } catch (err) { /* file: URLs may refuse */ }
    });
    el.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(id); }
    });
    el.setAttribute("data-wired", "click");
    wired += 1;
  });
  each("[data-group]", function (el) {
    var group = el.getAttribute("data-group");
    var plot = el.closest("svg");
    el.addEventListener("mouseenter", function () {
      plot.classList.add("grouping");
      each('[data-group="' + group + '"]', function (b) { b.classList.add("hl"); });
    });
    el.addEventListener("mouseleave", function () {
      plot.classList.remove("grouping");
      each('[data-group="' + group + '"]', function (b) { b.classList.remove("hl"); });
    });
  });
  document.getElementById("panel-close").addEventListener("click", close);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  function fromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (id) { open(id); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.documentElement.setAttribute("data-ready", String(wired));
})();
