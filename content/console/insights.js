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

  function h(tag, attrs, children) {
    const el = document.createElement(tag);
    for (const k of Object.keys(attrs || {})) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) {
        continue;
      }
      if (k === 'class') {
        el.className = v;
      } else if (k.startsWith('on')) {
        el.addEventListener(k.slice(2), v);
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children || []) {
      if (c !== null && c !== undefined && c !== false) {
        el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
      }
    }
    return el;
  }

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
    page = h('section', { id: 'insights', class: 'home', 'data-testid': 'insights-panel', hidden: true, 'aria-labelledby': 'gaps-title' }, [
      h('h1', { id: 'gaps-title', tabindex: '-1' }, ['Knowledge gaps']),
      h('p', { class: 'muted' }, ['Questions the bot could not answer, was told were not helpful, or handed to a person after failing, grouped by similarity. Each topic is a candidate for a new article or a new phrasing of the nearest one.']),
      h('div', { id: 'content-status', class: 'banner', role: 'status', 'data-testid': 'content-status', hidden: true }),
      h('p', null, [period]),
      h('p', { id: 'gaps-summary', role: 'status', 'data-testid': 'gaps-summary' }),
      h('ol', { id: 'gaps-topics', class: 'gaps', 'data-testid': 'gaps-topics' }),
    ]);
    $('main').appendChild(page);
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
    $('gaps-title').focus();
    load();
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

  function render(rep) {
    const list = $('gaps-topics');
    list.replaceChildren();
    $('gaps-summary').textContent = rep.questions === 0
      ? 'No unanswered questions in this period.'
      : rep.questions + ' questions in ' + rep.topics.length + ' topics, most asked first.';
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
        h('p', { class: 'muted small' }, [t.count + (t.count === 1 ? ' question' : ' questions') + ' · ' + reasons]),
        examples,
        near,
      ]));
    }
  }

  async function start() {
    let me;
    try {
      me = await get('me');
    } catch (e) {
      return;
    }
    const role = me && (me.role || (me.agent && me.agent.role));
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
