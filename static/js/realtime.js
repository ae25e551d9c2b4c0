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
      this.early = new Map();  // "stream prev" -> an event that arrived before the one it follows
      this.earlyTimer = null;
      this.pending = new Map(); // op_id -> unacknowledged operation, resent after a reconnect
      // Connected once the page's scripts have all run: a page's later modules (the control room's
      // panels, the phone's video) register for the first snapshot, which must not come before them.
      this.socket = io({ auth: options.auth || {}, reconnectionDelayMax: 4000, autoConnect: false });
      this.socket.on('connect', () => {
        // A new connection's snapshot holds all that was committed; what an earlier connection left
        // waiting could name numbers a restarted server no longer has (docs/reliability.md).
        this.early.clear();
        if (this.buffer !== null) this.buffer = [];
        this.onStatus(true); this.resync(); this.resend();
      });
      this.socket.on('disconnect', () => this.onStatus(false));
      this.socket.on('connect_error', (err) => {
        this.onStatus(false);
        // Refused because the database was away for a moment: the client does not retry by itself.
        if (err && err.message === 'retry' && !this.socket.active) setTimeout(() => this.socket.connect(), later());
      });
      // The server's message queue came back after an outage: broadcasts may have been lost.
      this.socket.on('resync', () => this.resync());
      this.socket.onAny((name, message) => this.receive(name, message));
      if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', () => this.socket.connect(), { once: true });
      } else this.socket.connect();
    }

    receive(name, message) {
      if (!message || typeof message.seq !== 'number' || typeof message.stream !== 'string') return;
      if (this.buffer !== null || this.last === null) {
        if (this.buffer !== null) this.buffer.push([name, message]);
        return;
      }
      const last = this.last[message.stream] || 0;
      if (message.seq <= last) return;             // already in the snapshot
      if (message.prev !== last) {                  // ahead of its stream
        this.hold(name, message);
        return;
      }
      this.last[message.stream] = message.seq;
      // A new seat means another table's room and ideas: start again from a snapshot.
      if (name === 'seating_changed') { this.resync(); return; }
      this.onEvent(name, message);
      const key = message.stream + ' ' + message.seq;
      const next = this.early.get(key);
      if (next) {
        this.early.delete(key);
        this.receive(next[0], next[1]);
      }
    }

    // An event ahead of its stream overtook the one before it on the way (two server processes
    // send through Redis), or that one was lost: wait a second for it, then take a snapshot.
    hold(name, message) {
      this.early.set(message.stream + ' ' + message.prev, [name, message]);
      if (this.earlyTimer !== null) return;
      this.earlyTimer = setTimeout(() => {
        this.earlyTimer = null;
        if (this.early.size) this.resync();
      }, 1000);
    }

    resync() {
      if (this.buffer !== null) return;
      this.buffer = Array.from(this.early.values()); // replayed after the snapshot, like the rest
      this.early.clear();
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

  /* Make `target` look like `fresh` (a detached node built by el()) without replacing the nodes
     that stay: children are matched by data-key, else by position and tag. Handlers are given as
     on* properties (el's `onclick: fn`), so they are carried over; a kept input keeps what was
     typed (its value is never touched); a focused node that had to move gets its focus back. */
  const HANDLERS = ['onclick', 'oninput', 'onchange', 'onkeydown', 'onsubmit', 'ontoggle'];
  function patch(target, fresh) {
    Array.from(target.attributes).forEach((a) => { if (!fresh.hasAttribute(a.name)) target.removeAttribute(a.name); });
    Array.from(fresh.attributes).forEach((a) => {
      if (a.name === 'style') { if (target.style.cssText !== fresh.style.cssText) target.style.cssText = fresh.style.cssText; }
      else if (target.getAttribute(a.name) !== a.value) target.setAttribute(a.name, a.value);
    });
    HANDLERS.forEach((h) => { if (target[h] !== fresh[h]) target[h] = fresh[h]; });
    if ('disabled' in fresh && target.disabled !== fresh.disabled) target.disabled = fresh.disabled;
    // Nodes another script added (data-hook) stay where they are, untouched.
    const hook = (n) => n && n.nodeType === 1 && n.hasAttribute('data-hook');
    const old = Array.from(target.childNodes).filter((n) => !hook(n));
    const keyed = new Map();
    old.forEach((n) => { if (n.nodeType === 1 && n.dataset.key) keyed.set(n.dataset.key, n); });
    const used = new Set();
    let free = 0;
    const pairs = Array.from(fresh.childNodes).map((f) => {
      let o = null;
      const key = f.nodeType === 1 ? f.dataset.key : undefined;
      if (key !== undefined) o = keyed.get(key) || null;
      else {
        while (free < old.length && (used.has(old[free]) || (old[free].nodeType === 1 && old[free].dataset.key))) free++;
        o = old[free] || null;
      }
      if (o && (o.nodeType !== f.nodeType || o.nodeName !== f.nodeName || used.has(o))) o = null;
      if (o) used.add(o);
      return [o, f];
    });
    old.forEach((n) => { if (!used.has(n)) n.remove(); }); // first, so that kept nodes need not move
    let cursor = target.firstChild;
    pairs.forEach(([o, f]) => {
      if (o && o.nodeType === 1) patch(o, f);
      else if (o) { if (o.data !== f.data) o.data = f.data; }
      const node = o || f;
      while (hook(cursor)) cursor = cursor.nextSibling;
      if (node === cursor) cursor = cursor.nextSibling;
      else target.insertBefore(node, cursor);
    });
  }

  function morph(target, fresh) {
    const active = document.activeElement;
    patch(target, fresh);
    if (active && active !== document.activeElement && active.isConnected && target.contains(active)) active.focus({ preventScroll: true });
    return target;
  }

  /* Say something to a screen reader through the page's polite live region (#said). */
  function announce(text) {
    const region = document.getElementById('said');
    if (!region || !text) return;
    region.textContent = region.textContent === text ? text + '\u00a0' : text; // the same words again still count
  }

  window.Kurumaza = { Realtime: Realtime, uuid: uuid, i18n: i18n, fill: fill, el: el, morph: morph, announce: announce,
    connectionBanner: connectionBanner };
})();
