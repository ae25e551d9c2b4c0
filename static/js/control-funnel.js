/* The participation funnel in the control room: read on opening the drawer and on "Refresh";
   one table per breakdown, numbers under 5 shown as a dash. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const t = JSON.parse(document.getElementById('i18n-funnel').textContent);
  const el = K.el;
  const box = document.getElementById('funnel');
  const panel = document.getElementById('funnel-panel');

  function cell(n) { return el('td', { class: 'num', text: n === null || n === undefined ? t.hidden : String(n) }); }

  function table(title, rows, stages, label) {
    if (!rows.length) return [];
    return [el('h3', { text: title }), el('table', { class: 'funnel-table' }, [
      el('tr', {}, [el('th', { text: '' }), ...stages.map((s) => el('th', { scope: 'col', text: t[s] }))]),
      ...rows.map((r) => el('tr', {}, [el('th', { scope: 'row', text: label(r) }), ...stages.map((s) => cell(r[s]))])),
    ])];
  }

  function paint(f) {
    const stages = f.stages;
    box.replaceChildren(
      ...table(t.overall, [f.overall], stages, () => t.overall),
      ...table(t.by_quota, f.quotas, stages, (r) => r.category + ': ' + r.value + ' (' + K.fill(t.quota, { min: r.min, max: r.max }) + ')'),
      ...table(t.by_table, f.tables, stages, (r) => K.fill(t.table, { name: r.table })),
      ...table(t.by_category, f.categories, stages, (r) => r.category + ': ' + r.value),
      ...(f.final ? [] : [el('p', { class: 'muted small', text: t.still_running })]),
    );
  }

  function load() {
    C.rt.call('funnel', {}).then((ack) => { if (ack.ok) paint(ack.funnel); else C.showError(ack); });
  }
  document.getElementById('funnel-refresh').addEventListener('click', load);
  panel.addEventListener('toggle', () => { if (panel.open) load(); });
})();
