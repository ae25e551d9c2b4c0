/* Polls on the participant's phone (ballots for every kind, results), and the results view
   shared with the control room. Buttons only: no typing, no dragging. Protocol: docs/protocol.md. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const node = document.getElementById('i18n-polls');
  const t = node ? JSON.parse(node.textContent) : {};
  const el = K.el;

  function pct(share) { return Math.round((share || 0) * 100); }

  function rowLabel(row) { return row.label === null || row.label === undefined ? (t[row.id] || row.id) : row.label; }

  function fmt(value) {
    if (value === null || value === undefined) return '—';
    return String(value);
  }

  /* A free-text poll's answers grouped by theme: size and label words; staff also see the most
     typical answers, each of which they can make an idea (`opts.promote`). */
  function themes(res, opts) {
    const list = el('ol', { class: 'themes' }, (res.themes || []).map((g) => el('li', { class: 'theme' }, [
      el('p', { class: 'theme-head', text: K.fill(t.theme, { terms: (g.terms || []).join('・') || t.theme_other, n: g.size }) }),
      ...(g.typical ? [el('ul', { class: 'typical' }, g.typical.map((a) => {
        const parts = [el('span', { class: 'typical-text', text: a.text })];
        if (opts && opts.promote) {
          const b = el('button', { type: 'button', class: 'button small promote', text: t.promote });
          b.addEventListener('click', () => opts.promote(res.poll_id, a.ballot_id, b));
          parts.push(b);
        }
        return el('li', {}, parts);
      }))] : []),
    ])));
    return el('div', { class: 'results' }, [el('h3', { text: t.results }),
      el('p', { class: 'muted', text: K.fill(t.answers_n, { n: res.ballots }) }), list]);
  }

  /* Results in plain words (K.resultLines, shared with the hall's screen): best first, ties
     said, one sentence per row; a bar beside it for the eye. Staff also get the numbers as a table. */
  function results(res, opts) {
    if (!res) return el('p', { class: 'muted', text: t.results_hidden, 'data-key': 'results' });
    if (res.kind === 'text') return themes(res, opts);
    const said = K.resultLines(res, t);
    const rows = el('ul', { class: 'result-rows' }, said.rows.map((r) => {
      const fill = el('span', { class: 'fill' });
      fill.style.width = pct(r.share) + '%'; // CSSOM, allowed by the CSP (no style attribute)
      return el('li', { class: 'bar-row' + (r.tied ? ' is-tied' : ''), 'data-key': 'row-' + r.id, 'data-option': r.id }, [
        el('p', { class: 'bar-label' }, [...(r.place ? [el('span', { class: 'place', text: r.place })] : []),
          el('span', { class: 'choice-label', text: r.label })]),
        el('span', { class: 'bar', 'aria-hidden': 'true' }, [fill]),
        el('p', { class: 'bar-value', text: r.words }),
      ]);
    }));
    const parts = [el('h3', { text: t.results }), el('p', { class: 'muted', text: K.fill(t.ballots, { n: res.ballots }) })];
    if (said.note) parts.push(el('p', { class: 'small muted result-note', text: said.note }));
    parts.push(rows);
    if (opts && opts.table) parts.push(numbers(res, said));
    return el('div', { class: 'results', 'data-key': 'results' }, parts);
  }

  function numbers(res, said) {
    const scale = res.kind === 'score' || res.kind === 'survey';
    const survey = res.kind === 'survey' && res.rows.some((r) => 'before_mean' in r);
    const valueName = scale ? t.mean : res.kind === 'ranking' ? t.points : res.kind === 'dots' ? t.dots : t.votes;
    const head = [t.choice, valueName].concat(scale ? [t.answers, t.no_opinion] : [t.share])
      .concat(survey ? [t.before, t.after, t.change_col] : []);
    return el('table', { class: 'results-table' }, [
      el('caption', { text: K.fill(t.ballots, { n: res.ballots }) }),
      el('thead', {}, [el('tr', {}, head.map((h) => el('th', { scope: 'col', text: h })))]),
      el('tbody', {}, said.rows.map(({ row: r, place, label }) => {
        const cells = [fmt(r.value)].concat(scale ? [fmt(r.answers), fmt(r.no_opinion)] : [pct(r.share) + '%'])
          .concat(survey ? [fmt(r.before_mean), fmt(r.after_mean), (r.mean_change > 0 ? '+' : '') + fmt(r.mean_change)] : []);
        return el('tr', {}, [el('th', { scope: 'row', text: (place ? place + ' ' : '') + label })]
          .concat(cells.map((c) => el('td', { text: c }))));
      })),
    ]);
  }

  /* ---------------------------------------------------------------- ballots */

  // Buttons carry their handler as a property and a data-key, so K.morph keeps the very node
  // (and the keyboard's focus on it) from one redraw to the next.
  function toggle(label, pressed, onClick, cls, key) {
    return el('button', { type: 'button', class: 'choice-button ' + (cls || ''), 'aria-pressed': String(!!pressed),
      text: label, onclick: onClick, 'data-key': key || label });
  }

  function stepButton(text, label, key, disabled, onClick) {
    return el('button', { type: 'button', class: 'step', text: text, 'aria-label': label, 'data-key': key,
      disabled: !!disabled, onclick: onClick });
  }

  // Each builder returns a node and redraws itself through `redraw`.
  const builders = {
    agree(poll, state, redraw) {
      return el('div', { class: 'choices three', role: 'group', 'aria-label': poll.question }, ['agree', 'disagree', 'pass'].map((v) =>
        toggle(t[v], state.vote === v, () => { state.vote = v; redraw(); }, 'vote-' + v, v)));
    },
    single(poll, state, redraw) {
      return el('div', { class: 'choices', role: 'group', 'aria-label': poll.question }, poll.options.map((o) =>
        toggle(o.label, state.option === o.id, () => { state.option = o.id; redraw(); }, '', o.id)));
    },
    approval(poll, state, redraw) {
      state.options = state.options || [];
      const max = poll.rules.max_approvals;
      return el('div', {}, [
        el('p', { class: 'muted', text: max ? K.fill(t.choose_up_to, { n: max, k: state.options.length }) : K.fill(t.chosen, { k: state.options.length }) }),
        el('div', { class: 'choices', role: 'group', 'aria-label': poll.question }, poll.options.map((o) => toggle(o.label, state.options.includes(o.id), () => {
          state.options = state.options.includes(o.id) ? state.options.filter((x) => x !== o.id) : state.options.concat([o.id]);
          redraw();
        }, '', o.id))),
      ]);
    },
    dots(poll, state, redraw) {
      state.dots = state.dots || {};
      const budget = poll.rules.dots;
      const used = Object.values(state.dots).reduce((a, b) => a + b, 0);
      const cap = poll.rules.max_per_option || budget;
      return el('div', {}, [
        el('p', { class: 'remaining', 'aria-live': 'polite', text: K.fill(t.dots_left, { n: budget - used, total: budget }) }),
        el('ul', { class: 'dot-list' }, poll.options.map((o) => {
          const n = state.dots[o.id] || 0;
          return el('li', { class: 'dot-row', 'data-key': o.id }, [el('span', { class: 'dot-label', text: o.label }),
            stepButton('−', K.fill(t.dot_remove, { label: o.label }), 'minus', n === 0, () => { state.dots[o.id] = n - 1; redraw(); }),
            el('span', { class: 'dot-count', text: String(n) }),
            stepButton('+', K.fill(t.dot_add, { label: o.label }), 'plus', used >= budget || n >= cap, () => { state.dots[o.id] = n + 1; redraw(); })]);
        })),
      ]);
    },
    ranking(poll, state, redraw) {
      state.ranking = state.ranking || [];
      const label = Object.fromEntries(poll.options.map((o) => [o.id, o.label]));
      const max = poll.rules.max_ranked || poll.options.length;
      const ranked = el('ol', { class: 'ranked', 'data-key': 'ranked' }, state.ranking.map((id, i) => {
        const swap = (j) => { const r = state.ranking; [r[i], r[j]] = [r[j], r[i]]; redraw(); };
        return el('li', { class: 'ranked-row', 'data-option': id, 'data-key': id }, [
          el('span', { class: 'rank-label', text: K.fill(t.rank_n, { n: i + 1 }) + ' ' + label[id] }),
          stepButton('↑', K.fill(t.move_up, { label: label[id] }), 'up', i === 0, () => swap(i - 1)),
          stepButton('↓', K.fill(t.move_down, { label: label[id] }), 'down', i === state.ranking.length - 1, () => swap(i + 1)),
          stepButton('✕', K.fill(t.unrank, { label: label[id] }), 'out', false, () => { state.ranking.splice(i, 1); redraw(); })]);
      }));
      const rest = poll.options.filter((o) => !state.ranking.includes(o.id));
      const next = state.ranking.length + 1;
      const pick = el('div', { class: 'choices', role: 'group', 'data-key': 'pick' }, rest.map((o) => el('button', {
        type: 'button', class: 'choice-button pick', 'data-option': o.id, 'data-key': o.id,
        text: K.fill(t.pick_as, { label: o.label, n: next }), disabled: state.ranking.length >= max,
        onclick: () => { state.ranking.push(o.id); redraw(); } })));
      return el('div', {}, [
        el('p', { class: 'muted', text: t.ranking_help, 'data-key': 'help' }),
        state.ranking.length ? ranked : el('p', { class: 'muted', text: t.nothing_ranked, 'data-key': 'nothing' }),
        ...(rest.length ? [el('p', { class: 'small', text: t.not_ranked_yet, 'data-key': 'rest' })] : []),
        pick,
      ]);
    },
    text(poll, state) {
      // K.morph never touches a kept textarea's value: typed words and the caret survive redraws.
      const area = el('textarea', { class: 'text-answer', rows: 4, maxLength: (poll.rules && poll.rules.max_length) || 500,
        'data-key': 'answer', value: state.text || '', oninput: (e) => { state.text = e.target.value; } });
      return el('label', { class: 'text-answer-label' }, [t.your_answer, area]);
    },
    score(poll, state, redraw) { return scale(poll, state, redraw, 'scores'); },
    survey(poll, state, redraw) { return scale(poll, state, redraw, 'answers'); },
  };

  function scale(poll, state, redraw, key) {
    state[key] = state[key] || {};
    return el('div', {}, poll.options.map((o) => {
      const current = state[key][o.id];
      const buttons = [1, 2, 3, 4, 5].map((v) => toggle(String(v), current === v, () => { state[key][o.id] = v; redraw(); }, 'score', String(v)));
      buttons.push(toggle(t.no_opinion, current === null, () => { state[key][o.id] = null; redraw(); }, 'score none', 'none'));
      return el('fieldset', { class: 'scale', 'data-key': o.id }, [el('legend', { text: o.label }),
        el('p', { class: 'small muted', text: t.scale_help }), el('div', { class: 'scale-buttons' }, buttons)]);
    }));
  }

  function ballotOf(poll, state) {
    switch (poll.kind) {
      case 'agree': return { vote: state.vote };
      case 'single': return { option: state.option };
      case 'approval': return { options: state.options || [] };
      case 'dots': return { dots: Object.fromEntries(Object.entries(state.dots || {}).filter(([, n]) => n > 0)) };
      case 'ranking': return { ranking: state.ranking || [] };
      case 'score': return { scores: state.scores || {} };
      case 'text': return { text: state.text || '' };
      default: return { answers: state.answers || {} };
    }
  }

  function stateOf(poll) {
    const b = poll.my_ballot;
    if (!b) return {};
    const s = JSON.parse(JSON.stringify(b));
    if (poll.kind === 'ranking') s.ranking = s.ranking.flat();
    return s;
  }

  /* ---------------------------------------------------------------- the participant's poll list */

  /* Open polls come first on the page (#polls); closed ones fold away under "Earlier polls"
     (#earlier-polls), newest first, each a <details> the resident opens when they wish. */
  function Participant(root, earlier) {
    const polls = new Map(); // id -> {poll, state, node, status, receipt, open}
    const earlierList = earlier ? earlier.querySelector('.earlier-list') : null;
    let rt = null;

    function body(entry, open) {
      const poll = entry.poll;
      const parts = [];
      if (open) {
        if (poll.closes_at) parts.push(el('p', { class: 'muted', 'data-key': 'closes', text: K.fill(t.closes_at, { time: new Date(poll.closes_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) }) }));
        if (poll.secret) parts.push(el('p', { class: 'muted', 'data-key': 'secret', text: t.secret }));
        const ballot = builders[poll.kind](poll, entry.state, () => draw(entry));
        ballot.dataset.key = 'ballot';
        parts.push(ballot);
        parts.push(el('button', { type: 'button', class: 'button primary big send', 'data-key': 'send',
          text: poll.my_ballot || entry.status ? t.change : t.send, disabled: !!entry.sending, onclick: () => cast(entry) }));
      }
      if (entry.error) parts.push(el('p', { class: 'flash flash-error', role: 'alert', 'data-key': 'error', text: entry.error }));
      if (entry.status || (!open && poll.my_ballot)) {
        parts.push(el('p', { class: 'flash accepted', role: 'status', 'data-key': 'status', text: open ? t.accepted : t.accepted_closed }));
      }
      // A receipt serves where nobody can see the ballot afterwards: secret polls only.
      if (entry.receipt && poll.secret) {
        parts.push(el('div', { class: 'receipt small', 'data-key': 'receipt' }, [
          el('p', {}, [t.receipt + ' ', el('code', { text: entry.receipt })]),
          el('p', { class: 'muted', text: t.receipt_help })]));
      }
      if (poll.results || !open) parts.push(results(poll.results));
      return parts;
    }

    function draw(entry) {
      const poll = entry.poll;
      const open = poll.state === 'open';
      const tag = (poll.table_id ? t.table_poll : t.plenary_poll) + ' · ' + (open ? t.open : t.closed);
      let fresh;
      if (open) {
        fresh = el('section', { class: 'card poll', id: 'poll-' + poll.id, 'data-poll-id': String(poll.id), 'data-kind': poll.kind,
          'aria-labelledby': 'poll-q-' + poll.id }, [
          el('p', { class: 'tag', 'data-key': 'tag', text: tag }),
          el('h2', { class: 'poll-question', id: 'poll-q-' + poll.id, 'data-key': 'q', text: poll.question }),
        ].concat(body(entry, true)));
      } else {
        const details = el('details', { class: 'poll-fold', 'data-key': 'fold', ontoggle: (e) => { entry.open = e.target.open; } }, [
          el('summary', { class: 'poll-summary' }, [el('span', { class: 'tag', text: tag }), ' ',
            el('span', { class: 'poll-question', text: poll.question })]),
        ].concat(body(entry, false)));
        if (entry.open) details.setAttribute('open', '');
        fresh = el('section', { class: 'card poll is-closed', id: 'poll-' + poll.id, 'data-poll-id': String(poll.id), 'data-kind': poll.kind }, [details]);
      }
      if (!entry.node || entry.node.nodeName !== fresh.nodeName) entry.node = fresh;
      else K.morph(entry.node, fresh);
      place(entry, open ? root : (earlierList || root));
    }

    // Newest first in its list; moved only when it changes list (a poll that closes).
    function place(entry, list) {
      if (entry.node.parentNode === list) return;
      const after = Array.from(list.children).find((n) => Number(n.dataset.pollId) < entry.poll.id);
      list.insertBefore(entry.node, after || null);
    }

    function shown() {
      let open = 0;
      let closed = 0;
      let secret = false;
      polls.forEach((e) => { if (e.poll.state === 'open') open++; else closed++; if (e.poll.secret) secret = true; });
      root.hidden = open === 0;
      if (earlier) earlier.hidden = closed === 0 && !secret;
      const check = document.getElementById('receipt-check');
      if (check) check.hidden = !secret;
      document.dispatchEvent(new CustomEvent('kurumaza:polls', { detail: { open: open, closed: closed } }));
    }

    function upsert(poll, extra) {
      let entry = polls.get(poll.id);
      if (!entry) {
        entry = { node: null, state: stateOf(poll), poll: poll };
        polls.set(poll.id, entry);
      }
      entry.poll = Object.assign(entry.poll, poll, extra || {});
      draw(entry);
      shown();
    }

    function cast(entry) {
      entry.sending = true;
      entry.error = null;
      entry.status = null;
      draw(entry);
      rt.call('cast_ballot', { poll_id: entry.poll.id, ballot: ballotOf(entry.poll, entry.state) }).then((ack) => {
        entry.sending = false;
        if (ack.ok) {
          entry.status = t.accepted;
          if (ack.receipt) entry.receipt = ack.receipt;
          entry.poll.my_ballot = ack.ballot || ballotOf(entry.poll, entry.state);
          if (K.announce) K.announce(t.accepted_said);
        } else {
          entry.error = ack.message;
        }
        draw(entry);
      });
    }

    // Checking a receipt (secret polls): the server says which poll's answer it stands for.
    const checkForm = document.getElementById('receipt-form');
    if (checkForm) {
      checkForm.addEventListener('submit', (event) => {
        event.preventDefault();
        const out = document.getElementById('receipt-result');
        const code = document.getElementById('receipt-code').value.trim();
        rt.call('check_receipt', { receipt: code }).then((ack) => {
          out.textContent = ack.ok ? K.fill(t.receipt_found, { question: ack.question }) : ack.message;
          out.className = ack.ok ? 'flash accepted' : 'flash flash-error';
          out.hidden = false;
        });
      });
    }

    return {
      attach(realtime) { rt = realtime; },
      snapshot(snap) {
        // Update cards in place: a ballot still on its way (resent after a reconnect) keeps its
        // card, the resident's choice and its "accepted" when the answer comes.
        const current = new Set((snap.polls || []).map((p) => p.id));
        polls.forEach((entry, id) => { if (!current.has(id)) { entry.node.remove(); polls.delete(id); } });
        (snap.polls || []).forEach((p) => {
          const entry = polls.get(p.id);
          if (entry && !entry.sending) entry.state = stateOf(p);
          upsert(p);
        });
        shown();
      },
      event(name, msg) {
        if (name === 'poll_opened' || name === 'poll_closed') upsert(msg.poll, { results: msg.results });
        else if (name === 'poll_results') {
          const entry = polls.get(msg.poll_id);
          if (entry) { entry.poll.results = msg.results; draw(entry); }
        }
      },
    };
  }

  const root = document.getElementById('polls');
  K.pollResults = results;
  K.polls = root ? Participant(root, document.getElementById('earlier-polls')) : null;
})();
