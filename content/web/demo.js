/*
 * The demo shop page's "log in as a demo customer" switch. A real shop
 * renders the signed identity on its own server; here the Frontdesk server
 * stands in (GET demo/login, on with "frontdesk serve --demo-login"). The
 * switch stays hidden when the demo login is off.
 */
(function () {
  'use strict';
  const box = document.getElementById('demo-account');
  const btn = document.getElementById('demo-login');
  const who = document.getElementById('demo-who');
  if (!box || !btn || !who) {
    return;
  }
  let identity = null;
  let loggedIn = false;

  function render() {
    // "as a demo customer" gives way on a phone's narrow header (CSS).
    btn.textContent = loggedIn ? 'Log out' : 'Log in';
    if (!loggedIn) {
      const rest = document.createElement('span');
      rest.className = 'demo-long';
      rest.textContent = ' as a demo customer';
      btn.appendChild(rest);
    }
    btn.title = loggedIn ? 'Log out of the demo customer' : 'Log in as a demo customer';
    btn.setAttribute('aria-pressed', loggedIn ? 'true' : 'false');
    who.textContent = loggedIn ? 'Signed in as ' + identity.name : '';
  }

  // whenReady calls f once the widget has loaded (it loads async).
  function whenReady(f) {
    if (window.Frontdesk && window.Frontdesk.identify) {
      f(window.Frontdesk);
      return;
    }
    setTimeout(() => whenReady(f), 50);
  }

  btn.addEventListener('click', () => {
    loggedIn = !loggedIn;
    render();
    whenReady((fd) => {
      if (loggedIn) {
        fd.identify(identity);
        fd.open();
      } else {
        fd.reset();
      }
    });
  });

  fetch('demo/login', { credentials: 'same-origin', cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : null))
    .then((id) => {
      if (id && id.user_id && id.user_hash) {
        identity = id;
        render();
        box.hidden = false;
      }
    })
    .catch(() => {});
})();
