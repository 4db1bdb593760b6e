// Frontdesk's safe Markdown subset, shared by the chat widget (widget.js)
// and the agent console (console.js). The server joins it into both where
// they ask for it (an include line, see content.go), inside their closures, so
// the widget stays one script tag and the console one file; it defines
// renderMarkdown, inline, isPunct and link and touches nothing global.

// renderMarkdown appends text as DOM nodes: paragraphs (blank lines),
// line breaks, **bold**, "- "/"* " and "1. " lists, and [label](url)
// links to http:, https: and mailto: URLs. A backslash before an ASCII
// punctuation character makes it literal (\[ is "[", not a link), as
// the bot escapes what customers write. Everything else is literal text:
// no markup from text ever reaches the HTML parser.
function renderMarkdown(parent, text) {
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let para = null;
  let lst = null;
  let item = null;
  for (const line of lines) {
    if (/^\s*$/.test(line)) {
      para = lst = item = null;
      continue;
    }
    let m = /^ {0,3}[-*][ \t]+(.*)$/.exec(line);
    let ordered = false;
    if (!m) {
      m = /^ {0,3}(\d{1,3})[.)][ \t]+(.*)$/.exec(line);
      ordered = !!m;
    }
    if (m) {
      para = null;
      const tag = ordered ? 'OL' : 'UL';
      if (!lst || lst.tagName !== tag) {
        lst = document.createElement(tag);
        if (ordered && m[1] !== '1') {
          lst.setAttribute('start', String(parseInt(m[1], 10)));
        }
        parent.appendChild(lst);
      }
      item = document.createElement('li');
      inline(item, ordered ? m[2] : m[1], true);
      lst.appendChild(item);
      continue;
    }
    if (item && /^[ \t]+\S/.test(line)) { // an indented continuation
      item.appendChild(document.createElement('br'));
      inline(item, line.trim(), true);
      continue;
    }
    lst = item = null;
    if (para) {
      para.appendChild(document.createElement('br'));
    } else {
      para = document.createElement('p');
      parent.appendChild(para);
    }
    inline(para, line.trim(), true);
  }
}

// inline appends s with **bold** and (when links is true) [label](url).
function inline(parent, s, links) {
  let buf = '';
  const flush = () => {
    if (buf) {
      parent.appendChild(document.createTextNode(buf));
      buf = '';
    }
  };
  let i = 0;
  while (i < s.length) {
    if (s[i] === '\\' && i + 1 < s.length && isPunct(s[i + 1])) {
      buf += s[i + 1];
      i += 2;
      continue;
    }
    if (s.startsWith('**', i)) {
      const end = s.indexOf('**', i + 2);
      if (end > i + 2) {
        flush();
        const b = document.createElement('strong');
        inline(b, s.slice(i + 2, end), links);
        parent.appendChild(b);
        i = end + 2;
        continue;
      }
    }
    if (links && s[i] === '[') {
      const l = link(s, i);
      if (l) {
        flush();
        const a = document.createElement('a');
        a.href = l.href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        inline(a, l.label, false);
        parent.appendChild(a);
        i = l.end;
        continue;
      }
    }
    buf += s[i];
    i++;
  }
  flush();
}

// isPunct reports whether c is an ASCII punctuation character, which a
// backslash escapes.
function isPunct(c) {
  return /^[!-\/:-@[-`{-~]$/.test(c);
}

// link parses [label](url) at s[i], or returns null when it is not one
// or the URL is not http:, https: or mailto:.
function link(s, i) {
  const mid = s.indexOf('](', i + 1);
  if (mid < 0) {
    return null;
  }
  const label = s.slice(i + 1, mid);
  if (!label.trim() || label.indexOf('[') >= 0 || label.indexOf(']') >= 0) {
    return null;
  }
  const end = s.indexOf(')', mid + 2);
  if (end < 0) {
    return null;
  }
  const url = s.slice(mid + 2, end);
  if (!url || /\s/.test(url)) {
    return null;
  }
  let u;
  try {
    u = new URL(url); // absolute URLs only
  } catch (e) {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'mailto:') {
    return null;
  }
  return { label, href: u.href, end: end + 1 };
}
