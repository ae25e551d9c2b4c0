/* Before posting: up to three similar ideas already at the table, with vote buttons, so a resident
   can support one instead of posting it again. Asked for while typing (debounced). */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = JSON.parse(document.getElementById('i18n-help').textContent);
  const text = document.getElementById('idea-text');
  const form = document.getElementById('idea-form');
  if (!text || !form) return;
  const VALUES = ['agree', 'disagree', 'pass'];
  const box = K.el('section', { id: 'similar', class: 'similar', 'aria-live': 'polite', hidden: true });
  form.append(box);
  let rt = null;
  let timer = null;
  let asked = '';

  function voteButton(idea, value) {
    const b = K.el('button', { type: 'button', class: 'vote vote-' + value, 'data-value': value,
      'aria-pressed': String(idea.my_vote === value) }, [K.el('span', { class: 'label', text: t['vote_' + value] })]);
    b.addEventListener('click', () => {
      // Vote through the idea's own card, so the list below shows the vote too.
      const own = document.querySelector('#ideas li.idea[data-idea-id="' + idea.id + '"] button.vote-' + value);
      if (own) own.click(); else rt.call('vote', { idea_id: idea.id, value: value });
      box.querySelectorAll('[data-idea-id="' + idea.id + '"] .vote').forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
    });
    return b;
  }

  function show(list) {
    box.hidden = list.length === 0;
    box.replaceChildren(...(list.length ? [K.el('p', { class: 'similar-title', text: t.similar_title })] : []),
      ...list.map((idea) => K.el('div', { class: 'similar-idea', 'data-idea-id': String(idea.id) }, [
        K.el('p', { class: 'idea-text', text: idea.text }),
        K.el('div', { class: 'votes', role: 'group' }, VALUES.map((v) => voteButton(idea, v))),
      ])));
  }

  function ask() {
    const draft = text.value.trim();
    if (draft === asked) return;
    asked = draft;
    if (draft.length < 4 || !rt) { show([]); return; }
    rt.call('similar_ideas', { text: draft }).then((ack) => { if (ack.ok && text.value.trim() === draft) show(ack.similar); });
  }

  text.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(ask, 500); });
  form.addEventListener('submit', () => { asked = ''; show([]); });

  K.phoneHooks = K.phoneHooks || [];
  K.phoneHooks.push({ attach(realtime) { rt = realtime; } });
})();
