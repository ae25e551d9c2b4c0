/* Editing an idea for readability from a table's detail: the author's original stays visible to
   staff, and the form is made once per idea so live updates never take half-typed text. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-moderation').textContent);
  const el = K.el;

  function attach(entry) {
    const original = el('p', { class: 'small muted original', hidden: true });
    const open = el('button', { type: 'button', class: 'button small', text: t.edit });
    const text = el('textarea', { name: 'text', maxLength: 500, rows: 3 });
    const reason = el('input', { name: 'edit_reason', maxLength: 500, required: true });
    const form = el('form', { class: 'edit-form', hidden: true }, [
      el('label', {}, [t.new_text, text]), el('label', {}, [t.edit_reason, reason]),
      el('button', { type: 'submit', class: 'button small primary', text: t.save }),
      el('button', { type: 'button', class: 'button small', 'data-cancel': '1', text: t.cancel }),
    ]);
    open.addEventListener('click', () => {
      text.value = entry.idea.text;
      form.hidden = false;
      text.focus();
    });
    form.querySelector('[data-cancel]').addEventListener('click', () => { form.hidden = true; });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      C.rt.call('edit_idea', { idea_id: entry.idea.id, text: text.value, reason: reason.value }).then((ack) => {
        if (!ack.ok) return C.showError(ack);
        form.hidden = true;
        reason.value = '';
      });
    });
    entry.tally.after(original);
    entry.toggle.after(open);
    entry.form.after(form);
    entry.moderation = { original, open };
  }

  C.register({
    ideaNode(entry, idea) {
      if (!entry.moderation) attach(entry);
      const orig = entry.moderation.original;
      const shown = idea.original_text ? K.fill(t.original, { text: idea.original_text }) : '';
      if (orig.textContent !== shown) orig.textContent = shown;
      orig.hidden = !idea.original_text;
      entry.node.classList.toggle('is-edited', !!idea.edited);
    },
  });
})();
