/* Help calls in the control room: the queue (table, nickname, waiting time), a visible and an
   optional audible cue, acknowledge ("coming") and resolve. Rows are kept and updated in place. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-help').textContent);
  const el = K.el;
  const list = document.getElementById('help-queue');
  const empty = document.getElementById('help-empty');
  const count = document.getElementById('help-count');
  const summary = document.querySelector('#help-panel summary');
  const sound = document.getElementById('help-sound');
  const calls = new Map(); // id -> {help, node, parts}
  sound.checked = localStorage.getItem('kurumaza-help-sound') === '1';
  sound.addEventListener('change', () => localStorage.setItem('kurumaza-help-sound', sound.checked ? '1' : '0'));

  function beep() {
    if (!sound.checked) return;
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
    } catch (e) { /* no audio device: the visible cue remains */ }
  }

  function mmss(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }

  function row(help) {
    let entry = calls.get(help.id);
    if (!entry) {
      const parts = {
        who: el('span', { class: 'help-who' }), wait: el('span', { class: 'help-wait muted' }),
        ack: el('button', { type: 'button', class: 'button small primary', text: t.ack }),
        resolve: el('button', { type: 'button', class: 'button small', text: t.resolve }),
      };
      parts.ack.addEventListener('click', () => act('help_ack', help.id));
      parts.resolve.addEventListener('click', () => act('help_resolve', help.id));
      const node = el('li', { class: 'help-row', 'data-help-id': String(help.id) },
        [parts.who, el('span', { class: 'actions' }, [parts.ack, parts.resolve]), parts.wait]);
      entry = { node, parts, help };
      calls.set(help.id, entry);
      list.append(node);
    }
    entry.help = help;
    const table = help.table_name ? K.fill(t.table, { name: help.table_name }) : t.no_table;
    entry.parts.who.textContent = table + ' · ' + help.nickname;
    entry.node.dataset.state = help.state;
    entry.node.dataset.tableId = String(help.table_id || '');
    entry.parts.ack.hidden = help.state !== 'waiting';
    paintWait(entry);
    return entry;
  }

  function paintWait(entry) {
    const waited = mmss(Date.now() + C.state.offset - Date.parse(entry.help.created_at));
    const text = K.fill(t.waiting_for, { time: waited }) + (entry.help.state === 'coming' ? ' · ' + t.coming : '');
    if (entry.parts.wait.textContent !== text) entry.parts.wait.textContent = text;
  }

  function paint() {
    const waiting = Array.from(calls.values()).filter((e) => e.help.state === 'waiting').length;
    count.textContent = String(calls.size);
    summary.classList.toggle('alert', waiting > 0);
    empty.hidden = calls.size > 0;
    C.repaint();
  }

  function drop(id) {
    const entry = calls.get(id);
    if (entry) { entry.node.remove(); calls.delete(id); }
  }

  function upsert(help) {
    if (help.state === 'waiting' || help.state === 'coming') {
      const fresh = !calls.has(help.id);
      row(help);
      if (fresh && help.state === 'waiting') beep();
    } else drop(help.id);
    paint();
  }

  function act(name, id) {
    C.rt.call(name, { help_id: id }).then((ack) => { if (ack.ok) upsert(ack.help); else C.showError(ack); });
  }

  setInterval(() => calls.forEach(paintWait), 1000);

  C.register({
    snapshot(snap) {
      const open = new Set((snap.help || []).map((h) => h.id));
      Array.from(calls.keys()).forEach((id) => { if (!open.has(id)) drop(id); });
      (snap.help || []).forEach(row);
      paint();
    },
    event(name, msg) { if (name === 'help_changed') upsert(msg.help); },
    helpCount(tableId) {
      let n = 0;
      calls.forEach((e) => { if (e.help.table_id === tableId) n += 1; });
      return n;
    },
  });
})();
