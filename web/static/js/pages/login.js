// /login: user name + password → POST /api/v1/session (cookie + CSRF token),
// then on to ?next= (a path on this site) or the camera grid.
import { api, el, clear, setCsrfToken } from '../ui.js';

const main = document.getElementById('main');

// Only a local path: never send the user to another site after logging in.
function nextPath() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') &&
    !next.startsWith('/login') ? next : '/';
}

const error = el('div', { class: 'alert alert-error', id: 'login-error', role: 'alert', hidden: true });
const user = el('input', { id: 'username', name: 'username', autocomplete: 'username',
  required: true, autocapitalize: 'none', spellcheck: 'false' });
const pass = el('input', { id: 'password', name: 'password', type: 'password',
  autocomplete: 'current-password', required: true });
const submit = el('button', { class: 'btn btn-primary', type: 'submit' }, 'Log in');

async function onSubmit(ev) {
  ev.preventDefault();
  error.hidden = true;
  submit.disabled = true;
  try {
    const s = await api('POST', '/session', { username: user.value.trim(), password: pass.value },
                        { redirect: false });
    setCsrfToken(s.csrf_token);
    location.assign(nextPath());
  } catch (e) {
    let msg = e.message;
    if (e.status === 401) msg = 'Wrong user name or password.';
    else if (e.status === 429) {
      const s = e.retryAfter || 60;
      msg = `Too many failed logins. Try again in ${s >= 90 ? Math.ceil(s / 60) + ' minutes' : s + ' seconds'}.`;
    } else if (!e.status) msg = 'Cannot reach vigil: ' + msg;
    clear(error, msg);
    error.hidden = false;
    pass.select();
    pass.focus();
    submit.disabled = false;
  }
}

clear(main,
  el('div', { class: 'brand', role: 'img', 'aria-label': 'vigil' },
    el('span', { class: 'brand-dot', 'aria-hidden': 'true' }), 'vigil'),
  el('h1', { class: 'sr-only' }, 'Log in to vigil'),
  el('form', { id: 'login-form', onsubmit: onSubmit, novalidate: false },
    el('div', { class: 'field' }, el('label', { for: 'username' }, 'User name'), user),
    el('div', { class: 'field' }, el('label', { for: 'password' }, 'Password'), pass),
    error,
    submit));
user.focus();
