/* On an open meeting's waiting list: when staff or a freed place let this phone in, the server
   says "admitted" on the phone's own stream and the page opens the table. */
(function () {
  'use strict';
  const K = window.Kurumaza;
  K.phoneHooks = K.phoneHooks || [];
  K.phoneHooks.push({ event(name) { if (name === 'admitted') window.location.reload(); } });
})();
