/* The hall's screen (read-only): the agenda step and its countdown, the table reporting now with
   its ideas and countdown, the plenary list and the plenary poll's results, live. It never shows a
   participant identifier: the server sends it none. A revoked link closes the connection; the page
   then reloads and shows the refusal. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = K.i18n();
  const tp = JSON.parse(document.getElementById('i18n-polls').textContent); // the poll words, shared with the phones
  const el = K.el;
  const $ = (id) => document.getElementById(id);
  const state = { offset: 0, agenda: null, reports: null, plenary: { ideas: [] }, poll: null };

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function mmss(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }
  function serverNow() { return Date.now() + state.offset; }
  function setClock(view) { if (view && view.server_time) state.offset = Date.parse(view.server_time) - Date.now(); }

  // ------------------------------------------------------------------ the agenda step
  function stepLeft(step) {
    if (step.state === 'running' && step.ends_at) return Math.max(0, (Date.parse(step.ends_at) - serverNow()) / 1000);
    if (step.state === 'paused') return step.remaining_s;
    return step.state === 'done' ? 0 : null;
  }

  function paintStep() {
    const step = state.agenda && state.agenda.step;
    setText($('pj-step-kind'), step ? (step.kind === 'plenary' ? t.kind_plenary : t.kind_table) : '');
    setText($('pj-step-name'), step ? (step.title || K.fill(t.round_n, { n: step.number })) : t.no_step);
    const question = $('pj-step-question');
    setText(question, step && step.question ? step.question : '');
    question.hidden = !(step && step.question);
    const left = step ? stepLeft(step) : null;
    let shown = '';
    if (step && left !== null) shown = left === 0 ? t.time_up : (step.state === 'paused' ? t.paused + ' ' : '') + mmss(left);
    setText($('pj-step-clock'), shown);
  }

  // ------------------------------------------------------------------ the report-out
  function reportLeft(r) {
    if (r.state === 'running' && r.ends_at) return Math.max(0, (Date.parse(r.ends_at) - serverNow()) / 1000);
    if (r.state === 'paused') return r.remaining_s;
    return 0;
  }

  function ideasOf(tableId) {
    return state.plenary.ideas.filter((i) => (i.table_ids || [i.table_id]).includes(tableId));
  }

  function paintReportClock() {
    const r = state.reports && state.reports.current;
    const box = $('pj-report');
    box.hidden = !r;
    if (!r) return;
    const left = reportLeft(r);
    const live = r.state === 'running' || r.state === 'paused';
    const speaking = live && left > r.questions_s;
    let phase = !live || left === 0 ? t.time_up : (speaking ? t.speaking : t.questions);
    if (live && left > 0 && r.state === 'paused') phase += ' · ' + t.paused;
    const shown = !live || left === 0 ? '' : mmss(speaking ? left - r.questions_s : left);
    setText($('pj-report-phase'), phase);
    const clock = $('pj-report-clock');
    setText(clock, shown);
    clock.dataset.remaining = live ? String(Math.ceil(left)) : '0';
    box.dataset.phase = !live || left === 0 ? 'over' : (speaking ? 'speaking' : 'questions');
    box.dataset.state = r.state;
  }

  function paintReport() {
    const r = state.reports && state.reports.current;
    if (r) {
      setText($('pj-report-table'), K.fill(t.table, { name: r.table }));
      $('pj-report').dataset.tableId = String(r.table_id);
      const items = ideasOf(r.table_id).map((i) => el('li', { text: i.text }));
      $('pj-report-ideas').replaceChildren(...items);
      const waiting = state.reports.queue.filter((q) => q.state === 'waiting').slice(0, 3)
        .map((q) => K.fill(t.table, { name: q.table }));
      setText($('pj-report-next'), waiting.length ? K.fill(t.next, { names: waiting.join('、') }) : '');
    }
    paintReportClock();
  }

  // ------------------------------------------------------------------ the plenary list
  const ideaNodes = new Map();
  function paintPlenary() {
    const list = $('pj-plenary-ideas');
    const ideas = state.plenary.ideas || [];
    ideas.forEach((idea, index) => {
      let entry = ideaNodes.get(idea.id);
      if (!entry) {
        entry = { text: el('span', { class: 'pj-idea-text' }), table: el('span', { class: 'pj-idea-table' }),
          also: el('span', { class: 'pj-idea-also' }) };
        entry.node = el('li', { 'data-idea-id': String(idea.id) }, [entry.table, entry.text, entry.also]);
        ideaNodes.set(idea.id, entry);
      }
      setText(entry.text, idea.text);
      setText(entry.table, K.fill(t.table, { name: idea.table }));
      const others = Array.from(new Set((idea.sources || []).map((s) => s.table).filter((n) => n !== idea.table)));
      setText(entry.also, others.length ? K.fill(t.also, { tables: others.join('、') }) : '');
      if (list.children[index] !== entry.node) list.insertBefore(entry.node, list.children[index] || null);
    });
    const keep = new Set(ideas.map((i) => i.id));
    ideaNodes.forEach((entry, id) => { if (!keep.has(id)) { entry.node.remove(); ideaNodes.delete(id); } });
    $('pj-plenary-empty').hidden = ideas.length > 0;
    paginate();
    paintReport();
  }

  // A list longer than the screen is shown a page at a time, turning by itself: in a hall of 20
  // tables nobody can scroll the projector, and the ideas below its edge would never be seen.
  const PAGE_SECONDS = 12;
  const paging = { pages: [], at: 0 };
  function paginate() {
    const list = $('pj-plenary-ideas');
    const items = Array.from(list.children);
    items.forEach((li) => { li.hidden = false; });
    // Room: from the list's top to the section's bottom, or to the join box where that covers it.
    const listTop = list.getBoundingClientRect().top;
    const section = $('pj-plenary').getBoundingClientRect();
    const join = document.querySelector('.pj-join').getBoundingClientRect();
    const covered = join.left < section.right && join.right > section.left && join.top < section.bottom;
    const room = (covered ? Math.min(section.bottom, join.top) : section.bottom) - listTop;
    const pages = [];
    let top = null;
    items.forEach((li) => {
      const box = li.getBoundingClientRect();
      if (top === null || box.bottom - top > room) { pages.push([]); top = box.top; }
      pages[pages.length - 1].push(li);
    });
    paging.pages = pages;
    paging.at = Math.min(paging.at, Math.max(0, pages.length - 1));
    showPage();
  }
  function showPage() {
    const pages = paging.pages;
    const list = $('pj-plenary-ideas');
    const label = $('pj-plenary-page');
    label.hidden = pages.length < 2;
    if (pages.length < 2) { list.start = 1; return; }
    const shown = new Set(pages[paging.at]);
    let first = 0;
    Array.from(list.children).forEach((li, index) => {
      li.hidden = !shown.has(li);
      if (li === pages[paging.at][0]) first = index;
    });
    list.start = first + 1; // the numbers go on across pages
    setText(label, '(' + K.fill(t.page, { n: paging.at + 1, total: pages.length }) + ')');
  }
  setInterval(() => {
    if (paging.pages.length < 2) return;
    paging.at = (paging.at + 1) % paging.pages.length;
    showPage();
  }, PAGE_SECONDS * 1000);
  window.addEventListener('resize', () => paginate());

  // ------------------------------------------------------------------ the plenary poll
  function paintPoll() {
    const poll = state.poll;
    const box = $('pj-poll');
    box.hidden = !poll;
    document.body.classList.toggle('has-poll', !!poll);
    if (!poll) return;
    box.dataset.pollId = String(poll.id);
    box.dataset.state = poll.state;
    setText($('pj-poll-state'), poll.state === 'open' ? t.poll_open : t.poll_closed);
    setText($('pj-poll-question'), poll.question);
    const res = poll.results;
    $('pj-poll-hidden').hidden = !!res;
    setText($('pj-poll-count'), res ? K.fill(t.ballots, { n: res.ballots }) : '');
    // The same plain words as on the phones (K.resultLines): best first, ties said, numbers explained.
    const said = res && res.kind !== 'text' ? K.resultLines(res, tp) : { note: null, rows: [] };
    setText($('pj-poll-note'), said.note || '');
    $('pj-poll-note').hidden = !said.note;
    const top = Math.max(1e-9, ...said.rows.map((r) => r.share || 0));
    K.morph($('pj-poll-rows'), el('ol', { id: 'pj-poll-rows', class: 'pj-bars' }, said.rows.map((r) => {
      const fill = el('span', { class: 'pj-bar-fill' });
      fill.style.width = Math.round(100 * (r.share || 0) / top) + '%'; // CSSOM, allowed by the CSP
      return el('li', { 'data-option': r.id, 'data-key': r.id, class: r.tied ? 'is-tied' : '' }, [
        el('span', { class: 'pj-bar-label' }, [...(r.place ? [el('span', { class: 'pj-place', text: r.place })] : []), r.label]),
        el('span', { class: 'pj-bar' }, [fill]),
        el('span', { class: 'pj-bar-value', text: r.words }),
      ]);
    })));
  }

  function pollEvent(name, msg) {
    if (name === 'poll_opened' || name === 'poll_closed') {
      if (msg.poll.table_id !== null) return;
      if (name === 'poll_closed' && state.poll && state.poll.state === 'open' && state.poll.id !== msg.poll.id) return;
      state.poll = Object.assign({}, msg.poll, { results: msg.results });
      paintPoll();
    } else if (name === 'poll_results' && state.poll && state.poll.id === msg.poll_id) {
      state.poll.results = msg.results;
      paintPoll();
    }
  }

  function tick() { paintStep(); paintReportClock(); }
  setInterval(tick, 250);

  const rt = new K.Realtime({
    auth: { projector: document.body.dataset.token },
    onStatus: K.connectionBanner($('connection')),
    onSnapshot(snap) {
      state.agenda = snap.agenda;
      setClock(snap.agenda);
      state.reports = snap.reports;
      state.plenary = snap.plenary;
      state.poll = snap.poll;
      paintPlenary();
      paintPoll();
      tick();
    },
    onEvent(name, msg) {
      if (name === 'round_changed') { state.agenda = msg; setClock(msg); paintStep(); }
      else if (name === 'report_changed') { state.reports = msg.reports; setClock(msg.reports); paintReport(); }
      else if (name === 'plenary_changed') { state.plenary = msg.plenary; paintPlenary(); }
      else if (name.startsWith('poll_')) pollEvent(name, msg);
    },
  });
  // Closed by the server (the link was revoked) or refused: the page itself says why.
  rt.socket.on('disconnect', (reason) => { if (reason === 'io server disconnect') setTimeout(() => location.reload(), 300); });
  rt.socket.on('connect_error', (err) => { if (err && err.message === 'unauthorized') location.reload(); });
})();
