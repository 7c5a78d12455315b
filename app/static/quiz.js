// Save a quiz's answers as the learner goes, so that a lost connection, a closed tab or a
// sign-out loses nothing: each change is sent in the background, one request at a time,
// and sent again when the connection comes back. The page works without this script:
// its "Save and continue later" button posts the same form.
//
// Where the device keeps data (offline.js), each change is also kept in IndexedDB until
// the server has it: without a connection the learner goes on answering, and may even
// submit; the answers, and the submission, are sent once the connection returns, with
// the time they were given on the device. The server records a submission once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.quiz[data-save-url]");
  var status = document.getElementById("save-status");
  var progress = document.querySelector(".quiz-progress");
  if (!form || !status || !window.fetch || !window.FormData) {
    return;
  }
  var text = form.dataset;
  var device = window.BlueBeretDevice && window.BlueBeretDevice.supported ?
    window.BlueBeretDevice : null;
  var RETRY_MS = 5000;
  // "Saving…" only for a slow save: a screen reader would announce every quick one.
  var SLOW_MS = 1000;
  var slow = null;
  var sending = false;
  var unsaved = false;
  var retry = null;
  var submitting = false;
  // Kept on the device while the server could not be reached; a submission pressed then.
  var keptOffline = false;
  var pendingSubmit = false;
  var reachable = true;
  var answeredAt = null;
  var kept = Promise.resolve(false);
  var fields = null;
  // The token was fetched again once since the server last answered.
  var refreshed = false;

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

  function sayOffline() {
    kept.then(function (onDevice) {
      if (!onDevice) {
        say(text.offline, "offline");
      } else {
        say(pendingSubmit ? text.keptSubmit : text.kept, "offline");
      }
    });
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

  function chosen() {
    var list = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token") {
        list.push([name, value]);
      }
    });
    return list;
  }

  function choose(list) {
    var wanted = {};
    list.forEach(function (pair) { wanted[pair[0] + "=" + pair[1]] = true; });
    form.querySelectorAll("fieldset input").forEach(function (input) {
      input.checked = wanted[input.name + "=" + input.value] === true;
    });
  }

  // Keep the answers (and a submission pressed) on the device; resolve whether it did.
  function keep() {
    if (!device) {
      return kept;
    }
    var record = {
      attempt: text.attempt, fields: fields || chosen(), answered_at: answeredAt,
      submit: pendingSubmit, offline: keptOffline,
    };
    kept = device.put("answers", record).then(function () { return true; }, function () {
      return false;
    });
    return kept;
  }

  function forget() {
    if (device) {
      kept.then(function () { return device.remove("answers", text.attempt); })
        .catch(function () {});
    }
  }

  function body() {
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    (fields || chosen()).forEach(function (pair) { data.append(pair[0], pair[1]); });
    if (answeredAt) {
      data.append("answered_at", answeredAt);
    }
    return data;
  }

  function lock(locked) {
    form.querySelectorAll("fieldset, .quiz-actions button").forEach(function (element) {
      element.disabled = locked;
    });
  }

  function send() {
    if (pendingSubmit) {
      sendSubmission();
    } else {
      save();
    }
  }

  function retryLater() {
    if (retry === null) {
      retry = window.setTimeout(function () {
        retry = null;
        send();
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
    reachable = false;
    keptOffline = true;
    keep();
    sayOffline();
    if (navigator.onLine !== false) {
      retryLater();
    }
  }

  function signedOut() {
    // Sent to the sign-in page, or a form of a session that has ended. A page kept for
    // hours may hold the token of a session renewed since (remember me): the quiz page,
    // fetched again, gives the current one, tried once.
    sending = false;
    unsaved = true;
    if (refreshed) {
      stillSignedOut();
      return;
    }
    refreshed = true;
    fetch(text.submitUrl, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok || response.redirected) {
        throw new Error("signed out");
      }
      return response.text();
    }).then(function (page) {
      var token = /name="csrf_token" value="([^"]+)"/.exec(page);
      if (!token) {
        throw new Error("no token");
      }
      form.elements.csrf_token.value = token[1];
      send();
    }).catch(stillSignedOut);
  }

  function stillSignedOut() {
    // Sending again would not help until the learner signs in. Answers given offline
    // stay kept, and go when the quiz is opened again once signed in; others were said
    // not saved.
    if (keptOffline && device) {
      kept.then(function (onDevice) {
        say(onDevice ? text.signedOutKept : text.signedOut, "failed");
      });
    } else {
      forget();
      say(text.signedOut, "failed");
    }
  }

  // Send the answers to a script's address; `answered` reads the server's JSON answer.
  // Anything but JSON is a session that ended (sent to sign in, a stale token) or an error.
  function post(url, answered) {
    fetch(url, {
      method: "POST",
      body: body(),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        if (response.redirected || response.status === 400) {
          signedOut();
        } else {
          failed();
        }
        return;
      }
      return response.json().then(function (answer) {
        sending = false;
        reachable = true;
        refreshed = false;
        answered(response, answer);
      });
    }, unreachable).catch(failed);
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
      keptOffline = true;
      keep();
      sayOffline();
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
    post(text.saveUrl, function (response, answer) {
      if (response.ok && answer.saved) {
        if (unsaved) {
          save();
        } else {
          say(keptOffline ? text.sent : text.saved, "saved");
          keptOffline = false;
          forget();
        }
      } else if (response.status === 400 || response.status === 409) {
        // Refused for good (options not shown, attempt already submitted): say why.
        unsaved = false;
        keptOffline = false;
        forget();
        say(answer.message || text.failed, "refused");
      } else {
        failed();
      }
    });
  }

  function showResult(message, url) {
    var link = document.createElement("a");
    link.href = url;
    link.textContent = text.result;
    status.textContent = message + " ";
    status.appendChild(link);
    status.setAttribute("data-state", "submitted");
  }

  function sendSubmission() {
    if (sending) {
      return;
    }
    sending = true;
    post(text.submitUrl, function (response, answer) {
      if (answer.result_url) {
        // Recorded now, or by an earlier sending: either way, once.
        pendingSubmit = false;
        unsaved = false;
        submitting = true;
        forget();
        showResult(answer.message, answer.result_url);
      } else if (response.status >= 400 && response.status < 500) {
        // Not accepted (a question left out, a wait after two failures): say why, and
        // let the learner answer again.
        pendingSubmit = false;
        fields = null;
        lock(false);
        keep();
        say([answer.message].concat(answer.errors || []).join(" "), "refused");
      } else {
        failed();
      }
    });
  }

  function unanswered() {
    var fieldsets = form.querySelectorAll("fieldset");
    for (var index = 0; index < fieldsets.length; index += 1) {
      if (fieldsets[index].querySelector("input:checked") === null) {
        return index + 1;
      }
    }
    return 0;
  }

  form.addEventListener("change", function (event) {
    if (event.target instanceof HTMLInputElement) {
      answeredAt = new Date().toISOString();
      showProgress();
      keep();
      save();
    }
  });
  form.addEventListener("submit", function (event) {
    var offline = navigator.onLine === false || !reachable;
    if (!device || !offline) {
      submitting = true;
      return;
    }
    // Without a connection the form could not leave: the answers are kept, and a
    // submission too, to be sent when the connection returns.
    event.preventDefault();
    var saving = event.submitter && event.submitter.hasAttribute("formaction");
    var missing = unanswered();
    if (!saving && missing) {
      say(text.unanswered.replace("{number}", missing), "refused");
      form.querySelectorAll("fieldset")[missing - 1].querySelector("input").focus();
      return;
    }
    keptOffline = true;
    if (!saving) {
      answeredAt = new Date().toISOString();
      pendingSubmit = true;
      fields = chosen();
      lock(true);
    }
    keep();
    sayOffline();
  });
  window.addEventListener("online", function () {
    if (pendingSubmit || unsaved) {
      send();
    }
  });
  window.addEventListener("offline", function () {
    if (unsaved || sending || pendingSubmit) {
      sayOffline();
    }
  });
  showProgress();
  if (device) {
    // Answers kept on this device and not sent yet (given offline, the page perhaps
    // served from what was kept) are newer than the page: shown, then sent.
    device.get("answers", text.attempt).then(function (record) {
      if (!record) {
        return;
      }
      choose(record.fields);
      answeredAt = record.answered_at;
      keptOffline = record.offline;
      pendingSubmit = record.submit;
      kept = Promise.resolve(true);
      showProgress();
      if (pendingSubmit) {
        fields = record.fields;
        lock(true);
      }
      unsaved = true;
      send();
    }).catch(function () {});
  }
});
