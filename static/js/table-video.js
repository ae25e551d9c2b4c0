/* The table's video room (online or hybrid sessions): a link button under the table's name that
   follows the table (rotating to another table rotates to its room) and staff's changes. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const link = document.getElementById('video-room');
  function show(url) {
    link.hidden = !url;
    if (url) link.href = url; else link.removeAttribute('href');
  }
  K.phoneHooks = K.phoneHooks || [];
  K.phoneHooks.push({
    snapshot(snap) { show(snap.video || null); },
    event(name, msg) { if (name === 'video_room') show(msg.url); },
  });
})();
