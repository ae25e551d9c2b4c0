/* A table's video-call link, from its detail: for every round, or for the round in force only. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const C = K.control;
  const form = document.getElementById('video-form');
  const input = document.getElementById('video-url');
  const thisRound = document.getElementById('video-this-round');
  let rooms = [];
  let open = null;

  function current(tableId) {
    const round = C.state.seatingRound;
    const own = rooms.find((r) => r.table_id === tableId && r.round_id === round);
    const every = rooms.find((r) => r.table_id === tableId && r.round_id === null);
    return { url: (own || every || {}).url || '', round: !!own };
  }

  function fill() {
    if (open === null || document.activeElement === input) return;
    const room = current(open);
    input.value = room.url;
    thisRound.checked = room.round;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    C.rt.call('video_room', { table_id: open, url: input.value,
      round_id: thisRound.checked ? C.state.seatingRound : null }).then((ack) => {
      if (!ack.ok) return C.showError(ack);
      rooms = ack.rooms;
    });
  });

  C.register({
    snapshot(snap) { rooms = snap.video_rooms || []; fill(); },
    event(name, msg) { if (name === 'video_rooms') { rooms = msg.rooms; fill(); } },
    detailOpened(id) { open = id; fill(); },
  });
})();
