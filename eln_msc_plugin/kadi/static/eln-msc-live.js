// eln-msc-plugin: keeps the MSC batch QC card on a Kadi4Mat record page current, without a reload.
// While the card says a check is on its way, ask the plugin's endpoint how the verdict stands: often at
// first (a check lands about a second after the save), then once a second; stop once the verdict judges
// the newest revision, and after a minute stop with a note. Only plain DOM calls: the card's box is v-pre,
// so Kadi's Vue app leaves its content alone.
(function () {
  "use strict";

  var GIVE_UP_MS = 60000;
  var FAST_MS = 250;
  var FAST_FOR_MS = 10000;
  var SLOW_MS = 1000;
  var GAVE_UP = "No new verdict arrived within a minute. The check may still be queued: reload this " +
    "page later. If it keeps happening, ask your Kadi admin to run eln-msc doctor.";
  var UPDATED = "Updated just now, without reloading the page: the tags and extra metadata below still show " +
    "the record as it was when the page was loaded.";

  function note(box, className, text) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    (box.querySelector(".card-body") || box).appendChild(p);
  }

  function giveUp(box) {
    box.setAttribute("data-state", "gave-up");
    note(box, "alert alert-warning mt-2 mb-0 eln-msc-qc-gave-up", GAVE_UP);
  }

  function follow(box) {
    var started = Date.now();
    var shown = null;

    function schedule() {
      var elapsed = Date.now() - started;
      if (elapsed >= GIVE_UP_MS) {
        giveUp(box);
        return;
      }
      window.setTimeout(poll, elapsed < FAST_FOR_MS ? FAST_MS : SLOW_MS);
    }

    function show(state) {
      if (typeof state.html === "string" && state.html !== shown) {
        box.innerHTML = state.html;
        shown = state.html;
        if (state.state !== "pending") {
          note(box, "small text-muted mt-2 mb-0 eln-msc-qc-updated", UPDATED);
        }
      }
      box.setAttribute("data-state", state.state);
      if (state.state === "pending") {
        schedule();
      }
    }

    function poll() {
      window.fetch(box.getAttribute("data-endpoint"), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(show)
        .catch(schedule); // a dropped request or a busy server: ask again, within the same minute
    }

    schedule();
  }

  function start() {
    var box = document.querySelector(".eln-msc-qc-live[data-endpoint]");
    if (box && box.getAttribute("data-state") === "pending") {
      follow(box);
    }
  }

  // Plugin scripts run before Kadi mounts its Vue app; DOMContentLoaded comes after that mount.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
