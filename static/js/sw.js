// Kurumaza's service worker: when a page cannot load (the server is briefly away, the phone has
// no network), it shows the app's own "reconnecting" page, in the visitor's language, which opens
// the page again once the server answers. Fingerprinted static files (?v=<hash>) are kept too.
'use strict';
var SHELL = 'kurumaza-shell-v1';
var OFFLINE = '/offline';

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

// A page tells the worker its language and the files it uses: keep the offline page and those.
self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (!data.offline) return;
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return fetch(data.offline, { credentials: 'same-origin' }).then(function (response) {
      if (response.ok) return cache.put(OFFLINE, response);
    }).then(function () {
      return Promise.all((data.assets || []).map(function (url) {
        return cache.match(url).then(function (hit) { return hit || cache.add(url); });
      }));
    }).then(function () {
      if (event.source) event.source.postMessage({ shell: 'ready' });
    });
  }).catch(function () { /* offline already: try again on the next page */ }));
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(fetch(request).catch(function () {
      return caches.open(SHELL).then(function (cache) { return cache.match(OFFLINE); }).then(function (page) {
        return page || Response.error();
      });
    }));
  } else if (url.pathname.indexOf('/static/') === 0 && url.searchParams.has('v')) {
    event.respondWith(caches.open(SHELL).then(function (cache) {
      return cache.match(request).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok) cache.put(request, response.clone());
          return response;
        });
      });
    }));
  }
});
