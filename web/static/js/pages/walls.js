// /walls: the saved walls and the wall builder. Layouts 1, 2×2, 3×3, 4×4 or
// any columns × rows up to 8; tiles span cells (width/height); per tile a
// camera or a recording, an effect and its parameters, previewed live on the
// selected tile. Save creates (POST) or replaces/renames (PUT); delete asks
// first. Viewers see the list only (writing needs operator or admin).
// ?edit=NAME opens a wall in the builder.
import { api, el, clear, startPage, can, toast, confirmDialog, showError, fmtTime } from '../ui.js';
import { EFFECTS, effectParams } from '../effects.js';
import { WallTile } from '../wall-tile.js';
import { streamFor } from '../live-player.js';

const user = await startPage({ title: 'Walls', active: 'walls' });
const main = document.getElementById('main');
const mayWrite = user.role === 'admin' || user.role === 'operator';
const params = new URLSearchParams(location.search);

let cameras = [];
let recordings = [];
try {
  cameras = (await api('GET', '/cameras')).filter((c) => can(user, c.id, 'view'));
  recordings = await api('GET', '/recordings?limit=50').catch(() => []);
} catch (e) { showError(e); }

const listBox = el('div', { class: 'wb-walls', id: 'wall-list' });
const builderBox = el('section', { id: 'builder', 'aria-label': 'Wall builder' });
clear(main,
  el('div', { class: 'page-head' }, el('h1', null, 'Video walls'),
    mayWrite ? el('button', { class: 'btn btn-primary', type: 'button', id: 'new-wall',
      onclick: () => edit(null) }, 'New wall') : null),
  listBox, builderBox);

// --- list ---
async function loadList() {
  let walls = [];
  try { walls = await api('GET', '/walls'); } catch (e) { showError(e, listBox); return []; }
  listBox.classList.toggle('wb-walls', walls.length > 0);
  clear(listBox, walls.length ? null : el('p', { class: 'empty' }, mayWrite
    ? 'No walls yet: make one with "New wall".' : 'No walls yet.'),
  walls.map((w) => el('div', { class: 'card', dataset: { wall: w.name } },
    el('h2', null, w.title),
    el('p', { class: 'small muted' }, `/wall/${w.name} · ${w.layout.cols}×${w.layout.rows} · ${w.tiles.length} tile(s)${w.kiosk ? ' · kiosk' : ''}`),
    el('p', { class: 'small muted' }, `updated ${fmtTime(w.updated, true)}`),
    el('div', { class: 'toolbar' },
      el('a', { class: 'btn btn-primary btn-small', href: `/wall/${encodeURIComponent(w.name)}` }, 'Open'),
      mayWrite ? el('button', { class: 'btn btn-small', type: 'button', onclick: () => edit(w) }, 'Edit') : null,
      mayWrite ? el('button', { class: 'btn btn-danger btn-small', type: 'button',
        onclick: () => remove(w) }, 'Delete') : null))));
  return walls;
}

async function remove(w) {
  if (!await confirmDialog(`Delete the wall "${w.title}"?`, { ok: 'Delete', danger: true })) return;
  try {
    await api('DELETE', `/walls/${encodeURIComponent(w.name)}`);
    toast('Wall deleted.', 'ok');
    if (draft && draft.original === w.name) closeBuilder();
    loadList();
  } catch (e) { showError(e); }
}

// --- builder ---
let draft = null;     // { original, name, title, kiosk, cols, rows, tiles: [...] }
let selected = 0;
let preview = null;

function gridTiles(cols, rows) {
  const tiles = [];
  for (let y = 0; y < rows; y++)
    for (let x = 0; x < cols; x++) tiles.push({ x, y, w: 1, h: 1, source: null, effect: { name: 'none', params: {} } });
  return tiles;
}

function edit(w) {
  draft = w ? {
    original: w.name, name: w.name, title: w.title, kiosk: w.kiosk,
    cols: w.layout.cols, rows: w.layout.rows, tiles: structuredClone(w.tiles),
  } : {
    original: null, name: '', title: '', kiosk: false, cols: 2, rows: 2, tiles: gridTiles(2, 2),
  };
  if (!w && cameras.length) draft.tiles.forEach((t, i) => { t.source = { camera: cameras[i % cameras.length].id }; });
  selected = 0;
  renderBuilder();
  builderBox.scrollIntoView({ block: 'start' });
}

function closeBuilder() {
  preview?.stop();
  preview = null;
  previewKey = null;
  draft = null;
  clear(builderBox);
}

function setLayout(cols, rows) {
  // Keep the sources of cells that stay, in reading order.
  const sources = draft.tiles.map((t) => ({ source: t.source, effect: t.effect }));
  draft.cols = cols;
  draft.rows = rows;
  draft.tiles = gridTiles(cols, rows);
  draft.tiles.forEach((t, i) => { if (sources[i]) Object.assign(t, structuredClone(sources[i])); });
  selected = 0;
  renderBuilder();
}

// Sets tile @i's span, removing the tiles it now covers and filling the
// cells it frees with empty 1×1 tiles.
function setSpan(i, w, h) {
  const t = draft.tiles[i];
  w = Math.max(1, Math.min(w, draft.cols - t.x));
  h = Math.max(1, Math.min(h, draft.rows - t.y));
  t.w = w;
  t.h = h;
  const covers = (a, x, y) => x >= a.x && x < a.x + a.w && y >= a.y && y < a.y + a.h;
  draft.tiles = draft.tiles.filter((o) => o === t || !(
    o.x < t.x + t.w && t.x < o.x + o.w && o.y < t.y + t.h && t.y < o.y + o.h));
  for (let y = 0; y < draft.rows; y++)
    for (let x = 0; x < draft.cols; x++)
      if (!draft.tiles.some((o) => covers(o, x, y)))
        draft.tiles.push({ x, y, w: 1, h: 1, source: null, effect: { name: 'none', params: {} } });
  draft.tiles.sort((a, b) => a.y - b.y || a.x - b.x);
  selected = draft.tiles.indexOf(t);
  renderBuilder();
}

function sourceLabel(src) {
  if (!src) return 'empty';
  if (src.denied) return 'no access';
  if (src.camera) return (cameras.find((c) => c.id === src.camera) || {}).name || src.camera;
  if (src.recording) return `recording ${src.recording}`;
  return '?';
}

function renderBuilder() {
  if (!draft) return;
  const nameInput = el('input', { id: 'wall-name', value: draft.name, pattern: '[a-z0-9-]{1,32}',
    placeholder: 'lobby', autocomplete: 'off', 'aria-describedby': 'wall-name-hint',
    oninput: () => { draft.name = nameInput.value.trim(); } });
  const titleInput = el('input', { id: 'wall-title', value: draft.title, maxlength: '100',
    placeholder: 'Lobby wall', oninput: () => { draft.title = titleInput.value; } });
  const kiosk = el('input', { type: 'checkbox', id: 'wall-kiosk', checked: draft.kiosk,
    onchange: () => { draft.kiosk = kiosk.checked; } });
  const presets = [[1, 1, '1'], [2, 2, '2×2'], [3, 3, '3×3'], [4, 4, '4×4']].map(([c, r, l]) =>
    el('button', { class: 'btn btn-small', type: 'button', id: `layout-${c}x${r}`,
      'aria-pressed': String(draft.cols === c && draft.rows === r),
      onclick: () => setLayout(c, r) }, l));
  const colsInput = el('input', { id: 'wall-cols', type: 'number', min: '1', max: '8', value: draft.cols, style: { width: '4.5rem' } });
  const rowsInput = el('input', { id: 'wall-rows', type: 'number', min: '1', max: '8', value: draft.rows, style: { width: '4.5rem' } });
  const applyCustom = () => setLayout(Math.max(1, Math.min(8, Number(colsInput.value) || 1)),
                                      Math.max(1, Math.min(8, Number(rowsInput.value) || 1)));
  colsInput.addEventListener('change', applyCustom);
  rowsInput.addEventListener('change', applyCustom);

  const grid = el('div', { class: 'wb-grid', id: 'wb-grid', role: 'listbox', 'aria-label': 'Tiles',
    style: { gridTemplateColumns: `repeat(${draft.cols}, minmax(0, 1fr))`,
             gridTemplateRows: `repeat(${draft.rows}, minmax(0, 1fr))` } },
  draft.tiles.map((t, i) => el('button', {
    class: ['wb-tile', i === selected && 'selected'], type: 'button', role: 'option',
    'aria-selected': String(i === selected), dataset: { index: i },
    'aria-label': `Tile ${i + 1}: ${sourceLabel(t.source)}, ${EFFECTS[t.effect?.name || 'none'].label}`,
    style: { gridColumn: `${t.x + 1} / span ${t.w}`, gridRow: `${t.y + 1} / span ${t.h}` },
    onclick: () => { selected = i; renderBuilder(); } },
  el('span', { class: 'wb-src' }, sourceLabel(t.source)),
  el('span', { class: 'wb-fx' }, t.effect && t.effect.name !== 'none' ? EFFECTS[t.effect.name].label : ''))));

  clear(builderBox,
    el('div', { class: 'card' },
      el('h2', null, draft.original ? `Edit wall "${draft.original}"` : 'New wall'),
      el('div', { class: 'row row-3' },
        el('div', { class: 'field' }, el('label', { for: 'wall-title' }, 'Title'), titleInput),
        el('div', { class: 'field' }, el('label', { for: 'wall-name' }, 'Name (URL)'), nameInput,
          el('span', { class: 'hint', id: 'wall-name-hint' }, 'a-z, 0-9 and -; the wall opens at /wall/<name>. Leave empty to derive it from the title.')),
        el('div', { class: 'field' }, el('span', { class: 'label' }, 'Kiosk'),
          el('label', { class: 'check', for: 'wall-kiosk' }, kiosk, ' open full-window, no menu'))),
      el('div', { class: 'field' }, el('span', { class: 'label', id: 'layout-label' }, 'Layout'),
        el('div', { class: 'wb-presets', role: 'group', 'aria-labelledby': 'layout-label' }, presets,
          el('label', { for: 'wall-cols', class: 'small' }, 'columns'), colsInput,
          el('label', { for: 'wall-rows', class: 'small' }, 'rows'), rowsInput)),
      el('div', { class: 'wb-layout' },
        el('div', null, grid,
          el('p', { class: 'small muted' }, 'Pick a tile to set its source, effect and size.')),
        tileEditor()),
      el('div', { class: 'toolbar' },
        el('button', { class: 'btn btn-primary', type: 'button', id: 'wall-save', onclick: save }, 'Save'),
        el('button', { class: 'btn', type: 'button', onclick: closeBuilder }, 'Close'),
        draft.original ? el('a', { class: 'btn', href: `/wall/${encodeURIComponent(draft.original)}` }, 'Open wall') : null,
        draft.original ? el('button', { class: 'btn btn-danger', type: 'button',
          onclick: () => remove({ name: draft.original, title: draft.title || draft.original }) }, 'Delete') : null)));
  startPreview();
}

// For a camera that can be steered (its presets answer): the preset the wall
// sends it to when opened (docs/onvif.md). Hidden until the presets come.
function presetField(t) {
  const cam = t.source && t.source.camera;
  // Only cameras with an ONVIF device can have presets: others are not asked.
  if (!cam || !can(user, cam, 'control') || !cameras.find((c) => c.id === cam)?.onvif) return null;
  const select = el('select', { id: 'tile-preset', onchange: () => {
    if (select.value) t.source.preset = select.value;
    else delete t.source.preset;
  } }, el('option', { value: '' }, '(where it points)'));
  const field = el('div', { class: 'field', hidden: true },
    el('label', { for: 'tile-preset' }, 'PTZ preset'), select);
  api('GET', `/cameras/${encodeURIComponent(cam)}/ptz/presets`).then((presets) => {
    if (t.source?.camera !== cam) return;
    select.append(...presets.map((p) => el('option', { value: p.token }, p.name || p.token)));
    if (t.source.preset && !presets.some((p) => p.token === t.source.preset))
      select.append(el('option', { value: t.source.preset }, `${t.source.preset} (gone)`));
    select.value = t.source.preset || '';
    field.hidden = false;
  }).catch(() => {}); // no PTZ (409) or none allowed: no field
  return field;
}

function tileEditor() {
  const t = draft.tiles[selected];
  if (!t) return el('div');
  const srcValue = !t.source ? '' : t.source.denied ? 'denied'
    : t.source.camera ? `camera:${t.source.camera}` : `recording:${t.source.recording}`;
  const source = el('select', { id: 'tile-source', onchange: () => {
    const v = source.value;
    t.source = !v ? null : v === 'denied' ? { denied: true }
      : v.startsWith('camera:') ? { camera: v.slice(7) } : { recording: Number(v.slice(10)) };
    renderBuilder();
  } },
  el('option', { value: '' }, '(empty)'),
  t.source && t.source.denied ? el('option', { value: 'denied' }, '(a camera you may not view)') : null,
  el('optgroup', { label: 'Live cameras' }, cameras.map((c) => el('option', { value: `camera:${c.id}` }, c.name || c.id))),
  recordings.length ? el('optgroup', { label: 'Recordings' }, recordings.map((r) =>
    el('option', { value: `recording:${r.id}` }, `${r.camera} ${fmtTime(r.start, true)} (${r.reason})`))) : null);
  source.value = srcValue;
  const preset = presetField(t);
  const effect = t.effect || { name: 'none', params: {} };
  const fxSelect = el('select', { id: 'tile-effect', onchange: () => {
    t.effect = { name: fxSelect.value, params: effectParams(fxSelect.value, {}) };
    renderBuilder();
  } }, Object.entries(EFFECTS).map(([k, v]) => el('option', { value: k, selected: k === effect.name }, v.label)));
  const current = effectParams(effect.name, effect.params);
  const paramRows = Object.entries(EFFECTS[effect.name].params).map(([k, p]) => {
    const out = el('output', { for: `param-${k}`, id: `param-${k}-value` }, String(current[k]));
    const input = el('input', { type: 'range', id: `param-${k}`, min: p.min, max: p.max, step: p.step,
      value: current[k], oninput: () => {
        current[k] = Number(input.value);
        out.textContent = input.value;
        t.effect = { name: effect.name, params: { ...current } };
        preview?.view?.setParams({ [k]: current[k] });
      } });
    return el('div', { class: 'param-row' }, el('label', { for: `param-${k}` }, p.label), input, out);
  });
  const wIn = el('input', { id: 'tile-w', type: 'number', min: '1', max: String(draft.cols - t.x), value: t.w, style: { width: '4.5rem' } });
  const hIn = el('input', { id: 'tile-h', type: 'number', min: '1', max: String(draft.rows - t.y), value: t.h, style: { width: '4.5rem' } });
  wIn.addEventListener('change', () => setSpan(selected, Number(wIn.value) || 1, t.h));
  hIn.addEventListener('change', () => setSpan(selected, t.w, Number(hIn.value) || 1));
  return el('div', { class: 'card', id: 'tile-editor' },
    el('h3', null, `Tile ${selected + 1} (column ${t.x + 1}, row ${t.y + 1})`),
    el('div', { class: 'field' }, el('label', { for: 'tile-source' }, 'Source'), source),
    preset,
    el('div', { class: 'field' }, el('label', { for: 'tile-effect' }, 'Effect'), fxSelect),
    paramRows,
    el('div', { class: 'toolbar' },
      el('label', { for: 'tile-w', class: 'small' }, 'Width (cells)'), wIn,
      el('label', { for: 'tile-h', class: 'small' }, 'Height (cells)'), hIn),
    el('div', { class: 'wb-preview', id: 'tile-preview', 'aria-label': 'Preview of the tile' }));
}

// The selected tile, live with its effect. Re-rendering the builder keeps
// the running preview (moved into the new layout) unless the source changed,
// so changing effects and parameters does not reconnect the video.
let previewKey = null;
function startPreview() {
  const box = document.getElementById('tile-preview');
  const t = draft.tiles[selected];
  const key = t && t.source && !t.source.denied ? JSON.stringify(t.source) : null;
  if (preview && key === previewKey && box) {
    box.replaceWith(preview.container);
    preview.setEffect(t.effect?.name || 'none', t.effect?.params || {});
    return;
  }
  preview?.stop();
  preview = null;
  previewKey = key;
  if (!box || !key) return;
  box.classList.add('wall-tile');
  const cam = t.source.camera ? cameras.find((c) => c.id === t.source.camera) : null;
  preview = new WallTile(box, structuredClone(t), { apiGet: (p) => api('GET', p),
    stream: streamFor(cam, false) });
  preview.start().catch(() => {});
}

async function save() {
  const body = {
    title: draft.title.trim() || null,
    layout: { cols: draft.cols, rows: draft.rows },
    tiles: draft.tiles.map((t) => ({ x: t.x, y: t.y, w: t.w, h: t.h, source: t.source,
      effect: t.effect || { name: 'none', params: {} } })),
    kiosk: draft.kiosk,
  };
  if (draft.name) body.name = draft.name;
  try {
    const w = draft.original
      ? await api('PUT', `/walls/${encodeURIComponent(draft.original)}`, body)
      : await api('POST', '/walls', body);
    toast(`Wall "${w.title}" saved: /wall/${w.name}`, 'ok');
    draft.original = w.name;
    draft.name = w.name;
    draft.title = w.title;
    renderBuilder();
    await loadList();
  } catch (e) { showError(e); }
}

const walls = await loadList();
if (params.get('edit') && mayWrite) {
  const w = walls.find((x) => x.name === params.get('edit'));
  if (w) edit(w);
}
