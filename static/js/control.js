/* The facilitator's control room. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = K.i18n();
  const root = document.getElementById('tables');
  const meetingId = Number(root.dataset.meetingId);
  const error = document.getElementById('control-error');
  const tables = new Map(); // id -> table view with ideas map

  function showError(ack) {
    error.textContent = ack.message;
    error.hidden = false;
  }

  function ideaNode(table, idea) {
    const tally = idea.tally || {};
    const action = idea.hidden ? 'restore' : 'hide';
    const toggle = K.el('button', { type: 'button', class: 'button small', 'data-action': action, text: t[action] });
    const reasonForm = K.el('form', { class: 'reason', hidden: true }, [
      K.el('label', {}, [t['reason_' + action], K.el('input', { name: 'reason', required: true, maxLength: 500 })]),
      K.el('button', { type: 'submit', class: 'button small primary', text: t.confirm }),
      K.el('button', { type: 'button', class: 'button small', 'data-cancel': '1', text: t.cancel }),
    ]);
    toggle.addEventListener('click', () => { reasonForm.hidden = false; reasonForm.querySelector('input').focus(); });
    reasonForm.querySelector('[data-cancel]').addEventListener('click', () => { reasonForm.hidden = true; });
    reasonForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const reason = reasonForm.querySelector('input').value;
      rt.call(action + '_idea', { idea_id: idea.id, reason: reason }).then((ack) => {
        if (!ack.ok) return showError(ack);
        error.hidden = true;
        upsertIdea(Object.assign({}, ack.idea, { hidden_reason: action === 'hide' ? reason : '' }));
      });
    });
    const counts = ['agree', 'disagree', 'pass'].map((v) => t[v] + ' ' + (tally[v] || 0)).join(' · ');
    return K.el('li', { class: 'idea' + (idea.hidden ? ' is-hidden' : ''), 'data-idea-id': String(idea.id) }, [
      K.el('p', { class: 'idea-text', text: idea.text }),
      K.el('p', { class: 'muted', text: counts + (idea.hidden ? ' — ' + t.hidden + ': ' + (idea.hidden_reason || '') : '') }),
      toggle, reasonForm,
    ]);
  }

  function renderTable(table) {
    if (!table.node) {
      table.node = K.el('section', { class: 'card control-table', 'data-table-id': String(table.id) });
      root.append(table.node);
    }
    const ideas = Array.from(table.ideas.values()).sort((a, b) => a.id - b.id);
    table.node.replaceChildren(
      K.el('h2', { text: K.fill(t.table, { name: table.name }) }),
      K.el('p', { class: 'stats' }, [
        K.el('span', { class: 'connected', text: String(table.connected) }), ' ' + t.connected + ' / ',
        K.el('span', { class: 'seated', text: String(table.seated) }), ' ' + t.seated + ' · ',
        K.el('span', { class: 'idea-count', text: String(ideas.filter((i) => !i.hidden).length) }), ' ' + t.ideas,
      ]),
      K.el('ol', { class: 'ideas' }, ideas.map((i) => ideaNode(table, i))),
    );
  }

  function upsertIdea(idea) {
    const table = tables.get(idea.table_id);
    if (!table) return;
    table.ideas.set(idea.id, Object.assign(table.ideas.get(idea.id) || {}, idea));
    renderTable(table);
  }

  const rt = new K.Realtime({
    auth: { meeting_id: meetingId },
    onStatus: K.connectionBanner(document.getElementById('connection')),
    onSnapshot(snap) {
      root.replaceChildren();
      tables.clear();
      snap.tables.forEach((tb) => {
        const table = Object.assign({}, tb, { ideas: new Map(tb.ideas.map((i) => [i.id, i])) });
        tables.set(tb.id, table);
        renderTable(table);
      });
      if (snap.announcement) document.getElementById('last-announcement').textContent = snap.announcement.text;
      if (K.controlPolls) K.controlPolls.snapshot(snap);
      if (K.controlAgenda) K.controlAgenda.snapshot(snap);
    },
    onEvent(name, msg) {
      if (K.controlPolls && name.startsWith('poll_')) K.controlPolls.event(name, msg);
      if (K.controlAgenda && (name === 'round_changed' || name === 'settings_changed')) K.controlAgenda.event(name, msg);
      if (name === 'idea_posted' || name === 'idea_updated') upsertIdea(msg.idea);
      else if (name === 'presence') {
        const table = tables.get(msg.table_id);
        if (table) { table.connected = msg.connected; renderTable(table); }
      } else if (name === 'tallies') {
        Object.entries(msg.tallies).forEach(([id, tally]) => {
          tables.forEach((table) => {
            const idea = table.ideas.get(Number(id));
            if (idea) { idea.tally = tally; renderTable(table); }
          });
        });
      } else if (name === 'announcement') {
        document.getElementById('last-announcement').textContent = msg.announcement.text;
      }
    },
  });

  if (K.controlPolls) K.controlPolls.attach(rt);
  if (K.controlAgenda) K.controlAgenda.attach(rt);

  document.getElementById('announce-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('announce-text');
    rt.call('announce', { text: input.value }).then((ack) => {
      if (!ack.ok) return showError(ack);
      error.hidden = true;
      input.value = '';
      document.getElementById('last-announcement').textContent = ack.announcement.text;
    });
  });
})();
