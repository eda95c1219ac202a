// The web UI's shared module: API calls (session cookie + CSRF), the page
// frame (nav bar, user menu), a tiny DOM builder, formatting, toasts and an
// EventSource wrapper. Every page script imports from here, so the exports
// are a contract, listed in docs/ui.md ("ui.js"): change an export's
// arguments or result only together with that list and every page using it.
//
// Authentication: the login page POSTs /api/v1/session, the server sets an
// HttpOnly cookie and returns a CSRF token, kept here in sessionStorage and
// sent as X-CSRF-Token on every state change. Every request carries
// "X-Vigil-UI: 1" so that a 401 comes back without "WWW-Authenticate: Basic"
// (no browser password dialog): we send the user to /login?next=... instead.

const CSRF_KEY = 'vigil.csrf';
const API_BASE = '/api/v1';

// '/cameras' and '/api/v1/cameras' are the same path.
function apiUrl(path) {
  if (/^https?:/.test(path) || path.startsWith('/api/') || path === '/metrics') return path;
  return API_BASE + (path.startsWith('/') ? path : '/' + path);
}

export function loginUrl() {
  const here = location.pathname + location.search;
  return '/login' + (here && here !== '/' && !here.startsWith('/login')
    ? '?next=' + encodeURIComponent(here) : '');
}

function goLogin() {
  if (location.pathname !== '/login') location.assign(loginUrl());
}

export function setCsrfToken(token) {
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch { /* private mode: refetched each time */ }
}

function storedCsrf() {
  try { return sessionStorage.getItem(CSRF_KEY); } catch { return null; }
}

let sessionPromise = null;
// GET /api/v1/session (once per page load unless @refresh): {user, csrf_token}.
export function getSession(refresh = false) {
  if (!sessionPromise || refresh) {
    sessionPromise = request('GET', '/session').then((s) => {
      if (s && s.csrf_token) setCsrfToken(s.csrf_token);
      return s;
    });
    sessionPromise.catch(() => { sessionPromise = null; });
  }
  return sessionPromise;
}

const STATE_CHANGE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// A GET the page's early.js already started (once: a response is read once).
function takeEarly(method, url) {
  const early = window.vigilEarly;
  if (method !== 'GET' || !early || !early[url]) return null;
  const started = early[url];
  delete early[url];
  return started;
}

async function request(method, path, body, { csrf, redirect = true } = {}) {
  const headers = { 'X-Vigil-UI': '1', Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined && body !== null) {
    if (body instanceof FormData || body instanceof Blob) init.body = body;
    else { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  }
  if (csrf) headers['X-CSRF-Token'] = csrf;
  const r = await (takeEarly(method, apiUrl(path)) || fetch(apiUrl(path), init));
  if (r.status === 401 && redirect && location.pathname !== '/login') {
    // Off to the login page; the caller never resumes (no half-drawn page,
    // no unhandled rejection while the browser navigates).
    setCsrfToken(null);
    goLogin();
    return new Promise(() => {});
  }
  if (r.status === 204) return null;
  const type = r.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) { try { data = await r.json(); } catch { data = null; } }
  else data = await r.text();
  if (!r.ok) {
    const msg = (data && data.error) || (typeof data === 'string' && data.trim()) ||
      `${r.status} ${r.statusText}`;
    const err = new Error(msg);
    err.status = r.status;
    err.body = data;
    const retry = r.headers.get('Retry-After');
    if (retry) err.retryAfter = Number(retry);
    throw err;
  }
  return data;
}

// fetch an API path (relative to /api/v1 or absolute) with the session cookie,
// JSON in and out. Non-2xx throws Error(server's "error") with .status (and
// .retryAfter on 429); 204 → null; 401 → off to /login?next=<this page>.
// opts.redirect = false keeps the 401 (the login page's own calls).
export async function api(method, path, body, opts = {}) {
  method = method.toUpperCase();
  if (!STATE_CHANGE.has(method)) return request(method, path, body, opts);
  // Logging in needs no token (there is no session yet).
  const login = method === 'POST' && /^(\/api\/v1)?\/session$/.test(path);
  let token = login ? null : storedCsrf();
  if (!token && !login) {
    // Without a session the request itself answers 401 below.
    try { token = (await getSession(true)).csrf_token; } catch { token = null; }
  }
  try {
    return await request(method, path, body, { ...opts, csrf: token });
  } catch (e) {
    // A token from another session (logged in again in another tab): refresh once.
    if (e.status === 403 && /csrf/i.test(e.message)) {
      const s = await getSession(true);
      return request(method, path, body, { ...opts, csrf: s.csrf_token });
    }
    throw e;
  }
}

// --- DOM ---

const BOOL_PROPS = new Set(['disabled', 'checked', 'hidden', 'selected', 'required',
  'readOnly', 'multiple', 'autofocus', 'open']);

// el('button', {class: 'btn', onclick: f, 'aria-label': 'Close'}, 'x', child, [more]).
// attrs: class, style (string or object), on<event> handlers, aria-*/data-*
// and other attributes; value/checked/disabled/... set as properties; null,
// undefined and false attributes and children are skipped.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class' || k === 'className') node.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'for') node.htmlFor = v;
    else if (k === 'value' || k === 'textContent') node[k] = v;
    else if (BOOL_PROPS.has(k)) node[k] = !!v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : String(c));
  }
}

// Replaces @node's children.
export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// --- formatting ---

// ISO 8601 → local "2026-11-25 14:03:07" (or time only when @short and today).
export function fmtTime(iso, short = false) {
  if (!iso) return '—';
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, '0');
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const today = new Date();
  if (short && d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`;
}

// Seconds → "45 s", "3 min 05 s", "2 h 07 min", "3 d 4 h".
export function fmtDuration(s) {
  if (s === null || s === undefined || Number.isNaN(Number(s))) return '—';
  s = Math.max(0, Number(s));
  if (s < 10) return `${s.toFixed(1).replace(/\.0$/, '')} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60), sec = Math.round(s % 60);
  if (m < 60) return `${m} min ${String(sec).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

// Bytes → "1.5 GB" (decimal units, as disks are sold).
export function fmtBytes(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  n = Number(n);
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`;
}

// --- feedback ---

function toastRegion() {
  let r = document.getElementById('toasts');
  if (!r) {
    r = el('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(r);
  }
  return r;
}

// A short message in the corner; kind: 'info' (default), 'ok', 'error'.
export function toast(message, kind = 'info') {
  const t = el('div', { class: `toast toast-${kind}` }, message);
  if (kind === 'error') t.setAttribute('role', 'alert');
  toastRegion().append(t);
  setTimeout(() => t.classList.add('toast-out'), kind === 'error' ? 6000 : 3000);
  setTimeout(() => t.remove(), kind === 'error' ? 6500 : 3500);
  return t;
}

// A modal dialog (native <dialog>): resolves true on OK, false on cancel/Escape.
export function confirmDialog(message, { ok = 'OK', cancel = 'Cancel', danger = false } = {}) {
  return new Promise((resolve) => {
    const dlg = el('dialog', { class: 'modal', 'aria-label': message },
      el('p', null, message),
      el('div', { class: 'toolbar end' },
        el('button', { class: 'btn', type: 'button', value: 'cancel',
          onclick: () => dlg.close('cancel') }, cancel),
        el('button', { class: danger ? 'btn btn-danger' : 'btn btn-primary', type: 'button',
          onclick: () => dlg.close('ok') }, ok)));
    dlg.addEventListener('close', () => { resolve(dlg.returnValue === 'ok'); dlg.remove(); });
    document.body.append(dlg);
    dlg.showModal();
    dlg.querySelector('.btn-primary, .btn-danger').focus();
  });
}

// --- server-sent events ---

// Opens an EventSource on @path (e.g. '/events/stream') and calls
// onEvent(type, data) for "event" and "camera" messages (data parsed as JSON)
// and for @types. Reconnects with backoff (1 s doubling to 30 s) when the
// stream drops. Returns { close() }.
export function sse(path, onEvent, types = []) {
  let es = null, closed = false, backoff = 1000, timer = 0;
  const names = new Set(['event', 'camera', 'message', ...types]);
  const open = () => {
    es = new EventSource(apiUrl(path), { withCredentials: true });
    es.onopen = () => { backoff = 1000; };
    for (const name of names) {
      es.addEventListener(name, (m) => {
        let data = m.data;
        try { data = JSON.parse(m.data); } catch { /* plain text */ }
        onEvent(name, data);
      });
    }
    es.onerror = () => {
      if (closed) return;
      es.close();
      timer = setTimeout(async () => {
        // A lapsed session would fail for ever: check (api() goes to /login on 401).
        try { await api('GET', '/session'); } catch { /* retried below */ }
        if (!closed) open();
      }, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  };
  open();
  return { close() { closed = true; clearTimeout(timer); if (es) es.close(); } };
}

// --- rights ---

// TRUE when @user holds @right ('view', 'playback', 'control') on @cameraId.
export function can(user, cameraId, right) {
  if (!user) return false;
  if (user.role === 'admin') return true;
  const cams = user.cameras || {};
  return [cameraId, '*'].some((k) => Array.isArray(cams[k]) && cams[k].includes(right));
}

export const isAdmin = (user) => !!user && user.role === 'admin';

// The @index-th segment of the page path (/cameras/{id}/edit: 1 → id), decoded.
export function pathParam(index) {
  const seg = location.pathname.split('/').filter(Boolean)[index];
  return seg === undefined ? null : decodeURIComponent(seg);
}

// --- page frame ---

const NAV = [
  { key: 'cameras', href: '/', label: 'Cameras' },
  { key: 'recordings', href: '/recordings', label: 'Recordings' },
  { key: 'events', href: '/events', label: 'Events' },
  { key: 'walls', href: '/walls', label: 'Walls' },
  { key: 'system', href: '/system', label: 'System' },
  { key: 'integrations', href: '/integrations', label: 'Integrations', admin: true },
  { key: 'users', href: '/users', label: 'Users', admin: true },
];

export async function logout() {
  try { await api('DELETE', '/session', undefined, { redirect: false }); } catch { /* gone anyway */ }
  setCsrfToken(null);
  location.assign('/login');
}

function renderNav(header, user, active) {
  const menuId = 'nav-menu';
  const toggle = el('button', {
    class: 'btn nav-toggle', type: 'button', 'aria-controls': menuId, 'aria-expanded': 'false',
    'aria-label': 'Menu',
    onclick: () => {
      const open = header.classList.toggle('nav-open');
      toggle.setAttribute('aria-expanded', String(open));
    },
  }, el('span', { class: 'nav-toggle-bars', 'aria-hidden': 'true' }));
  const links = NAV.filter((n) => !n.admin || isAdmin(user)).map((n) =>
    el('li', null, el('a', { href: n.href, class: n.key === active ? 'active' : null,
      'aria-current': n.key === active ? 'page' : null }, n.label)));
  clear(header,
    el('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
    el('div', { class: 'nav-bar' },
      el('a', { class: 'brand', href: '/', 'aria-label': 'vigil: cameras' },
        el('span', { class: 'brand-dot', 'aria-hidden': 'true' }), 'vigil'),
      toggle,
      el('nav', { id: menuId, class: 'nav-menu', 'aria-label': 'Main' },
        el('ul', { class: 'nav-links' }, links),
        el('div', { class: 'nav-user' },
          // Everyone's own password and API tokens live on /users.
          el('a', { class: 'nav-user-name', href: '/users', title: `${user.name} (${user.role}): my account`,
            'aria-label': `My account: ${user.name}, ${user.role}` },
            user.name, ' ', el('span', { class: 'badge' }, user.role)),
          el('button', { class: 'btn btn-small', type: 'button', id: 'logout', onclick: logout },
            'Log out')))));
  header.setAttribute('role', 'banner');
}

// Checks the session (401 → /login?next=...), sets the title, renders the nav
// bar into <header id="nav"> (created when missing) and returns the user
// {name, role, cameras}. @active is the nav key: cameras, recordings, events,
// walls, system, integrations or users.
export async function startPage({ title, active } = {}) {
  if (title) document.title = `${title} · vigil`;
  let header = document.getElementById('nav');
  if (!header) {
    header = el('header', { id: 'nav' });
    document.body.prepend(header);
  }
  header.classList.add('site-nav');
  const session = await getSession();
  const user = session.user;
  renderNav(header, user, active);
  document.body.classList.add('ready');
  return user;
}

// Shows @err in @where (an element) or as a toast; returns the message.
export function showError(err, where) {
  const msg = err && err.message ? err.message : String(err);
  if (where) {
    clear(where, msg);
    where.hidden = false;
  } else {
    toast(msg, 'error');
  }
  return msg;
}
