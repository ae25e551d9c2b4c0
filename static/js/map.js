/* The opinion map page: reload the map when the server says it was recomputed. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const root = document.getElementById('opinion-map');
  const meetingId = Number(root.dataset.meetingId);
  let loading = false;
  let again = false;

  function reload() {
    if (loading) { again = true; return; }
    loading = true;
    fetch(root.dataset.fragmentUrl, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => { root.innerHTML = html; })  // server-rendered, escaped by Jinja
      .catch(() => {})
      .finally(() => {
        loading = false;
        if (again) { again = false; reload(); }
      });
  }

  new K.Realtime({
    auth: { meeting_id: meetingId },
    onSnapshot: reload,  // after a reconnect or a gap, the map may have changed meanwhile
    onEvent: (name) => { if (name === 'opinion_map') reload(); },
    onStatus: K.connectionBanner(document.getElementById('connection')),
  });
})();
