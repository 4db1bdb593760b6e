/*
 * Frontdesk agent console. Plain JavaScript, no build step, no libraries.
 *
 * It talks to the agent API (docs/agent-api.md) with the session cookie
 * set at login, and listens on the agent websocket for queue changes and
 * the messages of the conversation on screen. Every text that comes from
 * a customer or an agent is put into the page with textContent; bot
 * answers (Markdown) are built as DOM nodes by renderMarkdown, so no
 * string from the server ever reaches the HTML parser.
 */
(function () {
  'use strict';

  // The API lives next to the page: /console -> /api/agent/...
  const base = new URL('.', location.href);
  const apiURL = (p) => new URL('api/agent/' + p, base).href;

  const HEARTBEAT_MS = 20000;
  const TYPING_SEND_MS = 2000;
  const TYPING_SHOW_MS = 4000;

  const state = {
    me: null,
    presence: localStorage.getItem('fd-presence') === 'away' ? 'away' : 'online',
    queue: [],
    mine: [],
    others: [],
    fetchedAt: Date.now(),
    agents: [],
    teams: [],
    canned: [],
    open: null, // { id, data, lastSeq }
    unread: {},
    ws: null,
    wsRetry: 0,
    wsTimer: null,
    hbTimer: null,
    loggedIn: false,
    claiming: {},
    seenWaiting: null, // Set of conversation ids seen waiting, for alerts
    lastTypingSent: 0,
    typingTimer: null,
    audio: null,
    // The inbox (see "Inbox" below).
    view: ['mine', 'unassigned', 'all', 'resolved'].includes(localStorage.getItem('fd-view')) ? localStorage.getItem('fd-view') : 'all',
    search: '',
    resolved: [],
    resolvedNext: '',
    results: null, // search results, null without a search
  };

  // ---- DOM helpers ---------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  //@frontdesk:include dom.js

  function clear(el) {
    while (el.firstChild) {
      el.removeChild(el.firstChild);
    }
  }

  function show(el, on) {
    el.hidden = !on;
  }

  let toastTimer = null;
  function toast(text, kind) {
    const t = $('toast');
    t.textContent = text;
    t.className = 'toast visible' + (kind ? ' ' + kind : '');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = 'toast'; }, 4000);
  }

  // ---- Formatting ------------------------------------------------------------

  function duration(sec) {
    sec = Math.max(0, Math.floor(sec));
    if (sec < 60) {
      return sec + ' s';
    }
    const min = Math.floor(sec / 60);
    if (min < 60) {
      return min + ' min';
    }
    const hr = Math.floor(min / 60);
    return hr + ' h ' + (min % 60) + ' min';
  }

  function clock(iso) {
    const d = new Date(iso);
    if (isNaN(d)) {
      return '';
    }
    const today = new Date();
    // 24-hour "15:52", as the widget shows it: one time format for both.
    const hm = String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
    if (d.toDateString() === today.toDateString()) {
      return hm;
    }
    return d.toLocaleDateString([], { day: 'numeric', month: 'short' }) + ' ' + hm;
  }

  function day(iso) {
    const d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
  }

  const REASONS = {
    requested: 'Asked for a person',
    low_confidence: 'Bot could not answer',
    frustration: 'Frustrated',
    article: 'Topic needs a person',
    negative_feedback: "Answer didn't help",
    open_issue: 'Open issue',
    something_else: 'Something else',
  };

  function reasonLabel(r) {
    return REASONS[r] || (r ? r.replace(/_/g, ' ') : 'Hand-off');
  }

  const STATES = { bot: 'With the bot', queued: 'Waiting in the queue', agent: 'With an agent', closed: 'Closed' };

  function customerName(c) {
    if (!c) {
      return 'Unknown customer';
    }
    return c.name || c.email || 'Visitor ' + String(c.id || '').replace(/^cus_/, '').slice(0, 6);
  }

  function firstName(c) {
    const n = c && c.name ? c.name.trim().split(/\s+/)[0] : '';
    return n || 'there';
  }

  function pct(x) {
    return Math.round((x || 0) * 100) + '%';
  }

  // ---- API -----------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function call(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body || {});
    }
    let res;
    try {
      res = await fetch(apiURL(path), opts);
    } catch (e) {
      throw new ApiError(0, 'The server cannot be reached. Check your connection.');
    }
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (res.status === 401 && path !== 'login' && state.loggedIn) {
      sessionEnded();
    }
    if (!res.ok) {
      throw new ApiError(res.status, (data && data.error) || res.statusText || 'Request failed');
    }
    return data;
  }

  // ---- Markdown (bot answers) ----------------------------------------------

  //@frontdesk:include markdown.js

  // plain strips the Markdown marks, for short excerpts.
  function plain(text) {
    return String(text).replace(/\*\*/g, '').replace(/\[([^\]]+)\]\([^)\s]+\)/g, '$1').replace(/^\s*([-*]|\d+[.)])\s+/gm, '').replace(/\\([!-\/:-@[-`{-~])/g, '$1').replace(/\s+/g, ' ').trim();
  }

  // ---- Alerts: sound and desktop notifications -------------------------------

  function alertsOn() {
    return !!state.audio || (window.Notification && Notification.permission === 'granted');
  }

  function renderAlertsButton() {
    const b = $('alerts-btn');
    const on = alertsOn();
    b.textContent = on ? 'Alerts on' : 'Alerts off';
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
    b.title = on ? 'A sound and a desktop notification when someone is waiting' : 'Play a sound and show a desktop notification when someone is waiting';
  }

  async function enableAlerts() {
    // Browsers allow sound and notifications only after a click.
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx && !state.audio) {
        state.audio = new Ctx();
      }
      if (state.audio && state.audio.state === 'suspended') {
        await state.audio.resume();
      }
    } catch (e) {
      state.audio = null;
    }
    if (window.Notification && Notification.permission === 'default') {
      try {
        await Notification.requestPermission();
      } catch (e) {
        // Old browsers: the callback form; sound still works.
      }
    }
    renderAlertsButton();
    beep();
  }

  function beep() {
    const ctx = state.audio;
    if (!ctx || ctx.state !== 'running') {
      return;
    }
    const t = ctx.currentTime;
    [[880, 0], [660, 0.16]].forEach(([f, at]) => {
      const o = ctx.createOscillator();
      const g = ctx.createGain();
      o.type = 'sine';
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t + at);
      g.gain.exponentialRampToValueAtTime(0.12, t + at + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.14);
      o.connect(g).connect(ctx.destination);
      o.start(t + at);
      o.stop(t + at + 0.15);
    });
  }

  function notify(title, body, conversationID) {
    beep();
    if (!window.Notification || Notification.permission !== 'granted') {
      return;
    }
    if (!document.hidden && document.hasFocus()) {
      return;
    }
    try {
      const n = new Notification(title, { body, tag: conversationID || 'frontdesk' });
      n.onclick = () => {
        window.focus();
        if (conversationID) {
          openConversation(conversationID);
        }
        n.close();
      };
    } catch (e) {
      // Some platforms only allow notifications from a service worker.
    }
  }

  // ---- Login, logout, session ------------------------------------------------

  function showLogin(message) {
    state.loggedIn = false;
    show($('boot'), false);
    show($('app'), false);
    show($('login'), true);
    $('login-error').textContent = message || '';
    document.title = 'Sign in · Frontdesk console';
    setTimeout(() => $('login-email').focus(), 0);
  }

  function sessionEnded() {
    stopLive();
    showLogin('Your session has ended. Please sign in again.');
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const email = $('login-email').value.trim();
    const password = $('login-password').value;
    const err = $('login-error');
    if (!email || !password) {
      err.textContent = 'Enter your email and password.';
      return;
    }
    const btn = ev.submitter || document.querySelector('[data-testid="login-submit"]');
    btn.disabled = true;
    err.textContent = '';
    try {
      const res = await call('POST', 'login', { email, password });
      $('login-password').value = '';
      startApp(res.agent);
    } catch (e) {
      err.textContent = e.status === 429 ? 'Too many failed attempts. Wait a few minutes, then try again.' : e.message.charAt(0).toUpperCase() + e.message.slice(1) + '.';
      $('login-password').select();
    } finally {
      btn.disabled = false;
    }
  }

  async function logout() {
    try {
      await call('POST', 'logout');
    } catch (e) {
      // The session may already be gone; log out locally all the same.
    }
    stopLive();
    closeConversation();
    showLogin('You have logged out.');
  }

  function supervisor() {
    return state.me && (state.me.role === 'supervisor' || state.me.role === 'admin');
  }

  function startApp(agent) {
    state.me = agent;
    state.loggedIn = true;
    state.seenWaiting = null;
    show($('boot'), false);
    show($('login'), false);
    show($('app'), true);
    $('me').textContent = agent.name + (agent.role !== 'agent' ? ' · ' + agent.role : '');
    $('home-title').textContent = 'Hello, ' + agent.name.split(/\s+/)[0];
    show($('dashboard-btn'), supervisor());
    show($('others-section'), supervisor());
    show($('dash'), supervisor());
    $('presence').value = state.presence;
    renderPresenceDot();
    renderAlertsButton();
    showHome();
    loadCanned();
    loadAgents();
    refreshQueue();
    refreshDashboard();
    connect();
    clearInterval(state.hbTimer);
    state.hbTimer = setInterval(heartbeat, HEARTBEAT_MS);
  }

  function stopLive() {
    state.loggedIn = false;
    clearInterval(state.hbTimer);
    clearTimeout(state.wsTimer);
    if (state.ws) {
      const ws = state.ws;
      state.ws = null;
      ws.onclose = null;
      ws.close(1000);
    }
  }

  // ---- Websocket ---------------------------------------------------------------

  function setConn(text, kind) {
    const c = $('conn');
    c.textContent = text;
    c.className = 'conn ' + (kind || '');
  }

  function connect() {
    if (!state.loggedIn) {
      return;
    }
    const u = new URL('api/agent/ws', base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(u.href);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    setConn('Connecting…', 'pending');
    ws.onopen = () => {
      state.wsRetry = 0;
      setConn('Live', 'live');
      heartbeat();
      // Catch up on whatever happened while disconnected.
      refreshQueue();
      if (state.open) {
        sendFrame({ type: 'watch', conversation_id: state.open.id });
        reloadConversation();
      }
    };
    ws.onmessage = (ev) => {
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      onFrame(f);
    };
    ws.onclose = () => {
      if (state.ws === ws) {
        state.ws = null;
      }
      if (!state.loggedIn) {
        return;
      }
      setConn('Reconnecting…', 'down');
      // A refused upgrade looks like any close: ask whether the session
      // is still good before trying again.
      call('GET', 'me').then(scheduleReconnect, (e) => {
        if (e.status !== 401) {
          scheduleReconnect();
        }
      });
    };
  }

  function scheduleReconnect() {
    if (!state.loggedIn || state.ws) {
      return;
    }
    clearTimeout(state.wsTimer);
    const delay = Math.min(30000, 1000 * Math.pow(2, state.wsRetry)) * (0.75 + Math.random() * 0.5);
    state.wsRetry++;
    state.wsTimer = setTimeout(connect, delay);
  }

  function sendFrame(f) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(f));
    }
  }

  function heartbeat() {
    sendFrame({ type: 'heartbeat', presence: state.presence });
  }

  function onFrame(f) {
    switch (f.type) {
      case 'ready':
        break;
      case 'queue':
        onQueueEvent(f);
        break;
      case 'message':
        onMessage(f.conversation_id, f.message);
        break;
      case 'typing':
        if (state.open && f.conversation_id === state.open.id && f.from === 'customer') {
          showTyping();
        }
        break;
      case 'state':
        if (state.open && state.open.data && f.conversation_id === state.open.id) {
          state.open.data.conversation.state = f.state;
          renderConversationHead();
        }
        break;
      case 'presence':
        onPresence(f);
        break;
      case 'read':
        if (state.open && state.open.data && f.conversation_id === state.open.id && f.from === 'customer') {
          const c = state.open.data.conversation;
          c.customer_read_seq = Math.max(c.customer_read_seq || 0, Number(f.seq) || 0);
          renderSeen();
        }
        break;
      case 'error':
        if (f.code !== 'forbidden' && f.code !== 'not_found') {
          console.warn('console websocket:', f.code, f.message);
        }
        break;
    }
  }

  // ---- Queue ---------------------------------------------------------------

  let queueTimer = null;
  function refreshQueueSoon() {
    clearTimeout(queueTimer);
    queueTimer = setTimeout(refreshQueue, 120);
  }

  async function refreshQueue() {
    let q;
    try {
      q = await call('GET', 'queue');
    } catch (e) {
      if (e.status !== 401) {
        setConn('Cannot load the queue', 'down');
      }
      return;
    }
    state.queue = q.tickets || [];
    state.mine = q.mine || [];
    state.others = q.assigned || [];
    state.fetchedAt = Date.now();
    const first = state.seenWaiting === null;
    const seen = new Set(state.queue.map((t) => t.conversation_id));
    if (!first) {
      for (const t of state.queue) {
        if (!state.seenWaiting.has(t.conversation_id)) {
          notify('Someone is waiting', customerName(t.customer) + ' · ' + reasonLabel(t.reason), t.conversation_id);
        }
      }
    }
    state.seenWaiting = seen;
    renderLists();
    refreshInboxSoon();
    if (supervisor() && !$('home').hidden) {
      refreshDashboard();
    }
  }

  function onQueueEvent(f) {
    const t = f.ticket;
    refreshQueueSoon();
    if (!t) {
      return;
    }
    const me = state.me && state.me.id;
    if (f.event === 'assigned' && t.agent === me && !state.claiming[t.conversation_id]) {
      notify('A conversation was given to you', customerName(t.customer) + ' · ' + reasonLabel(t.reason), t.conversation_id);
    }
    if ((f.event === 'sla_breach' || f.event === 'escalated') && supervisor()) {
      notify(f.event === 'escalated' ? 'Escalated to supervisors' : 'Waiting too long', customerName(t.customer) + ' · ' + reasonLabel(t.reason), t.conversation_id);
    }
    if (state.open && state.open.data && t.conversation_id === state.open.id) {
      state.open.data.ticket = t;
      if (isOffered(t) && t.agent === me) {
        // Offered while the agent has it on screen: it is seen.
        acceptOffer(t.conversation_id);
      }
      if (t.status === 'assigned' && !t.offered) {
        state.open.data.conversation.state = 'agent';
        state.open.data.conversation.agent = t.agent;
        state.open.data.conversation.agent_name = t.agent_name;
      } else if (t.status === 'queued') {
        state.open.data.conversation.state = 'queued';
      } else {
        state.open.data.conversation.state = 'bot';
      }
      renderConversationHead();
    }
  }

  function waitingNow(t) {
    if (t.status !== 'queued') {
      return t.waiting_seconds;
    }
    return t.waiting_seconds + (Date.now() - state.fetchedAt) / 1000;
  }

  function badges(t, withCustomer) {
    const out = [];
    out.push(h('span', { class: 'badge reason reason-' + (t.reason || 'none') }, [reasonLabel(t.reason)]));
    if (t.priority > 0) {
      out.push(h('span', { class: 'badge prio', title: 'Priority ' + t.priority }, ['P' + t.priority]));
    }
    if (withCustomer && t.customer && t.customer.segment) {
      out.push(h('span', { class: 'badge segment' }, [t.customer.segment.toUpperCase()]));
    }
    if (t.tier > 1) {
      out.push(h('span', { class: 'badge tier' }, ['Escalated']));
    }
    if (t.sla_breached) {
      out.push(h('span', { class: 'badge sla' }, ['Over SLA']));
    }
    if (t.team) {
      out.push(h('span', { class: 'badge team' }, [t.team]));
    }
    return out;
  }

  function queueItem(t) {
    const id = t.conversation_id;
    const current = state.open && state.open.id === id;
    const name = customerName(t.customer);
    const claim = h('button', {
      type: 'button', class: 'btn small primary', 'data-testid': 'claim',
      disabled: !t.can_claim, title: t.can_claim ? 'Claim this conversation' : 'Only supervisors can take escalated conversations',
      'aria-label': 'Claim the conversation with ' + name,
      onclick: () => claimConversation(id),
    }, ['Claim']);
    return h('li', { class: 'item' + (current ? ' current' : ''), 'data-testid': 'queue-item', 'data-conversation': id }, [
      h('button', { type: 'button', class: 'item-open', 'aria-current': current ? 'true' : null, onclick: () => openConversation(id) }, [
        h('span', { class: 'item-top' }, [
          h('span', { class: 'item-name' }, [name]),
          h('span', { class: 'item-wait', 'data-wait': id, title: 'Waiting since ' + clock(t.queued_at) }, [duration(waitingNow(t))]),
        ]),
        previewNode(t),
        h('span', { class: 'item-meta' }, badges(t, true).concat([t.channel ? h('span', { class: 'channel' }, [t.channel]) : null])),
      ]),
      claim,
    ]);
  }

  function convItem(t, testid) {
    const id = t.conversation_id;
    const current = state.open && state.open.id === id;
    const unread = state.unread[id] || 0;
    const offered = isOffered(t);
    const closed = t.status === 'resolved' || t.status === 'returned';
    return h('li', { class: 'item' + (current ? ' current' : '') + (offered || unread ? ' fresh' : ''), 'data-testid': testid, 'data-conversation': id, 'data-offered': offered ? 'true' : null }, [
      h('button', { type: 'button', class: 'item-open', 'aria-current': current ? 'true' : null, onclick: () => openConversation(id) }, [
        h('span', { class: 'item-top' }, [
          h('span', { class: 'item-name' }, [customerName(t.customer)]),
          unread ? h('span', { class: 'unread', 'aria-label': unread + ' new' }, [String(unread)]) : null,
          timeNode(t),
        ]),
        previewNode(t),
        t.match ? h('span', { class: 'item-match', 'data-testid': 'search-match' }, [t.match]) : null,
        h('span', { class: 'item-meta' }, [
          offered ? h('span', { class: 'badge new', title: 'Given to you; the customer hears you joined when you open it' }, ['New']) : null,
          closed ? h('span', { class: 'badge closed' }, [t.status === 'resolved' ? 'Resolved' : 'Back to bot']) : null,
          closed && t.agent_name && t.agent !== (state.me && state.me.id) ? h('span', { class: 'channel' }, ['by ' + t.agent_name]) : null,
          t.status === 'queued' ? h('span', { class: 'channel' }, ['waiting']) : null,
          h('span', { class: 'badge reason reason-' + (t.reason || 'none') }, [reasonLabel(t.reason)]),
          testid === 'other-conversation' && t.agent_name ? h('span', { class: 'channel' }, ['with ' + t.agent_name]) : null,
          t.channel ? h('span', { class: 'channel' }, [t.channel]) : null,
        ]),
      ]),
    ]);
  }

  function renderLists() {
    const q = $('queue');
    clear(q);
    for (const t of state.queue) {
      q.appendChild(queueItem(t));
    }
    $('queue-count').textContent = String(state.queue.length);
    show($('queue-empty'), state.queue.length === 0);

    const m = $('mine');
    clear(m);
    for (const t of state.mine) {
      m.appendChild(convItem(t, 'my-conversation'));
    }
    $('mine-count').textContent = String(state.mine.length);
    show($('mine-empty'), state.mine.length === 0);

    if (supervisor()) {
      const o = $('others');
      clear(o);
      for (const t of state.others) {
        o.appendChild(convItem(t, 'other-conversation'));
      }
      $('others-count').textContent = String(state.others.length);
    }
    const waiting = state.queue.length;
    document.title = (waiting ? '(' + waiting + ') ' : '') + 'Frontdesk console';
    renderInbox();
  }

  function tickWaits() {
    for (const el of document.querySelectorAll('[data-wait]')) {
      const t = state.queue.find((x) => x.conversation_id === el.getAttribute('data-wait'));
      if (t) {
        el.textContent = duration(waitingNow(t));
      }
    }
  }

  async function claimConversation(id) {
    state.claiming[id] = true;
    try {
      await call('POST', 'conversations/' + encodeURIComponent(id) + '/claim');
      toast('The conversation is yours. The customer has been told you joined.');
      await refreshQueue();
      await openConversation(id, true);
    } catch (e) {
      toast(e.status === 409 ? 'Someone else was quicker: ' + e.message + '.' : 'Could not claim: ' + e.message + '.', 'error');
      refreshQueue();
    } finally {
      setTimeout(() => { delete state.claiming[id]; }, 3000);
    }
  }

  // ---- Inbox: views, search, previews, offers ------------------------------
  //
  // The sidebar shows one of four views: Mine (the agent's conversations,
  // those routing offered too), Unassigned (the queue), All (both, other
  // agents' for supervisors, and recently resolved ones) and Resolved. A
  // search asks GET /api/agent/inbox and lists what it finds instead.

  const VIEW_SECTIONS = {
    mine: ['mine-section'],
    unassigned: ['queue-section'],
    all: ['queue-section', 'mine-section', 'others-section', 'resolved-section'],
    resolved: ['resolved-section'],
  };

  function isOffered(t) {
    return !!(t && t.offered && t.status === 'assigned');
  }

  // previewNode is the last message said, on one line, "Agent:" or
  // "Bot:" before words that are not the customer's.
  function previewNode(t) {
    const m = t.last_message;
    if (!m || !m.text) {
      return null;
    }
    let who = '';
    if (m.from === 'agent') {
      who = 'Agent: ';
    } else if (m.from === 'bot') {
      who = 'Bot: ';
    }
    return h('span', { class: 'item-preview', 'data-testid': 'item-preview', title: m.text }, [
      who ? h('span', { class: 'who' }, [who]) : null, plain(m.text),
    ]);
  }

  function timeNode(t) {
    const at = (t.last_message && t.last_message.time) || t.closed_at || t.assigned_at || t.queued_at;
    return at ? h('time', { class: 'item-time', datetime: at, title: new Date(at).toLocaleString() }, [clock(at)]) : null;
  }

  // notePreview keeps the lists' previews current as messages arrive.
  function notePreview(id, m) {
    // As the server keeps it (bot.Conversation.Last).
    const kind = m.decision && m.decision.kind;
    if (m.internal || m.from === 'system' || !m.text || kind === 'handoff' || kind === 'survey') {
      return;
    }
    let changed = false;
    for (const list of [state.queue, state.mine, state.others]) {
      for (const t of list) {
        if (t.conversation_id === id) {
          t.last_message = { from: m.from, text: m.text, time: m.time };
          changed = true;
        }
      }
    }
    if (changed && !(state.open && state.open.id === id)) {
      renderLists();
    }
  }

  async function acceptOffer(id) {
    if (state.claiming[id]) {
      return;
    }
    state.claiming[id] = true;
    try {
      await call('POST', 'conversations/' + encodeURIComponent(id) + '/claim');
      toast('You joined the conversation. The customer has been told.');
      refreshQueueSoon();
      if (state.open && state.open.id === id) {
        await reloadConversation();
      }
    } catch (e) {
      toast('Could not take the conversation: ' + e.message + '.', 'error');
      refreshQueue();
    } finally {
      setTimeout(() => { delete state.claiming[id]; }, 3000);
    }
  }

  function setView(view) {
    state.view = view;
    localStorage.setItem('fd-view', view);
    renderLists();
    refreshInbox();
  }

  function renderInbox() {
    const searching = state.results !== null;
    for (const b of document.querySelectorAll('.tab')) {
      b.setAttribute('aria-selected', b.getAttribute('data-view') === state.view ? 'true' : 'false');
    }
    const shown = searching ? ['results-section'] : VIEW_SECTIONS[state.view];
    for (const id of ['results-section', 'queue-section', 'mine-section', 'others-section', 'resolved-section']) {
      const on = shown.includes(id) && (id !== 'others-section' || supervisor());
      show($(id), on);
    }
    const fresh = state.mine.filter((t) => isOffered(t) || state.unread[t.conversation_id]).length;
    const mc = $('tab-mine-count');
    mc.textContent = String(state.mine.length);
    mc.classList.toggle('hot', fresh > 0);
    mc.setAttribute('aria-label', state.mine.length + ' conversations' + (fresh ? ', ' + fresh + ' new' : ''));
    $('tab-queue-count').textContent = String(state.queue.length);

    const r = $('resolved');
    clear(r);
    const limit = state.view === 'resolved' ? state.resolved.length : Math.min(state.resolved.length, 10);
    for (const t of state.resolved.slice(0, limit)) {
      r.appendChild(convItem(t, 'resolved-conversation'));
    }
    show($('resolved-empty'), state.resolved.length === 0);
    show($('resolved-more'), state.view === 'resolved' && !!state.resolvedNext);

    if (searching) {
      const ul = $('results');
      clear(ul);
      for (const t of state.results) {
        ul.appendChild(t.status === 'queued' ? queueItem(t) : convItem(t, 'search-result'));
      }
      $('results-count').textContent = String(state.results.length);
      show($('results-empty'), state.results.length === 0);
    }
    renderHomeHint(fresh);
  }

  function renderHomeHint(fresh) {
    const n = state.mine.length;
    let text;
    if (fresh) {
      text = fresh === 1 ? 'A conversation was given to you. Open it from Mine: the customer is told you joined when you do.'
        : fresh + ' conversations were given to you. Open them from Mine: each customer is told you joined when you do.';
    } else if (n) {
      text = 'You have ' + n + (n === 1 ? ' conversation' : ' conversations') + '. Open one from Mine to reply' +
        (state.queue.length ? ', or claim one of the ' + state.queue.length + ' waiting.' : '.');
    } else if (state.queue.length) {
      text = state.queue.length + (state.queue.length === 1 ? ' customer is' : ' customers are') + ' waiting in the queue (Unassigned). Open one to read it, then claim it to reply.';
    } else {
      text = 'Nobody is waiting. New conversations show up on the left at once; turn on alerts to hear them.';
    }
    $('home-hint').textContent = text;
  }

  let inboxTimer = null;
  function refreshInboxSoon() {
    clearTimeout(inboxTimer);
    inboxTimer = setTimeout(refreshInbox, 150);
  }

  let inboxSeq = 0;
  async function refreshInbox(more) {
    if (!state.loggedIn) {
      return;
    }
    const mySeq = ++inboxSeq;
    const q = state.search;
    try {
      if (q) {
        const r = await call('GET', 'inbox?view=' + state.view + '&q=' + encodeURIComponent(q));
        if (mySeq === inboxSeq && state.search === q) {
          state.results = r.items || [];
        }
      } else {
        state.results = null;
        if (state.view === 'all' || state.view === 'resolved') {
          let path = 'inbox?view=resolved&limit=' + (state.view === 'resolved' ? 50 : 10);
          if (more && state.resolvedNext) {
            path += '&before=' + encodeURIComponent(state.resolvedNext);
          }
          const r = await call('GET', path);
          if (mySeq !== inboxSeq) {
            return;
          }
          state.resolved = more ? state.resolved.concat(r.items || []) : (r.items || []);
          state.resolvedNext = r.next_before || '';
        }
      }
    } catch (e) {
      if (e.status !== 401) {
        toast('Could not load the inbox: ' + e.message, 'error');
      }
      return;
    }
    if (mySeq === inboxSeq) {
      renderInbox();
    }
  }

  let searchTimer = null;
  function onInboxSearch() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const q = $('inbox-q').value.trim();
      if (q === state.search) {
        return;
      }
      state.search = q;
      if (!q) {
        state.results = null;
        renderInbox();
      }
      refreshInbox();
    }, 250);
  }

  async function refreshConversationSuggestions(id) {
    const mySeq = ++suggestSeq;
    try {
      const r = await call('GET', 'conversations/' + encodeURIComponent(id) + '/suggestions');
      if (mySeq === suggestSeq && state.open && state.open.id === id) {
        renderSuggestions(r.suggestions || [], r.suggestions_query || '', false);
      }
    } catch (e) {
      // Keep the previous suggestions.
    }
  }

  function initInbox() {
    for (const b of document.querySelectorAll('.tab')) {
      b.addEventListener('click', () => setView(b.getAttribute('data-view')));
    }
    $('inbox-q').addEventListener('input', onInboxSearch);
    $('inbox-search').addEventListener('submit', (ev) => { ev.preventDefault(); onInboxSearch(); });
    $('resolved-more').addEventListener('click', () => refreshInbox(true));
  }

  // ---- Agents and presence ---------------------------------------------------

  async function loadAgents() {
    try {
      const r = await call('GET', 'agents');
      state.agents = r.agents || [];
      state.teams = r.teams || [];
    } catch (e) {
      // Transfer shows what it has.
    }
  }

  function onPresence(f) {
    const a = state.agents.find((x) => x.id === f.agent_id);
    if (a) {
      a.presence = f.presence;
    }
    if (state.me && f.agent_id === state.me.id && f.presence !== 'offline' && f.presence !== state.presence) {
      state.presence = f.presence;
      $('presence').value = f.presence;
      renderPresenceDot();
    }
    if (supervisor() && !$('home').hidden) {
      refreshDashboard();
    }
  }

  function renderPresenceDot() {
    $('presence-dot').className = 'dot ' + state.presence;
  }

  function setPresence() {
    state.presence = $('presence').value === 'away' ? 'away' : 'online';
    localStorage.setItem('fd-presence', state.presence);
    renderPresenceDot();
    heartbeat();
    toast(state.presence === 'away' ? 'You are away: no new conversations will be routed to you.' : 'You are online.');
  }

  async function loadCanned() {
    try {
      const r = await call('GET', 'canned');
      state.canned = r.canned || [];
    } catch (e) {
      state.canned = [];
    }
    const sel = $('canned');
    clear(sel);
    sel.appendChild(h('option', { value: '' }, [state.canned.length ? 'Canned replies…' : 'No canned replies']));
    state.canned.forEach((c, i) => sel.appendChild(h('option', { value: String(i) }, [c.title])));
  }

  // ---- Dashboard (supervisors) -------------------------------------------------

  let dashBusy = false;
  async function refreshDashboard() {
    if (!supervisor() || dashBusy) {
      return;
    }
    dashBusy = true;
    try {
      const d = await call('GET', 'dashboard');
      renderDashboard(d);
    } catch (e) {
      // Shown on the next refresh.
    } finally {
      dashBusy = false;
    }
  }

  function renderDashboard(d) {
    const cards = $('dash-cards');
    clear(cards);
    const card = (label, value, warn) => h('div', { class: 'stat' + (warn ? ' warn' : '') }, [
      h('span', { class: 'stat-value' }, [String(value)]),
      h('span', { class: 'stat-label' }, [label]),
    ]);
    cards.appendChild(card('waiting', d.queue_length, false));
    cards.appendChild(card('longest wait', d.queue_length ? duration(d.longest_wait_seconds) : '–', d.longest_wait_seconds > 300));
    cards.appendChild(card('over SLA', d.sla_breaches, d.sla_breaches > 0));
    cards.appendChild(card('escalated', d.escalated, d.escalated > 0));
    cards.appendChild(card('in progress', d.assigned, false));
    cards.appendChild(card('agents online / away', d.agents_online + ' / ' + d.agents_away, false));
    const body = $('dash-agents');
    clear(body);
    for (const a of d.agents || []) {
      if (a.disabled) {
        continue;
      }
      body.appendChild(h('tr', null, [
        h('td', null, [a.name]),
        h('td', null, [a.role]),
        h('td', null, [h('span', { class: 'dot ' + a.presence, 'aria-hidden': 'true' }), ' ' + a.presence]),
        h('td', null, [a.load + ' / ' + a.max_chats]),
      ]));
    }
    state.agents = d.agents || state.agents;
  }

  // ---- Conversation view -------------------------------------------------------

  function showHome() {
    show($('home'), true);
    show($('conv'), false);
    show($('side'), false);
    $('app').classList.remove('has-conv');
  }

  function closeConversation() {
    if (state.open) {
      sendFrame({ type: 'unwatch', conversation_id: state.open.id });
    }
    state.open = null;
    showHome();
    renderLists();
    refreshDashboard();
  }

  function owns() {
    const o = state.open;
    return !!(o && o.data && o.data.ticket && o.data.ticket.status === 'assigned' && o.data.ticket.agent === state.me.id);
  }

  async function openConversation(id, focusReply) {
    if (state.open && state.open.id !== id) {
      sendFrame({ type: 'unwatch', conversation_id: state.open.id });
    }
    const sameAsBefore = state.open && state.open.id === id;
    $('conv').dataset.conversationId = id; // for insights.js
    state.open = { id, data: sameAsBefore ? state.open.data : null, lastSeq: sameAsBefore ? state.open.lastSeq : 0 };
    delete state.unread[id];
    sendFrame({ type: 'watch', conversation_id: id });
    renderLists();
    if (!sameAsBefore) {
      show($('home'), false);
      show($('conv'), true);
      show($('side'), true);
      $('app').classList.add('has-conv');
      clear($('transcript'));
      $('conv-title').textContent = 'Loading…';
      $('conv-sub').textContent = '';
      show($('conv-banner'), false);
      $('reply').value = '';
      $('internal').checked = false;
    }
    const ok = await reloadConversation();
    if (!ok) {
      return;
    }
    const ot = state.open && state.open.id === id && state.open.data && state.open.data.ticket;
    if (isOffered(ot) && ot.agent === state.me.id) {
      await acceptOffer(id);
      focusReply = true;
    }
    if (focusReply && owns()) {
      $('reply').focus();
    } else if (!sameAsBefore) {
      $('conv-title').focus();
    }
  }

  async function reloadConversation() {
    const o = state.open;
    if (!o) {
      return false;
    }
    let d;
    try {
      d = await call('GET', 'conversations/' + encodeURIComponent(o.id));
    } catch (e) {
      if (state.open !== o) {
        return false;
      }
      if (e.status === 403 || e.status === 404) {
        if (o.data) {
          // It was ours and is no longer readable (resolved, moved on):
          // keep what is on screen, read-only.
          o.data.ticket = o.data.ticket || null;
          renderConversationHead();
          return false;
        }
        toast(e.status === 403 ? 'You may not see that conversation.' : 'That conversation does not exist.', 'error');
        closeConversation();
        return false;
      }
      toast('Could not load the conversation: ' + e.message, 'error');
      return false;
    }
    if (state.open !== o) {
      return false;
    }
    o.data = d;
    renderConversation();
    return true;
  }

  function renderConversation() {
    const d = state.open.data;
    const list = $('transcript');
    clear(list);
    state.open.lastSeq = 0;
    for (const m of d.messages) {
      list.appendChild(messageItem(m));
      state.open.lastSeq = Math.max(state.open.lastSeq, m.seq);
    }
    renderSeen();
    markConversationRead();
    renderConversationHead();
    renderProfile();
    renderSuggestions(d.suggestions, d.suggestions_query, false);
    renderPast();
    scrollTranscript(true);
  }

  function renderConversationHead() {
    const o = state.open;
    if (!o || !o.data) {
      return;
    }
    const d = o.data;
    const t = d.ticket;
    const conv = d.conversation;
    const name = customerName(d.customer);
    $('conv-title').textContent = name;
    const parts = [];
    if (conv.channel) {
      parts.push(conv.channel === 'web' ? 'Website chat' : conv.channel.charAt(0).toUpperCase() + conv.channel.slice(1));
    }
    parts.push(STATES[conv.state] || conv.state);
    if (t && t.status === 'assigned') {
      parts.push(t.agent === state.me.id ? 'you have it' : 'with ' + (t.agent_name || 'another agent'));
    }
    if (t && (t.status === 'queued' || t.status === 'assigned')) {
      parts.push(reasonLabel(t.reason));
      if (t.priority > 0) {
        parts.push('priority ' + t.priority);
      }
      if (t.tier > 1) {
        parts.push('escalated');
      }
    }
    $('conv-sub').textContent = parts.join(' · ');

    const mine = owns();
    const open = !!(t && (t.status === 'queued' || t.status === 'assigned'));
    const canAct = open && (mine || supervisor());
    const claimBtn = $('act-claim');
    show(claimBtn, !!(t && t.status === 'queued'));
    claimBtn.disabled = !(t && t.can_claim);
    for (const id of ['act-transfer', 'act-escalate', 'act-resolve', 'act-return']) {
      $(id).disabled = !canAct;
    }
    $('act-escalate').disabled = !canAct || (t && t.tier > 1);

    let banner = '';
    if (!t || !open) {
      if (t && t.status === 'resolved') {
        banner = 'Resolved. The customer was asked to rate the help, and the bot answers again.';
      } else if (t && t.status === 'returned') {
        banner = 'Returned to the bot. The customer can ask for a person again at any time.';
      } else {
        banner = 'The bot has this conversation. You can read it and add private notes.';
      }
    } else if (t.status === 'queued') {
      banner = t.can_claim ? 'Waiting for an agent. Claim it to reply; the bot stays silent meanwhile.' : 'Escalated: waiting for a supervisor.';
    } else if (!mine) {
      banner = (t.agent_name || 'Another agent') + ' has this conversation' + (supervisor() ? '. You can read it and add private notes.' : ' now.');
    }
    const b = $('conv-banner');
    b.textContent = banner;
    show(b, !!banner);
    renderComposer();
    if (o.profileEditable !== canEditCustomer()) {
      renderProfile();
    }
    for (const btn of document.querySelectorAll('[data-testid="suggestion-send"]')) {
      btn.disabled = !mine;
    }
  }

  function renderComposer() {
    const mine = owns();
    const internal = $('internal');
    if (!mine) {
      // Only notes without the conversation; back to replies once it is
      // the agent's.
      internal.checked = true;
      state.forcedNote = true;
    } else if (state.forcedNote) {
      internal.checked = false;
      state.forcedNote = false;
    }
    internal.disabled = !mine;
    const note = internal.checked;
    $('composer').classList.toggle('note', note);
    $('send').textContent = note ? 'Add note' : 'Send';
    $('reply').placeholder = note
      ? 'Private note for colleagues: the customer never sees it'
      : 'Write a reply… (Enter sends, Shift+Enter adds a line)';
    $('composer-hint').textContent = mine ? (note ? 'Only agents see notes.' : '') : 'Claim the conversation to reply.';
  }

  function senderName(m) {
    switch (m.from) {
      case 'customer':
        return customerName(state.open && state.open.data ? state.open.data.customer : null);
      case 'bot':
        return 'Bot';
      case 'agent':
        if (state.me && m.agent === state.me.id) {
          return 'You';
        }
        return m.agent_name || 'Agent';
      default:
        return 'System';
    }
  }

  // decisionNode says why the bot said what it said.
  function decisionNode(d) {
    const parts = [];
    const add = (text, cls) => parts.push(h('span', { class: cls || '' }, [text]));
    switch (d.kind) {
      case 'answer':
        add('Answered with ');
        parts.push(h('code', { 'data-testid': 'decision-article' }, [d.article_id || '?']));
        add(pct(d.confidence) + ' confidence', 'conf' + (d.confidence < 0.5 ? ' low' : ''));
        if (d.reason === 'chosen') {
          add('customer chose it');
        }
        if (d.sources && d.sources.length) {
          add('machine-written from ' + d.sources.join(', '), 'machine');
        }
        break;
      case 'clarify':
        add('Asked to clarify');
        add('best ' + pct(d.confidence), 'conf low');
        if (d.candidates && d.candidates.length) {
          add('candidates: ' + d.candidates.join(', '));
        }
        break;
      case 'no_answer':
        add('No answer');
        add(reasonLabel(d.reason));
        break;
      case 'handoff':
        add('Handed off: ' + reasonLabel(d.reason), 'handoff');
        if (d.article_id) {
          parts.push(h('code', null, [d.article_id]));
        }
        break;
      case 'feedback':
        add(d.reason === 'ask_helpful' ? 'Asked whether it helped' : 'Feedback: ' + (d.reason || '').replace(/_/g, ' '));
        break;
      case 'smalltalk':
        add('Small talk' + (d.reason ? ' (' + d.reason.replace(/_/g, ' ') + ')' : ''));
        break;
      default:
        add((d.kind || 'decision').replace(/_/g, ' ') + (d.reason ? ': ' + d.reason.replace(/_/g, ' ') : ''));
        if (d.article_id) {
          parts.push(h('code', null, [d.article_id]));
        }
    }
    const el = h('div', { class: 'decision', 'data-testid': 'decision', 'data-kind': d.kind || '' });
    parts.forEach((p, i) => {
      if (i > 0 && parts[i - 1].textContent.slice(-1) !== ' ') {
        el.appendChild(document.createTextNode(p.tagName === 'CODE' ? ' ' : ' · '));
      }
      el.appendChild(p);
    });
    if (d.query) {
      el.title = 'Searched for: ' + d.query;
    }
    return el;
  }

  // attachmentNode shows a file sent in the open conversation: an image
  // inline, a PDF as a link that downloads it (the session cookie
  // authorises both).
  function attachmentNode(a) {
    if (!state.open || typeof a.id !== 'string' || !/^att_[0-9a-f]+$/.test(a.id)) {
      return null;
    }
    const url = '/api/agent/conversations/' + encodeURIComponent(state.open.id) + '/attachments/' + encodeURIComponent(a.id);
    const name = String(a.name || 'file');
    if (String(a.type).indexOf('image/') === 0) {
      return h('a', { class: 'attachment', href: url, target: '_blank', rel: 'noopener' },
        [h('img', { class: 'attachment-img', src: url, alt: name, 'data-testid': 'transcript-attachment', 'data-name': name })]);
    }
    const kb = Math.max(1, Math.round((Number(a.size) || 0) / 1024));
    return h('a', { class: 'attachment attachment-file', href: url, download: name, 'data-testid': 'transcript-attachment', 'data-name': name },
      [name + ' (PDF, ' + (kb >= 1024 ? (kb / 1024).toFixed(1) + ' MB' : kb + ' KB') + ')']);
  }

  // sendAttachment sends a file the agent chose to the customer.
  async function sendAttachment(file) {
    const o = state.open;
    if (!o || !file) {
      return;
    }
    if (file.size > 10 * 1048576) {
      toast('That file is too large: the limit is 10 MB.', 'error');
      return;
    }
    const data = await new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
      r.onerror = () => reject(r.error);
      r.readAsDataURL(file);
    });
    try {
      const m = await call('POST', 'conversations/' + encodeURIComponent(o.id) + '/attachments', { name: file.name, data });
      if (state.open === o) {
        appendMessage(m);
        scrollTranscript(true);
      }
    } catch (e) {
      toast('The file was not sent: ' + e.message + '.', 'error');
    }
  }

  function messageItem(m) {
    const cls = 'msg from-' + m.from + (m.internal ? ' internal' : '') + (m.agent && state.me && m.agent === state.me.id ? ' own' : '');
    const head = h('div', { class: 'msg-head' }, [
      h('span', { class: 'who' }, [senderName(m)]),
      m.internal ? h('span', { class: 'badge note-badge' }, ['Internal note']) : null,
      h('time', { datetime: m.time, title: new Date(m.time).toLocaleString() }, [clock(m.time)]),
    ]);
    const body = h('div', { class: 'bubble' });
    if (m.from === 'bot') {
      renderMarkdown(body, m.text);
    } else {
      body.textContent = m.text;
    }
    if (m.attachment) {
      body.appendChild(attachmentNode(m.attachment));
    }
    const li = h('li', { class: cls, 'data-testid': 'transcript-message', 'data-from': m.from, 'data-seq': String(m.seq) }, [head, body]);
    if (m.internal) {
      li.setAttribute('data-internal', 'true');
    }
    if (m.payload) {
      body.appendChild(h('span', { class: 'chose' }, ['(tapped a button)']));
    }
    if (m.assist) {
      li.appendChild(assistNode(m.assist));
    } else if (m.decision && m.from === 'bot') {
      li.appendChild(decisionNode(m.decision));
    }
    if (m.quick_replies && m.quick_replies.length) {
      li.appendChild(h('div', { class: 'offered' }, [h('span', { class: 'muted' }, ['Offered: '])].concat(
        m.quick_replies.map((q) => h('span', { class: 'chip' }, [q.label])))));
    }
    return li;
  }

  // assistNode shows a machine-written brief (a private note from the
  // bot at hand-off): marked as such, with a button that puts the
  // suggested reply in the composer for the agent to edit before sending.
  function assistNode(a) {
    const el = h('div', { class: 'assist', 'data-testid': 'assist' }, [
      h('span', { class: 'badge machine-badge', 'data-testid': 'machine-written' }, ['Machine-written']),
      h('span', { class: 'muted' }, [' Check it before you rely on it.']),
    ]);
    if (typeof a.reply === 'string' && a.reply) {
      const use = h('button', { type: 'button', class: 'btn small', 'data-testid': 'use-suggestion' }, ['Use suggested reply']);
      use.addEventListener('click', () => {
        if (!owns()) {
          toast('Take the conversation first.', 'error');
          return;
        }
        $('internal').checked = false;
        $('reply').value = a.reply;
        renderComposer();
        $('reply').focus();
      });
      el.appendChild(use);
    }
    return el;
  }

  function nearBottom() {
    const t = $('transcript');
    return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
  }

  function scrollTranscript(force) {
    const t = $('transcript');
    if (force || nearBottom()) {
      t.scrollTop = t.scrollHeight;
    }
  }

  // renderSeen marks the latest reply the customer has seen ("Seen"),
  // from the conversation's customer_read_seq (read receipts).
  function renderSeen() {
    const o = state.open;
    const list = $('transcript');
    for (const e of list.querySelectorAll('.seen')) {
      e.remove();
    }
    const upTo = o && o.data && o.data.conversation ? o.data.conversation.customer_read_seq || 0 : 0;
    const replies = [...list.querySelectorAll('[data-testid="transcript-message"][data-from="agent"]:not([data-internal])')]
      .filter((li) => Number(li.getAttribute('data-seq')) <= upTo);
    const last = replies[replies.length - 1];
    if (last) {
      last.appendChild(h('div', { class: 'seen', 'data-testid': 'seen' }, ['Seen']));
    }
  }

  // markConversationRead tells the server how far the agent who has the
  // open conversation has seen it, which the customer sees as "Seen".
  function markConversationRead() {
    const o = state.open;
    if (!o || !owns() || document.visibilityState !== 'visible' || o.lastSeq <= (o.readSent || 0)) {
      return;
    }
    o.readSent = o.lastSeq;
    call('POST', 'conversations/' + encodeURIComponent(o.id) + '/read', { seq: o.lastSeq }).catch(() => {
      o.readSent = 0;
    });
  }

  document.addEventListener('visibilitychange', markConversationRead);

  function appendMessage(m) {
    const o = state.open;
    if (!o || !o.data || m.seq <= o.lastSeq) {
      return; // already shown
    }
    if (m.seq > o.lastSeq + 1) {
      // A gap: something was missed (a reconnect, a race with the
      // websocket); reload rather than show a transcript with holes.
      reloadConversation();
      return;
    }
    const stick = nearBottom();
    o.data.messages.push(m);
    o.lastSeq = m.seq;
    $('transcript').appendChild(messageItem(m));
    scrollTranscript(stick);
    renderSeen();
    markConversationRead();
    if (m.from === 'customer') {
      hideTyping();
      if (!m.payload) {
        refreshConversationSuggestions(state.open.id);
      }
    }
  }

  function onMessage(id, m) {
    notePreview(id, m);
    if (state.open && state.open.id === id) {
      appendMessage(m);
      if (m.from === 'customer' && (document.hidden || !document.hasFocus())) {
        notify('New message', customerName(state.open.data && state.open.data.customer) + ': ' + m.text.slice(0, 80), id);
      }
      return;
    }
    if (m.from === 'customer' && state.mine.some((t) => t.conversation_id === id)) {
      state.unread[id] = (state.unread[id] || 0) + 1;
      renderLists();
      const t = state.mine.find((x) => x.conversation_id === id);
      notify('New message', customerName(t && t.customer) + ': ' + m.text.slice(0, 80), id);
    }
  }

  function showTyping() {
    const el = $('typing');
    el.textContent = customerName(state.open.data && state.open.data.customer) + ' is typing…';
    el.classList.add('on');
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
  }

  function hideTyping() {
    const el = $('typing');
    el.textContent = '';
    el.classList.remove('on');
  }

  async function sendMessage(text, articleID) {
    const o = state.open;
    if (!o) {
      return false;
    }
    const internal = $('internal').checked && !articleID;
    const body = { text, internal };
    if (articleID) {
      body.article_id = articleID;
    }
    try {
      const m = await call('POST', 'conversations/' + encodeURIComponent(o.id) + '/messages', body);
      if (state.open === o) {
        appendMessage(m);
        scrollTranscript(true);
      }
      return true;
    } catch (e) {
      toast((internal ? 'The note was not saved: ' : 'The reply was not sent: ') + e.message + '.', 'error');
      if (e.status === 403) {
        reloadConversation();
      }
      return false;
    }
  }

  async function onSubmitReply(ev) {
    ev.preventDefault();
    const input = $('reply');
    const text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    const btn = $('send');
    btn.disabled = true;
    const ok = await sendMessage(text);
    btn.disabled = false;
    if (ok) {
      input.value = '';
    }
    input.focus();
  }

  function onReplyKey(ev) {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('composer').requestSubmit();
    }
  }

  function onReplyInput() {
    if (!owns() || $('internal').checked || !$('reply').value.trim()) {
      return;
    }
    const now = Date.now();
    if (now - state.lastTypingSent >= TYPING_SEND_MS) {
      state.lastTypingSent = now;
      sendFrame({ type: 'typing', conversation_id: state.open.id });
    }
  }

  function onCanned() {
    const sel = $('canned');
    const c = state.canned[parseInt(sel.value, 10)];
    sel.value = '';
    if (!c) {
      return;
    }
    const input = $('reply');
    const text = c.text.replace(/\{name\}/g, firstName(state.open && state.open.data && state.open.data.customer));
    input.value = input.value ? input.value.replace(/\s*$/, '\n') + text : text;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  // ---- Actions -----------------------------------------------------------------

  async function act(path, done) {
    const o = state.open;
    if (!o) {
      return;
    }
    const buttons = document.querySelectorAll('.actions .btn');
    buttons.forEach((b) => { b.dataset.wasDisabled = b.disabled ? '1' : ''; b.disabled = true; });
    try {
      const t = await call('POST', 'conversations/' + encodeURIComponent(o.id) + '/' + path);
      if (state.open === o && o.data) {
        o.data.ticket = t;
      }
      toast(done);
      await refreshQueue();
      if (state.open === o) {
        await reloadConversation();
        renderConversationHead();
      }
    } catch (e) {
      buttons.forEach((b) => { b.disabled = b.dataset.wasDisabled === '1'; });
      toast('Could not do that: ' + e.message + '.', 'error');
    }
  }

  function openTransfer() {
    const dlg = $('transfer-dialog');
    $('transfer-error').textContent = '';
    loadAgents().then(() => {
      const sel = $('transfer-agent');
      clear(sel);
      const others = state.agents.filter((a) => !a.disabled && a.id !== state.me.id);
      const order = { online: 0, away: 1, offline: 2 };
      others.sort((a, b) => (order[a.presence] - order[b.presence]) || a.load - b.load || a.name.localeCompare(b.name));
      for (const a of others) {
        sel.appendChild(h('option', { value: a.id, disabled: a.presence !== 'online' },
          [a.name + ' (' + a.presence + ', ' + a.load + '/' + a.max_chats + ' chats' + (a.teams.length ? ', ' + a.teams.join(', ') : '') + ')']));
      }
      if (!others.length) {
        sel.appendChild(h('option', { value: '', disabled: true }, ['No other agents']));
      }
      const firstOnline = others.find((a) => a.presence === 'online');
      sel.value = firstOnline ? firstOnline.id : '';
      const teams = $('transfer-team');
      clear(teams);
      for (const t of state.teams) {
        teams.appendChild(h('option', { value: t }, [t]));
      }
      if (!state.teams.length) {
        teams.appendChild(h('option', { value: '', disabled: true }, ['No teams configured']));
      }
      const radios = document.querySelectorAll('#transfer-form input[name="to"]');
      radios[0].checked = !!firstOnline || !state.teams.length;
      radios[1].checked = !radios[0].checked;
      syncTransfer();
    });
    if (dlg.showModal) {
      dlg.showModal();
    } else {
      dlg.setAttribute('open', '');
    }
  }

  function syncTransfer() {
    const toTeam = document.querySelector('#transfer-form input[name="to"][value="team"]').checked;
    $('transfer-agent').disabled = toTeam;
    $('transfer-team').disabled = !toTeam;
  }

  async function onTransfer(ev) {
    ev.preventDefault();
    const toTeam = document.querySelector('#transfer-form input[name="to"][value="team"]').checked;
    const body = toTeam ? { team: $('transfer-team').value } : { agent_id: $('transfer-agent').value };
    if (!(body.team || body.agent_id)) {
      $('transfer-error').textContent = toTeam ? 'Choose a team.' : 'Choose an agent who is online.';
      return;
    }
    const o = state.open;
    try {
      const t = await call('POST', 'conversations/' + encodeURIComponent(o.id) + '/transfer', body);
      closeTransfer();
      if (o.data) {
        o.data.ticket = t;
      }
      toast(toTeam ? 'Sent to the ' + body.team + ' queue.' : 'Transferred to ' + (t.agent_name || 'your colleague') + '.');
      await refreshQueue();
      if (state.open === o) {
        await reloadConversation();
        renderConversationHead();
      }
    } catch (e) {
      $('transfer-error').textContent = e.message.charAt(0).toUpperCase() + e.message.slice(1) + '.';
    }
  }

  function closeTransfer() {
    const dlg = $('transfer-dialog');
    if (dlg.close) {
      dlg.close();
    } else {
      dlg.removeAttribute('open');
    }
    $('act-transfer').focus();
  }

  // ---- Side panel: profile, suggestions, past ------------------------------------

  function canEditCustomer() {
    return supervisor() || owns() || state.mine.some((t) => state.open && state.open.data && state.open.data.customer && t.customer && t.customer.id === state.open.data.customer.id);
  }

  function renderProfile() {
    const box = $('profile');
    clear(box);
    const d = state.open && state.open.data;
    if (!d) {
      return;
    }
    const c = d.customer;
    if (!c) {
      box.appendChild(h('p', { class: 'muted' }, ['No profile.']));
      return;
    }
    const row = (label, value) => h('div', { class: 'kv' }, [h('dt', null, [label]), h('dd', null, [value])]);
    const dl = h('dl', { class: 'kvs' });
    dl.appendChild(row('Name', c.name || '—'));
    dl.appendChild(row('Email', c.email || '—'));
    if (c.external_id) {
      dl.appendChild(row('Shop id', c.external_id + ' (verified)')); // the shop vouched for this customer
    }
    dl.appendChild(row('Channels', c.channels.length ? c.channels.join(', ') : '—'));
    dl.appendChild(row('Visits', String(c.visits) + (c.first_seen ? ' since ' + day(c.first_seen) : '')));
    if (c.tags.length) {
      dl.appendChild(row('Tags', h('span', { class: 'chips' }, c.tags.map((t) => h('span', { class: 'chip' }, [t])))));
    }
    const attrs = Object.keys(c.attrs || {});
    for (const k of attrs.slice(0, 8)) {
      dl.appendChild(row(k, c.attrs[k]));
    }
    if (c.topics.length) {
      dl.appendChild(row('Asked about', h('ul', { class: 'topics' }, c.topics.map((t) => h('li', { title: t.article_id }, [t.title])))));
    }
    box.appendChild(dl);

    const editable = canEditCustomer();
    state.open.profileEditable = editable;
    const seg = h('input', { id: 'segment', type: 'text', value: c.segment || '', list: 'segments', 'data-testid': 'segment', maxlength: '32', disabled: !editable, autocomplete: 'off', placeholder: 'e.g. vip' });
    const ded = h('select', { id: 'dedicated', 'data-testid': 'dedicated-agent', disabled: !editable });
    ded.appendChild(h('option', { value: '' }, ['None']));
    const agents = state.agents.filter((a) => !a.disabled);
    if (c.dedicated_agent && !agents.some((a) => a.id === c.dedicated_agent)) {
      agents.push({ id: c.dedicated_agent, name: c.dedicated_agent_name || c.dedicated_agent });
    }
    for (const a of agents) {
      ded.appendChild(h('option', { value: a.id }, [a.name]));
    }
    ded.value = c.dedicated_agent || '';
    const save = h('button', { type: 'submit', class: 'btn small', 'data-testid': 'customer-save', disabled: !editable }, ['Save']);
    const form = h('form', { class: 'customer-form', onsubmit: (ev) => saveCustomer(ev, c.id, seg, ded) }, [
      h('label', { for: 'segment' }, ['Segment']),
      seg,
      h('datalist', { id: 'segments' }, [h('option', { value: 'vip' }), h('option', { value: 'business' }), h('option', { value: 'standard' })]),
      h('label', { for: 'dedicated' }, ['Dedicated agent']),
      ded,
      h('div', { class: 'form-row' }, [save, editable ? null : h('span', { class: 'muted small' }, ['Claim the conversation to edit.'])]),
    ]);
    box.appendChild(form);
    if (admin()) {
      box.appendChild(h('div', { class: 'customer-data', role: 'group', 'aria-label': 'Customer data (admins)' }, [
        h('span', { class: 'muted small' }, ['Data:']),
        h('button', { type: 'button', class: 'btn small', 'data-testid': 'customer-export', onclick: () => exportCustomer(c) }, ['Export']),
        h('button', { type: 'button', class: 'btn small danger-outline', 'data-testid': 'customer-forget', onclick: () => openForget(c) }, ['Forget…']),
      ]));
    }
  }

  function admin() {
    return !!(state.me && state.me.role === 'admin');
  }

  // exportCustomer downloads everything kept about the customer as a
  // JSON file.
  async function exportCustomer(c) {
    const path = 'admin/customers/' + encodeURIComponent(c.id) + '/export';
    try {
      const res = await fetch(apiURL(path), { credentials: 'same-origin' });
      if (!res.ok) {
        let msg = res.statusText;
        try {
          msg = (await res.json()).error || msg;
        } catch (e) { /* not JSON */ }
        throw new Error(msg);
      }
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: 'customer-' + c.id + '.json', hidden: true });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      toast('Exported ' + customerName(c) + '.');
    } catch (e) {
      toast('Could not export: ' + e.message + '.', 'error');
    }
  }

  let forgetting = null; // the customer the forget dialog is about

  function openForget(c) {
    forgetting = c;
    $('forget-name').textContent = customerName(c) + (c.email ? ' <' + c.email + '>' : '');
    $('forget-error').textContent = '';
    $('forget-ok').disabled = false;
    const dlg = $('forget-dialog');
    if (dlg.showModal) {
      dlg.showModal();
    } else {
      dlg.setAttribute('open', '');
    }
    $('forget-cancel').focus();
  }

  function closeForget() {
    const dlg = $('forget-dialog');
    if (dlg.close) {
      dlg.close();
    } else {
      dlg.removeAttribute('open');
    }
    forgetting = null;
  }

  async function onForget(ev) {
    ev.preventDefault();
    const c = forgetting;
    if (!c) {
      return;
    }
    $('forget-ok').disabled = true;
    try {
      const r = await call('POST', 'admin/customers/' + encodeURIComponent(c.id) + '/forget', {});
      closeForget();
      toast('Erased ' + customerName(c) + ': ' + r.conversations + ' conversation' + (r.conversations === 1 ? '' : 's') + ', ' + r.messages + ' messages.');
      if (state.open && state.open.data && state.open.data.customer && state.open.data.customer.id === c.id) {
        closeConversation();
      }
      refreshQueue();
    } catch (e) {
      $('forget-ok').disabled = false;
      $('forget-error').textContent = e.message.charAt(0).toUpperCase() + e.message.slice(1) + '.';
    }
  }

  async function saveCustomer(ev, id, seg, ded) {
    ev.preventDefault();
    try {
      const c = await call('POST', 'customers/' + encodeURIComponent(id), { segment: seg.value.trim(), dedicated_agent: ded.value });
      if (state.open && state.open.data && state.open.data.customer && state.open.data.customer.id === id) {
        state.open.data.customer = c;
        renderProfile();
        renderConversationHead();
      }
      toast('Customer saved.');
    } catch (e) {
      toast('Could not save: ' + e.message + '.', 'error');
    }
  }

  let suggestSeq = 0;
  function renderSuggestions(list, query, searched) {
    const ul = $('suggestions');
    clear(ul);
    $('suggest-for').textContent = query ? (searched ? 'Results for “' + query + '”' : 'For “' + (query.length > 80 ? query.slice(0, 80) + '…' : query) + '”') : 'No customer question yet.';
    const mine = owns();
    for (const s of list || []) {
      const excerpt = plain(s.body);
      ul.appendChild(h('li', { class: 'sugg', 'data-testid': 'suggestion', 'data-article': s.id }, [
        h('div', { class: 'sugg-head' }, [
          h('span', { class: 'sugg-title' }, [s.title]),
          h('span', { class: 'conf' + (s.confidence < 0.5 ? ' low' : ''), title: 'Confidence that this article answers the question' }, [pct(s.confidence)]),
        ]),
        h('p', { class: 'excerpt' }, [excerpt.length > 180 ? excerpt.slice(0, 180) + '…' : excerpt]),
        h('div', { class: 'sugg-actions' }, [
          h('code', { class: 'small' }, [s.id]),
          h('button', { type: 'button', class: 'btn small', 'data-testid': 'suggestion-insert', onclick: () => insertArticle(s) }, ['Edit first']),
          h('button', {
            type: 'button', class: 'btn small primary', 'data-testid': 'suggestion-send', disabled: !mine,
            title: mine ? 'Send this article to the customer' : 'Claim the conversation to send', onclick: (ev) => sendArticle(ev, s),
          }, ['Send']),
        ]),
      ]));
    }
    if (!list || !list.length) {
      ul.appendChild(h('li', { class: 'muted small' }, [query ? 'No matching article.' : '']));
    }
  }

  function insertArticle(s) {
    const input = $('reply');
    if (owns()) {
      $('internal').checked = false;
      renderComposer();
    }
    input.value = s.body;
    input.focus();
  }

  async function sendArticle(ev, s) {
    const btn = ev.currentTarget;
    btn.disabled = true;
    const ok = await sendMessage(s.body, s.id);
    btn.disabled = !owns();
    if (ok) {
      toast('Sent “' + s.title + '”.');
    }
  }

  async function onArticleSearch(ev) {
    ev.preventDefault();
    const q = $('article-q').value.trim();
    if (!q) {
      return;
    }
    try {
      const r = await call('GET', 'articles?q=' + encodeURIComponent(q));
      suggestSeq++;
      renderSuggestions(r.articles || [], q, true);
    } catch (e) {
      toast('Search failed: ' + e.message + '.', 'error');
    }
  }

  function renderPast() {
    const ul = $('past');
    clear(ul);
    const d = state.open && state.open.data;
    const past = (d && d.past_conversations) || [];
    if (!past.length) {
      ul.appendChild(h('li', { class: 'muted small' }, ['This is their first conversation.']));
      return;
    }
    for (const p of past) {
      const last = p.last_messages.filter((m) => !m.internal).slice(-2);
      ul.appendChild(h('li', { class: 'past-item', 'data-testid': 'past-conversation', 'data-conversation': p.id }, [
        h('button', { type: 'button', class: 'past-open', onclick: () => openConversation(p.id) }, [
          h('span', { class: 'past-top' }, [
            h('span', null, [day(p.created)]),
            h('span', { class: 'muted' }, [p.message_count + ' messages · ' + (STATES[p.state] || p.state) + (p.rating ? ' · rated ' + p.rating + '/5' : '')]),
          ]),
          p.rating_comment ? h('span', { class: 'past-line', 'data-testid': 'past-rating-comment' }, ['Rating comment: \u201c' + p.rating_comment.slice(0, 200) + '\u201d']) : null,
          ...last.map((m) => h('span', { class: 'past-line' }, [(m.from === 'customer' ? 'Customer: ' : m.from === 'bot' ? 'Bot: ' : m.from === 'agent' ? (m.agent_name || 'Agent') + ': ' : '') + plain(m.text).slice(0, 90)])),
        ]),
      ]));
    }
  }

  // ---- Wiring --------------------------------------------------------------------

  function init() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', logout);
    $('presence').addEventListener('change', setPresence);
    $('alerts-btn').addEventListener('click', enableAlerts);
    $('dashboard-btn').addEventListener('click', closeConversation);
    $('composer').addEventListener('submit', onSubmitReply);
    $('reply').addEventListener('keydown', onReplyKey);
    $('attach').addEventListener('change', () => {
      const f = $('attach').files && $('attach').files[0];
      $('attach').value = '';
      sendAttachment(f);
    });
    $('reply').addEventListener('input', onReplyInput);
    $('internal').addEventListener('change', renderComposer);
    $('canned').addEventListener('change', onCanned);
    $('act-claim').addEventListener('click', () => state.open && claimConversation(state.open.id));
    $('act-transfer').addEventListener('click', openTransfer);
    $('act-escalate').addEventListener('click', () => act('escalate', 'Escalated to the supervisors.'));
    $('act-resolve').addEventListener('click', () => act('resolve', 'Resolved. The customer was asked for a rating.'));
    $('act-return').addEventListener('click', () => act('return-to-bot', 'Handed back to the bot.'));
    $('transfer-form').addEventListener('submit', onTransfer);
    $('transfer-cancel').addEventListener('click', closeTransfer);
    $('forget-form').addEventListener('submit', onForget);
    $('forget-cancel').addEventListener('click', closeForget);
    $('forget-dialog').addEventListener('close', () => { forgetting = null; });
    for (const r of document.querySelectorAll('#transfer-form input[name="to"]')) {
      r.addEventListener('change', syncTransfer);
    }
    $('article-search').addEventListener('submit', onArticleSearch);
    initInbox();
    document.addEventListener('keydown', (ev) => {
      const tag = document.activeElement ? document.activeElement.tagName : '';
      if (ev.key === 'Escape' && state.open && !$('transfer-dialog').open && !$('forget-dialog').open && tag !== 'INPUT' && tag !== 'TEXTAREA' && tag !== 'SELECT') {
        closeConversation();
      }
    });
    setInterval(tickWaits, 1000);
    // Dashboard numbers that change with time alone (waits) refresh slowly.
    setInterval(() => { if (state.loggedIn && supervisor() && !$('home').hidden) { refreshDashboard(); } }, 15000);

    call('GET', 'me').then((r) => startApp(r.agent), () => showLogin(''));
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
