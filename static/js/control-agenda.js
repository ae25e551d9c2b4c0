/* The control room's agenda, clock and seating: the "now" bar, the agenda editor, seating
   previews (balanced, World Café rotation, rebalance) and moving people by taps.
   Nodes are kept and their text changed in place, so focus and typed text survive updates. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = JSON.parse(document.getElementById('i18n-agenda').textContent);
  const el = K.el;
  const error = document.getElementById('agenda-error');
  let rt = null;
  const state = { agenda: null, offset: 0, seating: null, tables: [], plan: null, selected: new Set() };

  function showError(ack) { error.textContent = ack.message; error.hidden = false; }
  function call(name, payload) {
    return rt.call(name, payload || {}).then((ack) => {
      if (!ack.ok) showError(ack); else error.hidden = true;
      return ack;
    });
  }
  function button(label, action, cls, attrs) {
    const b = el('button', Object.assign({ type: 'button', class: 'button small ' + (cls || ''), text: label }, attrs || {}));
    b.addEventListener('click', action);
    return b;
  }
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function stepName(step) { return step.title || K.fill(t.round_n, { n: step.number }); }
  function mmss(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }

  // ------------------------------------------------------------------ the now bar
  const bar = {
    title: document.getElementById('now-step'), clock: document.getElementById('now-clock'),
    next: document.getElementById('now-next'), root: document.getElementById('now-bar'),
  };
  document.querySelectorAll('#now-bar [data-clock]').forEach((b) => {
    b.addEventListener('click', () => {
      const action = b.dataset.clock;
      if (action === 'extend') call('step_extend', { seconds: Number(b.dataset.seconds) });
      else call('step_' + action);
    });
  });

  function remaining(step) {
    if (step.state === 'running' && step.ends_at) return Math.max(0, (Date.parse(step.ends_at) - (Date.now() + state.offset)) / 1000);
    if (step.state === 'paused') return step.remaining_s;
    return step.state === 'done' ? 0 : null;
  }

  function paintClock() {
    const view = state.agenda;
    if (!view) return;
    const step = view.step;
    const running = step && step.state === 'running';
    const paused = step && step.state === 'paused';
    setText(bar.title, step ? stepName(step) + ' · ' + t['state_' + step.state] : t.no_step);
    const left = step ? remaining(step) : null;
    setText(bar.clock, left === null ? '' : (left === 0 && step.state !== 'paused' ? t.time_up : mmss(left)));
    bar.root.classList.toggle('last-minute', !!(running && left !== null && left > 0 && left <= 60));
    setText(bar.next, view.next_step ? K.fill(t.next_is, { name: stepName(view.next_step) }) : t.no_next);
    bar.root.querySelector('[data-clock=pause]').disabled = !running;
    bar.root.querySelector('[data-clock=resume]').disabled = !paused;
    bar.root.querySelector('[data-clock=end]').disabled = !(running || paused);
    bar.root.querySelectorAll('[data-clock=extend]').forEach((b) => { b.disabled = !step; });
    bar.root.querySelector('[data-clock=next]').disabled = !view.next_step;
  }
  setInterval(paintClock, 500);

  // ------------------------------------------------------------------ the agenda editor
  const agendaList = document.getElementById('agenda-steps');
  const rows = new Map(); // step id -> {node, parts}

  function stepRow(step) {
    let row = rows.get(step.id);
    if (!row) {
      const title = el('input', { 'aria-label': t.title, maxLength: 200, class: 'step-title' });
      const question = el('input', { 'aria-label': t.question, maxLength: 500, class: 'step-question' });
      const minutes = el('input', { type: 'number', min: 0, max: 480, step: 1, 'aria-label': t.minutes, class: 'step-minutes' });
      const save = button(t.save, () => call('agenda_edit', {
        step_id: step.id, title: title.value, question: question.value, duration_s: Math.round(Number(minutes.value || 0) * 60),
      }));
      const up = button('↑', () => call('agenda_move', { step_id: step.id, position: Math.max(0, order().indexOf(step.id) - 1) }), '', { 'aria-label': t.move_up });
      const down = button('↓', () => call('agenda_move', { step_id: step.id, position: order().indexOf(step.id) + 1 }), '', { 'aria-label': t.move_down });
      const remove = button(t.delete, () => call('agenda_delete', { step_id: step.id }));
      const start = button(t.start, () => call('step_start', { step_id: step.id }), 'primary');
      const label = el('span', { class: 'step-label' });
      const info = el('span', { class: 'muted step-info' });
      const node = el('li', { class: 'agenda-step', 'data-step-id': String(step.id) }, [
        el('div', { class: 'step-head' }, [label, info]),
        el('div', { class: 'step-fields' }, [title, question, minutes]),
        el('div', { class: 'actions' }, [start, save, up, down, remove]),
      ]);
      row = { node, title, question, minutes, label, info, start, save, up, down, remove, filled: false };
      rows.set(step.id, row);
    }
    const planned = step.state === 'planned';
    // Never overwrite what the facilitator is typing.
    if (!row.filled || document.activeElement !== row.title) row.title.value = step.title;
    if (!row.filled || document.activeElement !== row.question) row.question.value = step.question;
    if (!row.filled || document.activeElement !== row.minutes) row.minutes.value = String(Math.round(step.duration_s / 60));
    row.filled = true;
    setText(row.label, K.fill(t.step_label, { n: step.position, kind: step.kind === 'plenary' ? t.kind_plenary : t.kind_table }));
    setText(row.info, t['state_' + step.state]);
    row.node.dataset.state = step.state;
    row.title.disabled = step.state === 'done';
    row.question.disabled = step.state === 'done';
    row.minutes.disabled = !planned;
    row.save.disabled = step.state === 'done';
    [row.up, row.down, row.remove, row.start].forEach((b) => { b.disabled = !planned; });
    return row.node;
  }

  function order() { return (state.agenda ? state.agenda.agenda : []).map((s) => s.id); }

  function renderAgenda() {
    const steps = state.agenda.agenda;
    const seen = new Set(steps.map((s) => s.id));
    rows.forEach((row, id) => { if (!seen.has(id)) { row.node.remove(); rows.delete(id); } });
    steps.forEach((step, index) => {
      const node = stepRow(step);
      if (agendaList.children[index] !== node) agendaList.insertBefore(node, agendaList.children[index] || null);
    });
    paintClock();
  }

  document.getElementById('agenda-add').addEventListener('submit', (event) => {
    event.preventDefault();
    const f = event.target;
    call('agenda_add', {
      kind: f.kind.value, title: f.title.value, question: f.question.value,
      duration_s: Math.round(Number(f.minutes.value || 0) * 60),
    }).then((ack) => { if (ack.ok) { f.title.value = ''; f.question.value = ''; } });
  });

  const closeBox = document.getElementById('close-posting');
  closeBox.addEventListener('change', () => call('meeting_settings', { close_posting_at_end: closeBox.checked }));
  const sizeForm = document.getElementById('table-sizes');
  sizeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const num = (v) => (v === '' ? null : Number(v));
    call('meeting_settings', { table_min_size: num(sizeForm.min.value), table_max_size: num(sizeForm.max.value) });
  });
  function applySettings(s) {
    if (!s) return;
    closeBox.checked = s.close_posting_at_end;
    if (document.activeElement !== sizeForm.min) sizeForm.min.value = s.table_min_size || '';
    if (document.activeElement !== sizeForm.max) sizeForm.max.value = s.table_max_size || '';
  }

  // ------------------------------------------------------------------ seating preview and apply
  const planBox = document.getElementById('seating-plan');
  const everyone = document.getElementById('seat-everyone');
  document.querySelectorAll('[data-seating]').forEach((b) => {
    b.addEventListener('click', () => call('seating_preview', { mode: b.dataset.seating, everyone: everyone.checked })
      .then((ack) => { if (ack.ok) { state.plan = ack.plan; renderPlan(); } }));
  });

  function composition(table, whole) {
    const parts = [];
    Object.keys(whole).sort().forEach((category) => {
      Object.keys(whole[category]).sort().forEach((value) => {
        const n = (table.counts[category] || {})[value] || 0;
        const target = (table.targets[category] || {})[value] || 0;
        parts.push(el('li', { text: K.fill(t.count_vs, { category: category, value: value, n: n, target: target.toFixed(1) }) }));
      });
    });
    return el('ul', { class: 'composition' }, parts);
  }

  function renderPlan() {
    const plan = state.plan;
    if (!plan) { planBox.replaceChildren(); planBox.hidden = true; return; }
    planBox.hidden = false;
    const summary = el('p', { class: 'plan-summary', text: K.fill(t.plan_summary, {
      step: plan.step_title || '', people: plan.people, repeats: plan.repeats, bound: plan.repeat_lower_bound,
      deviation: plan.max_deviation, moves: plan.moves.length,
    }) });
    const tiles = plan.tables.map((table) => el('section', { class: 'plan-table', 'data-table-id': String(table.table_id) }, [
      el('h4', { text: K.fill(t.table, { name: table.name }) + ' · ' + K.fill(t.people_n, { n: table.size }) }),
      el('p', { class: 'small', text: table.members.map((m) => (m.host ? '★' : '') + m.label).join('、') }),
      composition(table, plan.whole),
      el('p', { class: 'small muted', text: K.fill(t.encounters, { fresh: table.new_encounters, repeat: table.repeat_encounters }) }),
    ]));
    const apply = button(t.apply, () => call('seating_apply', { step_id: plan.step_id, assignment: plan.assignment })
      .then((ack) => { if (ack.ok) { state.plan = null; renderPlan(); } }), 'primary', { id: 'seating-apply' });
    const discard = button(t.discard, () => { state.plan = null; renderPlan(); });
    planBox.replaceChildren(el('h3', { text: t['plan_' + plan.mode] }), summary,
      el('div', { class: 'plan-tables' }, tiles), el('div', { class: 'actions' }, [apply, discard]));
  }

  // ------------------------------------------------------------------ people: move by taps
  const peopleBox = document.getElementById('people');
  const peopleActions = document.getElementById('people-actions');

  function toggle(id) {
    if (state.selected.has(id)) state.selected.delete(id); else state.selected.add(id);
    renderPeople();
  }

  function renderPeople() {
    const seating = state.seating;
    if (!seating) return;
    const byTable = new Map(state.tables.map((tb) => [tb.id, []]));
    const unseated = [];
    seating.people.forEach((p) => (byTable.has(p.table_id) ? byTable.get(p.table_id) : unseated).push(p));
    const known = new Set(seating.people.map((p) => p.id));
    state.selected.forEach((id) => { if (!known.has(id)) state.selected.delete(id); });
    const person = (p) => el('button', {
      type: 'button', class: 'person' + (p.present ? '' : ' absent'), 'data-person-id': String(p.id),
      'aria-pressed': String(state.selected.has(p.id)), text: (p.host_of ? '★' : '') + p.label,
      title: p.present ? t.present : t.not_present,
    });
    const groups = state.tables.map((tb) => el('section', { class: 'people-table', 'data-table-id': String(tb.id) }, [
      el('h4', {}, [K.fill(t.table, { name: tb.name }) + ' (' + byTable.get(tb.id).length + ') ',
        button(t.move_here, () => moveSelected(tb.id), 'move-here', { 'data-move-to': String(tb.id), disabled: state.selected.size === 0 })]),
      el('div', { class: 'people-list' }, byTable.get(tb.id).map(person)),
    ]));
    if (unseated.length) groups.push(el('section', { class: 'people-table' }, [el('h4', { text: t.unseated }),
      el('div', { class: 'people-list' }, unseated.map(person))]));
    peopleBox.replaceChildren(...groups);
    peopleBox.querySelectorAll('.person').forEach((b) => b.addEventListener('click', () => toggle(Number(b.dataset.personId))));
    const chosen = Array.from(state.selected);
    const acts = [];
    if (chosen.length) acts.push(el('span', { class: 'muted', text: K.fill(t.selected_n, { n: chosen.length }) }));
    if (chosen.length === 2) acts.push(button(t.swap, () => done(call('seat_swap', { participant_id: chosen[0], other_id: chosen[1] }))));
    if (chosen.length === 1) {
      const p = seating.people.find((x) => x.id === chosen[0]);
      if (p && p.table_id) acts.push(button(t.make_host, () => done(call('set_host', { table_id: p.table_id, participant_id: p.id }))));
      acts.push(button(t.left, () => done(call('seat_leave', { participant_id: chosen[0] }))));
    }
    if (chosen.length >= 2) {
      acts.push(button(t.keep_together, () => done(call('seating_rule_add', { kind: 'together', participant_ids: chosen }))));
      acts.push(button(t.keep_apart, () => done(call('seating_rule_add', { kind: 'apart', participant_ids: chosen }))));
    }
    if (chosen.length) acts.push(button(t.clear, () => { state.selected.clear(); renderPeople(); }));
    peopleActions.replaceChildren(...acts);
    const labels = new Map(seating.people.map((p) => [p.id, p.label]));
    document.getElementById('seating-rules').replaceChildren(...seating.rules.map((r) => el('li', {}, [
      (r.kind === 'together' ? t.rule_together : t.rule_apart) + ': ' + r.participant_ids.map((i) => labels.get(i) || ('#' + i)).join('、') + ' ',
      button(t.delete, () => call('seating_rule_remove', { rule_id: r.id })),
    ])));
  }

  function done(promise) { promise.then((ack) => { if (ack.ok) { state.selected.clear(); renderPeople(); } }); }

  function moveSelected(tableId) {
    const chosen = Array.from(state.selected);
    Promise.all(chosen.map((id) => call('seat_move', { participant_id: id, table_id: tableId })))
      .then(() => { state.selected.clear(); renderPeople(); });
  }

  K.controlAgenda = {
    attach(realtime) { rt = realtime; },
    snapshot(snap) {
      state.tables = snap.tables.map((tb) => ({ id: tb.id, name: tb.name }));
      state.seating = snap.seating;
      this.event('round_changed', snap.agenda);
      applySettings(snap.settings);
      renderPeople();
    },
    event(name, msg) {
      if (name === 'round_changed') {
        state.agenda = msg;
        if (msg.server_time) state.offset = Date.parse(msg.server_time) - Date.now();
        renderAgenda();
      } else if (name === 'settings_changed') applySettings(msg.settings);
    },
  };
})();
