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
    page = h('section', { id: 'insights', class: 'home', 'data-testid': 'insights-panel', hidden: true, 'aria-labelledby': 'gaps-title' }, [
      h('h1', { id: 'gaps-title', tabindex: '-1' }, ['Knowledge gaps']),
      h('p', { class: 'muted' }, ['Questions the bot could not answer, was told were not helpful, or handed to a person after failing, grouped by similarity. Each topic is a candidate for a new article or a new phrasing of the nearest one.']),
      h('div', { id: 'content-status', class: 'banner', role: 'status', 'data-testid': 'content-status', hidden: true }),
      h('p', null, [period]),
      h('p', { id: 'gaps-summary', role: 'status', 'data-testid': 'gaps-summary' }),
      h('ol', { id: 'gaps-topics', class: 'gaps', 'data-testid': 'gaps-topics' }),
      editorSection(),
    ]);
    $('main').appendChild(page);
    setUpEditor();
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
