/* The plenary on the phone: every phone shows which table is reporting and its countdown; the
   table's host gets a button on each idea to bring it to the plenary (others see the mark). */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = JSON.parse(document.getElementById('i18n-plenary').textContent);
  const state = { host: false, marked: new Set(), reports: null, offset: 0, rt: null };
  const bar = K.el('section', { id: 'report-now', class: 'report-now', 'aria-live': 'polite', hidden: true });
  const who = K.el('p', { class: 'report-who' });
  const clock = K.el('p', { class: 'report-clock' });
  bar.append(who, clock);
  const anchor = document.getElementById('now') || document.querySelector('.table-head');
  if (anchor) anchor.after(bar); else document.getElementById('main').prepend(bar);

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function mmss(s) { s = Math.max(0, Math.ceil(s)); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); }

  function paintReport() {
    const r = state.reports && state.reports.current;
    const live = r && (r.state === 'running' || r.state === 'paused');
    bar.hidden = !live;
    if (!live) return;
    const left = r.state === 'running' ? Math.max(0, (Date.parse(r.ends_at) - (Date.now() + state.offset)) / 1000) : r.remaining_s;
    const speaking = left > r.questions_s;
    setText(who, K.fill(t.reporting, { name: r.table }));
    setText(clock, left === 0 ? t.time_up : (r.state === 'paused' ? t.paused + ' · ' : '')
      + (speaking ? t.speaking : t.questions) + ' ' + mmss(speaking ? left - r.questions_s : left));
    bar.dataset.tableId = String(r.table_id);
  }
  setInterval(paintReport, 500);

  function decorate(node, id) {
    if (!node) return;
    const marked = state.marked.has(id);
    node.classList.toggle('is-plenary', marked);
    let badge = node.querySelector('.plenary-badge');
    if (!badge) {
      badge = K.el('span', { class: 'plenary-badge', text: t.marked, 'data-hook': '' });
      node.querySelector('.idea-text').before(badge);
    }
    badge.hidden = !marked;
    let button = node.querySelector('.plenary-mark');
    if (state.host && !button) {
      button = K.el('button', { type: 'button', class: 'button small plenary-mark', 'data-hook': '' });
      button.addEventListener('click', () => {
        const want = !state.marked.has(id);
        state.rt.call('plenary_mark_host', { idea_id: id, plenary: want }).then((ack) => {
          if (ack.ok) { if (ack.plenary) state.marked.add(id); else state.marked.delete(id); decorate(node, id); }
        });
      });
      node.append(button);
    }
    if (button) {
      button.hidden = !state.host;
      setText(button, marked ? t.unmark : t.mark);
      button.setAttribute('aria-pressed', String(marked));
    }
  }

  function decorateAll() {
    document.querySelectorAll('#ideas [data-idea-id]').forEach((node) => decorate(node, Number(node.dataset.ideaId)));
  }

  K.phoneHooks = K.phoneHooks || [];
  K.phoneHooks.push({
    attach(rt) { state.rt = rt; },
    snapshot(snap) {
      state.host = !!snap.host;
      state.marked = new Set(snap.plenary_ids || []);
      state.reports = snap.reports || null;
      if (snap.reports && snap.reports.server_time) state.offset = Date.parse(snap.reports.server_time) - Date.now();
      decorateAll();
      paintReport();
    },
    idea(node, view) { decorate(node, view.id); },
    event(name, msg) {
      if (name === 'plenary_marked') {
        if (msg.plenary) state.marked.add(msg.idea_id); else state.marked.delete(msg.idea_id);
        decorate(document.querySelector('#ideas [data-idea-id="' + msg.idea_id + '"]'), msg.idea_id);
      } else if (name === 'report_changed') {
        state.reports = msg.reports;
        if (msg.reports.server_time) state.offset = Date.parse(msg.reports.server_time) - Date.now();
        paintReport();
      }
    },
  });
})();
