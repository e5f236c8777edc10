// eln-msc-plugin: a live QC check of Kadi4Mat's record form, before the save.
// Whenever the scientist leaves a field, the form's extras (Kadi keeps them, typed, in the hidden input
// "extras") go to the plugin's endpoint; a small panel at the bottom right shows what Kadi would refuse,
// or the verdict and findings the check would give. Nothing is saved; attached files are judged after the
// save. Text only (textContent): no value from the form is ever read as HTML.
(function () {
  "use strict";

  var ENDPOINT = (document.currentScript && document.currentScript.src || "").replace(/static\/[^/]*$/, "check");
  var STYLE = { pass: "success", warn: "warning", fail: "danger", error: "secondary" };
  var DEBOUNCE_MS = 300;

  function element(tag, className, text) {
    var e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (text) {
      e.textContent = text;
    }
    return e;
  }

  function panel() {
    var box = document.querySelector(".eln-msc-qc-form");
    if (box) {
      return box;
    }
    box = element("div", "card shadow eln-msc-qc-form");
    box.style.cssText = "position:fixed;right:1rem;bottom:1rem;width:28rem;max-height:45vh;overflow:auto;z-index:1040";
    var header = element("div", "card-header py-2 d-flex justify-content-between");
    header.appendChild(element("strong", "eln-msc-qc-form-title", "MSC batch QC: live check of this form"));
    var close = element("button", "close", "\u00d7");
    close.type = "button";
    close.title = "Hide";
    close.addEventListener("click", function () { box.style.display = "none"; });
    header.appendChild(close);
    box.appendChild(header);
    box.appendChild(element("div", "card-body py-2 eln-msc-qc-form-body"));
    document.body.appendChild(box);
    return box;
  }

  function show(answer) {
    if (answer.state === "unchecked") {
      return;
    }
    var box = panel();
    var body = box.querySelector(".eln-msc-qc-form-body");
    body.textContent = "";
    var items = answer.state === "refused" ? answer.messages : answer.findings;
    var title = answer.state === "refused" ? "Kadi would refuse this save:" :
      "Not saved yet; if saved as it is, the verdict would be " + answer.verdict.toUpperCase() + ".";
    box.setAttribute("data-state", answer.state);
    box.setAttribute("data-verdict", answer.verdict || "");
    box.querySelector(".card-header").className =
      "card-header py-2 d-flex justify-content-between text-white bg-" +
      (answer.state === "refused" ? "danger" : STYLE[answer.verdict] || "secondary");
    body.appendChild(element("p", "mb-1", title));
    var list = element("ul", "mb-1 small");
    (items || []).forEach(function (text) { list.appendChild(element("li", "", text)); });
    body.appendChild(list);
    if (answer.more) {
      body.appendChild(element("p", "small text-muted mb-1", "… and " + answer.more + " more."));
    }
    body.appendChild(element("p", "small text-muted mb-0", "Attached files are checked after the save."));
    box.style.display = "";
  }

  function start() {
    var extras = document.querySelector("form input[name=extras]");
    var csrf = document.querySelector("form input[name=csrf_token]");
    if (!extras || !ENDPOINT) {
      return;
    }
    var form = extras.form;
    var sent = null;
    var timer = null;

    function check() {
      var value = extras.value;
      if (value === sent) {
        return;
      }
      sent = value;
      var parsed;
      try {
        parsed = JSON.parse(value);
      } catch (e) {
        return;
      }
      var identifier = form.querySelector("input[name=identifier]");
      window.fetch(ENDPOINT, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
        body: JSON.stringify({ extras: parsed, identifier: identifier ? identifier.value : "" }),
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) { if (answer) { show(answer); } })
        .catch(function () { sent = null; }); // ask again at the next change
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, DEBOUNCE_MS); // after Vue has updated the hidden input
    }

    form.addEventListener("change", later, true);
    form.addEventListener("focusout", later, true);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
