/*
 * Frontdesk chat widget. Embed it with one script tag:
 *
 *   <script src="https://chat.example.com/widget.js"
 *           data-title="Lumen & Co support" data-color="#2f6f5e" async></script>
 *
 * It loads widget.css from the same place, talks to ws(s)://<same place>/ws
 * (docs/protocol.md), and adds nothing to the page but one element with the
 * class "fd-root" and window.Frontdesk = {open, close, toggle, identify,
 * reset}. A shop whose customer is logged in tells who they are with
 * Frontdesk.identify({user_id, name, email, attributes, user_hash}), or by
 * setting window.FrontdeskIdentity to that object before this script loads;
 * user_hash is the HMAC its server signs user_id with (docs/protocol.md).
 * Frontdesk.reset() on logout starts a fresh anonymous visitor.
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
  // identity is who the shop says the visitor is (see identify), sent
  // with every hello; null for an anonymous visitor.
  let identity = cleanIdentity(window.FrontdeskIdentity);
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

  //@frontdesk:include dom.js

  const ICONS = {
    chat: 'M20 11.5a7.5 7.5 0 0 1-10.9 6.7L4 19.5l1.4-4.4A7.5 7.5 0 1 1 20 11.5z',
    close: 'M6 6l12 12M18 6L6 18',
    down: 'M6 9l6 6 6-6',
    send: 'M5 12h14M13 6l6 6-6 6',
    clip: 'M21 11.5l-8.5 8.5a5 5 0 0 1-7-7L14 4.5a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4L15.5 7.6',
    smile: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM8.5 14.5a4.5 4.5 0 0 0 7 0M9 9.5h.01M15 9.5h.01',
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

  // The first screen, at the top of the messages until the customer
  // writes: who answers and how fast (measured by the server), common
  // questions and a search of the help articles (GET /home).
  const homeEl = h('section', { class: 'fd-home', 'data-testid': 'fd-home', 'aria-label': 'Help', hidden: true });
  let homeLoaded = false;
  let homeDone = false;

  const nameInput = h('input', { class: 'fd-field', id: 'fd-name-' + uid, type: 'text', name: 'name', autocomplete: 'name', maxlength: '100' });
  const emailInput = h('input', { class: 'fd-field', id: 'fd-email-' + uid, type: 'email', name: 'email', autocomplete: 'email', maxlength: '200' });
  const skipBtn = h('button', { type: 'button', class: 'fd-skip', 'data-testid': 'fd-prechat-skip' }, ['Skip']);
  // The pre-chat form sits at the top, under the header, until the first
  // message: both fields are optional, and say so.
  const prechat = h('form', { class: 'fd-prechat', 'data-testid': 'fd-prechat', 'aria-labelledby': 'fd-prechat-title-' + uid, hidden: true }, [
    h('div', { class: 'fd-prechat-head' }, [
      h('span', { id: 'fd-prechat-title-' + uid }, ['Introduce yourself (optional)']),
      skipBtn,
    ]),
    h('div', { class: 'fd-prechat-row' }, [
      h('div', null, [h('label', { class: 'fd-prechat-label', for: nameInput.id }, ['Name']), nameInput]),
      h('div', null, [h('label', { class: 'fd-prechat-label', for: emailInput.id }, ['Email']), emailInput]),
      h('button', { type: 'submit', class: 'fd-start', 'data-testid': 'fd-prechat-start' }, ['Save']),
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
  // Attachments: images and PDFs, sent over HTTP (docs/protocol.md).
  const fileInput = h('input', { type: 'file', class: 'fd-sr', 'data-testid': 'fd-file', tabindex: '-1', 'aria-hidden': 'true',
    accept: 'image/png,image/jpeg,image/gif,image/webp,application/pdf' });
  const attachBtn = h('button', { type: 'button', class: 'fd-tool', 'data-testid': 'fd-attach', 'aria-label': 'Send a photo or PDF', title: 'Send a photo or PDF' }, [icon('clip')]);
  const emojiBtn = h('button', { type: 'button', class: 'fd-tool', 'data-testid': 'fd-emoji', 'aria-label': 'Insert an emoji', 'aria-expanded': 'false', title: 'Emoji' }, [icon('smile')]);
  const EMOJI = ['\u{1F600}', '\u{1F642}', '\u{1F609}', '\u{1F60A}', '\u{1F602}', '\u{1F60D}', '\u{1F914}', '\u{1F615}',
    '\u{1F622}', '\u{1F620}', '\u{1F44D}', '\u{1F44E}', '\u{1F64F}', '\u{1F44B}', '\u{2764}\u{FE0F}', '\u{1F389}',
    '\u{1F4A1}', '\u{1F4E6}', '\u{2705}', '\u{274C}'];
  const emojiBox = h('div', { class: 'fd-emoji-box', 'data-testid': 'fd-emoji-box', role: 'group', 'aria-label': 'Emoji', hidden: true },
    EMOJI.map((e) => h('button', { type: 'button', class: 'fd-emoji-pick', 'data-testid': 'fd-emoji-pick' }, [e])));
  const composer = h('form', { class: 'fd-composer' }, [
    h('label', { class: 'fd-sr', for: input.id }, ['Your message']),
    attachBtn,
    fileInput,
    input,
    emojiBtn,
    sendBtn,
  ]);

  const panel = h('div', {
    class: 'fd-panel',
    id: 'fd-panel-' + uid,
    role: 'dialog',
    'aria-label': title,
    hidden: true,
  }, [header, statusEl, prechat, list, noticeEl, tgLink, emojiBox, composer]);

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

  // initials are up to two letters of a name, for an avatar.
  function initials(name) {
    const parts = String(name).trim().split(/\s+/).filter(Boolean);
    const first = (w) => Array.from(w)[0] || '';
    return ((parts.length > 1 ? first(parts[0]) + first(parts[parts.length - 1]) : first(parts[0] || '?'))).toUpperCase();
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  // makeRecord builds a message element; rec.el is what the list shows.
  function makeRecord(from, text, time, quickReplies, attachment, localFile) {
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
    const att = validAttachment(attachment);
    if (att) {
      if (text) {
        bubble.appendChild(document.createTextNode('\n'));
      }
      bubble.appendChild(renderAttachment(att, localFile));
    }
    el.appendChild(bubble);
    const meta = h('div', { class: 'fd-meta' });
    el.appendChild(meta);
    const rec = { el, meta, from, seq: 0, id: '', minute: '', day: '', dayEl: null, qr: validReplies(quickReplies) };
    setTime(rec, time);
    return rec;
  }

  function validAttachment(a) {
    if (!a || typeof a !== 'object' || typeof a.id !== 'string' || !/^att_[0-9a-f]+$/.test(a.id)) {
      return null;
    }
    return { id: a.id, name: typeof a.name === 'string' && a.name ? a.name : 'file',
      type: typeof a.type === 'string' ? a.type : '', size: Number(a.size) || 0 };
  }

  function sizeText(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.round(n / 1024)) + ' KB';
  }

  // attachmentURL is where the current conversation's file is served.
  function attachmentURL(id) {
    return new URL('attachments/' + encodeURIComponent(convId) + '/' + encodeURIComponent(id), base).href;
  }

  // fetchAttachment gets a file with the visitor's token: only the
  // conversation's customer may, so it cannot be a plain link.
  function fetchAttachment(id) {
    return fetch(attachmentURL(id), { headers: { Authorization: 'Bearer ' + token }, credentials: 'omit' })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error('HTTP ' + r.status))));
  }

  // renderAttachment shows an image inline and a PDF as a file to open;
  // localFile is the customer's own file while it is being sent.
  function renderAttachment(att, localFile) {
    if (att.type.indexOf('image/') === 0) {
      const img = h('img', { class: 'fd-attachment-img', 'data-testid': 'fd-attachment', alt: att.name, 'data-name': att.name });
      const show = (blob) => {
        img.src = URL.createObjectURL(blob);
        img.addEventListener('load', () => {
          if (stuck) {
            scrollToBottom();
          }
        }, { once: true });
      };
      if (localFile) {
        show(localFile);
      } else {
        fetchAttachment(att.id).then(show, () => img.setAttribute('alt', att.name + ' (could not be loaded)'));
      }
      return img;
    }
    const btn = h('button', { type: 'button', class: 'fd-attachment-file', 'data-testid': 'fd-attachment', 'data-name': att.name },
      [att.name + ' (PDF' + (att.size ? ', ' + sizeText(att.size) : '') + ')']);
    btn.addEventListener('click', () => {
      const open = (blob) => {
        const a = h('a', { href: URL.createObjectURL(blob), download: att.name });
        document.body.appendChild(a);
        a.click();
        a.remove();
      };
      if (localFile) {
        open(localFile);
      } else {
        fetchAttachment(att.id).then(open, () => flash('That file could not be loaded. Please try again.', 'error'));
      }
    });
    return btn;
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
      rec.meta.appendChild(h('span', { class: 'fd-avatar', 'aria-hidden': 'true' }, [initials(agentName || 'Our team')]));
      rec.meta.appendChild(h('span', { class: 'fd-who' }, [agentName || 'Our team']));
    }
    if (d && !isNaN(d.getTime()) && d.getFullYear() > 2000) {
      rec.minute = pad(d.getHours()) + ':' + pad(d.getMinutes());
      rec.day = d.toDateString();
      rec.date = d;
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
    const next = i + 1 < thread.length ? (thread[i + 1].dayEl || thread[i + 1].el) : typingEl;
    if (rec.dayEl) {
      rec.dayEl.remove();
      rec.dayEl = null;
    }
    list.insertBefore(rec.el, next);
    group(i - 1);
    group(i);
    group(i + 1);
    dayMark(i);
    dayMark(i + 1);
  }

  // dayMark puts a date separator before the message at i when it is the
  // first of its day (the first message of all only when that day is not
  // today), and takes a separator away that is no longer needed.
  function dayMark(i) {
    const r = thread[i];
    if (!r) {
      return;
    }
    const prev = thread[i - 1];
    const need = !!r.day && (prev ? !!prev.day && prev.day !== r.day : r.day !== new Date().toDateString());
    if (need && !r.dayEl) {
      r.dayEl = h('div', { class: 'fd-divider fd-day', role: 'separator', 'data-testid': 'fd-day' }, [dayLabel(r.date)]);
      list.insertBefore(r.dayEl, r.el);
    } else if (!need && r.dayEl) {
      r.dayEl.remove();
      r.dayEl = null;
    }
  }

  function dayLabel(d) {
    const today = new Date();
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (d.toDateString() === today.toDateString()) {
      return 'Today';
    }
    if (d.toDateString() === yesterday.toDateString()) {
      return 'Yesterday';
    }
    const opts = { weekday: 'short', day: 'numeric', month: 'short' };
    if (d.getFullYear() !== today.getFullYear()) {
      opts.year = 'numeric';
    }
    return d.toLocaleDateString(undefined, opts);
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
    anchored = null;
  }

  // anchored is the start of a long reply shown from its first line: a
  // new answer (with the question and quick replies after it) taller than
  // the list would otherwise open at its end. Until the customer writes or
  // scrolls to the end, what follows leaves the view where it is.
  let anchored = null;

  // replyStart is the first message of ours since the customer last wrote.
  function replyStart() {
    let start = null;
    for (let i = thread.length - 1; i >= 0 && thread[i].from !== 'customer'; i--) {
      start = thread[i];
    }
    return start;
  }

  // settle shows the latest reply: the end of the list, unless that would
  // hide the reply's first line, which is then put at the top.
  function settle() {
    let start = anchored || replyStart();
    if (!homeEl.hidden && !homeDone) {
      start = { el: homeEl }; // the first screen, from its top
    }
    list.scrollTop = list.scrollHeight;
    stuck = true;
    anchored = null;
    if (start && list.clientHeight && start.el.getBoundingClientRect().top < list.getBoundingClientRect().top) {
      scrollToMessage(start);
    }
  }

  function scrollToMessage(rec) {
    list.scrollTop += rec.el.getBoundingClientRect().top - list.getBoundingClientRect().top - 8;
    anchored = rec;
    stuck = false;
  }

  list.addEventListener('scroll', () => {
    if (list.clientHeight) {
      stuck = nearBottom();
      if (stuck) {
        anchored = null;
      }
    }
  });
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      if (stuck) {
        scrollToBottom();
      }
    }).observe(list);
  }

  // ---- First screen ------------------------------------------------------------

  function loadHome() {
    if (homeLoaded || homeDone) {
      return;
    }
    homeLoaded = true;
    fetch(new URL('home', base).href, { credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status))))
      .then(renderHome, () => {
        homeLoaded = false; // try again next time the panel opens
      });
  }

  function renderHome(d) {
    if (homeDone || !d || typeof d !== 'object' || thread.some((r) => r.from === 'customer')) {
      return;
    }
    homeEl.textContent = '';
    const team = Array.isArray(d.team) ? d.team.filter((m) => m && typeof m.initials === 'string').slice(0, 5) : [];
    const online = team.some((m) => m.online);
    const who = h('div', { class: 'fd-home-team' });
    if (team.length) {
      const faces = h('div', { class: 'fd-home-faces', 'aria-hidden': 'true' });
      for (const m of team) {
        faces.appendChild(h('span', { class: 'fd-avatar fd-home-face' + (m.online ? ' fd-online' : ''), title: String(m.name || '') }, [m.initials.slice(0, 2)]));
      }
      who.appendChild(faces);
    }
    const lines = h('div', { class: 'fd-home-lines' });
    const names = team.map((m) => String(m.name || '')).filter(Boolean);
    lines.appendChild(h('div', { class: 'fd-home-title' }, [names.length ? 'Our team: ' + names.join(', ') : 'Our team is here to help']));
    let reply = typeof d.reply_text === 'string' ? d.reply_text : '';
    if (online) {
      reply = (reply ? reply + ' \u00b7 ' : '') + 'online now';
    }
    if (reply) {
      lines.appendChild(h('div', { class: 'fd-home-reply', 'data-testid': 'fd-home-reply' }, [reply]));
    }
    who.appendChild(lines);
    homeEl.appendChild(who);

    const topics = Array.isArray(d.topics) ? d.topics.filter((t) => t && typeof t.id === 'string' && typeof t.title === 'string') : [];
    if (topics.length) {
      homeEl.appendChild(h('div', { class: 'fd-home-head' }, ['Common questions']));
      const box = h('div', { class: 'fd-home-topics' });
      for (const t of topics) {
        const b = h('button', { type: 'button', class: 'fd-qr fd-home-topic', 'data-testid': 'fd-home-topic' }, [t.title]);
        b.addEventListener('click', () => submit(t.title, 'article:' + t.id));
        box.appendChild(b);
      }
      homeEl.appendChild(box);
    }
    const q = h('input', { type: 'search', class: 'fd-field', 'data-testid': 'fd-home-search', id: 'fd-home-q-' + uid, maxlength: '200', placeholder: 'Search our help articles' });
    const form = h('form', { class: 'fd-home-search', role: 'search' }, [
      h('label', { class: 'fd-sr', for: q.id }, ['Search our help articles']),
      q,
      h('button', { type: 'submit', class: 'fd-start' }, ['Search']),
    ]);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (q.value.trim()) {
        submit(q.value, '');
      }
    });
    homeEl.appendChild(form);
    if (!homeEl.parentNode) {
      list.insertBefore(homeEl, list.firstChild);
    }
    homeEl.hidden = false;
    if (stuck || anchored) {
      settle();
    }
  }

  function hideHome() {
    homeDone = true;
    homeEl.hidden = true;
    if (anchored && anchored.el === homeEl) {
      anchored = null;
    }
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
    hideHome();
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

  const MAX_FILE = 10 * 1048576; // bytes: the server's default limit
  const FILE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];

  // sendFile shows the customer's file at once (pending) and uploads it
  // with the visitor's token; the server checks its type and size again,
  // from its content, and sends it as the customer's message.
  function sendFile(file) {
    if (!file) {
      return;
    }
    if (FILE_TYPES.indexOf(file.type) < 0) {
      flash('Only photos (PNG, JPEG, GIF, WebP) and PDF files can be sent.', 'error');
      return;
    }
    if (file.size > MAX_FILE) {
      flash('That file is too large: please keep it under 10 MB.', 'error');
      return;
    }
    if (!token || !convId || !ready) {
      flash('Please type a message first; then you can send a file.', 'error');
      return;
    }
    hidePrechat();
    hideHome();
    const id = newId();
    const rec = makeRecord('customer', '', new Date().toISOString(), null, { id: 'att_0', name: file.name, type: file.type, size: file.size }, file);
    rec.id = id;
    rec.el.setAttribute('data-pending', 'true');
    setPendingMeta(rec, 'Sending\u2026');
    insertRecord(rec);
    pendingById.set(id, rec);
    refreshQuickReplies();
    scrollToBottom();
    const form = new FormData();
    form.append('token', token);
    form.append('conversation_id', convId);
    form.append('id', id);
    form.append('file', file, file.name);
    fetch(new URL('attachments', base).href, { method: 'POST', body: form, credentials: 'omit' })
      .then((r) => r.json().then((body) => ({ ok: r.ok, body }), () => ({ ok: false, body: {} })))
      .then((res) => {
        if (!res.ok) {
          return Promise.reject(new Error(res.body && res.body.message ? res.body.message : 'The file could not be sent.'));
        }
        const seq = Number(res.body.seq);
        if (pendingById.get(id) === rec && Number.isInteger(seq) && seq > 0 && !bySeq.has(seq)) {
          bind(rec, seq);
          refreshQuickReplies();
        }
        return null;
      })
      .catch((err) => {
        pendingById.delete(id);
        rec.el.removeAttribute('data-pending');
        rec.el.setAttribute('data-failed', 'true');
        setPendingMeta(rec, 'Not sent');
        let msg = err && err.message ? err.message : 'The file could not be sent.';
        flash(msg.charAt(0).toUpperCase() + msg.slice(1), 'error');
      });
  }

  attachBtn.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    const f = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    sendFile(f);
    input.focus();
  });

  function toggleEmoji(show) {
    emojiBox.hidden = !show;
    emojiBtn.setAttribute('aria-expanded', show ? 'true' : 'false');
  }
  emojiBtn.addEventListener('click', () => toggleEmoji(emojiBox.hidden));
  emojiBox.addEventListener('click', (e) => {
    const b = e.target.closest('.fd-emoji-pick');
    if (!b) {
      return;
    }
    const at = input.selectionStart != null ? input.selectionStart : input.value.length;
    const end = input.selectionEnd != null ? input.selectionEnd : at;
    input.value = input.value.slice(0, at) + b.textContent + input.value.slice(end);
    input.selectionStart = input.selectionEnd = at + b.textContent.length;
    toggleEmoji(false);
    input.focus();
    autosize();
  });

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
        sendFrame({ type: 'hello', token: '', last_seq: 0, link: linkCode, identity: identity || undefined });
        linkCode = '';
      } else {
        sendFrame({ type: 'hello', token, last_seq: lastSeq, identity: identity || undefined });
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
      case 'read':
        if (f.from === 'agent') {
          agentReadSeq = Math.max(agentReadSeq, Number(f.seq) || 0);
          renderSeen();
        }
        break;
    }
  }

  // Read receipts: how far the people have seen the conversation (shown
  // as "Seen" under the customer's latest message they have seen), and
  // how far the customer has, told to the server while the panel is
  // open and the page visible.
  let agentReadSeq = 0;
  let readSent = 0;

  function renderSeen() {
    for (const e of list.querySelectorAll('.fd-seen')) {
      e.remove();
    }
    for (let i = thread.length - 1; i >= 0; i--) {
      const r = thread[i];
      if (r.from === 'customer' && r.seq && r.seq <= agentReadSeq) {
        r.meta.appendChild(h('span', { class: 'fd-seen', 'data-testid': 'fd-seen' }, ['Seen']));
        return;
      }
    }
  }

  function sendRead() {
    if (ready && isOpen && document.visibilityState === 'visible' && lastSeq > readSent && sendFrame({ type: 'read', seq: lastSeq })) {
      readSent = lastSeq;
    }
  }

  document.addEventListener('visibilitychange', sendRead);

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
    agentReadSeq = Math.max(agentReadSeq, Number(f.agent_read_seq) || 0);
    tgBtn.hidden = !(Array.isArray(f.channels) && f.channels.indexOf('telegram') >= 0);
    setState(f.state, '');
    if (f.customer && typeof f.customer.name === 'string' && f.customer.name) {
      hidePrechat();
    }
    renderNotice();
    if (pendingProfile) {
      sendProfile();
    }
    renderSeen();
    sendRead();
    pump();
  }

  function startNewThread(conv) {
    const pending = thread.filter((r) => !r.seq);
    const old = thread.filter((r) => r.seq);
    thread = [];
    bySeq = new Map();
    lastSeq = 0;
    agentReadSeq = 0;
    readSent = 0;
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
      rec = makeRecord(f.from, f.text, f.time, f.quick_replies, f.attachment);
      rec.seq = seq;
      rec.el.setAttribute('data-seq', String(seq));
      bySeq.set(seq, rec);
      insertRecord(rec);
    }
    if (rec.from === 'customer') {
      hideHome();
    } else {
      hideTyping();
      if (!isOpen && (rec.from === 'bot' || rec.from === 'agent') && seq > readSeq) {
        unread++;
        renderBadge();
      }
    }
    if (isOpen) {
      markRead();
    }
    renderSeen();
    refreshQuickReplies();
    if (rec.from === 'customer') {
      scrollToBottom();
    } else if (stick || anchored) {
      settle();
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
    const stick = stuck && !anchored;
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
    sendRead();
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
    loadHome();
    settle();
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

  // ---- Known customers (docs/protocol.md, "Signed identity") -------------

  // cleanIdentity keeps the fields of an identity the server reads, as
  // strings; anything without a user_id is no identity.
  function cleanIdentity(v) {
    if (!v || typeof v !== 'object' || v.user_id === undefined || v.user_id === null || String(v.user_id) === '') {
      return null;
    }
    if (String(v.user_id).length > 200) {
      return null; // the server accepts ids of up to 200 characters
    }
    const out = { user_id: String(v.user_id) };
    for (const k of ['name', 'email', 'user_hash']) {
      if (typeof v[k] === 'string' && v[k]) {
        out[k] = v[k];
      }
    }
    if (v.attributes && typeof v.attributes === 'object') {
      out.attributes = {};
      for (const k of Object.keys(v.attributes)) {
        const x = v.attributes[k];
        if (x !== null && x !== undefined && typeof x !== 'object') {
          out.attributes[k] = String(x);
        }
      }
    }
    // The whole hello must fit in MAX_FRAME: what does not fit is left
    // out (send more with the customer API) rather than have the server
    // close every connection.
    const size = (v) => new TextEncoder().encode(JSON.stringify(v)).length;
    if (size(out) > MAX_FRAME - 600) {
      delete out.attributes;
      if (size(out) > MAX_FRAME - 600) {
        delete out.name;
        delete out.email;
      }
      if (window.console) {
        console.warn('Frontdesk.identify: the identity is too large for a hello; attributes left out');
      }
    }
    return out;
  }

  // identify tells the server who the visitor is and says hello again
  // with it: a correctly signed identity continues that customer's
  // conversation, from any browser.
  function identify(v) {
    const next = cleanIdentity(v);
    if (JSON.stringify(next) === JSON.stringify(identity)) {
      return;
    }
    identity = next;
    // A visitor who has not opened the chat is not connected: the
    // identity goes with the first hello, and nothing is stored before.
    if (ws || wanted) {
      reconnectNow();
    }
  }

  // resetVisitor forgets the visitor (the shop's customer logged out):
  // the next hello is a new anonymous visitor with an empty conversation.
  function resetVisitor() {
    identity = null;
    token = '';
    try {
      window.localStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      // storage disabled: nothing kept
    }
    outbox = [];
    inflight = [];
    pendingById.clear();
    thread = [];
    bySeq = new Map();
    lastSeq = 0;
    convId = '';
    unread = 0;
    renderBadge();
    while (list.firstChild && list.firstChild !== typingEl) {
      list.removeChild(list.firstChild);
    }
    refreshQuickReplies();
    if (ws || wanted) {
      reconnectNow();
    }
  }

  window.Frontdesk = Object.freeze({
    open: openPanel,
    close: () => closePanel(false),
    toggle: () => (isOpen ? closePanel(false) : openPanel()),
    identify,
    reset: resetVisitor,
  });

  if (document.body) {
    mount();
  } else {
    document.addEventListener('DOMContentLoaded', mount);
  }
})();
