/* The announcement banner shows its time, and leaves when staff clear it; a phone that joins
   later gets only an announcement still in force in its snapshot (none: no banner). */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = JSON.parse(document.getElementById('i18n-help').textContent);
  const banner = document.getElementById('announcement');
  if (!banner) return;

  function time(iso) {
    const d = new Date(iso);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  // table.js writes the text; this runs after it and adds the time.
  function decorate(a) {
    setTimeout(() => {
      if (!a) { banner.hidden = true; delete banner.dataset.announcementId; return; }
      banner.dataset.announcementId = String(a.id);
      if (!banner.querySelector('time')) banner.prepend(K.el('time', { class: 'announcement-time', text: K.fill(t.announced_at, { time: time(a.created_at) }) + ' ' }));
    }, 0);
  }

  K.phoneHooks = K.phoneHooks || [];
  K.phoneHooks.push({
    snapshot(snap) { decorate(snap.announcement || null); },
    event(name, msg) {
      if (name === 'announcement') decorate(msg.announcement);
      else if (name === 'announcement_cleared' && banner.dataset.announcementId === String(msg.announcement_id)) decorate(null);
    },
  });
})();
