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

  /* Results as a bar chart of plain HTML (with the numbers written out) and the same numbers as a table. */
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

  function results(res, opts) {
    if (!res) return el('p', { class: 'muted', text: t.results_hidden });
    if (res.kind === 'text') return themes(res, opts);
    const scale = res.kind === 'score' || res.kind === 'survey';
    const survey = res.kind === 'survey' && res.rows.some((r) => 'before_mean' in r);
    const valueName = scale ? t.mean : res.kind === 'ranking' ? t.points : res.kind === 'dots' ? t.dots : t.votes;
    const bars = el('ul', { class: 'bars', 'aria-hidden': 'true' }, res.rows.map((r) => {
      const fill = el('span', { class: 'fill' });
      fill.style.width = pct(r.share) + '%'; // CSSOM, allowed by the CSP (no style attribute)
      return el('li', { class: 'bar-row' }, [
        el('span', { class: 'bar-label', text: (r.rank ? r.rank + '. ' : '') + rowLabel(r) }),
        el('span', { class: 'bar' }, [fill]),
        el('span', { class: 'bar-value', text: fmt(r.value) + (scale ? '' : ' (' + pct(r.share) + '%)') }),
      ]);
    }));
    const head = [t.choice, valueName].concat(scale ? [t.answers, t.no_opinion] : [t.share])
      .concat(survey ? [t.before, t.after, t.change_col] : []);
    const table = el('table', { class: 'results-table' }, [
      el('caption', { text: K.fill(t.ballots, { n: res.ballots }) }),
      el('thead', {}, [el('tr', {}, head.map((h) => el('th', { scope: 'col', text: h })))]),
      el('tbody', {}, res.rows.map((r) => {
        const cells = [fmt(r.value)].concat(scale ? [fmt(r.answers), fmt(r.no_opinion)] : [pct(r.share) + '%'])
          .concat(survey ? [fmt(r.before_mean), fmt(r.after_mean), (r.mean_change > 0 ? '+' : '') + fmt(r.mean_change)] : []);
        return el('tr', {}, [el('th', { scope: 'row', text: (r.rank ? r.rank + '. ' : '') + rowLabel(r) })]
          .concat(cells.map((c) => el('td', { text: c }))));
      })),
    ]);
    return el('div', { class: 'results' }, [el('h3', { text: t.results }), bars, table]);
  }

  /* ---------------------------------------------------------------- ballots */

  function toggle(label, pressed, onClick, cls) {
    const b = el('button', { type: 'button', class: 'choice-button ' + (cls || ''), 'aria-pressed': String(!!pressed), text: label });
    b.addEventListener('click', onClick);
    return b;
  }

  // Each builder returns {node, value()} and redraws itself through `redraw`.
  const builders = {
    agree(poll, state, redraw) {
      return el('div', { class: 'choices three', role: 'group' }, ['agree', 'disagree', 'pass'].map((v) =>
        toggle(t[v], state.vote === v, () => { state.vote = v; redraw(); }, 'vote-' + v)));
    },
    single(poll, state, redraw) {
      return el('div', { class: 'choices', role: 'group' }, poll.options.map((o) =>
        toggle(o.label, state.option === o.id, () => { state.option = o.id; redraw(); })));
    },
    approval(poll, state, redraw) {
      state.options = state.options || [];
      const max = poll.rules.max_approvals;
      return el('div', {}, [
        el('p', { class: 'muted', text: max ? K.fill(t.choose_up_to, { n: max, k: state.options.length }) : K.fill(t.chosen, { k: state.options.length }) }),
        el('div', { class: 'choices', role: 'group' }, poll.options.map((o) => toggle(o.label, state.options.includes(o.id), () => {
          state.options = state.options.includes(o.id) ? state.options.filter((x) => x !== o.id) : state.options.concat([o.id]);
          redraw();
        }))),
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
          const minus = el('button', { type: 'button', class: 'step', text: '−', 'aria-label': K.fill(t.dot_remove, { label: o.label }) });
          const plus = el('button', { type: 'button', class: 'step', text: '+', 'aria-label': K.fill(t.dot_add, { label: o.label }) });
          minus.disabled = n === 0;
          plus.disabled = used >= budget || n >= cap;
          minus.addEventListener('click', () => { state.dots[o.id] = n - 1; redraw(); });
          plus.addEventListener('click', () => { state.dots[o.id] = n + 1; redraw(); });
          return el('li', { class: 'dot-row' }, [el('span', { class: 'dot-label', text: o.label }), minus,
            el('span', { class: 'dot-count', text: String(n) }), plus]);
        })),
      ]);
    },
    ranking(poll, state, redraw) {
      state.ranking = state.ranking || [];
      const label = Object.fromEntries(poll.options.map((o) => [o.id, o.label]));
      const max = poll.rules.max_ranked || poll.options.length;
      const ranked = el('ol', { class: 'ranked' }, state.ranking.map((id, i) => {
        const up = el('button', { type: 'button', class: 'step', text: '↑', 'aria-label': K.fill(t.move_up, { label: label[id] }) });
        const down = el('button', { type: 'button', class: 'step', text: '↓', 'aria-label': K.fill(t.move_down, { label: label[id] }) });
        const out = el('button', { type: 'button', class: 'step', text: '✕', 'aria-label': K.fill(t.unrank, { label: label[id] }) });
        up.disabled = i === 0;
        down.disabled = i === state.ranking.length - 1;
        const swap = (j) => { const r = state.ranking; [r[i], r[j]] = [r[j], r[i]]; redraw(); };
        up.addEventListener('click', () => swap(i - 1));
        down.addEventListener('click', () => swap(i + 1));
        out.addEventListener('click', () => { state.ranking.splice(i, 1); redraw(); });
        return el('li', { class: 'ranked-row', 'data-option': id }, [
          el('span', { class: 'rank-label', text: K.fill(t.rank_n, { n: i + 1 }) + ' ' + label[id] }), up, down, out]);
      }));
      const rest = poll.options.filter((o) => !state.ranking.includes(o.id));
      const next = state.ranking.length + 1;
      const pick = el('div', { class: 'choices', role: 'group' }, rest.map((o) => {
        const b = el('button', { type: 'button', class: 'choice-button pick', 'data-option': o.id,
          text: K.fill(t.pick_as, { label: o.label, n: next }) });
        b.disabled = state.ranking.length >= max;
        b.addEventListener('click', () => { state.ranking.push(o.id); redraw(); });
        return b;
      }));
      return el('div', {}, [
        el('p', { class: 'muted', text: t.ranking_help }),
        state.ranking.length ? ranked : el('p', { class: 'muted', text: t.nothing_ranked }),
        rest.length ? el('p', { class: 'small', text: t.not_ranked_yet }) : '',
        pick,
      ]);
    },
    text(poll, state) {
      // One textarea per poll card, kept across redraws so typed words and the caret survive.
      if (!state.area) {
        state.area = el('textarea', { class: 'text-answer', rows: 4, maxLength: (poll.rules && poll.rules.max_length) || 500 });
        state.area.value = state.text || '';
        state.area.addEventListener('input', () => { state.text = state.area.value; });
      }
      const area = state.area;
      if (document.activeElement === area) {
        const at = [area.selectionStart, area.selectionEnd];
        queueMicrotask(() => { area.focus(); area.setSelectionRange(at[0], at[1]); });
      }
      return el('label', { class: 'text-answer-label' }, [t.your_answer, area]);
    },
    score(poll, state, redraw) { return scale(poll, state, redraw, 'scores'); },
    survey(poll, state, redraw) { return scale(poll, state, redraw, 'answers'); },
  };

  function scale(poll, state, redraw, key) {
    state[key] = state[key] || {};
    return el('div', {}, poll.options.map((o) => {
      const current = state[key][o.id];
      const buttons = [1, 2, 3, 4, 5].map((v) => toggle(String(v), current === v, () => { state[key][o.id] = v; redraw(); }, 'score'));
      buttons.push(toggle(t.no_opinion, current === null, () => { state[key][o.id] = null; redraw(); }, 'score none'));
      return el('fieldset', { class: 'scale' }, [el('legend', { text: o.label }),
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

  function Participant(root) {
    const polls = new Map(); // id -> {poll, state, node, status}
    let rt = null;

    function draw(entry) {
      const poll = entry.poll;
      const redraw = () => draw(entry);
      const open = poll.state === 'open';
      const parts = [
        el('p', { class: 'tag', text: (poll.table_id ? t.table_poll : t.plenary_poll) + ' · ' + (open ? t.open : t.closed) }),
        el('h2', { class: 'poll-question', text: poll.question }),
      ];
      if (open) {
        if (poll.closes_at) parts.push(el('p', { class: 'muted', text: K.fill(t.closes_at, { time: new Date(poll.closes_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) }) }));
        if (poll.secret) parts.push(el('p', { class: 'muted', text: t.secret }));
        parts.push(builders[poll.kind](poll, entry.state, redraw));
        const send = el('button', { type: 'button', class: 'button primary big send', text: poll.my_ballot ? t.change : t.send });
        send.disabled = entry.sending;
        send.addEventListener('click', () => cast(entry));
        parts.push(send);
      }
      if (entry.error) parts.push(el('p', { class: 'flash flash-error', role: 'alert', text: entry.error }));
      if (entry.status) parts.push(el('p', { class: 'flash accepted', role: 'status', text: entry.status }));
      if (entry.receipt) parts.push(el('p', { class: 'receipt small' }, [t.receipt + ' ', el('code', { text: entry.receipt })]));
      if (poll.results || !open) parts.push(results(poll.results));
      entry.node.replaceChildren(...parts);
    }

    function upsert(poll, extra) {
      let entry = polls.get(poll.id);
      if (!entry) {
        entry = { node: el('section', { class: 'card poll', 'data-poll-id': String(poll.id), 'data-kind': poll.kind }), state: stateOf(poll), poll: poll };
        polls.set(poll.id, entry);
        root.prepend(entry.node);
      }
      entry.poll = Object.assign(entry.poll, poll, extra || {});
      draw(entry);
      root.hidden = polls.size === 0;
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
        } else {
          entry.error = ack.message;
        }
        draw(entry);
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
        root.hidden = polls.size === 0;
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
  K.polls = root ? Participant(root) : null;
})();
