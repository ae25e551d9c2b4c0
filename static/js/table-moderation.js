/* What staff did to the resident's own ideas (hidden, shown again, edited) arrives on the phone's
   own stream and stays on screen until read; an edited idea carries an "edited" tag everywhere. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = JSON.parse(document.getElementById('i18n-help').textContent);
  const box = K.el('div', { id: 'my-notices', class: 'my-notices', 'aria-live': 'polite' });
  const head = document.querySelector('.table-head');
  if (head) head.after(box); else document.getElementById('main').prepend(box);

  function short(text) { return text.length > 40 ? text.slice(0, 40) + '…' : text; }

  K.phoneHooks = K.phoneHooks || [];
  K.phoneHooks.push({
    idea(node, view) {
      let tag = node.querySelector('.edited-tag');
      if (view.edited && !tag) {
        tag = K.el('span', { class: 'edited-tag', text: t.edited_tag, 'data-hook': '' });
        node.querySelector('.idea-text').after(tag);
      }
    },
    event(name, msg) {
      if (name !== 'idea_moderated') return;
      const ok = K.el('button', { type: 'button', class: 'button small', text: t.ok });
      const notice = K.el('div', { class: 'notice notice-' + msg.what, role: 'status', 'data-idea-id': String(msg.idea_id) }, [
        K.el('p', { text: K.fill(t['notice_' + msg.what], { text: short(msg.text), reason: msg.reason }) }), ok,
      ]);
      ok.addEventListener('click', () => notice.remove());
      box.append(notice);
    },
  });
})();
