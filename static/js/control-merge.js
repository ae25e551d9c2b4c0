/* Merging duplicates and pre-moderation in the control room. In a table's detail: tick ideas and
   merge them (the oldest ticked keeps its text), undo a merge, approve or reject a waiting idea.
   The "Waiting for approval" drawer lists every table's waiting ideas. Nodes are made once per
   idea and updated in place, so a half-typed reason survives live updates. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-merge').textContent);
  const el = K.el;
  const picked = new Set();
  const bar = document.getElementById('merge-bar');
  const mergeButton = document.getElementById('merge-selected');
  const pickedCount = document.getElementById('merge-count');
  const queue = document.getElementById('pending-queue');
  const queueEmpty = document.getElementById('pending-empty');
  const queueCount = document.getElementById('pending-count');
  const queueNodes = new Map(); // idea id -> {node, text, table}

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function allIdeas() { const out = []; C.tables.forEach((tb) => tb.ideas.forEach((i) => out.push([tb, i]))); return out; }
  function findIdea(id) { for (const [, idea] of allIdeas()) if (idea.id === id) return idea; return null; }
  function tableName(id) { const tb = C.tables.get(id); return tb ? K.fill(t.table, { name: tb.name }) : ''; }

  function paintBar() {
    bar.hidden = picked.size === 0;
    setText(pickedCount, K.fill(t.selected_n, { n: picked.size }));
    mergeButton.disabled = picked.size < 2;
  }

  mergeButton.addEventListener('click', () => {
    const ids = Array.from(picked).sort((a, b) => a - b);
    C.rt.call('idea_merge', { target_id: ids[0], source_ids: ids.slice(1) }).then((ack) => {
      if (!ack.ok) return C.showError(ack);
      picked.clear();
      document.querySelectorAll('input.merge-pick').forEach((box) => { box.checked = false; });
      paintBar();
    });
  });
  document.getElementById('merge-clear').addEventListener('click', () => {
    picked.clear();
    document.querySelectorAll('input.merge-pick').forEach((box) => { box.checked = false; });
    paintBar();
  });

  // A reason form made once: reject (pre-moderation) needs a reason the author is told.
  function rejectForm(getId) {
    const input = el('input', { name: 'reject_reason', maxLength: 500, required: true });
    const form = el('form', { class: 'reason reject-form', hidden: true }, [
      el('label', {}, [t.reject_reason, input]),
      el('button', { type: 'submit', class: 'button small danger', text: t.reject }),
      el('button', { type: 'button', class: 'button small', 'data-cancel': '1', text: t.cancel }),
    ]);
    form.querySelector('[data-cancel]').addEventListener('click', () => { form.hidden = true; });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      C.rt.call('reject_idea', { idea_id: getId(), reason: input.value }).then((ack) => {
        if (!ack.ok) return C.showError(ack);
        input.value = '';
        form.hidden = true;
      });
    });
    return { form, input };
  }

  function decisionButtons(getId) {
    const approve = el('button', { type: 'button', class: 'button small primary approve', text: t.approve });
    const reject = el('button', { type: 'button', class: 'button small reject', text: t.reject });
    const rf = rejectForm(getId);
    approve.addEventListener('click', () => {
      C.rt.call('approve_idea', { idea_id: getId() }).then((ack) => { if (!ack.ok) C.showError(ack); });
    });
    reject.addEventListener('click', () => { rf.form.hidden = false; rf.input.focus(); });
    return { approve, reject, form: rf.form };
  }

  function attach(entry) {
    const pick = el('input', { type: 'checkbox', class: 'merge-pick' });
    const pickLabel = el('label', { class: 'check small merge-pick-label' }, [pick, ' ' + t.pick]);
    pick.addEventListener('change', () => {
      if (pick.checked) picked.add(entry.idea.id); else picked.delete(entry.idea.id);
      paintBar();
    });
    const sources = el('ul', { class: 'small muted merge-sources', hidden: true });
    const into = el('p', { class: 'small muted merged-into', hidden: true });
    const unmerge = el('button', { type: 'button', class: 'button small unmerge', text: t.unmerge, hidden: true });
    unmerge.addEventListener('click', () => {
      C.rt.call('idea_unmerge', { idea_id: entry.idea.id }).then((ack) => { if (!ack.ok) C.showError(ack); });
    });
    const decide = decisionButtons(() => entry.idea.id);
    const waiting = el('p', { class: 'small pending-tag', text: t.waiting, hidden: true });
    entry.text.after(waiting);
    entry.tally.after(sources, into);
    entry.toggle.before(pickLabel);
    entry.toggle.after(decide.approve, decide.reject, unmerge);
    entry.form.after(decide.form);
    entry.merge = { pick, pickLabel, sources, into, unmerge, decide, waiting, sourceKey: '' };
  }

  function paint(entry, idea) {
    if (!entry.merge) attach(entry);
    const m = entry.merge;
    const away = idea.merged_into_id !== null && idea.merged_into_id !== undefined;
    const pending = !!idea.pending;
    m.waiting.hidden = !pending;
    m.decide.approve.hidden = !pending;
    m.decide.reject.hidden = !pending;
    if (!pending) m.decide.form.hidden = true;
    entry.toggle.hidden = pending || away;
    m.pickLabel.hidden = pending || away || !!idea.hidden;
    if (m.pickLabel.hidden && m.pick.checked) { m.pick.checked = false; picked.delete(idea.id); paintBar(); }
    m.pick.checked = picked.has(idea.id);
    m.unmerge.hidden = !away;
    m.into.hidden = !away;
    if (away) {
      const target = findIdea(idea.merged_into_id);
      setText(m.into, K.fill(t.merged_into, { text: target ? target.text : '#' + idea.merged_into_id }));
    }
    const list = idea.sources || [];
    const key = JSON.stringify(list.map((s) => [s.id, s.text]));
    if (key !== m.sourceKey) {
      m.sourceKey = key;
      m.sources.replaceChildren(...list.map((s) => el('li', { 'data-source-id': String(s.id),
        text: K.fill(t.source, { text: s.text, table: K.fill(t.table, { name: s.table }) }) })));
    }
    m.sources.hidden = list.length === 0;
    entry.node.classList.toggle('is-merged-away', away);
    entry.node.classList.toggle('is-pending', pending);
  }

  // ------------------------------------------------------------------ the approval queue
  function paintQueue() {
    const waiting = allIdeas().filter(([, i]) => i.pending).sort((a, b) => a[1].id - b[1].id);
    const keep = new Set();
    waiting.forEach(([tb, idea], index) => {
      keep.add(idea.id);
      let q = queueNodes.get(idea.id);
      if (!q) {
        const decide = decisionButtons(() => idea.id);
        q = { text: el('p', { class: 'idea-text' }), table: el('p', { class: 'small muted' }) };
        q.node = el('li', { class: 'pending-item', 'data-idea-id': String(idea.id) },
          [q.table, q.text, el('div', { class: 'actions' }, [decide.approve, decide.reject]), decide.form]);
        queueNodes.set(idea.id, q);
      }
      setText(q.text, idea.text);
      setText(q.table, tableName(tb.id));
      if (queue.children[index] !== q.node) queue.insertBefore(q.node, queue.children[index] || null);
    });
    queueNodes.forEach((q, id) => { if (!keep.has(id)) { q.node.remove(); queueNodes.delete(id); } });
    queueEmpty.hidden = waiting.length > 0;
    setText(queueCount, String(waiting.length));
    queueCount.classList.toggle('has-pending', waiting.length > 0);
  }

  const moderationSelect = document.getElementById('moderation-mode');
  moderationSelect.addEventListener('change', () => {
    C.rt.call('meeting_settings', { moderation: moderationSelect.value }).then((ack) => { if (!ack.ok) C.showError(ack); });
  });
  function applySettings(s) { if (s && s.moderation && document.activeElement !== moderationSelect) moderationSelect.value = s.moderation; }

  C.register({
    ideaNode: paint,
    snapshot(snap) { applySettings(snap.settings); Promise.resolve().then(paintQueue); },
    event(name, msg) {
      if (name === 'settings_changed') applySettings(msg.settings);
      if (name === 'idea_posted' || name === 'idea_updated') Promise.resolve().then(paintQueue);
    },
    detailOpened() { picked.clear(); paintBar(); },
  });
})();
