/*
 * Frontdesk console: insights for supervisors and admins (the knowledge
 * gaps page). Plain JavaScript, loaded beside console.js and independent
 * of it: it adds an "Insights" button to the top bar once a supervisor is
 * signed in, and a page in the main area. Every text from the server
 * (customers' questions, agents' replies) goes into the page with
 * textContent.
 */
(function () {
  'use strict';

  const base = new URL('.', location.href);
  const apiURL = (p) => new URL('api/agent/' + p, base).href;
  const $ = (id) => document.getElementById(id);

  //@frontdesk:include dom.js

  async function get(path) {
    const res = await fetch(apiURL(path), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      throw new Error((data && data.error) || res.statusText || 'Request failed');
    }
    return data;
  }

  async function send(method, path, body) {
    const res = await fetch(apiURL(path), {
      method, credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    return { status: res.status, data: data || {} };
  }

  //@frontdesk:include markdown.js

  const REASONS = {
    no_answer: 'not understood',
    something_else: '"something else"',
    not_helpful: 'not helpful',
    handoff: 'handed to a person',
  };

  let page = null;
  let button = null;

  function build() {
    button = h('button', { type: 'button', id: 'insights-btn', class: 'btn ghost', 'data-testid': 'insights' }, ['Insights']);
    const right = document.querySelector('.topbar-right');
    right.insertBefore(button, right.firstChild);
    const period = h('select', { id: 'gaps-since', 'data-testid': 'gaps-since', 'aria-label': 'Period' }, [
      h('option', { value: '1d' }, ['Last day']),
      h('option', { value: '7d', selected: true }, ['Last 7 days']),
      h('option', { value: '30d' }, ['Last 30 days']),
      h('option', { value: '90d' }, ['Last 90 days']),
    ]);
    page = h('section', { id: 'insights', class: 'home', 'data-testid': 'insights-panel', hidden: true, 'aria-labelledby': 'insights-title' }, [
      h('h1', { id: 'insights-title', tabindex: '-1' }, ['Insights']),
      statsSection(),
      h('h2', { id: 'gaps-title' }, ['Knowledge gaps']),
      h('p', { class: 'muted' }, ['Questions the bot could not answer, was told were not helpful, or handed to a person after failing, grouped by similarity. Each topic is a candidate for a new article or a new phrasing of the nearest one.']),
      h('div', { id: 'content-status', class: 'banner', role: 'status', 'data-testid': 'content-status', hidden: true }),
      h('p', null, [period]),
      h('p', { id: 'gaps-summary', role: 'status', 'data-testid': 'gaps-summary' }),
      h('ol', { id: 'gaps-topics', class: 'gaps', 'data-testid': 'gaps-topics' }),
      editorSection(),
      integrationsSection(),
    ]);
    $('main').appendChild(page);
    setUpEditor();
    setUpStats();
    setUpIntegrations();
    button.addEventListener('click', open);
    period.addEventListener('change', load);
    // console.js shows the home page or a conversation: then this page
    // steps aside.
    const watch = new MutationObserver(() => {
      if (!page.hidden && (!$('home').hidden || !$('conv').hidden)) {
        page.hidden = true;
      }
    });
    watch.observe($('home'), { attributes: true, attributeFilter: ['hidden'] });
    watch.observe($('conv'), { attributes: true, attributeFilter: ['hidden'] });
  }

  function open() {
    $('home').hidden = true;
    $('conv').hidden = true;
    $('side').hidden = true;
    page.hidden = false;
    $('insights-title').focus();
    loadStats();
    load();
    loadIntegrations();
  }

  // Integrations (admins): the customer API's keys and the outgoing
  // webhooks' last failures. Hidden for anyone the admin endpoints refuse.
  function integrationsSection() {
    return h('section', { id: 'integrations', 'data-testid': 'integrations', hidden: true, 'aria-labelledby': 'integrations-title' }, [
      h('h2', { id: 'integrations-title' }, ['Integrations']),
      h('h3', null, ['Customer API keys']),
      h('p', { class: 'muted' }, ['Keys for the shop\'s backend to read and update customers (docs/customer-api.md). A key is shown once, when it is made.']),
      h('form', { id: 'apikey-form', class: 'row', 'data-testid': 'apikey-form' }, [
        h('input', { id: 'apikey-name', 'aria-label': 'Key name', placeholder: 'Name, e.g. shop backend', required: true, maxlength: 100, 'data-testid': 'apikey-name' }),
        h('select', { id: 'apikey-scope', 'aria-label': 'Scope', 'data-testid': 'apikey-scope' }, [
          h('option', { value: 'read' }, ['read']),
          h('option', { value: 'write' }, ['write']),
        ]),
        h('button', { type: 'submit', class: 'btn', 'data-testid': 'apikey-add' }, ['Make a key']),
      ]),
      h('p', { id: 'apikey-new', role: 'status', 'data-testid': 'apikey-new' }),
      h('ul', { id: 'apikey-list', class: 'plain', 'data-testid': 'apikey-list' }),
      h('h3', null, ['Webhooks']),
      h('div', { id: 'webhook-status', 'data-testid': 'webhook-status' }),
    ]);
  }

  function setUpIntegrations() {
    $('apikey-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const out = $('apikey-new');
      const res = await send('POST', 'admin/apikeys', { name: $('apikey-name').value.trim(), scope: $('apikey-scope').value });
      if (res.status !== 201) {
        out.textContent = 'Could not make the key: ' + (res.data.error || res.status);
        return;
      }
      $('apikey-name').value = '';
      out.replaceChildren('New ' + res.data.scope + ' key "' + res.data.name + '" (copy it now; it is not shown again): ',
        h('code', { 'data-testid': 'apikey-secret' }, [res.data.key]));
      loadIntegrations();
    });
  }

  async function revokeKey(k) {
    if (!window.confirm('Revoke the key "' + k.name + '"? The shop\'s backend can no longer use it.')) {
      return;
    }
    const res = await send('DELETE', 'admin/apikeys/' + encodeURIComponent(k.id));
    $('apikey-new').textContent = res.status === 200 ? 'Revoked "' + k.name + '".' : 'Could not revoke the key: ' + (res.data.error || res.status);
    loadIntegrations();
  }

  async function loadIntegrations() {
    const sec = $('integrations');
    let keys;
    try {
      keys = await get('admin/apikeys');
    } catch (e) {
      sec.hidden = true;
      return;
    }
    sec.hidden = false;
    const list = $('apikey-list');
    list.replaceChildren(...(keys.keys || []).map((k) => h('li', { 'data-testid': 'apikey' }, [
      h('strong', null, [k.name]), ' · ' + k.scope + ' · made ' + new Date(k.created).toLocaleDateString() + ' ',
      k.revoked ? h('span', { class: 'muted' }, ['· revoked']) :
        h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'apikey-revoke', onclick: () => revokeKey(k) }, ['Revoke']),
    ])));
    if (!list.firstChild) {
      list.replaceChildren(h('li', { class: 'muted' }, ['No keys yet.']));
    }
    const box = $('webhook-status');
    try {
      const st = await get('admin/webhooks');
      const failures = (st.last_failures || []).slice().reverse();
      box.replaceChildren(
        h('p', null, [(st.urls || []).join(', ') + ': ' + st.delivered + ' delivered, ' + st.pending + ' waiting, ' + st.failed + ' failed attempts' +
          (st.given_up ? ', ' + st.given_up + ' given up' : '')]),
        failures.length ? h('ul', { class: 'plain', 'data-testid': 'webhook-failures' }, failures.map((f) => h('li', null, [
          new Date(f.at).toLocaleString() + ' · ' + f.type + ' to ' + f.url + ': ' + f.error + ' (attempt ' + f.attempts + (f.gave_up ? ', given up' : ', next ' + new Date(f.next_at).toLocaleTimeString()) + ')',
        ]))) : h('p', { class: 'muted' }, ['No failed deliveries.']),
      );
    } catch (e) {
      box.replaceChildren(h('p', { class: 'muted', 'data-testid': 'webhook-off' }, [e.message]));
    }
  }

  async function load() {
    const summary = $('gaps-summary');
    const list = $('gaps-topics');
    summary.textContent = 'Loading…';
    loadContentStatus();
    try {
      const rep = await get('insights/gaps?since=' + encodeURIComponent($('gaps-since').value));
      render(rep);
    } catch (e) {
      list.replaceChildren();
      summary.textContent = 'Could not load the knowledge gaps: ' + e.message;
    }
  }

  // The content's problems: a broken file keeps its previous version
  // serving, but someone should fix it.
  async function loadContentStatus() {
    const box = $('content-status');
    let st;
    try {
      st = await get('insights/content');
    } catch (e) {
      box.hidden = true;
      return;
    }
    const lines = st.problems.map((p) => p.file + (p.line ? ':' + p.line : '') + ': ' + p.message);
    for (const id of st.kept || []) {
      lines.push('Article ' + id + ': its file is broken; the previous version still answers.');
    }
    if (st.error) {
      lines.push('The last reload failed: ' + st.error);
    }
    box.replaceChildren(h('strong', null, ['Content problems']), h('ul', null, lines.map((l) => h('li', null, [l]))));
    box.hidden = lines.length === 0;
  }

  // count says n things: "1 topic", "2 topics".
  function count(n, thing) {
    return n + ' ' + thing + (n === 1 ? '' : 's');
  }

  function render(rep) {
    const list = $('gaps-topics');
    list.replaceChildren();
    $('gaps-summary').textContent = rep.questions === 0
      ? 'No unanswered questions in this period.'
      : count(rep.questions, 'question') + ' in ' + count(rep.topics.length, 'topic') + ', most asked first.';
    for (const t of rep.topics) {
      const reasons = Object.keys(t.reasons).map((k) => (REASONS[k] || k) + ' ' + t.reasons[k]).join(' · ');
      const examples = h('ul', { class: 'gap-examples' }, t.examples.map((e) => h('li', null, [
        h('q', null, [e.question]),
        e.agent_reply ? h('div', { class: 'muted small' }, ['Agent replied: ', h('q', null, [e.agent_reply])]) : null,
      ])));
      const near = t.nearest.length
        ? h('p', { class: 'small' }, ['Nearest articles: ', t.nearest.map((n) => n.title + ' (' + Math.round(n.confidence * 100) + '%)').join(', ')])
        : null;
      list.appendChild(h('li', { class: 'card gap-topic', 'data-testid': 'gap-topic' }, [
        h('h2', { class: 'card-title' }, [t.label]),
        h('p', { class: 'muted small' }, [count(t.count, 'question') + ' · ' + reasons]),
        examples,
        near,
      ]));
    }
  }

  let role = '';

  async function start() {
    let me;
    try {
      me = await get('me');
    } catch (e) {
      return;
    }
    role = (me && (me.role || (me.agent && me.agent.role))) || '';
    setUpSaveAsArticle();
    if (role !== 'supervisor' && role !== 'admin') {
      if (button) {
        button.hidden = true;
      }
      return;
    }
    if (!page) {
      build();
    }
    button.hidden = false;
    $('editor-section').hidden = role !== 'admin';
  }

  // ---- The dashboard over time (supervisors) ---------------------------------

  const SVG = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, children) {
    const el = document.createElementNS(SVG, tag);
    for (const k of Object.keys(attrs || {})) {
      el.setAttribute(k, String(attrs[k]));
    }
    for (const c of children || []) {
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  const isoDay = (d) => d.toISOString().slice(0, 10);

  function statsSection() {
    const today = new Date();
    const weekAgo = new Date(today.getTime() - 6 * 86400000);
    return h('section', { id: 'stats', class: 'stats', 'aria-labelledby': 'stats-title', 'data-testid': 'stats' }, [
      h('h2', { id: 'stats-title' }, ['Over time']),
      h('form', { id: 'stats-form', class: 'stats-form' }, [
        h('label', { for: 'stats-from' }, ['From ']),
        h('input', { id: 'stats-from', type: 'date', value: isoDay(weekAgo), 'data-testid': 'stats-from' }),
        h('label', { for: 'stats-to' }, [' to ']),
        h('input', { id: 'stats-to', type: 'date', value: isoDay(today), 'data-testid': 'stats-to' }),
        ' ',
        h('button', { type: 'submit', class: 'btn small' }, ['Show']),
        ' ',
        h('a', { id: 'stats-csv', class: 'btn small', href: '#', download: 'frontdesk-stats.csv', 'data-testid': 'stats-csv' }, ['Download CSV']),
      ]),
      h('p', { id: 'stats-status', role: 'status', class: 'muted small' }),
      h('div', { id: 'stats-cards', class: 'dash-cards', 'data-testid': 'stats-cards' }),
      h('div', { id: 'stats-charts', class: 'charts', 'data-testid': 'stats-charts' }),
    ]);
  }

  function setUpStats() {
    $('stats-form').addEventListener('submit', (e) => {
      e.preventDefault();
      loadStats();
    });
  }

  function statsQuery() {
    return 'stats?from=' + encodeURIComponent($('stats-from').value) + '&to=' + encodeURIComponent($('stats-to').value);
  }

  async function loadStats() {
    $('stats-csv').href = apiURL(statsQuery() + '&format=csv');
    $('stats-status').textContent = 'Loading…';
    try {
      renderStats(await get(statsQuery()));
      $('stats-status').textContent = '';
    } catch (e) {
      $('stats-status').textContent = 'Could not load the figures: ' + e.message;
    }
  }

  // secs shows a time in seconds; d says how many there were.
  function secs(v, d) {
    if (!d.count) {
      return '–';
    }
    return v < 120 ? Math.round(v) + ' s' : (v < 7200 ? Math.round(v / 60) + ' min' : (v / 3600).toFixed(1) + ' h');
  }

  function renderStats(st) {
    const cards = $('stats-cards');
    const card = (label, value) => h('div', { class: 'stat' }, [h('span', { class: 'stat-value' }, [String(value)]), h('span', { class: 'stat-label' }, [label])]);
    cards.replaceChildren(
      card('conversations', st.conversations),
      card('deflection', st.conversations ? Math.round(st.deflection_rate * 100) + '%' : '–'),
      card('wait p50 / p90', secs(st.wait_seconds.p50, st.wait_seconds) + ' / ' + secs(st.wait_seconds.p90, st.wait_seconds)),
      card('first reply p50 / p90', secs(st.first_response_seconds.p50, st.first_response_seconds) + ' / ' + secs(st.first_response_seconds.p90, st.first_response_seconds)),
      card('survey (' + st.survey.count + ')', st.survey.count ? st.survey.average.toFixed(1) + ' / 5' : '–'),
      card('follow-ups solved', st.followups.sent ? st.followups.solved + ' of ' + st.followups.sent : '–'),
    );
    const charts = $('stats-charts');
    charts.replaceChildren(
      chart('deflection', 'Conversations a day: finished by the bot, and with a person',
        columns(st.days.map((d) => ({ label: d.day.slice(5), parts: [d.deflected, d.conversations - d.deflected] })), ['by the bot', 'with a person'])),
      chart('handoffs', 'Hand-offs by reason',
        rows(Object.keys(st.handoffs).sort((a, b) => st.handoffs[b] - st.handoffs[a]).map((k) => ({ label: k.replace(/_/g, ' '), parts: [st.handoffs[k]] })), ['hand-offs'])),
      chart('times', 'Waiting and first reply a day, p50 and p90 (seconds)',
        lines(st.days.map((d) => d.day.slice(5)), [
          { name: 'wait p50', values: st.days.map((d) => d.wait_seconds.p50) },
          { name: 'wait p90', values: st.days.map((d) => d.wait_seconds.p90) },
          { name: 'first reply p50', values: st.days.map((d) => d.first_response_seconds.p50) },
          { name: 'first reply p90', values: st.days.map((d) => d.first_response_seconds.p90) },
        ])),
      chart('survey', 'Survey average a day (1–5)',
        lines(st.days.map((d) => d.day.slice(5)), [{ name: 'average', values: st.days.map((d) => d.survey.average) }], 5)),
      chart('helpfulness', 'Was it helpful? By article',
        rows(st.helpfulness.slice(0, 10).map((a) => ({ label: a.title || a.article_id, parts: [a.yes, a.no] })), ['yes', 'no'])),
      chart('hours', 'Busiest hours (customers\' messages, UTC)',
        columns(st.hours.map((n, i) => ({ label: String(i), parts: [n] })), ['messages'])),
    );
  }

  function chart(name, caption, body) {
    return h('figure', { class: 'chart', 'data-testid': 'chart-' + name }, [h('figcaption', null, [caption]), body]);
  }

  const W = 440;
  const H = 180;
  const PAD = { l: 34, r: 8, t: 8, b: 22 };
  const COLORS = ['#2d5b7f', '#e08a3c', '#5a9e6f', '#b3261e'];

  function frame(label, maxV) {
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label, class: 'chart-svg' });
    root.appendChild(svg('title', null, [label]));
    const y0 = H - PAD.b;
    root.appendChild(svg('line', { x1: PAD.l, y1: y0, x2: W - PAD.r, y2: y0, class: 'axis' }));
    root.appendChild(svg('text', { x: PAD.l - 4, y: PAD.t + 8, 'text-anchor': 'end', class: 'tick' }, [String(Math.round(maxV))]));
    root.appendChild(svg('text', { x: PAD.l - 4, y: y0, 'text-anchor': 'end', class: 'tick' }, ['0']));
    return root;
  }

  function legend(names) {
    return h('p', { class: 'legend small' }, names.map((n, i) => h('span', { class: 'key' }, [h('span', { class: 'swatch swatch-' + i }), n])));
  }

  // columns draws stacked vertical bars, one per item.
  function columns(items, names) {
    const maxV = Math.max(1, ...items.map((it) => it.parts.reduce((a, b) => a + b, 0)));
    const root = frame(names.join(', '), maxV);
    const plotW = W - PAD.l - PAD.r;
    const plotH = H - PAD.t - PAD.b;
    const slot = plotW / Math.max(items.length, 1);
    items.forEach((it, i) => {
      let y = H - PAD.b;
      it.parts.forEach((v, j) => {
        const hgt = (v / maxV) * plotH;
        y -= hgt;
        const r = svg('rect', { x: PAD.l + i * slot + slot * 0.15, y, width: slot * 0.7, height: hgt, fill: COLORS[j % COLORS.length], 'data-value': v });
        r.appendChild(svg('title', null, [it.label + ': ' + v + ' ' + names[j]]));
        root.appendChild(r);
      });
      if (items.length <= 14 || i % 3 === 0) {
        root.appendChild(svg('text', { x: PAD.l + i * slot + slot / 2, y: H - 6, 'text-anchor': 'middle', class: 'tick' }, [it.label]));
      }
    });
    return h('div', null, [root, legend(names)]);
  }

  // rows draws stacked horizontal bars, one per item, labelled.
  function rows(items, names) {
    if (!items.length) {
      return h('p', { class: 'muted small' }, ['Nothing in this period.']);
    }
    const rowH = 24;
    const height = items.length * rowH + 8;
    const labelW = 150;
    const maxV = Math.max(1, ...items.map((it) => it.parts.reduce((a, b) => a + b, 0)));
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + height, role: 'img', 'aria-label': names.join(', '), class: 'chart-svg' });
    root.appendChild(svg('title', null, [names.join(', ')]));
    items.forEach((it, i) => {
      const y = 4 + i * rowH;
      const label = it.label.length > 24 ? it.label.slice(0, 23) + '…' : it.label;
      root.appendChild(svg('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end', class: 'tick' }, [label]));
      let x = labelW;
      it.parts.forEach((v, j) => {
        const w = (v / maxV) * (W - labelW - 40);
        const r = svg('rect', { x, y: y + 3, width: w, height: rowH - 8, fill: COLORS[j % COLORS.length], 'data-value': v });
        r.appendChild(svg('title', null, [it.label + ': ' + v + ' ' + names[j]]));
        root.appendChild(r);
        x += w;
      });
      root.appendChild(svg('text', { x: x + 4, y: y + 15, class: 'tick' }, [it.parts.join(' / ')]));
    });
    return h('div', null, [root, legend(names)]);
  }

  // lines draws one polyline a series over the labels.
  function lines(labels, series, fixedMax) {
    const maxV = fixedMax || Math.max(1, ...series.flatMap((s) => s.values));
    const root = frame(series.map((s) => s.name).join(', '), maxV);
    const plotW = W - PAD.l - PAD.r;
    const plotH = H - PAD.t - PAD.b;
    const step = labels.length > 1 ? plotW / (labels.length - 1) : 0;
    const xAt = (i) => PAD.l + (labels.length > 1 ? i * step : plotW / 2);
    series.forEach((s, j) => {
      const pts = s.values.map((v, i) => xAt(i) + ',' + (H - PAD.b - (v / maxV) * plotH)).join(' ');
      root.appendChild(svg('polyline', { points: pts, fill: 'none', stroke: COLORS[j % COLORS.length], 'stroke-width': 2, class: 'series' }));
      s.values.forEach((v, i) => {
        const c = svg('circle', { cx: xAt(i), cy: H - PAD.b - (v / maxV) * plotH, r: 2.5, fill: COLORS[j % COLORS.length] });
        c.appendChild(svg('title', null, [labels[i] + ' ' + s.name + ': ' + v]));
        root.appendChild(c);
      });
    });
    labels.forEach((l, i) => {
      if (labels.length <= 14 || i % 3 === 0) {
        // The last day's label ends at the last point: centred there it
        // would run past the chart's right edge and be cut off.
        const anchor = labels.length > 1 && i === labels.length - 1 ? 'end' : 'middle';
        root.appendChild(svg('text', { x: xAt(i), y: H - 6, 'text-anchor': anchor, class: 'tick' }, [l]));
      }
    });
    return h('div', null, [root, legend(series.map((s) => s.name))]);
  }

  // ---- Save an answer as an article (every agent) ----------------------------

  let saveDialog = null;

  function setUpSaveAsArticle() {
    if (saveDialog) {
      return;
    }
    const actions = document.querySelector('#conv .actions');
    if (!actions) {
      return;
    }
    actions.appendChild(h('button', { type: 'button', id: 'act-save-article', class: 'btn', 'data-testid': 'save-as-article', onclick: openSaveDialog }, ['Save as article']));
    saveDialog = h('dialog', { id: 'article-dialog', class: 'dialog', 'data-testid': 'article-dialog', 'aria-labelledby': 'article-dialog-title' }, [
      h('form', { method: 'dialog', id: 'article-form' }, [
        h('h2', { id: 'article-dialog-title' }, ['Save an answer as an article']),
        h('label', { for: 'article-question' }, ["Customer's question"]),
        h('select', { id: 'article-question', 'data-testid': 'article-question' }),
        h('label', { for: 'article-mode' }, ['Save as']),
        h('select', { id: 'article-mode', 'data-testid': 'article-mode' }, [h('option', { value: '' }, ['A new article'])]),
        h('div', { id: 'article-new' }, [
          h('label', { for: 'article-reply' }, ['Answer (an agent\'s reply)']),
          h('select', { id: 'article-reply', 'data-testid': 'article-reply' }),
          h('label', { for: 'article-title' }, ['Title']),
          h('input', { id: 'article-title', type: 'text', 'data-testid': 'article-title' }),
        ]),
        h('div', { id: 'article-result', role: 'status', 'data-testid': 'article-result' }),
        h('div', { class: 'dialog-actions' }, [
          h('button', { type: 'button', class: 'btn', onclick: () => saveDialog.close() }, ['Close']),
          h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'article-save' }, ['Save']),
        ]),
      ]),
    ]);
    document.body.appendChild(saveDialog);
    $('article-form').addEventListener('submit', (e) => {
      e.preventDefault();
      saveAnswer();
    });
    $('article-mode').addEventListener('change', () => {
      $('article-new').hidden = $('article-mode').value !== '';
    });
    $('article-question').addEventListener('change', () => {
      const opt = $('article-question').selectedOptions[0];
      $('article-title').value = opt ? opt.textContent : '';
      suggestExisting();
    });
  }

  let saveConv = null;

  async function openSaveDialog() {
    saveConv = $('conv').dataset.conversationId;
    if (!saveConv) {
      return;
    }
    $('article-result').replaceChildren();
    let data;
    try {
      data = await get('conversations/' + encodeURIComponent(saveConv));
    } catch (e) {
      $('article-result').textContent = 'Could not load the conversation: ' + e.message;
      saveDialog.showModal();
      return;
    }
    const msgs = data.messages || [];
    const questions = msgs.filter((m) => m.from === 'customer' && !m.payload && m.text);
    const replies = msgs.filter((m) => m.from === 'agent' && !m.internal && m.text);
    $('article-question').replaceChildren(...questions.map((m) => h('option', { value: String(m.seq) }, [m.text])));
    $('article-reply').replaceChildren(...replies.map((m) => h('option', { value: String(m.seq) }, [m.text])));
    // The customer's last real question before a person replied: one the
    // bot searched for (not a greeting, not "a person, please").
    const firstReply = replies.length ? replies[0].seq : Infinity;
    const searched = questions.filter((q) => {
      const next = msgs.find((m) => m.seq > q.seq && m.from === 'bot');
      return q.seq < firstReply && next && next.decision && ['answer', 'clarify', 'no_answer'].includes(next.decision.kind);
    });
    const pick = searched.length ? searched[searched.length - 1] : questions[questions.length - 1];
    if (pick) {
      $('article-question').value = String(pick.seq);
    }
    if (replies.length) {
      $('article-reply').value = String(replies[0].seq);
    }
    const q = $('article-question').selectedOptions[0];
    $('article-title').value = q ? q.textContent : '';
    $('article-mode').value = '';
    $('article-new').hidden = false;
    saveDialog.showModal();
    suggestExisting();
  }

  async function suggestExisting() {
    const q = $('article-question').selectedOptions[0];
    const mode = $('article-mode');
    mode.replaceChildren(h('option', { value: '' }, ['A new article']));
    if (!q) {
      return;
    }
    try {
      const res = await get('articles?q=' + encodeURIComponent(q.textContent));
      for (const a of res.articles || []) {
        mode.appendChild(h('option', { value: a.id }, ['A new phrasing of "' + a.title + '"']));
      }
    } catch (e) {
      // Only a new article then.
    }
  }

  async function saveAnswer() {
    const result = $('article-result');
    result.textContent = 'Saving…';
    const body = { question_seq: Number($('article-question').value) };
    if ($('article-mode').value) {
      body.add_to = $('article-mode').value;
    } else {
      body.reply_seq = Number($('article-reply').value);
      body.title = $('article-title').value.trim();
    }
    if (!body.question_seq || (!body.add_to && !body.reply_seq)) {
      result.textContent = 'Pick the customer\'s question and an agent\'s reply.';
      return;
    }
    const res = await send('POST', 'conversations/' + encodeURIComponent(saveConv) + '/article', body);
    showWriteResult(result, res);
  }

  // showWriteResult says what became of an article: saved and answered
  // from now on; not writable, with its Markdown to download; or its
  // problems.
  function showWriteResult(box, res) {
    const d = res.data;
    box.replaceChildren();
    if (res.status === 201) {
      box.appendChild(h('p', { class: 'ok' }, ['Saved as ' + d.file + '. The bot answers it from now on.']));
      return;
    }
    if (res.status === 200 && d.saved === false) {
      const href = 'data:text/markdown;charset=utf-8,' + encodeURIComponent(d.markdown);
      box.appendChild(h('p', null, [d.reason + '.']));
      box.appendChild(h('a', { href, download: d.file.split('/').pop(), class: 'btn small', 'data-testid': 'article-download' }, ['Download ' + d.file.split('/').pop()]));
      return;
    }
    box.appendChild(h('p', { class: 'form-error' }, [d.error || 'Could not save the article.']));
    if (d.problems && d.problems.length) {
      box.appendChild(problemList(d.problems));
    }
  }

  function problemList(problems) {
    return h('ul', { class: 'form-error', 'data-testid': 'article-problems' }, problems.map((p) => h('li', null, [p.file + (p.line ? ':' + p.line : '') + ': ' + p.message])));
  }

  // ---- The admins' article editor --------------------------------------------

  function editorSection() {
    return h('section', { id: 'editor-section', class: 'card', 'aria-labelledby': 'editor-title', hidden: true }, [
      h('h2', { id: 'editor-title', class: 'card-title' }, ['Edit an article']),
      h('form', { id: 'editor-load', class: 'search' }, [
        h('label', { for: 'editor-id', class: 'visually-hidden' }, ['Article id']),
        h('input', { id: 'editor-id', type: 'text', placeholder: 'Article id, e.g. delivery-times', 'data-testid': 'editor-id' }),
        h('button', { type: 'submit', class: 'btn small' }, ['Open']),
      ]),
      h('p', { id: 'editor-file', class: 'muted small' }),
      h('label', { for: 'editor-text', class: 'visually-hidden' }, ['Article file (Markdown with YAML front matter)']),
      h('textarea', { id: 'editor-text', rows: '14', class: 'editor-text', 'data-testid': 'editor-text', spellcheck: 'false' }),
      h('div', { class: 'dialog-actions' }, [
        h('button', { type: 'button', id: 'editor-check', class: 'btn', 'data-testid': 'editor-check' }, ['Check and preview']),
        h('button', { type: 'button', id: 'editor-save', class: 'btn primary', 'data-testid': 'editor-save' }, ['Save']),
      ]),
      h('div', { id: 'editor-result', role: 'status', 'data-testid': 'editor-result' }),
      h('div', { id: 'editor-preview', class: 'editor-preview', 'data-testid': 'editor-preview', 'aria-label': 'Preview' }),
    ]);
  }

  let editorFile = '';

  function setUpEditor() {
    $('editor-load').addEventListener('submit', async (e) => {
      e.preventDefault();
      const id = $('editor-id').value.trim();
      $('editor-result').replaceChildren();
      try {
        const src = await get('admin/articles/' + encodeURIComponent(id));
        editorFile = src.file;
        $('editor-file').textContent = src.file;
        $('editor-text').value = src.markdown;
        checkArticle();
      } catch (err) {
        $('editor-result').textContent = err.message;
      }
    });
    $('editor-check').addEventListener('click', checkArticle);
    $('editor-save').addEventListener('click', async () => {
      const res = await send('PUT', 'admin/articles', { file: editorFile, markdown: $('editor-text').value });
      showWriteResult($('editor-result'), res);
    });
  }

  async function checkArticle() {
    const res = await send('POST', 'admin/articles/check', { file: editorFile, markdown: $('editor-text').value });
    const box = $('editor-result');
    const preview = $('editor-preview');
    box.replaceChildren();
    preview.replaceChildren();
    if (res.status !== 200) {
      box.textContent = res.data.error || 'Could not check the article.';
      return;
    }
    const d = res.data;
    if (d.problems.length) {
      box.appendChild(problemList(d.problems));
    } else {
      box.appendChild(h('p', { class: 'ok' }, ['No problems.']));
    }
    if (d.not_writable) {
      box.appendChild(h('p', { class: 'muted small' }, [d.not_writable]));
    }
    if (d.article) {
      preview.appendChild(h('h3', null, [d.article.title]));
      preview.appendChild(h('p', { class: 'muted small' }, ['Asked as: ' + d.article.questions.join(' · ')]));
      const body = h('div', { class: 'editor-body' });
      renderMarkdown(body, d.article.body);
      preview.appendChild(body);
    }
  }

  // The app is shown once someone signs in; look at who it is then.
  document.addEventListener('DOMContentLoaded', () => {
    const app = $('app');
    if (!app) {
      return;
    }
    new MutationObserver(() => {
      if (!app.hidden) {
        start();
      } else if (page) {
        page.hidden = true;
      }
    }).observe(app, { attributes: true, attributeFilter: ['hidden'] });
    if (!app.hidden) {
      start();
    }
  });
}());
