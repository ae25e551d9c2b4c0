/* Kurumaza realtime client: acknowledged operations with op_id, sequence tracking per
   stream, snapshot on (re)connect or on a gap, and a "Reconnecting…" state.
   Protocol: docs/protocol.md. */
(function () {
  'use strict';

  function uuid() {
    // crypto.randomUUID needs a secure context; a venue LAN on plain http has none.
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function i18n() {
    const node = document.getElementById('i18n');
    return node ? JSON.parse(node.textContent) : {};
  }

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ''));
  }

  // A second or two, spread so that a room of phones does not resend in step.
  function later() { return 1000 + Math.random() * 1000; }

  class Realtime {
    constructor(options) {
      this.onSnapshot = options.onSnapshot;
      this.onEvent = options.onEvent;
      this.onStatus = options.onStatus || function () {};
      this.last = null;        // stream name -> last applied seq; null until the first snapshot
      this.buffer = null;      // events that arrive while a snapshot is on its way
      this.pending = new Map(); // op_id -> unacknowledged operation, resent after a reconnect
      this.socket = io({ auth: options.auth || {}, reconnectionDelayMax: 4000 });
      this.socket.on('connect', () => { this.onStatus(true); this.resync(); this.resend(); });
      this.socket.on('disconnect', () => this.onStatus(false));
      this.socket.on('connect_error', (err) => {
        this.onStatus(false);
        // Refused because the database was away for a moment: the client does not retry by itself.
        if (err && err.message === 'retry' && !this.socket.active) setTimeout(() => this.socket.connect(), later());
      });
      // The server's message queue came back after an outage: broadcasts may have been lost.
      this.socket.on('resync', () => this.resync());
      this.socket.onAny((name, message) => this.receive(name, message));
    }

    receive(name, message) {
      if (!message || typeof message.seq !== 'number' || typeof message.stream !== 'string') return;
      if (this.buffer !== null || this.last === null) {
        if (this.buffer !== null) this.buffer.push([name, message]);
        return;
      }
      const last = this.last[message.stream] || 0;
      if (message.seq <= last) return;             // already in the snapshot
      if (message.prev !== last) {                  // a gap: something was missed
        this.resync();
        this.buffer.push([name, message]);
        return;
      }
      this.last[message.stream] = message.seq;
      // A new seat means another table's room and ideas: start again from a snapshot.
      if (name === 'seating_changed') { this.resync(); return; }
      this.onEvent(name, message);
    }

    resync() {
      if (this.buffer !== null) return;
      this.buffer = [];
      this.socket.timeout(10000).emit('snapshot', { op_id: uuid() }, (err, ack) => {
        const buffered = this.buffer || [];
        this.buffer = null;
        if (err || !ack || !ack.ok) {
          if (this.socket.connected) setTimeout(() => this.resync(), 1000);
          return;
        }
        this.last = Object.assign({}, ack.snapshot.streams);
        this.onSnapshot(ack.snapshot);
        buffered.forEach(([n, m]) => this.receive(n, m));
      });
    }

    call(name, payload) {
      const op = { name: name, payload: Object.assign({}, payload, { op_id: uuid() }) };
      return new Promise((resolve) => {
        op.resolve = resolve;
        this.pending.set(op.payload.op_id, op);
        this.send(op);
      });
    }

    send(op) {
      if (!this.socket.connected) return; // resent on reconnect, with the same op_id
      this.socket.timeout(8000).emit(op.name, op.payload, (err, ack) => {
        if (!this.pending.has(op.payload.op_id)) return;
        if (err) {
          if (this.socket.connected) setTimeout(() => this.send(op), 1000);
          return;
        }
        if (ack && ack.error === 'retry') { // nothing was stored: send the same op_id again
          setTimeout(() => this.send(op), later());
          return;
        }
        this.pending.delete(op.payload.op_id);
        op.resolve(ack);
      });
    }

    resend() {
      this.pending.forEach((op) => this.send(op));
    }
  }

  function connectionBanner(element) {
    let timer = null;
    return function (connected) {
      clearTimeout(timer);
      if (connected) { element.hidden = true; return; }
      // A blip shorter than half a second is not worth alarming anyone.
      timer = setTimeout(() => { element.hidden = false; }, 500);
    };
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.className = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'type' || k === 'role' || k === 'lang') node.setAttribute(k, v);
      else node[k] = v;
    });
    (children || []).forEach((c) => node.append(c));
    return node;
  }

  window.Kurumaza = { Realtime: Realtime, uuid: uuid, i18n: i18n, fill: fill, el: el, connectionBanner: connectionBanner };
})();
