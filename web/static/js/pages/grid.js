// / : the camera grid. One live tile per camera the user may view (name,
// state, recording dot; click opens the camera page). States refresh every
// 3 s and at once when the events stream reports a camera's state change;
// tiles are rebuilt only when the set of cameras changes.
//
// Tiles play a camera's sub stream where it has one (docs/streams.md). The
// enlarge button makes a tile fill the grid (Escape or the button again
// shrinks it) and switches it to the main stream without a black frame
// (LiveSwitcher); shrinking does the same back to sub.
import { api, el, clear, startPage, can, sse } from '../ui.js';
import { LiveSwitcher, streamFor } from '../live-player.js';

// Asked for at once, beside the session check: the tiles' players start as
// soon as both are in (a 401 sends both to the login page).
const firstList = api('GET', '/cameras');
firstList.catch(() => {});
const user = await startPage({ title: 'Cameras', active: 'cameras' });
const main = document.getElementById('main');
// Adding cameras needs control on every camera ("*"): admins and some operators.
const mayAdd = can(user, '*', 'control');
const tiles = new Map();   // id → { tile, live (LiveSwitcher), badge, rec, … }
let shownIds = null;
let grid = null;
let enlarged = null;      // the id of the enlarged tile
let count = 0;            // cameras in the grid

function layoutClass(n) {
  if (n <= 1) return 'n-1';
  if (n === 2) return 'n-2';
  if (n <= 4) return 'n-4';
  if (n <= 9) return 'n-many';
  return 'n-many n-big';
}

function tileFor(cam) {
  const screen = el('div', { class: 'tile-screen' });
  const badge = el('span', { class: 'badge' });
  const rec = el('span', { class: 'rec-dot', title: 'recording', hidden: true });
  const recLabel = el('span', { class: 'sr-only' });
  const name = cam.name || cam.id;
  const link = el('a', { class: 'tile-link', href: `/cameras/${encodeURIComponent(cam.id)}` });
  const zoom = el('button', { class: 'tile-zoom', type: 'button', 'aria-pressed': 'false',
    'aria-label': `Enlarge ${name}`, title: 'Enlarge', onclick: () => enlarge(enlarged === cam.id ? null : cam.id) },
    el('span', { 'aria-hidden': 'true' }, '⤢'));
  const tile = el('div', { class: 'tile', dataset: { camera: cam.id } },
    screen, link,
    el('div', { class: 'tile-bar' },
      el('span', { class: 'tile-name' }, name), rec, recLabel, badge),
    zoom);
  const t = { id: cam.id, cam, tile, link, zoom, live: null, badge, rec, recLabel };
  zoom.hidden = count === 1;
  if (cam.enabled !== false && can(user, cam.id, 'view')) {
    t.live = new LiveSwitcher(screen, {
      cameraId: cam.id, camera: cam, stats: false, stream: wantedStream(cam), poster: true,
      onSwap: (player) => { tile.dataset.stream = player.stream; } });
    tile.dataset.stream = t.live.player.stream;
    t.live.start();
  } else {
    zoom.hidden = true;
    screen.append(el('div', { class: 'vigil-player' },
      el('div', { class: 'message' }, cam.enabled === false ? 'disabled' : 'no live view')));
  }
  return t;
}

// A lone camera fills the grid: it is as big as an enlarged tile.
const wantedStream = (cam) => streamFor(cam, enlarged === cam.id || count === 1);

function enlarge(id) {
  enlarged = id && tiles.has(id) ? id : null;
  grid?.classList.toggle('zoomed', !!enlarged);
  for (const t of tiles.values()) {
    const on = t.id === enlarged;
    t.tile.classList.toggle('enlarged', on);
    t.zoom.setAttribute('aria-pressed', String(on));
    t.zoom.setAttribute('aria-label', `${on ? 'Shrink' : 'Enlarge'} ${t.cam.name || t.id}`);
    t.zoom.title = on ? 'Shrink (Esc)' : 'Enlarge';
    t.zoom.firstChild.textContent = on ? '⤡' : '⤢';
    t.live?.switchTo(wantedStream(t.cam));
  }
}
document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape' || !enlarged || document.querySelector('dialog[open]')) return;
  const t = tiles.get(enlarged);
  enlarge(null);
  t?.zoom.focus();
});

function update(t, cam) {
  t.cam = cam;
  const st = cam.status || {};
  const state = cam.enabled === false ? 'disabled' : st.state || 'unknown';
  t.badge.className = `badge state-${state}`;
  t.badge.textContent = state;
  t.rec.hidden = !st.recording;
  t.recLabel.textContent = st.recording ? 'recording' : '';
  t.link.setAttribute('aria-label',
    `${cam.name || cam.id}: ${state}${st.recording ? ', recording' : ''}. Open camera.`);
  t.link.title = st.error ? `${state}: ${st.error}` : state;
  // A sub stream added or removed since the page loaded.
  t.live?.switchTo(wantedStream(cam), cam);
}

function render(cams) {
  const ids = cams.map((c) => c.id).join('\n');
  if (ids !== shownIds) {
    for (const t of tiles.values()) t.live?.stop();
    tiles.clear();
    shownIds = ids;
    enlarged = null;
    grid = null;
    count = cams.length;
    const head = el('div', { class: 'page-head' },
      el('h1', null, 'Cameras'),
      mayAdd && cams.length
        ? el('a', { class: 'btn btn-primary', href: '/cameras/new' }, '+ Add camera') : null);
    if (!cams.length) {
      clear(main, head, el('div', { class: 'card empty', id: 'empty' },
        el('p', null, 'No cameras yet.'),
        mayAdd
          ? el('a', { class: 'btn btn-primary', href: '/cameras/new' }, 'Add camera')
          : el('p', null, 'Ask an administrator to add one or to give you access.')));
      return;
    }
    const box = el('div', { class: `cam-grid ${layoutClass(cams.length)}`, id: 'cam-grid' });
    for (const cam of cams) {
      const t = tileFor(cam);
      tiles.set(cam.id, t);
      box.append(t.tile);
    }
    grid = box;
    clear(main, head, grid);
  }
  for (const cam of cams) update(tiles.get(cam.id), cam);
}

async function refresh(list = api('GET', '/cameras')) {
  try {
    render(await list);
  } catch (e) {
    if (e.status !== 401) console.warn('camera list:', e.message);
  }
}

// The first camera list was asked for beside the session (above). The marks
// show bench/live/grid.mjs where the page's first second goes.
performance.mark('vigil:session');
await refresh(firstList.then((cams) => { performance.mark('vigil:cameras'); return cams; }));
performance.mark('vigil:tiles');
setInterval(() => { if (document.visibilityState === 'visible') refresh(); }, 3000);
let soon = 0;
sse('/events/stream', (type) => {
  if (type !== 'camera' || soon) return;
  soon = setTimeout(() => { soon = 0; refresh(); }, 200);
});
// For tests and debugging.
window.vigilTiles = tiles;
