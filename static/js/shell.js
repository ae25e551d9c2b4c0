// Registers the service worker (static/js/sw.js, served at /sw.js) and tells it this page's
// language and files, so a reload while the server is away shows the app's "reconnecting" page.
// On that page, it opens the page again as soon as the server answers.
(function () {
  'use strict';
  var catalog = document.querySelector('meta[name="catalog"]');
  if (document.querySelector('meta[name="offline"]')) {
    // Opened at its own address, not in place of another page: nothing to open again (reloading
    // it every 2 s would only show it again, and would cut short whatever the visitor opens next).
    if (location.pathname === '/offline') return;
    var retry = function () {
      fetch(location.href, { method: 'HEAD', cache: 'no-store', credentials: 'same-origin' })
        .then(function (r) { if (r.status < 500) location.reload(); else setTimeout(retry, 2000); })
        .catch(function () { setTimeout(retry, 2000); });
    };
    setTimeout(retry, 2000);
    return;
  }
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    var assets = Array.prototype.map.call(document.querySelectorAll('link[rel="stylesheet"], script[src]'),
      function (el) { return el.href || el.src; });
    registration.active.postMessage({
      offline: '/offline?catalog=' + encodeURIComponent(catalog ? catalog.content : 'ja'), assets: assets,
    });
  }).catch(function () { /* no service worker: the browser's own page then */ });
})();
