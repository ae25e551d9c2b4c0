// The language switch keeps what the visitor typed: before the form posts, the page's text
// fields (and checked choices) are kept in sessionStorage for the page it comes back to, and
// put back there after the reload in the new language.
(function () {
  'use strict';
  var PREFIX = 'kurumaza-keep:';

  function fields() {
    return Array.prototype.filter.call(document.querySelectorAll('main input, main textarea, main select'), function (el) {
      var t = (el.type || '').toLowerCase();
      return (el.id || el.name) && t !== 'hidden' && t !== 'password' && t !== 'submit' && t !== 'button' && t !== 'file';
    });
  }
  function keyOf(el) { return (el.id ? '#' + el.id : '') + '|' + (el.name || '') + '|' + (el.type === 'radio' || el.type === 'checkbox' ? el.value : ''); }

  function stash(form) {
    var next = form.querySelector('input[name="next"]');
    if (!next) return;
    var kept = {};
    fields().forEach(function (el) {
      if (el.type === 'radio' || el.type === 'checkbox') { if (el.checked) kept[keyOf(el)] = true; }
      else if (el.value) kept[keyOf(el)] = el.value;
    });
    try { sessionStorage.setItem(PREFIX + next.value, JSON.stringify(kept)); } catch (e) { /* private mode: nothing kept */ }
  }

  function restore() {
    var key = PREFIX + location.pathname + location.search, raw = null;
    try { raw = sessionStorage.getItem(key); sessionStorage.removeItem(key); } catch (e) { return; }
    if (!raw) return;
    var kept;
    try { kept = JSON.parse(raw); } catch (e) { return; }
    fields().forEach(function (el) {
      var k = keyOf(el);
      if (!(k in kept)) return;
      if (el.type === 'radio' || el.type === 'checkbox') el.checked = true;
      else el.value = kept[k];
    });
  }

  // The "reconnecting" page (static/js/sw.js) stands in for the page the visitor asked for: switching
  // there comes back to that page (its address), not to the offline page itself.
  function comeBackHere() {
    if (!document.querySelector('meta[name="offline"]')) return;
    // Opened as itself, it drops ?catalog= (which would outweigh the choice just made).
    var page = location.pathname === '/offline' ? '/offline' : location.pathname + location.search;
    Array.prototype.forEach.call(document.querySelectorAll('form.lang'), function (form) {
      var next = form.querySelector('input[name="next"]');
      if (!next) {
        next = document.createElement('input');
        next.type = 'hidden';
        next.name = 'next';
        form.appendChild(next);
      }
      next.value = page;
    });
  }

  document.addEventListener('submit', function (event) {
    if (event.target.matches && event.target.matches('form.lang')) stash(event.target);
  }, true);
  function start() { comeBackHere(); restore(); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
