/* Polls in the control room: create, open, close, live results, second survey wave, breakdown. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = Object.assign({}, JSON.parse(document.getElementById('i18n-polls').textContent),
    JSON.parse(document.getElementById('i18n-control-polls').textContent));
  const el = K.el;
  const form = document.getElementById('poll-form');
  const list = document.getElementById('control-polls');
  const error = document.getElementById('poll-error');
  const scope = document.getElementById('poll-scope');
  const polls = new Map(); // id -> {poll, results, node, breakdown}
  let rt = null;

  function showError(ack) { error.textContent = ack.message; error.hidden = false; }

  function scopeName(poll) {
    if (!poll.table_id) return t.plenary_poll;
    const option = scope.querySelector('option[value="' + poll.table_id + '"]');
    return option ? option.textContent : t.table_poll;
  }

  function button(label, action, cls) {
    const b = el('button', { type: 'button', class: 'button small ' + (cls || ''), text: label });
    b.addEventListener('click', action);
    return b;
  }

  // A free-text answer becomes an idea at its author's table (or the first table).
  function promote(pollId, ballotId, b) {
    b.disabled = true;
    rt.call('promote_answer', { poll_id: pollId, ballot_id: ballotId }).then((ack) => {
      if (!ack.ok) { b.disabled = false; return showError(ack); }
      b.textContent = t.promoted;
    });
  }

  function breakdownView(entry) {
    const data = entry.breakdown;
    if (!data) return '';
    const select = el('select', { 'aria-label': t.category }, [el('option', { value: '', text: t.choose_category })]
      .concat(data.categories.map((c) => el('option', { value: c, text: c }))));
    select.value = data.category || '';
    select.addEventListener('change', () => breakdown(entry, select.value));
    const tables = (data.tables || []).map((tb) => el('table', { class: 'results-table' }, [
      el('caption', { text: tb.title }),
      el('thead', {}, [el('tr', {}, [el('th', { scope: 'col', text: data.category })]
        .concat(tb.columns.map((c) => el('th', { scope: 'col', text: t[c] || c })))
        .concat([el('th', { scope: 'col', text: t.total })]))]),
      el('tbody', {}, tb.rows.map((r, i) => el('tr', {}, [el('th', { scope: 'row', text: r })]
        .concat(tb.cells[i].concat([tb.row_totals[i]]).map((n) => el('td', { text: n === null ? t.suppressed : String(n) })))))
        .concat([el('tr', {}, [el('th', { scope: 'row', text: t.total })]
          .concat(tb.column_totals.concat([tb.total]).map((n) => el('td', { text: n === null ? t.suppressed : String(n) }))))])),
    ]));
    return el('div', { class: 'breakdown' }, [el('h3', { text: t.breakdown }),
      data.categories.length ? select : el('p', { class: 'muted', text: t.no_categories }),
      el('p', { class: 'small muted', text: t.suppressed_help })].concat(tables));
  }

  function draw(entry) {
    const poll = entry.poll;
    const actions = [];
    if (poll.state === 'draft') actions.push(button(t.open_poll, () => act('open_poll', poll.id), 'primary'));
    if (poll.state === 'open') actions.push(button(t.close_poll, () => act('close_poll', poll.id), 'primary'));
    if (poll.state === 'closed' && poll.kind === 'survey' && poll.phase === 'before') {
      actions.push(button(t.second_wave, () => rt.call('create_poll', { follow_up_of: poll.id }).then((ack) => {
        if (!ack.ok) return showError(ack);
        error.hidden = true;
        upsert(ack.poll);
      })));
    }
    if (poll.state === 'closed' && !poll.secret) actions.push(button(t.breakdown, () => breakdown(entry, '')));
    const facts = [t[poll.kind + '_kind'], scopeName(poll), t[poll.state], t['vis_' + poll.visibility]]
      .concat(poll.secret ? [t.secret_short] : []).concat(poll.phase ? [t['phase_' + poll.phase]] : []);
    entry.node.replaceChildren(
      el('p', { class: 'tag', text: facts.join(' · ') }),
      el('h2', { class: 'poll-question', text: poll.question }),
      ...(poll.closes_at && poll.state === 'open' ? [el('p', { class: 'muted', text: K.fill(t.closes_at, { time: new Date(poll.closes_at).toLocaleTimeString() }) })] : []),
      el('div', { class: 'actions' }, actions),
      entry.results ? K.pollResults(entry.results, { promote: promote, table: true }) : '',
      breakdownView(entry),
    );
  }

  function upsert(poll, results) {
    let entry = polls.get(poll.id);
    if (!entry) {
      entry = { poll: poll, node: el('section', { class: 'card poll', 'data-poll-id': String(poll.id) }) };
      polls.set(poll.id, entry);
      list.prepend(entry.node);
    }
    entry.poll = Object.assign(entry.poll, poll);
    if (results !== undefined) entry.results = results;
    draw(entry);
  }

  function act(name, pollId) {
    rt.call(name, { poll_id: pollId }).then((ack) => {
      if (!ack.ok) return showError(ack);
      error.hidden = true;
      upsert(ack.poll);
    });
  }

  function breakdown(entry, category) {
    rt.call('poll_breakdown', { poll_id: entry.poll.id, category: category }).then((ack) => {
      if (!ack.ok) return showError(ack);
      entry.breakdown = ack;
      draw(entry);
    });
  }

  function number(name) {
    const v = form.elements[name].value.trim();
    return v === '' ? undefined : Number(v);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const minutes = number('duration');
    const rules = { max_approvals: number('max_approvals'), dots: number('dots'), max_per_option: number('max_per_option'),
      max_ranked: number('max_ranked'), duration: minutes === undefined ? undefined : Math.round(minutes * 60) };
    const payload = {
      kind: form.elements.kind.value, question: form.elements.question.value,
      options: form.elements.options.value.split('\n').map((s) => s.trim()).filter(Boolean),
      table_id: scope.value ? Number(scope.value) : null, visibility: form.elements.visibility.value,
      secret: form.elements.secret.checked, rules: JSON.parse(JSON.stringify(rules)),
    };
    rt.call('create_poll', payload).then((ack) => {
      if (!ack.ok) return showError(ack);
      error.hidden = true;
      form.elements.question.value = '';
      form.elements.options.value = '';
      upsert(ack.poll, null);
    });
  });

  K.controlPolls = {
    attach(realtime) { rt = realtime; },
    snapshot(snap) {
      const chosen = scope.value;
      scope.replaceChildren(el('option', { value: '', text: t.plenary_poll }),
        ...snap.tables.map((tb) => el('option', { value: String(tb.id), text: K.fill(t.table_name, { name: tb.name }) })));
      scope.value = chosen;
      list.replaceChildren();
      polls.clear();
      (snap.polls || []).forEach((p) => upsert(p, p.results));
    },
    event(name, msg) {
      if (name === 'poll_created') upsert(msg.poll, null);
      else if (name === 'poll_opened' || name === 'poll_closed') upsert(msg.poll, msg.results);
      else if (name === 'poll_results') {
        const entry = polls.get(msg.poll_id);
        if (entry) { entry.results = msg.results; draw(entry); }
      }
    },
  };
})();
