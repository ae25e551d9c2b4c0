/* The resident's "Call staff" button and the state of their call (waiting → coming → resolved).
   Hooks into table.js through K.phoneHooks; the call's state arrives on the phone's own stream. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  const t = JSON.parse(document.getElementById('i18n-help').textContent);
  const status = document.getElementById('help-status');
  const callButton = document.getElementById('help-call');
  const cancelButton = document.getElementById('help-cancel');
  const dock = document.getElementById('help-dock');
  let rt = null;
  let current = null;

  // The room the page keeps free at its end (static/css/phone-help.css): the dock's top to the
  // bottom of the screen, measured again whenever the dock or the screen changes size.
  function keepRoom() {
    const r = dock.getBoundingClientRect();
    const space = dock.hidden || !r.height ? 0 : Math.ceil(window.innerHeight - r.top);
    document.documentElement.style.setProperty('--help-dock-space', space + 'px');
  }
  if ('ResizeObserver' in window) new ResizeObserver(keepRoom).observe(dock);
  window.addEventListener('resize', keepRoom);
  keepRoom();

  function show(help) {
    current = help;
    const open = !!help && (help.state === 'waiting' || help.state === 'coming');
    status.hidden = !help;
    if (help) {
      status.dataset.state = help.state;
      status.textContent = t[help.state] || '';
    }
    // The cancel button takes the call button's place while the call is open.
    callButton.hidden = open;
    callButton.disabled = false;
    cancelButton.hidden = !open;
    keepRoom();
  }

  callButton.addEventListener('click', () => {
    callButton.disabled = true;
    rt.call('call_staff', {}).then((ack) => { callButton.disabled = false; if (ack.ok) show(ack.help); });
  });
  cancelButton.addEventListener('click', () => {
    rt.call('help_cancel', {}).then((ack) => { if (ack.ok) show(ack.help); });
  });

  K.phoneHooks = K.phoneHooks || [];
  K.phoneHooks.push({
    attach(realtime) { rt = realtime; },
    snapshot(snap) {
      // A call answered while the phone was away still says so; a finished one is not repeated.
      if (snap.help || (current && (current.state === 'waiting' || current.state === 'coming'))) show(snap.help || null);
    },
    event(name, msg) { if (name === 'help_changed') show(msg.help); },
  });
})();
