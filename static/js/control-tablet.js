/* A table's shared tablet, from its detail: make a link (shown once, with its QR code) and revoke
   the table's links. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-tablet').textContent);
  const el = K.el;
  const list = document.getElementById('tablet-list');
  const fresh = document.getElementById('tablet-new');
  let links = [];
  let open = null;

  function paint() {
    const mine = links.filter((l) => l.table_id === open);
    list.replaceChildren(...mine.map((l) => {
      const b = el('button', { type: 'button', class: 'button small', text: t.revoke });
      b.addEventListener('click', () => C.rt.call('tablet_link_revoke', { link_id: l.id }).then((ack) => {
        if (!ack.ok) C.showError(ack);
      }));
      return el('li', { 'data-link-id': String(l.id) }, [
        K.fill(t.made, { time: new Date(l.created_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) }) + ' ', b]);
    }));
  }

  document.getElementById('tablet-create').addEventListener('click', () => {
    C.rt.call('tablet_link_create', { table_id: open }).then((ack) => {
      if (!ack.ok) return C.showError(ack);
      document.getElementById('tablet-url').textContent = ack.url || '';
      if (ack.qr) document.getElementById('tablet-qr').src = ack.qr;
      fresh.hidden = false;
    });
  });

  C.register({
    snapshot(snap) { links = snap.tablet_links || []; paint(); },
    event(name, msg) { if (name === 'tablet_links') { links = msg.links; paint(); } },
    detailOpened(id) { open = id; fresh.hidden = true; paint(); },
  });
})();
