/* The plenary in the control room: marking a table's ideas (in the table's detail), the plenary
   list with near-duplicate groups across tables (one-click merge), the report-out queue with its
   clock, the plenary poll, and the projector's link. Rows are kept per id and changed in place. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-plenary').textContent);
  const el = K.el;
  const $ = (id) => document.getElementById(id);
  const error = $('plenary-error');
  const state = { marked: new Set(), plenary: { ideas: [], groups: [] }, reports: null, offset: 0, links: [] };

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function mmss(s) { s = Math.max(0, Math.ceil(s)); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); }
  function call(name, payload) {
    return C.rt.call(name, payload || {}).then((ack) => {
      if (!ack.ok) { error.textContent = ack.message; error.hidden = false; } else error.hidden = true;
      return ack;
    });
  }
  function button(label, action, cls) {
    const b = el('button', { type: 'button', class: 'button small ' + (cls || ''), text: label });
    b.addEventListener('click', action);
    return b;
  }
  function tableName(id) { const tb = C.tables.get(id); return K.fill(t.table, { name: tb ? tb.name : String(id) }); }

  // Keep one node per key in `list`, in the order of `items`; make(item) builds, paint(entry, item) updates.
  function keyed(list, cache, items, key, make, paint) {
    items.forEach((item, index) => {
      let entry = cache.get(key(item));
      if (!entry) { entry = make(item); cache.set(key(item), entry); }
      paint(entry, item);
      if (list.children[index] !== entry.node) list.insertBefore(entry.node, list.children[index] || null);
    });
    const keep = new Set(items.map(key));
    cache.forEach((entry, k) => { if (!keep.has(k)) { entry.node.remove(); cache.delete(k); } });
  }

  // ------------------------------------------------------------------ marking in the table's detail
  function paintMark(entry) {
    const marked = state.marked.has(entry.idea.id);
    setText(entry.plenary, marked ? t.unmark : t.mark);
    entry.plenary.setAttribute('aria-pressed', String(marked));
    entry.node.classList.toggle('is-plenary', marked);
  }

  // ------------------------------------------------------------------ the plenary list
  const ideaRows = new Map();
  const groupRows = new Map();
  function paintPlenary() {
    const ideas = state.plenary.ideas || [];
    keyed($('plenary-ideas'), ideaRows, ideas, (i) => i.id, (idea) => {
      const entry = { text: el('span', { class: 'plenary-text' }), table: el('strong', {}),
        sources: el('span', { class: 'muted small' }) };
      entry.off = button(t.unmark, () => call('plenary_mark', { idea_id: entry.id, plenary: false }));
      entry.node = el('li', { 'data-idea-id': String(idea.id) }, [entry.table, ' ', entry.text, ' ', entry.sources, ' ', entry.off]);
      return entry;
    }, (entry, idea) => {
      entry.id = idea.id;
      setText(entry.table, idea.table);
      setText(entry.text, idea.text);
      setText(entry.sources, idea.sources && idea.sources.length
        ? K.fill(t.sources, { list: idea.sources.map((s) => s.table + ': ' + s.text).join(' / ') }) : '');
    });
    $('plenary-empty').hidden = ideas.length > 0;
    const byId = new Map(ideas.map((i) => [i.id, i]));
    const groups = (state.plenary.groups || []).filter((g) => g.every((id) => byId.has(id)));
    keyed($('plenary-groups'), groupRows, groups, (g) => g.join(','), (group) => {
      const entry = { node: el('li', { class: 'plenary-group', 'data-group': group.join(',') }) };
      const items = el('ul', {}, group.map((id) => el('li', { text: byId.get(id).table + ': ' + byId.get(id).text })));
      // The merge itself is the moderation's (idea_merge): the first idea stays, the others become its sources.
      entry.node.append(items, button(t.merge, () => call('idea_merge', { target_id: group[0], source_ids: group.slice(1) }), 'primary'));
      return entry;
    }, () => {});
    $('plenary-no-groups').hidden = groups.length > 0;
    fillAddSelect();
  }

  // ------------------------------------------------------------------ report-outs
  const queueRows = new Map();
  function paintQueue() {
    const reports = state.reports;
    if (!reports) return;
    const queue = reports.queue;
    const waiting = queue.filter((r) => r.state === 'waiting').map((r) => r.table_id);
    keyed($('report-queue'), queueRows, queue, (r) => r.id, (r) => {
      const entry = { label: el('span', {}), status: el('span', { class: 'muted small' }) };
      entry.start = button(t.start, () => call('report_start', { report_id: entry.r.id }));
      entry.skip = button(t.skip, () => call('report_skip', { report_id: entry.r.id }));
      const move = (delta) => {
        const order = state.reports.queue.filter((q) => q.state === 'waiting').map((q) => q.table_id);
        const at = order.indexOf(entry.r.table_id);
        if (at + delta < 0 || at + delta >= order.length) return;
        order.splice(at, 1);
        order.splice(at + delta, 0, entry.r.table_id);
        call('report_queue', { table_ids: order });
      };
      entry.up = button(t.up, () => move(-1));
      entry.down = button(t.down, () => move(1));
      entry.node = el('li', { 'data-report-id': String(r.id) }, [entry.label, ' ', entry.status, ' ', entry.start, entry.up, entry.down, entry.skip]);
      return entry;
    }, (entry, r) => {
      entry.r = r;
      setText(entry.label, r.table);
      setText(entry.status, r.skipped ? t.skipped : t['state_' + r.state]);
      entry.node.dataset.state = r.state;
      [entry.start, entry.up, entry.down].forEach((b) => { b.hidden = r.state !== 'waiting'; });
      entry.up.disabled = waiting.indexOf(r.table_id) <= 0;
      entry.down.disabled = waiting.indexOf(r.table_id) === waiting.length - 1;
      entry.skip.hidden = r.state === 'done';
    });
    const speak = $('report-speak');
    const questions = $('report-questions');
    if (document.activeElement !== speak) speak.value = String(reports.speak_s / 60);
    if (document.activeElement !== questions) questions.value = String(reports.questions_s / 60);
    fillAddSelect();
    paintClock();
  }

  function paintClock() {
    const r = state.reports && state.reports.current;
    const live = r && (r.state === 'running' || r.state === 'paused');
    setText($('report-current'), live ? r.table : (r ? r.table + ' · ' + t.time_up : t.nobody));
    if (!live) { setText($('report-clock'), ''); return; }
    const left = r.state === 'running' ? Math.max(0, (Date.parse(r.ends_at) - (Date.now() + state.offset)) / 1000) : r.remaining_s;
    const speaking = left > r.questions_s;
    setText($('report-clock'), (r.state === 'paused' ? t.state_paused + ' · ' : '')
      + (speaking ? t.speaking : t.questions) + ' ' + mmss(speaking ? left - r.questions_s : left));
  }
  setInterval(paintClock, 500);

  function fillAddSelect() {
    const select = $('report-add-table');
    const queued = new Set((state.reports ? state.reports.queue : []).map((r) => r.table_id));
    const options = Array.from(C.tables.values()).filter((tb) => !queued.has(tb.id));
    const wanted = options.map((tb) => String(tb.id)).join(',');
    if (select.dataset.ids === wanted) return;
    const chosen = select.value;
    select.replaceChildren(...options.map((tb) => el('option', { value: String(tb.id), text: tableName(tb.id) })));
    select.dataset.ids = wanted;
    if (options.some((tb) => String(tb.id) === chosen)) select.value = chosen;
  }

  document.querySelectorAll('#plenary-panel [data-report]').forEach((b) => {
    b.addEventListener('click', () => {
      const action = b.dataset.report;
      if (action === 'default') call('report_queue', {});
      else call('report_' + action);
    });
  });
  $('report-add').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = Number($('report-add-table').value);
    if (!id) return;
    const order = state.reports.queue.filter((q) => q.state === 'waiting').map((q) => q.table_id).concat([id]);
    call('report_queue', { table_ids: order });
  });
  $('report-times').addEventListener('submit', (event) => {
    event.preventDefault();
    call('report_settings', { speak_s: Math.round(Number($('report-speak').value) * 60),
      questions_s: Math.round(Number($('report-questions').value) * 60) });
  });

  // ------------------------------------------------------------------ the plenary poll
  $('plenary-poll').addEventListener('submit', (event) => {
    event.preventDefault();
    const kind = $('plenary-poll-kind').value;
    const rules = kind === 'dots' ? { dots: 3 } : {};
    call('plenary_poll', { kind: kind, question: $('plenary-poll-question').value, rules: rules, open: true });
  });

  // ------------------------------------------------------------------ the projector's link
  const linkRows = new Map();
  function paintLinks() {
    keyed($('projector-links'), linkRows, state.links, (l) => l.id, (link) => {
      const entry = { when: el('span', {}) };
      entry.node = el('li', { 'data-link-id': String(link.id) }, [entry.when, ' ',
        button(t.revoke, () => call('projector_revoke', { link_id: link.id }))]);
      return entry;
    }, (entry, link) => {
      const d = new Date(link.created_at);
      setText(entry.when, K.fill(t.link_at, { time: String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0') }));
    });
  }
  $('projector-create').addEventListener('click', () => {
    call('projector_create').then((ack) => {
      if (!ack.ok || !ack.url) return;
      const a = $('projector-link');
      a.href = ack.url;
      a.textContent = ack.url;
      $('projector-url').hidden = false;
    });
  });

  C.register({
    snapshot(snap) {
      state.marked = new Set(snap.plenary_ids || []);
      state.plenary = snap.plenary || { ideas: [], groups: [] };
      state.reports = snap.reports || null;
      if (snap.reports && snap.reports.server_time) state.offset = Date.parse(snap.reports.server_time) - Date.now();
      state.links = snap.projector_links || [];
      paintPlenary();
      paintQueue();
      paintLinks();
    },
    event(name, msg) {
      if (name === 'plenary_marked') {
        if (msg.plenary) state.marked.add(msg.idea_id); else state.marked.delete(msg.idea_id);
        const node = document.querySelector('#detail-ideas [data-idea-id="' + msg.idea_id + '"]');
        if (node && node.plenaryEntry) paintMark(node.plenaryEntry);
      } else if (name === 'plenary_changed') { state.plenary = msg.plenary; paintPlenary(); }
      else if (name === 'report_changed') {
        state.reports = msg.reports;
        if (msg.reports.server_time) state.offset = Date.parse(msg.reports.server_time) - Date.now();
        paintQueue();
      } else if (name === 'projector_links') { state.links = msg.links; paintLinks(); }
    },
    ideaNode(entry, idea) {
      if (!entry.plenary) {
        entry.plenary = el('button', { type: 'button', class: 'button small plenary-mark' });
        entry.plenary.addEventListener('click', () => {
          call('plenary_mark', { idea_id: entry.idea.id, plenary: !state.marked.has(entry.idea.id) });
        });
        entry.toggle.after(entry.plenary);
        entry.node.plenaryEntry = entry;
      }
      entry.plenary.hidden = !!idea.hidden;
      paintMark(entry);
    },
  });
})();
