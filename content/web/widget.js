/*
 * Frontdesk chat widget. Embed it with one script tag:
 *
 *   <script src="https://chat.example.com/widget.js"
 *           data-title="Lumen & Co support" data-color="#2f6f5e" async></script>
 *
 * It loads widget.css from the same place, talks to ws(s)://<same place>/ws
 * (docs/protocol.md), and adds nothing to the page but one element with the
 * class "fd-root" and window.Frontdesk = {open, close, toggle}.
 *
 * Safety: no text from the network or the customer ever goes through
 * innerHTML. Customer, agent and system text is set with textContent; bot
 * text is a small Markdown subset turned into DOM nodes by renderMarkdown.
 */
(function () {
  'use strict';

  if (window.Frontdesk) {
    return; // included twice
  }

  // document.currentScript is only set while this runs synchronously.
  const script = document.currentScript || findScript();
  if (!script || !script.src) {
    return;
  }

  function findScript() {
    const all = document.getElementsByTagName('script');
    for (let i = all.length - 1; i >= 0; i--) {
      try {
        if (/\/widget\.js$/.test(new URL(all[i].src, location.href).pathname)) {
          return all[i];
        }
      } catch (e) {
        // a script without a usable src
      }
    }
    return null;
  }

  // Everything the widget fetches lives next to widget.js.
  const base = new URL('.', new URL(script.src, location.href));
  const cssURL = new URL('widget.css', base).href;
  const wsURL = (function () {
    const u = new URL('ws', base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = '';
    u.hash = '';
    return u.href;
  })();

  const title = (script.getAttribute('data-title') || '').trim() || 'Chat with us';
  const accent = validColor(script.getAttribute('data-color')) || '#335c81';

  // Limits of the server (docs/protocol.md).
  const MAX_TEXT = 2000; // characters (code points) of a message
  const MAX_FRAME = 4096; // bytes of a frame, or the server closes with 1009
  const TYPING_EVERY = 3000; // ms between typing frames
  const TYPING_SHOWN = 4000; // ms a typing indicator stays without news
  const RESEND_AFTER = 15000; // ms before an unacknowledged message is sent again
  const BURST = 8; // a little under the server's 10 messages at once ...
  const PER_SECOND = 0.9; // ... and 1 per second afterwards

  const TOKEN_KEY = 'frontdesk.token';
  const READ_KEY = 'frontdesk.read';

  const storage = {
    get(k) {
      try {
        return window.localStorage.getItem(k);
      } catch (e) {
        return null;
      }
    },
    set(k, v) {
      try {
        window.localStorage.setItem(k, v);
      } catch (e) {
        // storage disabled: the visitor is new on every page load
      }
    },
  };

  // ---- Connection and conversation state --------------------------------

  let token = storage.get(TOKEN_KEY) || '';
  const firstVisit = !token;

  let ws = null; // the current socket, or null
  let ready = false; // welcome received on ws
  let everReady = false;
  let wanted = false; // the widget wants to be connected
  let attempt = 0; // reconnects since the last stable connection
  let retryTimer = null;
  let connectedAt = 0;
  let slowConnect = false;

  let convId = '';
  let helloSeq = 0; // last_seq sent in the current hello
  let lastSeq = 0; // highest seq of a message frame seen on this page
  // linkCode is a one-time code from the page address (?link=…, made by
  // /web on Telegram): the first hello redeems it as a new visitor linked
  // to that customer.
  let linkCode = '';
  try {
    const u = new URL(window.location.href);
    linkCode = u.searchParams.get('link') || '';
    if (linkCode) {
      u.searchParams.delete('link');
      window.history.replaceState(null, '', u.toString());
    }
  } catch (e) {
    linkCode = '';
  }
  let readSeq = 0; // highest seq the customer has seen with the panel open
  let bySeq = new Map(); // seq -> record, current conversation
  let thread = []; // records of the current conversation, in display order
  const pendingById = new Map(); // client id -> record, not yet acknowledged
  let outbox = []; // unacknowledged customer messages, oldest first
  let inflight = []; // outbox entries sent on this socket, in send order
  let tokens = BURST;
  let tokensAt = Date.now();
  let holdUntil = 0;
  let pumpTimer = null;

  let isOpen = false;
  let unread = 0;
  let agentName = '';
  let lastTypingSent = 0;
  let typingTimer = null;
  let pendingProfile = null;
  let flashText = '';
  let flashKind = '';
  let flashTimer = null;

  // ---- DOM ---------------------------------------------------------------

  const uid = Math.random().toString(36).slice(2, 8);

  function h(tag, attrs, children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) {
          el.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
        }
      }
    }
    for (const c of children || []) {
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  const ICONS = {
    chat: 'M20 11.5a7.5 7.5 0 0 1-10.9 6.7L4 19.5l1.4-4.4A7.5 7.5 0 1 1 20 11.5z',
    close: 'M6 6l12 12M18 6L6 18',
    down: 'M6 9l6 6 6-6',
    send: 'M5 12h14M13 6l6 6-6 6',
  };

  function icon(name) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'fd-icon fd-icon-' + name);
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', ICONS[name]);
    svg.appendChild(p);
    return svg;
  }

  const root = h('div', { class: 'fd-root', hidden: true });
  root.style.setProperty('--fd-accent', accent);

  const unreadBadge = h('span', { class: 'fd-unread', 'data-testid': 'fd-unread', 'aria-hidden': 'true', hidden: true });
  const unreadText = h('span', { class: 'fd-sr', id: 'fd-unread-text-' + uid });
  const launcher = h('button', {
    type: 'button',
    class: 'fd-launcher',
    'data-testid': 'fd-launcher',
    'aria-label': 'Open chat',
    'aria-expanded': 'false',
    'aria-controls': 'fd-panel-' + uid,
  }, [icon('chat'), icon('down'), unreadBadge]);

  const titleEl = h('div', { class: 'fd-title', title }, [title]);
  const humanBtn = h('button', { type: 'button', class: 'fd-human', 'data-testid': 'fd-human' }, ['Talk to a person']);
  const closeBtn = h('button', { type: 'button', class: 'fd-close', 'data-testid': 'fd-close', 'aria-label': 'Close chat' }, [icon('close')]);
  // Shown when the welcome offers Telegram; asks for a one-time link.
  const tgBtn = h('button', { type: 'button', class: 'fd-human fd-telegram', 'data-testid': 'fd-telegram', hidden: true }, ['Continue on Telegram']);
  const header = h('div', { class: 'fd-header' }, [titleEl, tgBtn, humanBtn, closeBtn]);
  const tgLink = h('a', { class: 'fd-notice fd-telegram-link', 'data-testid': 'fd-telegram-link', target: '_blank', rel: 'noopener', hidden: true }, ['Open Telegram to continue this chat']);

  const statusEl = h('div', { class: 'fd-status', 'data-testid': 'fd-status', role: 'status', hidden: true });

  const typingEl = h('div', { class: 'fd-typing', 'data-testid': 'fd-typing', 'aria-hidden': 'true', hidden: true },
    [h('span', { class: 'fd-dot' }), h('span', { class: 'fd-dot' }), h('span', { class: 'fd-dot' })]);
  const qrBox = h('div', { class: 'fd-quick-replies', role: 'group', 'aria-label': 'Suggested replies' });
  const list = h('div', {
    class: 'fd-messages',
    'data-testid': 'fd-messages',
    role: 'log',
    'aria-live': 'polite',
    'aria-label': 'Messages',
    tabindex: '0',
  }, [typingEl]);

  const noticeEl = h('div', { class: 'fd-notice', 'data-testid': 'fd-notice', role: 'status', hidden: true });

  const nameInput = h('input', { class: 'fd-field', id: 'fd-name-' + uid, type: 'text', name: 'name', autocomplete: 'name', maxlength: '100', placeholder: 'Name' });
  const emailInput = h('input', { class: 'fd-field', id: 'fd-email-' + uid, type: 'email', name: 'email', autocomplete: 'email', maxlength: '200', placeholder: 'Email' });
  const skipBtn = h('button', { type: 'button', class: 'fd-skip', 'data-testid': 'fd-prechat-skip' }, ['Skip']);
  const prechat = h('form', { class: 'fd-prechat', 'data-testid': 'fd-prechat', 'aria-labelledby': 'fd-prechat-title-' + uid, hidden: true }, [
    h('div', { class: 'fd-prechat-head' }, [
      h('span', { id: 'fd-prechat-title-' + uid }, ['Tell us your name (optional)']),
      skipBtn,
    ]),
    h('div', { class: 'fd-prechat-row' }, [
      h('label', { class: 'fd-sr', for: nameInput.id }, ['Your name']), nameInput,
      h('label', { class: 'fd-sr', for: emailInput.id }, ['Your email']), emailInput,
      h('button', { type: 'submit', class: 'fd-start', 'data-testid': 'fd-prechat-start' }, ['Start']),
    ]),
  ]);

  const input = h('textarea', {
    class: 'fd-input',
    'data-testid': 'fd-input',
    id: 'fd-input-' + uid,
    rows: '1',
    placeholder: 'Type your question\u2026',
    autocomplete: 'off',
  });
  const sendBtn = h('button', { type: 'submit', class: 'fd-send', 'data-testid': 'fd-send', 'aria-label': 'Send' }, [icon('send')]);
  const composer = h('form', { class: 'fd-composer' }, [
    h('label', { class: 'fd-sr', for: input.id }, ['Your message']),
    input,
    sendBtn,
  ]);

  const panel = h('div', {
    class: 'fd-panel',
    id: 'fd-panel-' + uid,
    role: 'dialog',
    'aria-label': title,
    hidden: true,
  }, [header, statusEl, list, noticeEl, tgLink, prechat, composer]);

  root.appendChild(launcher);
  root.appendChild(unreadText);
  root.appendChild(panel);

  // ---- Markdown (bot text) -------------------------------------------------

  //@frontdesk:include markdown.js

  // ---- Messages ------------------------------------------------------------

  const SENDERS = ['customer', 'bot', 'agent', 'system'];

  function senderLabel(from) {
    switch (from) {
      case 'customer': return 'You';
      case 'bot': return 'Assistant';
      case 'agent': return agentName || 'Our team';
      default: return 'Notice';
    }
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  // makeRecord builds a message element; rec.el is what the list shows.
  function makeRecord(from, text, time, quickReplies) {
    if (SENDERS.indexOf(from) < 0) {
      from = 'system';
    }
    text = typeof text === 'string' ? text : '';
    const el = h('div', { class: 'fd-message fd-from-' + from, 'data-testid': 'fd-message', 'data-from': from });
    el.appendChild(h('span', { class: 'fd-sr' }, [senderLabel(from) + ': ']));
    const bubble = h('div', { class: 'fd-bubble' });
    if (from === 'bot') {
      bubble.classList.add('fd-md');
      renderMarkdown(bubble, text);
    } else {
      bubble.classList.add('fd-plain');
      bubble.textContent = text;
    }
    el.appendChild(bubble);
    const meta = h('div', { class: 'fd-meta' });
    el.appendChild(meta);
    const rec = { el, meta, from, seq: 0, id: '', minute: '', qr: validReplies(quickReplies) };
    setTime(rec, time);
    return rec;
  }

  function validReplies(qr) {
    if (!Array.isArray(qr)) {
      return [];
    }
    return qr.filter((q) => q && typeof q.label === 'string' && q.label.trim())
      .map((q) => ({ label: q.label, payload: typeof q.payload === 'string' ? q.payload : '' }));
  }

  function setTime(rec, time) {
    const d = time ? new Date(time) : null;
    rec.meta.textContent = '';
    rec.minute = '';
    if (rec.from === 'agent') {
      rec.meta.appendChild(h('span', { class: 'fd-who' }, [agentName || 'Our team']));
    }
    if (d && !isNaN(d.getTime()) && d.getFullYear() > 2000) {
      rec.minute = pad(d.getHours()) + ':' + pad(d.getMinutes());
      rec.meta.appendChild(h('time', { datetime: d.toISOString(), title: d.toLocaleString() }, [rec.minute]));
    }
  }

  function setPendingMeta(rec, text) {
    let s = rec.meta.querySelector('.fd-state');
    if (!text) {
      if (s) {
        s.remove();
      }
      return;
    }
    if (!s) {
      s = h('span', { class: 'fd-state' });
      rec.meta.appendChild(s);
    }
    s.textContent = text;
  }

  // insertRecord puts rec into the thread: messages with a seq in seq
  // order, pending ones (no seq yet) after them, in the order sent.
  function insertRecord(rec) {
    const at = thread.indexOf(rec);
    if (at >= 0) {
      thread.splice(at, 1);
    }
    let i = thread.length;
    if (rec.seq) {
      while (i > 0 && (!thread[i - 1].seq || thread[i - 1].seq > rec.seq)) {
        i--;
      }
    }
    thread.splice(i, 0, rec);
    const next = i + 1 < thread.length ? thread[i + 1].el : typingEl;
    list.insertBefore(rec.el, next);
    group(i - 1);
    group(i);
    group(i + 1);
  }

  // group hides the time of a message when the next one is from the same
  // sender in the same minute, so a run of messages shows it once.
  function group(i) {
    const r = thread[i];
    if (!r) {
      return;
    }
    const n = thread[i + 1];
    const same = !!n && n.from === r.from && n.minute === r.minute && !!r.seq && !!n.seq && r.from !== 'system';
    r.el.classList.toggle('fd-grouped', same);
  }

  // refreshQuickReplies shows the quick replies of the latest message
  // only: once anything newer is in the thread, they are gone.
  function refreshQuickReplies() {
    if (qrBox.parentNode) {
      qrBox.parentNode.removeChild(qrBox);
    }
    qrBox.textContent = '';
    const last = thread[thread.length - 1];
    if (!last || !last.seq || !last.qr.length) {
      return;
    }
    for (const q of last.qr) {
      const b = h('button', { type: 'button', class: 'fd-qr', 'data-testid': 'fd-quick-reply' }, [q.label]);
      b.addEventListener('click', () => {
        if (submit(q.label, q.payload)) {
          input.focus();
        }
      });
      qrBox.appendChild(b);
    }
    list.insertBefore(qrBox, typingEl);
  }

  // stuck is whether the list is scrolled to (near) its end; while it is,
  // new content and a shrinking list (status bar, notice, phone keyboard)
  // keep the latest message in view.
  let stuck = true;

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function scrollToBottom() {
    list.scrollTop = list.scrollHeight;
    stuck = true;
  }

  list.addEventListener('scroll', () => {
    if (list.clientHeight) {
      stuck = nearBottom();
    }
  });
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      if (stuck) {
        scrollToBottom();
      }
    }).observe(list);
  }

  // ---- Sending ---------------------------------------------------------------

  function newId() {
    const b = new Uint8Array(12);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(b);
    } else {
      for (let i = 0; i < b.length; i++) {
        b[i] = Math.floor(Math.random() * 256);
      }
    }
    return 'c_' + Array.prototype.map.call(b, (x) => (x < 16 ? '0' : '') + x.toString(16)).join('');
  }

  function byteLength(s) {
    return window.TextEncoder ? new TextEncoder().encode(s).length : s.length * 3;
  }

  // submit shows a customer message at once (pending) and queues it in the
  // outbox, which sends it and, after a reconnect, sends it again with the
  // same id until the server acknowledges it. It returns false when the
  // message was refused before sending.
  function submit(text, payload) {
    text = String(text || '').trim();
    if (!text && !payload) {
      return false;
    }
    if (Array.from(text).length > MAX_TEXT) {
      flash('That message is too long: please keep it to ' + MAX_TEXT.toLocaleString('en') + ' characters or fewer.', 'error');
      return false;
    }
    const id = newId();
    const frame = { type: 'message', id, text };
    if (payload) {
      frame.payload = payload;
    }
    if (byteLength(JSON.stringify(frame)) > MAX_FRAME - 64) {
      flash('That message is too long: please shorten it or split it in two.', 'error');
      return false;
    }
    hidePrechat();
    const rec = makeRecord('customer', text, new Date().toISOString(), null);
    rec.id = id;
    rec.el.setAttribute('data-pending', 'true');
    setPendingMeta(rec, 'Sending\u2026');
    insertRecord(rec);
    pendingById.set(id, rec);
    outbox.push({ frame, rec, sentAt: 0, inflight: false });
    refreshQuickReplies();
    scrollToBottom();
    connect();
    pump();
    return true;
  }

  function refill(now) {
    tokens = Math.min(BURST, tokens + ((now - tokensAt) / 1000) * PER_SECOND);
    tokensAt = now;
  }

  // pump sends what the outbox holds, pacing itself to stay inside the
  // server's rate limit, and re-sends messages left unacknowledged.
  function pump() {
    clearTimeout(pumpTimer);
    pumpTimer = null;
    if (!ready || !outbox.length) {
      return;
    }
    const now = Date.now();
    let waiting = false;
    for (const e of outbox) {
      if (e.inflight && now - e.sentAt < RESEND_AFTER) {
        continue;
      }
      refill(now);
      if (now < holdUntil || tokens < 1) {
        waiting = true;
        break;
      }
      tokens--;
      if (!sendFrame(e.frame)) {
        return;
      }
      inflight = inflight.filter((x) => x !== e);
      inflight.push(e);
      e.inflight = true;
      e.sentAt = now;
    }
    const wait = waiting ? Math.max(holdUntil - now, 1100) : 5000;
    pumpTimer = setTimeout(pump, wait);
  }

  function sendFrame(f) {
    if (!ws || ws.readyState !== 1) {
      return false;
    }
    ws.send(JSON.stringify(f));
    return true;
  }

  // bind ties a pending message to the seq the server stored it under.
  function bind(rec, seq) {
    pendingById.delete(rec.id);
    outbox = outbox.filter((e) => e.rec !== rec);
    inflight = inflight.filter((e) => e.rec !== rec);
    rec.seq = seq;
    rec.el.removeAttribute('data-pending');
    rec.el.setAttribute('data-seq', String(seq));
    setPendingMeta(rec, '');
    bySeq.set(seq, rec);
    insertRecord(rec);
  }

  // fail marks the oldest message in flight as refused by the server.
  function failOldest() {
    const e = inflight.shift();
    if (!e) {
      return;
    }
    outbox = outbox.filter((x) => x !== e);
    pendingById.delete(e.rec.id);
    e.rec.el.removeAttribute('data-pending');
    e.rec.el.setAttribute('data-failed', 'true');
    setPendingMeta(e.rec, 'Not sent');
  }

  // ---- Connection ------------------------------------------------------------

  function connect() {
    wanted = true;
    if (ws || retryTimer) {
      return;
    }
    if (!everReady && !slowConnect) {
      setTimeout(() => {
        slowConnect = true;
        renderNotice();
      }, 1500);
    }
    let sock;
    try {
      sock = new WebSocket(wsURL);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onopen = () => {
      if (ws !== sock) {
        return;
      }
      connectedAt = Date.now();
      helloSeq = lastSeq;
      if (linkCode) {
        helloSeq = 0;
        sendFrame({ type: 'hello', token: '', last_seq: 0, link: linkCode });
        linkCode = '';
      } else {
        sendFrame({ type: 'hello', token, last_seq: lastSeq });
      }
    };
    sock.onmessage = (ev) => {
      if (ws !== sock) {
        return;
      }
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f && typeof f === 'object') {
        onFrame(f);
      }
    };
    sock.onclose = () => {
      if (ws !== sock) {
        return;
      }
      if (ready && Date.now() - connectedAt > 5000) {
        attempt = 0; // it was a working connection: retry quickly
      }
      ws = null;
      ready = false;
      inflight = [];
      for (const e of outbox) {
        e.inflight = false;
      }
      hideTyping();
      renderNotice();
      scheduleReconnect();
    };
  }

  // scheduleReconnect waits 0.5 s, doubling to 15 s, with jitter.
  function scheduleReconnect() {
    if (retryTimer || !wanted) {
      return;
    }
    const delay = Math.min(15000, 500 * Math.pow(2, attempt));
    attempt++;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, delay / 2 + Math.random() * (delay / 2));
  }

  // reconnectNow drops the socket and says hello again at once.
  function reconnectNow() {
    const old = ws;
    ws = null;
    ready = false;
    inflight = [];
    for (const e of outbox) {
      e.inflight = false;
    }
    if (old) {
      old.onclose = null;
      old.close(1000);
    }
    connect();
  }

  window.addEventListener('online', () => {
    if (retryTimer) {
      clearTimeout(retryTimer);
      retryTimer = null;
      attempt = 0;
      connect();
    }
  });

  function onFrame(f) {
    switch (f.type) {
      case 'welcome':
        endDrafts();
        onWelcome(f);
        break;
      case 'draft':
        onDraft(f);
        break;
      case 'message':
        onMessage(f);
        break;
      case 'ack':
        onAck(f);
        break;
      case 'state':
        setState(f.state, f.agent);
        break;
      case 'typing':
        showTyping(f.from);
        break;
      case 'error':
        onError(f);
        break;
      case 'link':
        onLink(f);
        break;
    }
  }

  function onWelcome(f) {
    if (typeof f.token === 'string' && f.token) {
      token = f.token;
      storage.set(TOKEN_KEY, token);
    }
    const conv = typeof f.conversation_id === 'string' ? f.conversation_id : '';
    if (convId && conv && conv !== convId) {
      // The old conversation was closed and this is a new one, whose seqs
      // start again at 1: what we have seen says nothing about it.
      startNewThread(conv);
      if (helloSeq > 0) {
        reconnectNow(); // the server would skip the first helloSeq messages
        return;
      }
    }
    if (!convId) {
      convId = conv;
      readSeq = loadRead(conv);
    }
    ready = true;
    everReady = true;
    tgBtn.hidden = !(Array.isArray(f.channels) && f.channels.indexOf('telegram') >= 0);
    setState(f.state, '');
    if (f.customer && typeof f.customer.name === 'string' && f.customer.name) {
      hidePrechat();
    }
    renderNotice();
    if (pendingProfile) {
      sendProfile();
    }
    pump();
  }

  function startNewThread(conv) {
    const pending = thread.filter((r) => !r.seq);
    const old = thread.filter((r) => r.seq);
    thread = [];
    bySeq = new Map();
    lastSeq = 0;
    convId = conv;
    readSeq = loadRead(conv);
    if (old.length) {
      list.insertBefore(h('div', { class: 'fd-divider', role: 'separator' }, ['New conversation']), pending.length ? pending[0].el : typingEl);
    }
    for (const r of pending) {
      insertRecord(r);
    }
    refreshQuickReplies();
  }

  function onMessage(f) {
    const seq = Number(f.seq);
    if (!Number.isInteger(seq) || seq <= 0) {
      return;
    }
    if (seq > lastSeq) {
      lastSeq = seq;
    }
    if (bySeq.has(seq)) {
      return; // seen already: never twice
    }
    if (f.from !== 'customer') {
      endDrafts(); // the turn's message replaces the answer being written
    }
    const stick = stuck;
    let rec = f.from === 'customer' && f.id ? pendingById.get(f.id) : null;
    if (rec) {
      bind(rec, seq); // our own message's echo
    } else {
      rec = makeRecord(f.from, f.text, f.time, f.quick_replies);
      rec.seq = seq;
      rec.el.setAttribute('data-seq', String(seq));
      bySeq.set(seq, rec);
      insertRecord(rec);
    }
    if (rec.from !== 'customer') {
      hideTyping();
      if (!isOpen && (rec.from === 'bot' || rec.from === 'agent') && seq > readSeq) {
        unread++;
        renderBadge();
      }
    }
    if (isOpen) {
      markRead();
    }
    refreshQuickReplies();
    if (stick || rec.from === 'customer') {
      scrollToBottom();
    }
  }

  // ---- Drafts: a bot answer still being written -----------------------------

  // drafts maps a draft id to its element. A draft is shown below the
  // thread, hidden from screen readers (the finished message is read
  // out), and removed when the turn's next message arrives.
  const drafts = new Map();

  function onDraft(f) {
    if (typeof f.id !== 'string' || !f.id || typeof f.text !== 'string') {
      return;
    }
    const stick = stuck;
    let el = drafts.get(f.id);
    if (!el) {
      el = makeRecord('bot', '', null, []).el;
      el.setAttribute('data-testid', 'fd-draft');
      el.setAttribute('aria-hidden', 'true');
      el.classList.add('fd-draft');
      drafts.set(f.id, el);
      list.insertBefore(el, typingEl);
    }
    const bubble = el.querySelector('.fd-bubble');
    bubble.textContent = '';
    renderMarkdown(bubble, f.text);
    hideTyping();
    if (stick) {
      scrollToBottom();
    }
  }

  function endDrafts() {
    for (const el of drafts.values()) {
      el.remove();
    }
    drafts.clear();
  }

  // onAck binds a pending message to its seq. The ack does not move
  // lastSeq: it can overtake messages stored before it (docs/protocol.md).
  function onAck(f) {
    const rec = pendingById.get(f.id);
    const seq = Number(f.seq);
    if (!rec || !Number.isInteger(seq) || seq <= 0) {
      return;
    }
    if (bySeq.has(seq)) {
      return;
    }
    bind(rec, seq);
    refreshQuickReplies();
  }

  // onLink shows the one-time link to continue on another channel; the
  // customer follows it (a link opened by script would be blocked).
  function onLink(f) {
    if (f.channel !== 'telegram' || typeof f.url !== 'string' || f.url.indexOf('https://t.me/') !== 0) {
      return;
    }
    tgLink.href = f.url;
    tgLink.hidden = false;
    tgLink.focus();
  }

  function onError(f) {
    const code = String(f.code || '');
    if (code === 'unavailable') {
      tgBtn.hidden = true;
    }
    let msg = typeof f.message === 'string' && f.message ? f.message : 'Something went wrong. Please try again.';
    msg = msg.charAt(0).toUpperCase() + msg.slice(1);
    // Error frames carry no message id, but the server answers a socket's
    // frames in order: an error about a message is about the oldest one
    // still waiting for its ack.
    if (code === 'rate_limited') {
      const e = inflight.shift();
      if (e) {
        e.inflight = false;
      }
      holdUntil = Date.now() + 2000;
      tokens = 0;
      pump();
    } else if (code === 'too_large' || code === 'bad_frame') {
      failOldest();
    }
    flash(msg, 'error');
  }

  // ---- State, typing, notices ----------------------------------------------

  function setState(state, agent) {
    if (typeof state !== 'string' || !state) {
      return;
    }
    panel.setAttribute('data-state', state);
    if (state === 'agent') {
      if (typeof agent === 'string' && agent) {
        agentName = agent;
      }
    } else {
      agentName = '';
    }
    let text = '';
    if (state === 'queued') {
      text = 'Waiting for a person from our team\u2026';
    } else if (state === 'agent') {
      text = 'You\'re chatting with ' + (agentName || 'our team');
    } else if (state === 'closed') {
      text = 'Conversation closed';
    }
    statusEl.textContent = text;
    statusEl.hidden = !text;
    statusEl.setAttribute('data-state', state);
    humanBtn.hidden = state === 'queued' || state === 'agent';
  }

  function showTyping(from) {
    if (from !== 'bot' && from !== 'agent') {
      return;
    }
    const stick = stuck;
    typingEl.hidden = false;
    typingEl.setAttribute('data-from', from);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN);
    if (stick) {
      scrollToBottom();
    }
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typingEl.hidden = true;
  }

  function flash(text, kind) {
    flashText = text;
    flashKind = kind || 'info';
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      flashText = '';
      renderNotice();
    }, 6000);
    renderNotice();
  }

  function renderNotice() {
    let text = flashText;
    let kind = flashKind;
    if (!text && wanted && !ready) {
      text = everReady ? 'Reconnecting\u2026' : slowConnect ? 'Connecting\u2026' : '';
      kind = 'connection';
    }
    noticeEl.textContent = text;
    noticeEl.setAttribute('data-kind', kind);
    noticeEl.hidden = !text;
  }

  function renderBadge() {
    unreadBadge.textContent = unread > 9 ? '9+' : String(unread);
    unreadBadge.hidden = unread === 0;
    if (unread > 0) {
      unreadText.textContent = unread === 1 ? '1 unread message' : unread + ' unread messages';
      launcher.setAttribute('aria-describedby', unreadText.id);
    } else {
      unreadText.textContent = '';
      launcher.removeAttribute('aria-describedby');
    }
  }

  function loadRead(conv) {
    try {
      const r = JSON.parse(storage.get(READ_KEY) || 'null');
      return r && r.c === conv && Number.isInteger(r.s) ? r.s : 0;
    } catch (e) {
      return 0;
    }
  }

  function markRead() {
    unread = 0;
    renderBadge();
    if (convId && lastSeq > readSeq) {
      readSeq = lastSeq;
      storage.set(READ_KEY, JSON.stringify({ c: convId, s: readSeq }));
    }
  }

  // ---- Pre-chat form ---------------------------------------------------------

  function hidePrechat() {
    prechat.hidden = true;
  }

  function sendProfile() {
    if (ready && sendFrame({ type: 'profile', name: pendingProfile.name, email: pendingProfile.email })) {
      pendingProfile = null;
    } else {
      connect();
    }
  }

  prechat.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = nameInput.value.trim().slice(0, 100);
    const email = emailInput.value.trim().slice(0, 200);
    hidePrechat();
    input.focus();
    if (!name && !email) {
      return;
    }
    pendingProfile = { name, email };
    sendProfile();
    flash(name ? 'Thanks, ' + name + '!' : 'Thanks!', 'info');
  });

  skipBtn.addEventListener('click', () => {
    hidePrechat();
    input.focus();
  });

  // ---- Panel -----------------------------------------------------------------

  function openPanel() {
    if (isOpen) {
      return;
    }
    isOpen = true;
    panel.hidden = false;
    root.classList.add('fd-open');
    launcher.setAttribute('aria-expanded', 'true');
    launcher.setAttribute('aria-label', 'Close chat');
    markRead();
    connect();
    renderNotice();
    scrollToBottom();
    input.focus({ preventScroll: true });
  }

  function closePanel(returnFocus) {
    if (!isOpen) {
      return;
    }
    isOpen = false;
    panel.hidden = true;
    root.classList.remove('fd-open');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', 'Open chat');
    if (returnFocus) {
      launcher.focus();
    }
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 140) + 'px';
  }

  launcher.addEventListener('click', () => (isOpen ? closePanel(false) : openPanel()));
  closeBtn.addEventListener('click', () => closePanel(true));
  tgBtn.addEventListener('click', () => {
    if (ready) {
      sendFrame({ type: 'link', channel: 'telegram' });
    }
  });

  humanBtn.addEventListener('click', () => {
    submit('Talk to a person', 'human');
    input.focus();
  });
  root.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && isOpen) {
      e.stopPropagation();
      closePanel(true);
    }
  });

  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    if (submit(input.value, '')) {
      input.value = '';
      autosize();
    }
    input.focus();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event('submit', { cancelable: true }));
    }
  });
  input.addEventListener('input', () => {
    autosize();
    const now = Date.now();
    if (input.value.trim() && ready && now - lastTypingSent >= TYPING_EVERY) {
      lastTypingSent = now;
      sendFrame({ type: 'typing' });
    }
  });

  // ---- Start -------------------------------------------------------------------

  function validColor(v) {
    v = (v || '').trim();
    return v && window.CSS && CSS.supports && CSS.supports('color', v) ? v : '';
  }

  // pickTextColor chooses white or near-black text on the accent colour,
  // whichever contrasts more, and a readable accent for text on white.
  function pickTextColor() {
    const probe = document.createElement('span');
    probe.style.color = accent;
    root.appendChild(probe);
    const m = /rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/.exec(getComputedStyle(probe).color);
    root.removeChild(probe);
    if (!m) {
      return;
    }
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    const lum = (r, g, b) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    const rgb = [+m[1], +m[2], +m[3]];
    const L = lum(rgb[0], rgb[1], rgb[2]);
    const onWhite = 1.05 / (L + 0.05);
    const onDark = (L + 0.05) / 0.0575;
    root.style.setProperty('--fd-on-accent', onWhite >= onDark ? '#ffffff' : '#14171f');
    // Links and quick replies use the accent as text on white: darken it
    // until it reaches a 4.5:1 contrast.
    let f = 1;
    while (f > 0 && 1.05 / (lum(rgb[0] * f, rgb[1] * f, rgb[2] * f) + 0.05) < 4.5) {
      f -= 0.05;
    }
    const ink = rgb.map((c) => Math.round(c * Math.max(f, 0)));
    root.style.setProperty('--fd-accent-ink', 'rgb(' + ink.join(', ') + ')');
  }

  function loadStyles(done) {
    for (const l of document.querySelectorAll('link[rel="stylesheet"]')) {
      if (l.href === cssURL) {
        done();
        return;
      }
    }
    const l = document.createElement('link');
    l.rel = 'stylesheet';
    l.href = cssURL;
    l.addEventListener('load', done);
    l.addEventListener('error', done);
    (document.head || document.documentElement).appendChild(l);
    setTimeout(done, 4000);
  }

  function mount() {
    document.body.appendChild(root);
    pickTextColor();
    if (firstVisit) {
      prechat.hidden = false;
    }
    let shown = false;
    loadStyles(() => {
      if (!shown) {
        shown = true;
        root.hidden = false;
      }
    });
    if (token) {
      connect(); // a returning visitor sees new replies on the badge
    }
  }

  window.Frontdesk = Object.freeze({
    open: openPanel,
    close: () => closePanel(false),
    toggle: () => (isOpen ? closePanel(false) : openPanel()),
  });

  if (document.body) {
    mount();
  } else {
    document.addEventListener('DOMContentLoaded', mount);
  }
})();
