// h, the DOM builder shared by the chat widget (widget.js) and the agent
// console (console.js, insights.js); the server joins it in where they ask
// for it (an include line, see content.go), inside their closures.
//
// h(tag, attrs, children) returns a new element: attrs are set as
// attributes (true: present and empty; null, undefined or false: left
// out), except "class" (the class name) and on* (event listeners);
// children are appended, strings and numbers as text nodes (never parsed
// as HTML), null, undefined and false skipped.
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
