/* The facilitator's control room: a grid of compact table tiles and one table's detail.
   Every node is made once and its text changed in place, so focus, selection and half-typed
   reasons survive any number of incoming tallies or presence updates. Other control-*.js
   files hook in through K.control (onSnapshot / onEvent / tileFlags). */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = K.i18n();
  const el = K.el;
  const VALUES = ['agree', 'disagree', 'pass'];
  const SILENT_MINUTES = 5;
  const root = document.getElementById('tables');
  const meetingId = Number(root.dataset.meetingId);
  const error = document.getElementById('control-error');
  const detail = {
    root: document.getElementById('table-detail'), title: document.getElementById('detail-title'),
    stats: document.getElementById('detail-stats'), people: document.getElementById('detail-people'),
    ideas: document.getElementById('detail-ideas'), open: null, ideaNodes: new Map(),
  };
  const tables = new Map(); // id -> {view, ideas: Map, tile parts, last (ms, server clock)}
  const state = { offset: 0, seatingRound: null, step: null, seating: null, hooks: [] };

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function showError(ack) { error.textContent = ack.message; error.hidden = false; }
  function serverNow() { return Date.now() + state.offset; }

  // ------------------------------------------------------------------ tiles
  function tile(table) {
    if (table.tile) return table.tile;
    const parts = {
      name: el('span', { class: 'tile-name' }), ago: el('span', { class: 'tile-ago' }),
      host: el('span', { class: 'tile-host' }), people: el('span', { class: 'tile-people' }),
      work: el('span', { class: 'tile-work' }), flags: el('span', { class: 'tile-flags' }),
      connected: el('b', { class: 'connected' }), seated: el('b', { class: 'seated' }),
      ideaCount: el('b', { class: 'idea-count' }), voteCount: el('b', { class: 'vote-count' }),
      help: el('span', { class: 'flag flag-help', hidden: true, text: t.flag_help }),
      silent: el('span', { class: 'flag flag-silent', hidden: true }),
      dropped: el('span', { class: 'flag flag-dropped', hidden: true }),
    };
    parts.people.append(parts.connected, ' ' + t.connected + ' / ', parts.seated, ' ' + t.seated);
    parts.work.append(parts.ideaCount, ' ' + t.ideas + ' · ', parts.voteCount, ' ' + t.votes + ' (' + t.this_round + ')');
    parts.flags.append(parts.help, parts.silent, parts.dropped);
    parts.node = el('button', {
      type: 'button', class: 'tile control-table', 'data-table-id': String(table.id), 'aria-expanded': 'false',
    }, [parts.name, parts.ago, parts.host, parts.people, parts.work, parts.flags]);
    parts.node.addEventListener('click', () => openDetail(detail.open === table.id ? null : table.id));
    table.tile = parts;
    return parts;
  }

  function counts(table) {
    let ideasNow = 0;
    let votesNow = 0;
    table.ideas.forEach((idea) => {
      if (idea.hidden || idea.pending || idea.merged_into_id || idea.round_id !== state.seatingRound) return;
      ideasNow += 1;
      VALUES.forEach((v) => { votesNow += (idea.tally || {})[v] || 0; });
    });
    return { ideas: ideasNow, votes: votesNow };
  }

  function seatedPeople(tableId) {
    return state.seating ? state.seating.people.filter((p) => p.table_id === tableId) : [];
  }

  function hostName(table) {
    const host = state.seating && state.seating.hosts[String(table.id)];
    if (!host) return t.no_host;
    if (host.staff_id) return K.fill(t.host, { name: t.staff_host });
    const person = state.seating.people.find((p) => p.id === host.participant_id);
    return K.fill(t.host, { name: person ? person.label : '?' });
  }

  function paintTile(table) {
    const parts = tile(table);
    const c = counts(table);
    setText(parts.name, K.fill(t.table, { name: table.name }));
    setText(parts.host, hostName(table));
    setText(parts.connected, String(table.connected));
    setText(parts.seated, String(table.seated));
    setText(parts.ideaCount, String(c.ideas));
    setText(parts.voteCount, String(c.votes));
    const minutes = table.last ? Math.floor((serverNow() - table.last) / 60000) : null;
    setText(parts.ago, minutes === null ? t.no_activity : (minutes < 1 ? t.just_now : K.fill(t.ago, { n: minutes })));
    // Silent: a table round runs and nothing happened at this table for a while.
    const step = state.step;
    const since = step && step.state === 'running' && step.kind === 'table' && step.started_at
      ? Math.max(Date.parse(step.started_at), table.last || 0) : null;
    const quiet = since === null ? 0 : Math.floor((serverNow() - since) / 60000);
    parts.silent.hidden = !(quiet >= SILENT_MINUTES && table.seated > 0);
    if (!parts.silent.hidden) setText(parts.silent, K.fill(t.flag_silent, { n: quiet }));
    const joined = seatedPeople(table.id).filter((p) => p.joined).length;
    const dropped = Math.max(0, joined - table.connected);
    parts.dropped.hidden = dropped === 0;
    if (dropped) setText(parts.dropped, K.fill(t.flag_dropped, { n: dropped }));
    const help = state.hooks.reduce((n, h) => n + (h.helpCount ? h.helpCount(table.id) : 0), 0);
    parts.help.hidden = help === 0;
    parts.node.classList.toggle('has-help', help > 0);
    parts.node.dataset.help = String(help);
    if (detail.open === table.id) paintDetailStats(table);
  }

  function paintAll() { tables.forEach(paintTile); }
  setInterval(paintAll, 15000); // the "minutes ago" and silent flags move with time

  // ------------------------------------------------------------------ the table's detail
  function ideaNode(idea) {
    let entry = detail.ideaNodes.get(idea.id);
    if (!entry) {
      const text = el('p', { class: 'idea-text' });
      const tally = el('p', { class: 'muted tally' });
      const status = el('p', { class: 'muted status' });
      const toggle = el('button', { type: 'button', class: 'button small' });
      const input = el('input', { name: 'reason', required: true, maxLength: 500 });
      const label = el('label', {}, [el('span', { class: 'reason-label' }), input]);
      const form = el('form', { class: 'reason', hidden: true }, [
        label,
        el('button', { type: 'submit', class: 'button small primary', text: t.confirm }),
        el('button', { type: 'button', class: 'button small', 'data-cancel': '1', text: t.cancel }),
      ]);
      const node = el('li', { class: 'idea', 'data-idea-id': String(idea.id) }, [text, tally, status, toggle, form]);
      entry = { node, text, tally, status, toggle, form, input, labelText: label.firstChild, idea };
      toggle.addEventListener('click', () => { form.hidden = false; input.focus(); });
      form.querySelector('[data-cancel]').addEventListener('click', () => { form.hidden = true; });
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const action = entry.idea.hidden ? 'restore' : 'hide';
        const reason = input.value;
        rt.call(action + '_idea', { idea_id: entry.idea.id, reason: reason }).then((ack) => {
          if (!ack.ok) return showError(ack);
          error.hidden = true;
          input.value = '';
          form.hidden = true;
          upsertIdea(Object.assign({}, ack.idea, { hidden_reason: action === 'hide' ? reason : '' }));
        });
      });
      detail.ideaNodes.set(idea.id, entry);
    }
    entry.idea = idea;
    const action = idea.hidden ? 'restore' : 'hide';
    setText(entry.text, idea.text);
    setText(entry.tally, VALUES.map((v) => t[v] + ' ' + ((idea.tally || {})[v] || 0)).join(' · '));
    setText(entry.status, idea.hidden ? t.hidden + ': ' + (idea.hidden_reason || '') : '');
    entry.status.hidden = !idea.hidden;
    setText(entry.toggle, t[action]);
    entry.toggle.dataset.action = action;
    setText(entry.labelText, t['reason_' + action]);
    entry.node.classList.toggle('is-hidden', !!idea.hidden);
    state.hooks.forEach((h) => { if (h.ideaNode) h.ideaNode(entry, idea); });
    return entry.node;
  }

  function paintDetailStats(table) {
    const c = counts(table);
    setText(detail.stats, table.connected + ' ' + t.connected + ' / ' + table.seated + ' ' + t.seated + ' · '
      + c.ideas + ' ' + t.ideas + ' · ' + c.votes + ' ' + t.votes + ' (' + t.this_round + ') · ' + hostName(table));
  }

  function paintDetailIdeas(table) {
    const ideas = Array.from(table.ideas.values()).sort((a, b) => b.id - a.id);
    ideas.forEach((idea, index) => {
      const node = ideaNode(idea);
      if (detail.ideas.children[index] !== node) detail.ideas.insertBefore(node, detail.ideas.children[index] || null);
    });
    const keep = new Set(ideas.map((i) => i.id));
    detail.ideaNodes.forEach((entry, id) => { if (!keep.has(id)) { entry.node.remove(); detail.ideaNodes.delete(id); } });
  }

  function paintDetailPeople(people) {
    detail.people.replaceChildren(...(people.length ? people.map((p) => el('li', { 'data-person-id': String(p.id) }, [
      el('span', { class: 'conn' + (p.connected ? ' on' : ''), 'aria-hidden': 'true' }),
      el('span', { class: 'person-name', text: (p.host ? '★' : '') + p.label }),
      el('span', { class: 'muted small person-state',
        text: !p.joined ? t.person_not_joined : (p.connected ? t.person_connected : t.person_offline) }),
      ...state.hooks.filter((h) => h.personActions).flatMap((h) => h.personActions(p)),
    ])) : [el('li', { class: 'muted', text: t.nobody })]));
  }

  function refreshPeople() {
    const id = detail.open;
    if (id === null) return;
    rt.call('table_detail', { table_id: id }).then((ack) => {
      if (ack.ok && detail.open === id) paintDetailPeople(ack.people);
    });
  }

  function openDetail(id) {
    if (detail.open !== null && tables.has(detail.open)) tile(tables.get(detail.open)).node.setAttribute('aria-expanded', 'false');
    detail.open = id;
    detail.ideaNodes.forEach((entry) => entry.node.remove());
    detail.ideaNodes.clear();
    detail.root.hidden = id === null;
    state.hooks.forEach((h) => { if (h.detailOpened) h.detailOpened(id); });
    if (id === null) return;
    document.querySelectorAll('details.drawer[open]').forEach((d) => { d.open = false; });
    const table = tables.get(id);
    tile(table).node.setAttribute('aria-expanded', 'true');
    setText(detail.title, K.fill(t.table, { name: table.name }));
    paintDetailStats(table);
    paintDetailIdeas(table);
    detail.people.replaceChildren();
    refreshPeople();
  }
  document.getElementById('detail-close').addEventListener('click', () => openDetail(null));

  // ------------------------------------------------------------------ state from the server
  function upsertIdea(idea, { fresh } = {}) {
    const table = tables.get(idea.table_id);
    if (!table) return;
    table.ideas.set(idea.id, Object.assign(table.ideas.get(idea.id) || {}, idea));
    if (fresh) table.last = serverNow();
    paintTile(table);
    if (detail.open === table.id) paintDetailIdeas(table);
  }

  function snapshot(snap) {
    if (snap.agenda && snap.agenda.server_time) state.offset = Date.parse(snap.agenda.server_time) - Date.now();
    state.seatingRound = snap.seating_round_id === undefined ? null : snap.seating_round_id;
    state.step = snap.agenda ? snap.agenda.step : null;
    state.seating = snap.seating || null;
    const activity = snap.activity || {};
    const seen = new Set();
    snap.tables.forEach((tb, index) => {
      seen.add(tb.id);
      const table = tables.get(tb.id) || { id: tb.id, ideas: new Map() };
      Object.assign(table, { name: tb.name, seated: tb.seated, connected: tb.connected });
      table.ideas = new Map(tb.ideas.map((i) => [i.id, i]));
      table.last = activity[String(tb.id)] ? Date.parse(activity[String(tb.id)]) : null;
      tables.set(tb.id, table);
      const node = tile(table).node;
      if (root.children[index] !== node) root.insertBefore(node, root.children[index] || null);
    });
    tables.forEach((table, id) => { if (!seen.has(id)) { table.tile.node.remove(); tables.delete(id); } });
    if (detail.open !== null && !tables.has(detail.open)) openDetail(null);
    state.hooks.forEach((h) => { if (h.snapshot) h.snapshot(snap); });
    paintAll();
    if (detail.open !== null) { paintDetailIdeas(tables.get(detail.open)); refreshPeople(); }
    if (K.controlPolls) K.controlPolls.snapshot(snap);
    if (K.controlAgenda) K.controlAgenda.snapshot(snap);
  }

  const rt = new K.Realtime({
    auth: { meeting_id: meetingId },
    onStatus: K.connectionBanner(document.getElementById('connection')),
    onSnapshot: snapshot,
    onEvent(name, msg) {
      if (K.controlPolls && name.startsWith('poll_')) K.controlPolls.event(name, msg);
      if (K.controlAgenda && (name === 'round_changed' || name === 'settings_changed')) K.controlAgenda.event(name, msg);
      state.hooks.forEach((h) => { if (h.event) h.event(name, msg); });
      if (name === 'idea_posted') upsertIdea(msg.idea, { fresh: true });
      else if (name === 'idea_updated') upsertIdea(msg.idea);
      else if (name === 'presence') {
        const table = tables.get(msg.table_id);
        if (table) { table.connected = msg.connected; paintTile(table); }
        if (msg.table_id === detail.open) refreshPeople();
      } else if (name === 'tallies') {
        const touched = new Set();
        Object.entries(msg.tallies).forEach(([id, tally]) => {
          tables.forEach((table) => {
            const idea = table.ideas.get(Number(id));
            if (idea) { idea.tally = tally; touched.add(table); }
          });
        });
        touched.forEach((table) => {
          table.last = serverNow();
          paintTile(table);
          if (detail.open === table.id) table.ideas.forEach((idea) => ideaNode(idea));
        });
      } else if (name === 'round_changed') {
        if (msg.server_time) state.offset = Date.parse(msg.server_time) - Date.now();
        state.step = msg.step;
        if (msg.seating_round_id !== undefined) state.seatingRound = msg.seating_round_id;
        paintAll();
      }
    },
  });

  if (K.controlPolls) K.controlPolls.attach(rt);
  if (K.controlAgenda) K.controlAgenda.attach(rt);

  // Drawers and the detail open below the header and the now bar, which stay in reach.
  function placePanels() {
    const bottom = document.getElementById('now-bar').getBoundingClientRect().bottom;
    document.documentElement.style.setProperty('--panel-top', Math.max(0, Math.round(bottom)) + 'px');
  }
  window.addEventListener('resize', placePanels);
  window.addEventListener('scroll', placePanels, { passive: true });
  placePanels();

  // Only one drawer at a time: they share the right side of the screen.
  document.querySelectorAll('details.drawer').forEach((d) => {
    d.addEventListener('toggle', () => {
      if (!d.open) return;
      document.querySelectorAll('details.drawer[open]').forEach((other) => { if (other !== d) other.open = false; });
      if (detail.open !== null) openDetail(null);
    });
  });

  // Feature modules (help calls, people, moderation …) register here.
  K.control = {
    rt: rt, t: t, tables: tables, state: state, showError: showError,
    register(hook) { state.hooks.push(hook); return this; },
    repaint: paintAll, refreshPeople: refreshPeople, openDetail: openDetail,
  };
})();
