/* Proxy entry for a resident without a phone: from a table's detail, pick the person ("Enter for
   them"), then post an idea or vote on the table's ideas in their name. Recorded as proxy. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-proxy').textContent);
  const el = K.el;
  const VALUES = ['agree', 'disagree', 'pass'];
  const box = document.getElementById('proxy');
  const title = document.getElementById('proxy-title');
  const form = document.getElementById('proxy-form');
  const text = document.getElementById('proxy-text');
  const list = document.getElementById('proxy-ideas');
  const done = document.getElementById('proxy-done');
  const rows = new Map(); // idea id -> {node, text, buttons}
  let person = null;
  let tableId = null;

  function setText(node, value) { if (node.textContent !== value) node.textContent = value; }

  function vote(ideaId, value) {
    C.rt.call('proxy_vote', { participant_id: person.id, idea_id: ideaId, value: value }).then((ack) => {
      if (!ack.ok) return C.showError(ack);
      const row = rows.get(ideaId);
      if (row) row.buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.value === value)));
      setText(done, K.fill(t.recorded, { name: person.label }));
    });
  }

  function paintIdeas() {
    if (!person || tableId === null) return;
    const table = C.tables.get(tableId);
    const shown = table ? Array.from(table.ideas.values()).filter((i) => !i.hidden && !i.pending
      && (i.merged_into_id === null || i.merged_into_id === undefined)) : [];
    const keep = new Set();
    shown.forEach((idea, index) => {
      keep.add(idea.id);
      let row = rows.get(idea.id);
      if (!row) {
        const buttons = VALUES.map((value) => {
          const b = el('button', { type: 'button', class: 'button small vote-' + value, 'data-value': value,
            'aria-pressed': 'false', text: t[value] });
          b.addEventListener('click', () => vote(idea.id, value));
          return b;
        });
        row = { text: el('span', { class: 'idea-text' }), buttons };
        row.node = el('li', { 'data-idea-id': String(idea.id) }, [row.text, el('span', { class: 'actions' }, buttons)]);
        rows.set(idea.id, row);
      }
      setText(row.text, idea.text);
      if (list.children[index] !== row.node) list.insertBefore(row.node, list.children[index] || null);
    });
    rows.forEach((row, id) => { if (!keep.has(id)) { row.node.remove(); rows.delete(id); } });
  }

  function open(p) {
    person = p;
    tableId = C.state.openTable;
    rows.forEach((row) => row.node.remove());
    rows.clear();
    setText(title, K.fill(t.for_name, { name: p.label }));
    setText(done, '');
    box.hidden = false;
    paintIdeas();
    text.focus();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    C.rt.call('proxy_idea', { participant_id: person.id, text: text.value }).then((ack) => {
      if (!ack.ok) return C.showError(ack);
      text.value = '';
      setText(done, K.fill(t.recorded, { name: person.label }));
    });
  });
  document.getElementById('proxy-close').addEventListener('click', () => { box.hidden = true; person = null; });

  C.register({
    personActions(p) {
      const b = el('button', { type: 'button', class: 'button small proxy-open', text: t.enter_for });
      b.addEventListener('click', () => open(p));
      return [b];
    },
    detailOpened(id) { box.hidden = true; person = null; C.state.openTable = id; },
    event(name) { if (name === 'idea_posted' || name === 'idea_updated') Promise.resolve().then(paintIdeas); },
  });
})();
