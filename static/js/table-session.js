/* When staff remove this resident or give them a new code, the server ends this phone's session
   and says why on the phone's own stream: show it instead of reconnecting forever. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const screen = document.getElementById('session-ended');
  K.phoneHooks = K.phoneHooks || [];
  K.phoneHooks.push({
    attach(rt) { this.rt = rt; },
    event(name, msg) {
      if (name !== 'session_ended') return;
      screen.querySelectorAll('[data-reason]').forEach((p) => { p.hidden = p.dataset.reason !== msg.reason; });
      screen.hidden = false;
      document.getElementById('help-dock').hidden = true;
      if (this.rt) this.rt.socket.io.reconnection(false);
    },
  });
})();
