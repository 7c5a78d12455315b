// Keep modules on this device, for use without a connection, and remove them on sign-out.
// Where the browser has a service worker, the Cache API and IndexedDB, a module's page
// shows "Keep this module on this device": the pages the server lists (the module, its
// sections, the whole module, the person's open quiz) and the files they link are kept
// in a cache that service-worker.js serves from when the network does not answer.
// IndexedDB holds what is kept and the quiz's answers not sent yet (quiz.js).
(function () {
  var CACHE = "blue-beret-kept";
  var DATABASE = "blue-beret";
  var KEEP_HEADER = "Keep-Offline";
  var script = document.currentScript;
  var supported = "serviceWorker" in navigator && "caches" in window &&
    "indexedDB" in window && "fetch" in window;

  function forgetPages() {
    return Promise.all([caches.delete(CACHE), navigator.serviceWorker.getRegistrations()
      .then(function (registrations) {
        return Promise.all(registrations.map(function (r) { return r.unregister(); }));
      })]);
  }

  function request(operation) {
    return new Promise(function (resolve, reject) {
      operation.onsuccess = function () { resolve(operation.result); };
      operation.onerror = function () { reject(operation.error); };
    });
  }

  function open() {
    var opening = indexedDB.open(DATABASE, 1);
    opening.onupgradeneeded = function () {
      opening.result.createObjectStore("modules", { keyPath: "slug" });
      opening.result.createObjectStore("answers", { keyPath: "attempt" });
      opening.result.createObjectStore("person");
    };
    return request(opening);
  }

  // One connection per operation: signing out in another tab deletes the database,
  // which closes the connections open on it.
  function use(store, mode, work) {
    return open().then(function (db) {
      var result = work(db.transaction(store, mode).objectStore(store));
      return request(result).then(function (value) {
        db.close();
        return value;
      }, function (error) {
        db.close();
        throw error;
      });
    });
  }

  var device = {
    supported: supported,
    get: function (store, key) {
      return use(store, "readonly", function (s) { return s.get(key); });
    },
    put: function (store, value, key) {
      return use(store, "readwrite", function (s) { return s.put(value, key); });
    },
    remove: function (store, key) {
      return use(store, "readwrite", function (s) { return s.delete(key); });
    },
    all: function (store) {
      return use(store, "readonly", function (s) { return s.getAll(); });
    },
    // Remove everything this site keeps on the device: pages, answers, the worker.
    clear: function () {
      var database = request(indexedDB.deleteDatabase(DATABASE)).catch(function () {});
      return Promise.all([forgetPages(), database]);
    },
    register: function () {
      return navigator.serviceWorker.register("/service-worker.js", { scope: "/" })
        .then(function () { return navigator.serviceWorker.ready; });
    },
  };
  window.BlueBeretDevice = supported ? device : { supported: false };
  if (!supported) {
    return;
  }

  // Before the form leaves: the server's Clear-Site-Data header does the same, where the
  // browser reads it. Offline, signing out fails anyway and nothing is removed.
  function clearOnSignOut(form) {
    var leaving = false;
    form.addEventListener("submit", function (event) {
      if (leaving || navigator.onLine === false) {
        return;
      }
      event.preventDefault();
      leaving = true;
      var go = function () { form.submit(); };
      Promise.race([
        device.clear(),
        new Promise(function (resolve) { window.setTimeout(resolve, 2000); }),
      ]).then(go, go);
    });
  }

  // A device shared after a session that ended without signing out: what the one person
  // kept is not left for the next.
  function forgetOtherPerson(person) {
    return device.get("person", "id").then(function (kept) {
      if (kept !== undefined && kept !== person) {
        return device.clear();
      }
    }).catch(function () {});
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return name in values ? values[name] : whole;
    });
  }

  function keepPage(cache, url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok || response.redirected || response.headers.get(KEEP_HEADER) !== "yes") {
        throw new Error("not kept: " + url);
      }
      return cache.put(url, response);
    });
  }

  function keepFile(cache, url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? cache.put(url, response) : undefined;
    });
  }

  function moduleControls(section, person) {
    var text = section.dataset;
    var form = section.querySelector("form");
    var remove = section.querySelector("button.remove");
    var state = section.querySelector(".offline-state");
    var note = section.querySelector(".offline-note");
    var slug = text.slug;

    function show(kept) {
      remove.hidden = !kept;
      if (!kept) {
        return;
      }
      var time = new Date(kept.kept_at).toLocaleString(document.documentElement.lang);
      state.textContent = fill(kept.quiz ? text.keptQuiz : text.kept, { time: time });
      note.textContent = kept.note || "";
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      state.textContent = text.keeping;
      note.textContent = "";
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      }).then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("refused");
        }
        return response.json();
      }).then(function (listed) {
        return caches.open(CACHE).then(function (cache) {
          var pages = listed.pages.map(function (url) { return keepPage(cache, url); });
          var files = listed.assets.map(function (url) { return keepFile(cache, url); });
          return Promise.all(pages.concat(files));
        }).then(function () {
          var kept = {
            slug: slug, pages: listed.pages, quiz: listed.quiz, note: listed.note,
            kept_at: Date.now(),
          };
          return device.put("person", person, "id")
            .then(function () { return device.put("modules", kept); })
            .then(device.register)
            .then(function () { return kept; });
        });
      }).then(show, function () {
        state.textContent = text.failed;
      });
    });

    remove.addEventListener("click", function () {
      device.get("modules", slug).then(function (kept) {
        return caches.open(CACHE).then(function (cache) {
          return Promise.all((kept ? kept.pages : []).map(function (url) {
            return cache.delete(url, { ignoreVary: true });
          }));
        });
      }).then(function () {
        return device.remove("modules", slug);
      }).then(function () {
        return device.all("modules");
      }).then(function (left) {
        // Nothing kept any more: the files and the worker go too.
        if (!left.length) {
          return forgetPages();
        }
      }).then(function () {
        remove.hidden = true;
        note.textContent = "";
        state.textContent = text.removed;
        form.querySelector("button").focus();
      });
    });

    section.hidden = false;
    device.get("modules", slug).then(show).catch(function () {});
  }

  // Previous, Next and Continue reading record where the person is by a POST, which
  // cannot leave without a connection: offline they open the section kept instead.
  function readOffline() {
    document.querySelectorAll("form[data-offline-href]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (navigator.onLine === false) {
          event.preventDefault();
          window.location.assign(form.dataset.offlineHref);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var person = script ? script.dataset.person : undefined;
    readOffline();
    var signOut = document.querySelector("form.signout");
    if (signOut) {
      clearOnSignOut(signOut);
    }
    forgetOtherPerson(person).then(function () {
      var section = document.querySelector("section.offline[data-slug]");
      if (section) {
        moduleControls(section, person);
      }
      // Kept modules stay served without a connection, the worker updated as it changes.
      return device.all("modules").then(function (kept) {
        if (kept.length) {
          device.register();
        }
      });
    }).catch(function () {});
  });
})();
