/* The participant's table page. */
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
    const buttons = VALUES.map((value) => {
      const button = K.el('button', {
        type: 'button', class: 'vote vote-' + value, 'data-value': value,
        'aria-pressed': String(view.my_vote === value),
      }, [K.el('span', { class: 'label', text: t[value] }), K.el('span', { class: 'n', text: String((view.tally || {})[value] || 0) })]);
      button.addEventListener('click', () => vote(view.id, value));
      return button;
    });
    entry.node.replaceChildren(
      K.el('p', { class: 'idea-text', text: view.text }),
      ...(view.mine ? [K.el('p', { class: 'tag', text: t.mine })] : []),
      K.el('div', { class: 'votes', role: 'group' }, buttons),
    );
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

  const rt = new K.Realtime({
    onStatus: K.connectionBanner(document.getElementById('connection')),
    onSnapshot(snap) {
      list.replaceChildren();
      ideas.clear();
      snap.ideas.forEach(render);
      if (snap.table) document.getElementById('table-name').textContent = K.fill(t.table, { name: snap.table.name });
      showAnnouncement(snap.announcement);
      empty.hidden = ideas.size > 0;
      if (K.polls) K.polls.snapshot(snap);
    },
    onEvent(name, msg) {
      if (K.polls && name.startsWith('poll_')) K.polls.event(name, msg);
      if (name === 'idea_posted') render(msg.idea);
      else if (name === 'idea_hidden') remove(msg.idea_id);
      else if (name === 'tallies') {
        Object.entries(msg.tallies).forEach(([id, tally]) => {
          const entry = ideas.get(Number(id));
          if (entry) render({ id: Number(id), tally: tally });
        });
      } else if (name === 'announcement') showAnnouncement(msg.announcement);
    },
  });

  if (K.polls) K.polls.attach(rt);

  function vote(id, value) {
    const entry = ideas.get(id);
    if (entry) render({ id: id, my_vote: value });
    rt.call('vote', { idea_id: id, value: value }).then((ack) => {
      if (!ack.ok) { error.textContent = ack.message; error.hidden = false; }
      // A snapshot taken after a reconnect, before this resent vote landed, showed the old one.
      else if (ideas.has(ack.idea_id)) render({ id: ack.idea_id, my_vote: ack.value });
    });
  }

  text.addEventListener('input', () => { count.textContent = K.fill(t.count, { n: text.value.length }); });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = text.value;
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    error.hidden = true;
    rt.call('post_idea', { text: value }).then((ack) => {
      button.disabled = false;
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
