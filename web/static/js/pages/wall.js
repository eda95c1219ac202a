// /wall/{name}: a saved video wall. Every tile plays live or recorded video
// through its effect (wall-tile.js). Kiosk mode (the wall's "kiosk" flag or
// ?kiosk=1 in the URL, so it survives reloads) hides the navigation, fills
// the window and hides the cursor when idle; "Full screen" asks the browser
// for the whole screen. The wall re-reads its definition every 30 s and
// rebuilds when it changed; when the server is away it keeps trying, and
// tiles reconnect by themselves.
//
// Streams: live tiles play the camera's sub stream where it has one
// (docs/streams.md), except a tile that covers the whole wall. A tile's
// enlarge button (or a double click) makes it fill the wall and switches it
// to the main stream without a black frame; Escape or the button again
// shrinks it back. The other tiles keep playing, hidden.
import { api, el, clear, startPage, pathParam, can } from '../ui.js';
import { WallTile } from '../wall-tile.js';
import { streamFor, narrowScreen } from '../live-player.js';

document.body.classList.add('wall-page');
const name = pathParam(1);
const params = new URLSearchParams(location.search);
const user = await startPage({ title: `Wall ${name}`, active: 'walls' });
const main = document.getElementById('main');
let tiles = [];
let shown = null;     // JSON of the wall as displayed
let wall = null;
let wallGrid = null;
let enlarged = null;  // the enlarged entry of tiles
const cameraNames = new Map();
const cameras = new Map();     // id → camera object (for its sub stream)

const kioskWanted = () => params.get('kiosk') === '1' || (wall && wall.kiosk && params.get('kiosk') !== '0');

function setKiosk(on) {
  document.body.classList.toggle('kiosk', on);
  const u = new URL(location.href);
  if (on) u.searchParams.set('kiosk', '1'); else u.searchParams.set('kiosk', '0');
  history.replaceState(null, '', u);
  params.set('kiosk', on ? '1' : '0');
  if (kioskButton) kioskButton.setAttribute('aria-pressed', String(on));
}

// A tile with a PTZ preset sends its camera there once when the wall opens
// (or the tile's preset changes), for users allowed to steer it; others see
// the camera wherever it points.
const steered = new Set();
function steer(src, box) {
  if (!src.camera || !src.preset || !can(user, src.camera, 'control')) return;
  const key = `${src.camera}\n${src.preset}`;
  if (steered.has(key)) return;
  steered.add(key);
  api('POST', `/cameras/${encodeURIComponent(src.camera)}/ptz`, { action: 'goto_preset', preset: src.preset })
    .catch((e) => box.append(el('div', { class: 'wall-note' }, `Preset: ${e.message}`)));
}

// The stream of a tile: main when it fills the wall (enlarged, or the
// wall's only tile), else the sub stream where the camera (or the
// recording) has one.
function wantedStream(entry) {
  const t = entry.def;
  const big = enlarged === entry || (t.w >= wall.layout.cols && t.h >= wall.layout.rows);
  if (t.source?.recording) return big && !narrowScreen() ? 'main' : 'sub';
  return streamFor(cameras.get(t.source?.camera), big);
}

function enlarge(entry) {
  enlarged = entry;
  wallGrid?.classList.toggle('zoomed', !!entry);
  for (const e of entries) {
    const on = e === entry;
    e.box.classList.toggle('enlarged', on);
    if (e.zoom) {
      const name = e.tile.label || 'tile';
      e.zoom.setAttribute('aria-pressed', String(on));
      e.zoom.setAttribute('aria-label', `${on ? 'Shrink' : 'Enlarge'} ${name}`);
      e.zoom.title = on ? 'Shrink (Esc)' : 'Enlarge';
      e.zoom.firstChild.textContent = on ? '⤡' : '⤢';
    }
    e.tile.setStream(wantedStream(e));
  }
}
document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape' || !enlarged) return;
  const zoom = enlarged.zoom;
  enlarge(null);
  zoom?.focus();
});

let kioskButton = null;
let entries = [];     // { def (the API's tile), box, tile (WallTile), zoom }
function build() {
  tiles.forEach((t) => t.stop());
  tiles = [];
  entries = [];
  enlarged = null;
  const grid = el('div', { class: ['wall-grid', wall.tiles.length <= 1 && 'single'], id: 'wall-grid',
    role: 'region', 'aria-label': `Wall ${wall.title}`,
    style: { gridTemplateColumns: `repeat(${wall.layout.cols}, minmax(0, 1fr))`,
             gridTemplateRows: `repeat(${wall.layout.rows}, minmax(0, 1fr))` } });
  kioskButton = el('button', { class: 'btn btn-small', type: 'button', id: 'kiosk-toggle',
    'aria-pressed': String(document.body.classList.contains('kiosk')),
    onclick: () => setKiosk(!document.body.classList.contains('kiosk')) }, 'Kiosk');
  clear(main,
    el('div', { class: 'wall-bar' },
      el('h1', null, wall.title),
      kioskButton,
      el('button', { class: 'btn btn-small', type: 'button', id: 'fullscreen',
        onclick: () => {
          setKiosk(true);
          if (!document.fullscreenElement) document.documentElement.requestFullscreen?.().catch(() => {});
          else document.exitFullscreen?.();
        } }, 'Full screen'),
      (user.role === 'admin' || user.role === 'operator')
        ? el('a', { class: 'btn btn-small', href: `/walls?edit=${encodeURIComponent(wall.name)}` }, 'Edit') : null),
    grid);
  wallGrid = grid;
  const many = wall.tiles.length > 1;
  for (const t of wall.tiles) {
    const box = el('div', { class: 'wall-tile', dataset: { x: t.x, y: t.y },
      style: { gridColumn: `${t.x + 1} / span ${t.w}`, gridRow: `${t.y + 1} / span ${t.h}` } });
    const body = el('div', { class: 'wall-tile-body' });
    box.append(body);
    grid.append(box);
    const src = t.source || {};
    const label = src.camera ? (cameraNames.get(src.camera) || src.camera)
      : src.recording ? `recording ${src.recording}` : '';
    const entry = { def: t, box, zoom: null };
    entry.tile = new WallTile(body, t, { label, apiGet: (p) => api('GET', p),
      camera: cameras.get(src.camera) || null, stream: wantedStream(entry) });
    if (src.camera && !can(user, src.camera, 'view')) {
      body.append(el('div', { class: 'wall-note' }, 'no access'));
      continue;
    }
    if (many && (src.camera || src.recording)) {
      const name = label || 'tile';
      entry.zoom = el('button', { class: 'tile-zoom', type: 'button', 'aria-pressed': 'false',
        'aria-label': `Enlarge ${name}`, title: 'Enlarge', onclick: () => enlarge(enlarged === entry ? null : entry) },
        el('span', { 'aria-hidden': 'true' }, '⤢'));
      box.append(entry.zoom);
      box.addEventListener('dblclick', () => enlarge(enlarged === entry ? null : entry));
    }
    tiles.push(entry.tile);
    entries.push(entry);
    entry.tile.start().catch((e) => console.warn('wall tile', e));
    steer(src, box);
  }
  window.vigilWall = { wall, tiles };
}

async function refresh(first = false) {
  let next;
  try {
    next = await api('GET', `/walls/${encodeURIComponent(name)}`);
  } catch (e) {
    if (e.status === 404) {
      tiles.forEach((t) => t.stop());
      tiles = [];
      clear(main, el('div', { class: 'empty' }, el('p', null, `There is no wall "${name}".`),
        el('a', { class: 'btn', href: '/walls' }, 'All walls')));
      return;
    }
    // Server away (restart, network): keep what plays, try again soon.
    if (first) clear(main, el('p', { class: 'muted' }, 'Waiting for the server…'));
    setTimeout(() => refresh(first), 3000);
    return;
  }
  const text = JSON.stringify({ ...next, created: 0, updated: 0 });
  if (text === shown) return;
  shown = text;
  wall = next;
  document.title = `${wall.title} · vigil`;
  if (first) setKiosk(kioskWanted());
  try {
    for (const c of await api('GET', '/cameras')) {
      cameraNames.set(c.id, c.name || c.id);
      cameras.set(c.id, c);
    }
  } catch { /* names and sub streams are a nicety */ }
  build();
}

// Kiosk: the cursor and the bar hide after 3 s without movement.
let idleTimer = 0;
const wake = () => {
  document.body.classList.remove('idle');
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add('idle'), 3000);
};
for (const ev of ['mousemove', 'pointerdown', 'keydown']) document.addEventListener(ev, wake);
wake();

await refresh(true);
setInterval(() => refresh(false), 30000);
window.addEventListener('online', () => refresh(false));
