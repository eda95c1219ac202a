// /users: for admins the users (create, edit role/password/rights, delete)
// with a per-camera rights matrix ("*" = every camera, present and future);
// for everyone their own password and API tokens.
import { api, el, clear, startPage, isAdmin, fmtTime, toast, confirmDialog, showError } from '../ui.js';

const me = await startPage({ title: 'Users', active: 'users' });
const main = document.getElementById('main');
const RIGHTS = ['view', 'playback', 'control'];

const usersCard = el('section', { class: 'card', id: 'users', 'aria-labelledby': 'users-h' });
const formCard = el('section', { class: 'card', id: 'user-form-card', 'aria-labelledby': 'form-h', hidden: true });
const tokensCard = el('section', { class: 'card', id: 'tokens', 'aria-labelledby': 'tokens-h' });
const passCard = el('section', { class: 'card', id: 'my-password', 'aria-labelledby': 'pw-h' });

clear(main,
  el('div', { class: 'page-head' }, el('h1', null, isAdmin(me) ? 'Users' : 'My account'),
    isAdmin(me) ? el('button', { class: 'btn btn-primary', type: 'button', id: 'new-user', onclick: () => openForm(null) }, '+ New user') : null),
  isAdmin(me) ? el('div', { class: 'grid' }, formCard, usersCard) : null,
  el('div', { class: 'grid grid-2', style: { marginTop: '.75rem' } }, tokensCard, passCard));

let cameras = [];

function rightsSummary(u) {
  if (u.role === 'admin') return 'everything';
  const rows = Object.entries(u.cameras || {});
  if (!rows.length) return 'no cameras';
  return rows.map(([cam, r]) => `${cam === '*' ? 'all cameras' : cam}: ${r.join(', ')}`).join('; ');
}

async function loadUsers() {
  const users = await api('GET', '/users');
  clear(usersCard, el('h2', { id: 'users-h' }, 'Users'),
    el('div', { class: 'table-wrap' }, el('table', { class: 'table', id: 'users-table' },
      el('thead', null, el('tr', null, ['Name', 'Role', 'Cameras', 'Created', ''].map((h) =>
        el('th', { scope: 'col', class: h === 'Created' ? 'hide-narrow' : null }, h)))),
      el('tbody', null, users.map((u) => el('tr', { dataset: { user: u.name } },
        el('td', null, u.name, u.name === me.name ? el('span', { class: 'muted' }, ' (you)') : null),
        el('td', null, el('span', { class: 'badge' }, u.role)),
        el('td', { class: 'small' }, rightsSummary(u)),
        el('td', { class: 'small hide-narrow' }, fmtTime(u.created)),
        el('td', null, el('div', { class: 'toolbar' },
          el('button', { class: 'btn btn-small', type: 'button', 'aria-label': `Edit ${u.name}`, onclick: () => openForm(u) }, 'Edit'),
          u.name !== me.name ? el('button', { class: 'btn btn-small btn-danger', type: 'button', 'aria-label': `Delete ${u.name}`,
            onclick: () => deleteUser(u) }, 'Delete') : null))))))));
}

async function deleteUser(u) {
  if (!await confirmDialog(`Delete user "${u.name}"? Their sessions and API tokens end at once.`, { ok: 'Delete', danger: true })) return;
  try {
    await api('DELETE', `/users/${encodeURIComponent(u.name)}`);
    toast(`User ${u.name} deleted`, 'ok');
    loadUsers();
  } catch (e) { showError(e); }
}

// The rights matrix: one row per camera plus "*" (every camera).
function matrix(initial, role) {
  const boxes = new Map();   // "cam|right" → checkbox
  const rows = [{ id: '*', name: 'All cameras (*)' }, ...cameras.map((c) => ({ id: c.id, name: c.name }))];
  const table = el('table', { class: 'table rights-table', id: 'rights' },
    el('caption', { class: 'sr-only' }, 'Rights per camera'),
    el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Camera'), RIGHTS.map((r) => el('th', { scope: 'col' }, r)))),
    el('tbody', null, rows.map((row) => el('tr', null, el('th', { scope: 'row' }, row.name),
      RIGHTS.map((r) => {
        const cb = el('input', { type: 'checkbox', checked: (initial[row.id] || []).includes(r),
          'aria-label': `${r} on ${row.id === '*' ? 'all cameras' : row.name}`, dataset: { camera: row.id, right: r } });
        boxes.set(`${row.id}|${r}`, cb);
        return el('td', null, cb);
      })))));
  const sync = (roleNow) => {
    for (const [key, cb] of boxes) {
      const right = key.split('|')[1];
      cb.disabled = roleNow === 'admin' || (roleNow === 'viewer' && right === 'control');
      if (roleNow === 'viewer' && right === 'control') cb.checked = false;
    }
  };
  sync(role);
  const value = () => {
    const out = {};
    for (const [key, cb] of boxes) {
      if (!cb.checked) continue;
      const [cam, right] = key.split('|');
      (out[cam] ||= []).push(right);
    }
    return out;
  };
  return { table, sync, value };
}

function openForm(u) {
  const editing = !!u;
  const name = el('input', { id: 'u-name', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false',
    autocapitalize: 'none', value: u ? u.name : '', disabled: editing });
  const pass = el('input', { id: 'u-password', type: 'password', autocomplete: 'new-password', required: !editing,
    placeholder: editing ? 'leave empty to keep' : '', 'aria-describedby': 'u-password-hint' });
  const role = el('select', { id: 'u-role' }, ['viewer', 'operator', 'admin'].map((r) =>
    el('option', { value: r, selected: (u ? u.role : 'viewer') === r }, r)));
  const m = matrix(u ? u.cameras || {} : { '*': ['view'] }, u ? u.role : 'viewer');
  role.addEventListener('change', () => m.sync(role.value));
  const err = el('div', { class: 'alert alert-error', id: 'user-error', role: 'alert', hidden: true });
  const save = el('button', { class: 'btn btn-primary', type: 'submit', id: 'save-user' }, editing ? 'Save' : 'Create user');
  clear(formCard, el('h2', { id: 'form-h' }, editing ? `Edit ${u.name}` : 'New user'),
    el('form', { id: 'user-form', novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      const body = { role: role.value };
      if (role.value !== 'admin') body.cameras = m.value();
      if (pass.value) body.password = pass.value;
      if (!editing) body.name = name.value.trim();
      save.disabled = true;
      try {
        if (editing) await api('PATCH', `/users/${encodeURIComponent(u.name)}`, body);
        else await api('POST', '/users', body);
        toast(editing ? `User ${u.name} saved` : `User ${body.name} created`, 'ok');
        formCard.hidden = true;
        await loadUsers();
      } catch (e) { showError(e, err); }
      save.disabled = false;
    } },
      el('div', { class: 'row row-3' },
        el('div', { class: 'field' }, el('label', { for: 'u-name' }, 'Name'), name),
        el('div', { class: 'field' }, el('label', { for: 'u-password' }, 'Password'), pass,
          el('div', { class: 'hint', id: 'u-password-hint' }, editing ? 'Their sessions end when it changes.' : 'At least 8 characters.')),
        el('div', { class: 'field' }, el('label', { for: 'u-role' }, 'Role'), role)),
      el('p', { class: 'small muted' }, 'Rights: view = live and snapshots; playback = recordings and events; control = manual recording and camera settings. Admins have every right.'),
      el('div', { class: 'table-wrap' }, m.table),
      err,
      el('div', { class: 'toolbar' }, save,
        el('button', { class: 'btn', type: 'button', onclick: () => { formCard.hidden = true; } }, 'Cancel'))));
  formCard.hidden = false;
  (editing ? pass : name).focus();
}

// --- my API tokens ---
async function loadTokens(fresh) {
  const tokens = await api('GET', '/tokens');
  const tname = el('input', { id: 'token-name', type: 'text', maxlength: 100, placeholder: 'e.g. backup script' });
  const err = el('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  clear(tokensCard, el('h2', { id: 'tokens-h' }, 'My API tokens'),
    el('p', { class: 'small muted' }, 'For scripts: send "Authorization: Bearer TOKEN". A token acts as you.'),
    fresh ? el('div', { class: 'alert alert-ok', id: 'new-token' },
      el('label', { for: 'new-token-value' }, 'New token (shown once; copy it now):'),
      el('input', { id: 'new-token-value', type: 'text', readOnly: true, value: fresh, class: 'mono', onfocus: (e) => e.target.select() })) : null,
    tokens.length ? el('div', { class: 'table-wrap' }, el('table', { class: 'table' },
      el('thead', null, el('tr', null, ['Name', 'Created', 'Last used', ''].map((h) =>
        el('th', { scope: 'col', class: h === 'Created' ? 'hide-narrow' : null }, h)))),
      el('tbody', null, tokens.map((t) => el('tr', null,
        el('td', null, t.name || el('span', { class: 'muted' }, `#${t.id}`)),
        el('td', { class: 'small hide-narrow' }, fmtTime(t.created)),
        el('td', { class: 'small' }, t.last_used ? fmtTime(t.last_used) : 'never'),
        el('td', null, el('button', { class: 'btn btn-small btn-danger', type: 'button', 'aria-label': `Revoke token ${t.name || t.id}`,
          onclick: async () => {
            if (!await confirmDialog(`Revoke token "${t.name || t.id}"? Scripts using it stop working.`, { ok: 'Revoke', danger: true })) return;
            try { await api('DELETE', `/tokens/${t.id}`); loadTokens(); } catch (e) { showError(e); }
          } }, 'Revoke'))))))) : el('p', { class: 'muted' }, 'No tokens.'),
    el('form', { class: 'toolbar', style: { marginTop: '.6rem' }, onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const t = await api('POST', '/tokens', tname.value.trim() ? { name: tname.value.trim() } : {});
        await loadTokens(t.token);
        document.getElementById('new-token-value')?.focus();
      } catch (e) { showError(e, err); }
    } },
      el('label', { for: 'token-name', class: 'sr-only' }, 'Token name'), el('div', { style: { flex: '1', minWidth: '10rem' } }, tname),
      el('button', { class: 'btn', type: 'submit', id: 'create-token' }, 'Create token')),
    err);
}

// --- my password ---
function renderPassword() {
  const cur = el('input', { id: 'pw-current', type: 'password', autocomplete: 'current-password', required: true });
  const next = el('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true });
  const err = el('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  clear(passCard, el('h2', { id: 'pw-h' }, 'My password'),
    el('form', { novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      try {
        await api('PATCH', `/users/${encodeURIComponent(me.name)}`, { password: next.value, current_password: cur.value });
        toast('Password changed', 'ok');
        cur.value = next.value = '';
      } catch (e) { showError(e, err); }
    } },
      el('div', { class: 'field' }, el('label', { for: 'pw-current' }, 'Current password'), cur),
      el('div', { class: 'field' }, el('label', { for: 'pw-new' }, 'New password'), next),
      err, el('button', { class: 'btn', type: 'submit' }, 'Change password')));
}

if (isAdmin(me)) {
  cameras = await api('GET', '/cameras');
  await loadUsers();
}
await loadTokens();
renderPassword();
