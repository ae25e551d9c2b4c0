/* People in a table's detail: let a resident back in with a fresh one-time code (shown with its
   QR code), or remove them from the meeting (two taps). */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-people').textContent);
  const el = K.el;
  const box = {
    root: document.getElementById('readmit'), title: document.getElementById('readmit-title'),
    code: document.getElementById('readmit-code'), qr: document.getElementById('readmit-qr'),
    page: document.getElementById('readmit-page'),
  };
  document.getElementById('readmit-close').addEventListener('click', () => { box.root.hidden = true; });

  function readmit(person) {
    C.rt.call('person_readmit', { participant_id: person.id }).then((ack) => {
      if (!ack.ok) return C.showError(ack);
      box.title.textContent = K.fill(t.readmit_for, { name: person.label });
      // The code and link come once, in this answer only; they are not kept in the page's state.
      box.code.textContent = ack.code || '';
      if (ack.qr) box.qr.src = ack.qr;
      box.page.textContent = K.fill(t.code_page, { url: ack.code_page || '' });
      box.root.hidden = false;
      box.root.scrollIntoView({ block: 'nearest' });
      C.refreshPeople();
    });
  }

  function removeButton(person) {
    const b = el('button', { type: 'button', class: 'button small danger', text: t.remove });
    b.addEventListener('click', () => {
      if (!b.classList.contains('armed')) { b.classList.add('armed'); b.textContent = t.remove_sure; return; }
      C.rt.call('person_remove', { participant_id: person.id }).then((ack) => { if (!ack.ok) C.showError(ack); });
    });
    return b;
  }

  C.register({
    personActions(person) {
      const again = el('button', { type: 'button', class: 'button small', text: t.readmit });
      again.addEventListener('click', () => readmit(person));
      return [el('span', { class: 'person-actions' }, [again, removeButton(person)])];
    },
    event(name) { if (name === 'person_changed') C.refreshPeople(); },
    detailOpened() { box.root.hidden = true; }, // another table's detail starts without the last code
  });
})();
