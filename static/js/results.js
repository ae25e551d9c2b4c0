/* A poll's results in plain words, shared by the phone, the control room and the hall's screen:
   rows in the order a resident reads them (best first; ties share a place and say so) and one
   sentence per row saying what its numbers mean. Words come from the poll catalog (#i18n-polls). */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const PLACED = ['single', 'approval', 'dots', 'ranking'];

  function pct(share) { return Math.round((share || 0) * 100); }
  function num(x) { return x === null || x === undefined ? '—' : String(x); }

  function words(res, r, t) {
    const n = r.value || 0;
    switch (res.kind) {
      case 'agree': case 'single': case 'approval':
        return K.fill(t.people_of, { n: n, m: res.ballots, pct: pct(r.share) });
      case 'dots':
        return K.fill(t.dots_of, { n: n, total: res.dots_total || 0, pct: pct(r.share) });
      case 'ranking':
        return K.fill(t.points_n, { n: num(r.value) });
      case 'score': case 'survey': {
        const said = K.fill(t.mean_of, { mean: num(r.value), n: r.answers || 0, none: r.no_opinion || 0 });
        if (!('before_mean' in r)) return said;
        const change = r.mean_change === null || r.mean_change === undefined ? '—' : (r.mean_change > 0 ? '+' : '') + r.mean_change;
        return K.fill(t.before_after, { before: num(r.before_mean), after: num(r.after_mean), change: change }) + ' · ' + said;
      }
      default: return num(r.value);
    }
  }

  /* {note, rows: [{id, label, place, tied, words, share}]}: `place` is '' where order means nothing
     (agree, scales, and any poll before its first ballot: three options "tied first" with no vote
     cast would tell a resident something false); a place is 1 + the number of rows strictly
     ahead (1, 1, 3). */
  function lines(res, t) {
    const placed = PLACED.includes(res.kind) && (res.ballots || 0) > 0;
    const rows = (res.rows || []).slice();
    // A ranking's place is its tier (Schulze, ties never broken); its points only order a tier.
    const ahead = (a, b) => (res.kind === 'ranking' ? (a.rank || 0) - (b.rank || 0) : (b.value || 0) - (a.value || 0));
    if (placed) rows.sort((a, b) => ahead(a, b) || (b.value || 0) - (a.value || 0));
    const out = rows.map((r) => {
      const place = placed ? 1 + rows.filter((o) => ahead(o, r) < 0).length : 0;
      const tied = placed && rows.some((o) => o !== r && ahead(o, r) === 0);
      return {
        id: r.id, label: r.label === null || r.label === undefined ? (t[r.id] || r.id) : r.label,
        place: place ? K.fill(tied ? t.place_tied : t.place, { n: place }) : '', tied: tied,
        words: words(res, r, t), share: r.share || 0, row: r,
      };
    });
    let note = null;
    if (res.kind === 'ranking') note = K.fill(t.ranking_note, { top: Math.max(0, (res.rows || []).length - 1) });
    else if (res.kind === 'dots') note = t.dots_note;
    else if (res.kind === 'score' || res.kind === 'survey') note = t.scale_note;
    return { note: note, rows: out };
  }

  K.resultLines = lines;
})();
