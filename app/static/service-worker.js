// Serve the pages a learner chose to keep on this device when the network does not
// answer, and nothing else. offline.js keeps them ("Keep this module on this device") in
// the cache named below. A kept page is asked of the network first, so that it is as
// fresh as the connection allows, and its copy is replaced only by a page that says it
// may be kept (the Keep-Offline header): a quiz that has become its result is dropped,
// never kept. Other pages are not kept and, without a connection, are not served.
"use strict";

var CACHE = "blue-beret-kept";
var KEEP_HEADER = "Keep-Offline";
// Kept pages are matched by address alone: their Vary (the language, the cookie) names
// request headers that a copy kept by a script does not carry.
var MATCH = { ignoreVary: true };

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function isFile(url) {
  return url.pathname.indexOf("/static/") === 0 || url.pathname === "/favicon.ico" ||
    url.pathname === "/manifest.webmanifest";
}

function keptPage(request, url) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(url.href, MATCH).then(function (copy) {
      if (!copy) {
        return fetch(request);
      }
      return fetch(request).then(function (response) {
        // A redirect (to sign in) leaves the copy as it is: signing out removes it.
        if (response.type === "basic" && response.ok && !response.redirected) {
          if (response.headers.get(KEEP_HEADER) === "yes") {
            cache.put(url.href, response.clone());
          } else {
            cache.delete(url.href, MATCH);
          }
        } else if (response.status === 404 || response.status === 410) {
          cache.delete(url.href, MATCH);
        }
        return response;
      }, function () {
        return copy;
      });
    });
  });
}

function keptFile(request, url) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(url.href, MATCH).then(function (copy) {
      // Named by their content, the files never change: the copy is as good as new.
      if (copy && url.pathname.indexOf("/static/") === 0) {
        return copy;
      }
      return fetch(request).then(function (response) {
        // While something is kept, the files its pages link are kept with it, a new
        // version of the stylesheet included.
        if (response.type === "basic" && response.ok) {
          var kept = response.clone();
          cache.keys().then(function (keys) {
            if (keys.length) {
              cache.put(url.href, kept);
            }
          });
        }
        return response;
      }, function (error) {
        return copy || Promise.reject(error);
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (isFile(url)) {
    event.respondWith(keptFile(request, url));
  } else if (url.pathname.indexOf("/training/") === 0 && !url.search) {
    event.respondWith(keptPage(request, url));
  }
});
