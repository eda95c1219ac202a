// / : the camera grid. One live tile per camera the user may view (name,
// state, recording dot; click opens the camera page). States refresh every
// 3 s and at once when the events stream reports a camera's state change;
// tiles are rebuilt only when the set of cameras changes.
import { api, el, clear, startPage, can, sse } from '../ui.js';
import { LivePlayer } from '../live-player.js';

const user = await startPage({ title: 'Cameras', active: 'cameras' });
const main = document.getElementById('main');
// Adding cameras needs control on every camera ("*"): admins and some operators.
const mayAdd = can(user, '*', 'control');
const tiles = new Map();   // id → { tile, player, badge, rec }
let shownIds = null;

function layoutClass(n) {
  if (n <= 1) return 'n-1';
  if (n === 2) return 'n-2';
  if (n <= 4) return 'n-4';
  if (n <= 9) return 'n-many';
  return 'n-many n-big';
}

function tileFor(cam) {
  const box = el('div', { class: 'vigil-player' });
  const badge = el('span', { class: 'badge' });
  const rec = el('span', { class: 'rec-dot', title: 'recording', hidden: true });
  const recLabel = el('span', { class: 'sr-only' });
  const tile = el('a', { class: 'tile', href: `/cameras/${encodeURIComponent(cam.id)}`,
    dataset: { camera: cam.id } },
    box,
    el('div', { class: 'tile-bar' },
      el('span', { class: 'tile-name' }, cam.name || cam.id), rec, recLabel, badge));
  let player = null;
  if (cam.enabled !== false && can(user, cam.id, 'view')) {
    player = new LivePlayer(box, { cameraId: cam.id, stats: false });
    player.start();
  } else {
    box.append(el('div', { class: 'message' }, cam.enabled === false ? 'disabled' : 'no live view'));
  }
  return { tile, player, badge, rec, recLabel };
}

function update(t, cam) {
  const st = cam.status || {};
  const state = cam.enabled === false ? 'disabled' : st.state || 'unknown';
  t.badge.className = `badge state-${state}`;
  t.badge.textContent = state;
  t.rec.hidden = !st.recording;
  t.recLabel.textContent = st.recording ? 'recording' : '';
  t.tile.setAttribute('aria-label',
    `${cam.name || cam.id}: ${state}${st.recording ? ', recording' : ''}. Open camera.`);
  t.tile.title = st.error ? `${state}: ${st.error}` : state;
}

function render(cams) {
  const ids = cams.map((c) => c.id).join('\n');
  if (ids !== shownIds) {
    for (const t of tiles.values()) t.player?.stop();
    tiles.clear();
    shownIds = ids;
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
    const grid = el('div', { class: `cam-grid ${layoutClass(cams.length)}`, id: 'cam-grid' });
    for (const cam of cams) {
      const t = tileFor(cam);
      tiles.set(cam.id, t);
      grid.append(t.tile);
    }
    clear(main, head, grid);
  }
  for (const cam of cams) update(tiles.get(cam.id), cam);
}

async function refresh() {
  try {
    render(await api('GET', '/cameras'));
  } catch (e) {
    if (e.status !== 401) console.warn('camera list:', e.message);
  }
}

await refresh();
setInterval(() => { if (document.visibilityState === 'visible') refresh(); }, 3000);
let soon = 0;
sse('/events/stream', (type) => {
  if (type !== 'camera' || soon) return;
  soon = setTimeout(() => { soon = 0; refresh(); }, 200);
});
// For tests and debugging.
window.vigilTiles = tiles;
