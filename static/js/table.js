/* The participant's table page: the step and its countdown, the table's ideas (earlier rounds'
   too), votes, and the move screen when the seating changes. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = K.i18n();
  const VALUES = ['agree', 'disagree', 'pass'];
  const list = document.getElementById('ideas');
  const empty = document.getElementById('no-ideas');
  const form = document.getElementById('idea-form');
  const text = document.getElementById('idea-text');
  const count = document.getElementById('idea-count');
  const error = document.getElementById('idea-error');
  const banner = document.getElementById('announcement');
  const ideas = new Map(); // id -> {view, node}
  const state = { table: null, seatingRound: null, rounds: {}, postingOpen: true };

  function roundTag(view) {
    if (!view.round_id || view.round_id === state.seatingRound) return [];
    const round = state.rounds[String(view.round_id)];
    return round ? [K.el('span', { class: 'round-tag', 'data-key': 'round', text: K.fill(t.from_round, { n: round.number }) })] : [];
  }

  function render(idea) {
    let entry = ideas.get(idea.id);
    if (!entry) {
      const node = K.el('li', { class: 'idea', 'data-idea-id': String(idea.id) });
      entry = { node: node, idea: idea };
      ideas.set(idea.id, entry);
      list.append(node);
    }
    entry.idea = Object.assign(entry.idea, idea);
    const view = entry.idea;
    const buttons = VALUES.map((value) => K.el('button', {
      type: 'button', class: 'vote vote-' + value, 'data-value': value, 'data-key': value,
      'aria-pressed': String(view.my_vote === value), onclick: () => vote(view.id, value),
    }, [K.el('span', { class: 'label', text: t[value] }), K.el('span', { class: 'n', text: String((view.tally || {})[value] || 0) })]));
    const sources = view.sources || [];
    // In place: a vote button that has the focus keeps it through every tally (K.morph).
    K.morph(entry.node, K.el('li', { class: 'idea' + (view.pending ? ' is-pending' : ''), 'data-idea-id': String(view.id),
      'data-round-id': String(view.round_id || '') }, [
      ...roundTag(view),
      K.el('p', { class: 'idea-text', text: view.text, 'data-key': 'text' }),
      ...(view.mine ? [K.el('p', { class: 'tag', text: t.mine, 'data-key': 'mine' })] : []),
      ...(sources.length ? [K.el('p', { class: 'merged-note', 'data-key': 'merged', text: K.fill(t.merged_from, {
        n: sources.length, tables: Array.from(new Set(sources.map((x) => K.fill(t.table, { name: x.table })))).join('・') }) })] : []),
      view.pending ? K.el('p', { class: 'pending-note', text: t.pending, 'data-key': 'pending' })
        : K.el('div', { class: 'votes', role: 'group', 'aria-label': view.text.slice(0, 60), 'data-key': 'votes' }, buttons),
    ]));
    (K.phoneHooks || []).forEach((h) => h.idea && h.idea(entry.node, view));
    empty.hidden = ideas.size > 0;
  }

  function remove(id) {
    const entry = ideas.get(id);
    if (entry) { entry.node.remove(); ideas.delete(id); }
    empty.hidden = ideas.size > 0;
  }

  function showAnnouncement(a) {
    if (!a) return;
    banner.textContent = a.text;
    banner.hidden = false;
  }

  // ------------------------------------------------------------------ the step and its clock
  const now = document.getElementById('now');
  const clockNode = document.getElementById('clock');
  const said = document.getElementById('clock-said');
  const clock = { step: null, offset: 0, cue: {} };

  function mmss(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, '0');
    return h ? h + ':' + String(m).padStart(2, '0') + ':' + rest : m + ':' + rest;
  }

  // Seconds left by the server's clock: our clock plus the offset measured from server_time.
  function remaining(step) {
    if (step.state === 'running' && step.ends_at) return Math.max(0, (Date.parse(step.ends_at) - (Date.now() + clock.offset)) / 1000);
    if (step.state === 'paused') return step.remaining_s;
    if (step.state === 'done') return 0;
    return null;
  }

  function say(key, message) {
    const id = clock.step ? clock.step.id : 0;
    if (clock.cue[id + key]) return;
    clock.cue[id + key] = true;
    said.textContent = message;
  }

  function paint() {
    const step = clock.step;
    now.hidden = !step;
    if (!step) return;
    const left = remaining(step);
    now.dataset.state = step.state;
    now.classList.toggle('last-minute', step.state === 'running' && left !== null && left > 0 && left <= 60);
    now.classList.toggle('is-up', step.state === 'done' || (step.state === 'running' && left === 0));
    let shown = '';
    if (step.state === 'done' || (step.state === 'running' && left === 0)) shown = t.time_up;
    else if (left !== null) shown = K.fill(step.state === 'paused' ? t.paused_at : t.time_left, { time: mmss(left) });
    if (clockNode.textContent !== shown) clockNode.textContent = shown;
    clockNode.dataset.remaining = left === null ? '' : String(Math.ceil(left));
    if (step.state === 'running' && left !== null && left > 0 && left <= 60) say('minute', t.one_minute);
    if (shown === t.time_up && step.state !== 'planned') say('up', t.time_up);
  }

  function applyAgenda(view) {
    if (!view) return;
    if (view.server_time) clock.offset = Date.parse(view.server_time) - Date.now();
    clock.step = view.step;
    const step = view.step;
    if (step) {
      document.getElementById('now-kind').textContent = step.kind === 'plenary' ? t.kind_plenary : t.kind_table;
      document.getElementById('now-state').textContent = step.state === 'paused' ? t.state_paused : (step.state === 'done' ? t.state_done : '');
      document.getElementById('now-title').textContent = step.title || K.fill(t.round_n, { n: step.number });
      const question = document.getElementById('now-question');
      question.textContent = step.question || '';
      question.hidden = !step.question;
    }
    if (view.seating_round_id !== undefined && view.seating_round_id !== state.seatingRound) {
      state.seatingRound = view.seating_round_id;
      ideas.forEach((entry) => render({ id: entry.idea.id }));
    }
    (view.agenda || []).forEach((s) => { state.rounds[String(s.id)] = { number: s.number, title: s.title }; });
    state.postingOpen = view.posting_open !== false;
    form.querySelector('button[type=submit]').disabled = !state.postingOpen;
    text.disabled = !state.postingOpen;
    const closed = document.getElementById('round-closed');
    if (closed) closed.hidden = state.postingOpen;
    paint();
  }
  setInterval(paint, 500);

  // ------------------------------------------------------------------ seating: the move screen
  const move = document.getElementById('move');
  document.getElementById('move-done').addEventListener('click', () => { move.hidden = true; text.focus(); });

  function followSeat(table) {
    const previous = state.table;
    state.table = table ? table.id : null;
    if (table) document.getElementById('table-name').textContent = K.fill(t.table, { name: table.name });
    if (previous !== null && table && table.id !== previous) {
      document.getElementById('move-title').textContent = K.fill(t.move_to, { name: table.name });
      move.hidden = false;
      document.getElementById('move-done').focus();
    }
  }

  const rt = new K.Realtime({
    onStatus: K.connectionBanner(document.getElementById('connection')),
    onSnapshot(snap) {
      state.rounds = snap.rounds || {};
      state.seatingRound = snap.seating_round_id === undefined ? null : snap.seating_round_id;
      followSeat(snap.table);
      list.replaceChildren();
      ideas.clear();
      snap.ideas.forEach(render);
      document.getElementById('host').hidden = !snap.host;
      document.getElementById('tablecloth-note').hidden = !snap.ideas.some((i) => i.round_id !== state.seatingRound);
      showAnnouncement(snap.announcement);
      empty.hidden = ideas.size > 0;
      applyAgenda(snap.agenda);
      if (K.polls) K.polls.snapshot(snap);
      (K.phoneHooks || []).forEach((h) => h.snapshot && h.snapshot(snap));
    },
    onEvent(name, msg) {
      if (K.polls && name.startsWith('poll_')) K.polls.event(name, msg);
      (K.phoneHooks || []).forEach((h) => h.event && h.event(name, msg));
      if (name === 'idea_posted') {
        if (!ideas.has(msg.idea.id) && !msg.idea.mine) K.announce(K.fill(t.new_idea, { text: msg.idea.text }));
        render(msg.idea);
      }
      else if (name === 'idea_hidden') remove(msg.idea_id);
      else if (name === 'my_votes') {
        Object.entries(msg.votes).forEach(([id, value]) => { if (ideas.has(Number(id))) render({ id: Number(id), my_vote: value }); });
      } else if (name === 'idea_moderated' && ideas.has(msg.idea_id)) {
        if (msg.what === 'approved') render({ id: msg.idea_id, pending: false });
        else if (msg.what === 'rejected' || msg.what === 'hidden' || msg.what === 'merged') remove(msg.idea_id);
      }
      else if (name === 'tallies') {
        Object.entries(msg.tallies).forEach(([id, tally]) => {
          const entry = ideas.get(Number(id));
          if (entry) render({ id: Number(id), tally: tally });
        });
      } else if (name === 'announcement') showAnnouncement(msg.announcement);
      else if (name === 'round_changed') applyAgenda(msg);
    },
  });

  if (K.polls) K.polls.attach(rt);
  (K.phoneHooks || []).forEach((h) => h.attach && h.attach(rt)); // help calls, session … (table-*.js)

  function vote(id, value) {
    const entry = ideas.get(id);
    if (entry) render({ id: id, my_vote: value });
    rt.call('vote', { idea_id: id, value: value }).then((ack) => {
      if (!ack.ok) { error.textContent = ack.message; error.hidden = false; return; }
      K.announce(K.fill(t.vote_said, { value: t[ack.value] || t[value] }));
      // A snapshot taken after a reconnect, before this resent vote landed, showed the old one.
      if (ideas.has(ack.idea_id)) render({ id: ack.idea_id, my_vote: ack.value });
    });
  }

  // The page's short menu: one tap to each part; "Write an idea" puts the caret in the box.
  document.getElementById('jump-idea').addEventListener('click', (event) => {
    if (text.disabled) return;
    event.preventDefault();
    form.scrollIntoView({ block: 'start' });
    text.focus({ preventScroll: true });
  });
  document.addEventListener('kurumaza:polls', (event) => {
    document.getElementById('jump-poll').hidden = !event.detail.open;
    document.getElementById('jump-earlier').hidden = !event.detail.closed;
  });

  text.addEventListener('input', () => { count.textContent = K.fill(t.count, { n: text.value.length }); });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = text.value;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    error.hidden = true;
    rt.call('post_idea', { text: value }).then((ack) => {
      button.disabled = !state.postingOpen;
      if (ack.ok) {
        text.value = '';
        count.textContent = K.fill(t.count, { n: 0 });
        render(Object.assign({ mine: true, my_vote: null }, ack.idea));
      } else {
        error.textContent = ack.message;
        error.hidden = false;
      }
    });
  });
})();
