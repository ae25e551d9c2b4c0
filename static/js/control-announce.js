/* Announcements in the control room: to everyone or one table, listed with their time while in
   force, each with a "Clear" button that takes it off the phones' banners. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-announce').textContent);
  const el = K.el;
  const form = document.getElementById('announce-form');
  const input = document.getElementById('announce-text');
  const scope = document.getElementById('announce-scope');
  const list = document.getElementById('announcements');
  const items = new Map(); // id -> {view, node}
  const names = new Map();

  function time(iso) {
    const d = new Date(iso);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  function upsert(a) {
    if (items.has(a.id)) return;
    const clear = el('button', { type: 'button', class: 'button small', text: t.clear });
    clear.addEventListener('click', () => C.rt.call('announcement_clear', { announcement_id: a.id })
      .then((ack) => { if (ack.ok) drop(a.id); else C.showError(ack); }));
    const who = a.table_id ? K.fill(t.table, { name: names.get(a.table_id) || a.table_id }) : t.everyone;
    const node = el('li', { class: 'announcement-row', 'data-announcement-id': String(a.id) }, [
      el('time', { text: time(a.created_at) }), ' ', el('strong', { text: who }), ' ', el('span', { text: a.text }), ' ', clear,
    ]);
    items.set(a.id, { view: a, node });
    list.prepend(node);
  }

  function drop(id) {
    const entry = items.get(id);
    if (entry) { entry.node.remove(); items.delete(id); }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const tableId = scope.value ? Number(scope.value) : null;
    C.rt.call('announce_to', { text: input.value, table_id: tableId }).then((ack) => {
      if (!ack.ok) return C.showError(ack);
      input.value = '';
      upsert(ack.announcement);
    });
  });

  C.register({
    snapshot(snap) {
      const chosen = scope.value;
      names.clear();
      scope.replaceChildren(el('option', { value: '', text: t.everyone }),
        ...snap.tables.map((tb) => { names.set(tb.id, tb.name); return el('option', { value: String(tb.id), text: K.fill(t.table, { name: tb.name }) }); }));
      scope.value = chosen;
      const live = new Set((snap.announcements || []).map((a) => a.id));
      Array.from(items.keys()).forEach((id) => { if (!live.has(id)) drop(id); });
      (snap.announcements || []).slice().reverse().forEach(upsert);
    },
    event(name, msg) {
      if (name === 'announcement') upsert(msg.announcement);
      else if (name === 'announcement_cleared') drop(msg.announcement_id);
    },
  });
})();
