// Save a quiz's answers as the learner goes, so that a lost connection, a closed tab or a
// sign-out loses nothing: each change is sent in the background, one request at a time,
// and sent again when the connection comes back. The page works without this script:
// its "Save and continue later" button posts the same form.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.quiz[data-save-url]");
  var status = document.getElementById("save-status");
  var progress = document.querySelector(".quiz-progress");
  if (!form || !status || !window.fetch || !window.FormData) {
    return;
  }
  var text = form.dataset;
  var RETRY_MS = 5000;
  // "Saving…" only for a slow save: a screen reader would announce every quick one.
  var SLOW_MS = 1000;
  var slow = null;
  var sending = false;
  var unsaved = false;
  var retry = null;
  var submitting = false;

  function say(message, state) {
    if (slow !== null && state !== "saving") {
      window.clearTimeout(slow);
      slow = null;
    }
    if (status.textContent !== message) {
      status.textContent = message;
    }
    status.setAttribute("data-state", state);
  }

  function showProgress() {
    if (!progress) {
      return;
    }
    progress.querySelectorAll(".answer-state[data-question]").forEach(function (state) {
      var fieldset = document.getElementById("question-" + state.getAttribute("data-question"));
      var answered = fieldset !== null && fieldset.querySelector("input:checked") !== null;
      state.textContent = answered ? progress.dataset.answered : progress.dataset.unanswered;
      state.classList.toggle("answered", answered);
    });
  }

  function retryLater() {
    if (retry === null) {
      retry = window.setTimeout(function () {
        retry = null;
        save();
      }, RETRY_MS);
    }
  }

  function failed() {
    // The server answered with an error (a gateway that lost it, a restart): try again.
    sending = false;
    unsaved = true;
    say(text.failed, "failed");
    retryLater();
  }

  function unreachable() {
    // No answer at all: offline, whatever navigator.onLine says (a network that reaches
    // no further than the camp says it is online). Sent again by the "online" event, or
    // by the next try when that event never comes.
    sending = false;
    unsaved = true;
    say(text.offline, "offline");
    if (navigator.onLine !== false) {
      retryLater();
    }
  }

  function save() {
    if (submitting) {
      return;
    }
    if (sending) {
      // The latest answers follow once the request on its way is answered.
      unsaved = true;
      return;
    }
    if (navigator.onLine === false) {
      unsaved = true;
      say(text.offline, "offline");
      return;
    }
    sending = true;
    unsaved = false;
    if (slow === null) {
      slow = window.setTimeout(function () {
        slow = null;
        if (sending) {
          say(text.saving, "saving");
        }
      }, SLOW_MS);
    }
    fetch(text.saveUrl, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        if (response.redirected || response.status === 400) {
          // Sent to the sign-in page, or a form of a session that has ended: saving
          // again would not help until the learner signs in.
          sending = false;
          unsaved = true;
          say(text.signedOut, "failed");
        } else {
          failed();
        }
        return;
      }
      return response.json().then(function (body) {
        sending = false;
        if (response.ok && body.saved) {
          if (unsaved) {
            save();
          } else {
            say(text.saved, "saved");
          }
        } else if (response.status === 400 || response.status === 409) {
          // Refused for good (options not shown, attempt already submitted): say why.
          unsaved = false;
          say(body.message || text.failed, "refused");
        } else {
          failed();
        }
      });
    }, unreachable).catch(failed);
  }

  form.addEventListener("change", function (event) {
    if (event.target instanceof HTMLInputElement) {
      showProgress();
      save();
    }
  });
  form.addEventListener("submit", function () {
    submitting = true;
  });
  window.addEventListener("online", function () {
    if (unsaved) {
      save();
    }
  });
  window.addEventListener("offline", function () {
    if (unsaved || sending) {
      say(text.offline, "offline");
    }
  });
  showProgress();
});
