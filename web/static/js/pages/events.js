// /events: motion, object, barcode and alarm events as a list or a grid of
// thumbnails, filtered by camera, type, label and time; new and updated
// events arrive live over SSE (/api/v1/events/stream) and appear at the top
// when they match the filters. A click opens the recording at that moment
// (/recordings?camera=&t=). Filters live in the URL, so a reload keeps them.
import { api, el, clear, startPage, sse, fmtTime, fmtDuration, showError } from '../ui.js';

await startPage({ title: 'Events', active: 'events' });
const main = document.getElementById('main');
const params = new URLSearchParams(location.search);
const LIMIT = 300;

let cameras = [];
try { cameras = await api('GET', '/cameras'); } catch (e) { showError(e); }
const names = new Map(cameras.map((c) => [c.id, c.name || c.id]));

const pad = (n) => String(n).padStart(2, '0');
const localInput = (ms) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

const f = {
  camera: el('select', { id: 'f-camera', name: 'camera' },
    el('option', { value: '' }, 'All cameras'),
    cameras.map((c) => el('option', { value: c.id }, c.name || c.id))),
  type: el('select', { id: 'f-type', name: 'type' },
    ['', 'motion', 'object', 'barcode', 'alarm'].map((t) =>
      el('option', { value: t }, t ? t[0].toUpperCase() + t.slice(1) : 'All types'))),
  label: el('input', { id: 'f-label', name: 'label', type: 'search', placeholder: 'e.g. person, QR text',
    autocomplete: 'off' }),
  from: el('input', { id: 'f-from', name: 'from', type: 'datetime-local' }),
  to: el('input', { id: 'f-to', name: 'to', type: 'datetime-local' }),
};
f.camera.value = params.get('camera') || '';
f.type.value = params.get('type') || '';
f.label.value = params.get('label') || '';
if (params.get('from')) f.from.value = localInput(Date.parse(params.get('from')));
if (params.get('to')) f.to.value = localInput(Date.parse(params.get('to')));
let view = params.get('view') === 'list' ? 'list' : 'grid';

const results = el('div', { id: 'ev-results', 'aria-live': 'polite' });
const count = el('span', { class: 'small muted', id: 'ev-count', role: 'status' });
const liveDot = el('span', { class: 'live-dot', 'aria-hidden': 'true' });
const liveText = el('span', { class: 'small muted' }, 'connecting…');
const viewButtons = ['grid', 'list'].map((v) => el('button', {
  class: 'btn btn-small', type: 'button', id: `view-${v}`, 'aria-pressed': String(v === view),
  onclick: () => { view = v; viewButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.id === `view-${v}`))); saveUrl(); draw(); },
}, v === 'grid' ? 'Grid' : 'List'));

const field = (id, label, input) => el('div', { class: 'field' }, el('label', { for: id }, label), input);
const form = el('form', { class: 'ev-filters', id: 'ev-filters', role: 'search',
  onsubmit: (e) => { e.preventDefault(); load(); } },
  field('f-camera', 'Camera', f.camera), field('f-type', 'Type', f.type),
  field('f-label', 'Label', f.label), field('f-from', 'From', f.from), field('f-to', 'To', f.to),
  el('div', { class: 'toolbar' },
    el('button', { class: 'btn btn-primary', type: 'submit' }, 'Filter'),
    el('button', { class: 'btn', type: 'button', onclick: () => {
      for (const k of Object.keys(f)) f[k].value = '';
      load();
    } }, 'Clear')));
for (const k of ['camera', 'type', 'from', 'to']) f[k].addEventListener('change', () => load());
f.label.addEventListener('input', () => { saveUrl(); draw(); });

clear(main,
  el('div', { class: 'page-head' }, el('h1', null, 'Events'),
    el('span', null, liveDot, liveText), el('div', { class: 'toolbar' }, viewButtons)),
  form, count, results);

let events = [];
const fresh = new Set();

function labelOf(e) {
  if (e.type === 'barcode' && e.data && e.data.text) return `${e.label || ''} ${e.data.text}`.trim();
  return e.label || '';
}

function matches(e) {
  if (f.camera.value && e.camera !== f.camera.value) return false;
  if (f.type.value && e.type !== f.type.value) return false;
  const q = f.label.value.trim().toLowerCase();
  if (q && !labelOf(e).toLowerCase().includes(q)) return false;
  const s = Date.parse(e.start), end = e.end ? Date.parse(e.end) : Date.now();
  if (f.from.value && end < Date.parse(f.from.value)) return false;
  if (f.to.value && s > Date.parse(f.to.value)) return false;
  return true;
}

function hrefOf(e) {
  if (!e.camera) return null;
  const t = new Date(Math.max(0, Date.parse(e.start) - 2000)).toISOString();
  return `/recordings?camera=${encodeURIComponent(e.camera)}&t=${encodeURIComponent(t)}`;
}

function durationOf(e) {
  if (!e.end) return 'ongoing';
  const d = (Date.parse(e.end) - Date.parse(e.start)) / 1000;
  return d > 0 ? fmtDuration(d) : 'instant';
}

function thumb(e, cls) {
  return e.thumbnail
    ? el('img', { class: cls, src: e.thumbnail, alt: `${e.type} on ${names.get(e.camera) || e.camera}`, loading: 'lazy' })
    : el('div', { class: `${cls} ev-noimg` }, e.type === 'alarm' ? '⚠' : 'no picture');
}

function card(e) {
  const href = hrefOf(e);
  return el(href ? 'a' : 'div', { class: ['ev-card', fresh.has(e.id) && 'new'], href,
    dataset: { id: e.id }, 'aria-label': `${e.type} ${labelOf(e)} on ${names.get(e.camera) || e.camera || 'system'} at ${fmtTime(e.start)}` },
  thumb(e, 'ev-img'),
  el('div', { class: 'ev-meta' },
    el('div', null, el('span', { class: `badge type-${e.type} ev-type` }, e.type), ' ',
      el('strong', null, labelOf(e))),
    el('div', null, names.get(e.camera) || e.camera || 'system'),
    el('div', { class: 'muted' }, fmtTime(e.start, true), ' · ', durationOf(e))));
}

function row(e) {
  const href = hrefOf(e);
  return el('tr', { class: ['ev-row', fresh.has(e.id) && 'new'], dataset: { id: e.id } },
    el('td', null, href ? el('a', { href, 'aria-label': `Play ${e.type} at ${fmtTime(e.start)}` }, thumb(e, 'ev-thumb')) : thumb(e, 'ev-thumb')),
    el('td', null, el('span', { class: `badge type-${e.type} ev-type` }, e.type)),
    el('td', null, labelOf(e) || '—'),
    el('td', null, names.get(e.camera) || e.camera || 'system'),
    el('td', null, fmtTime(e.start, true)),
    el('td', null, durationOf(e)),
    el('td', null, e.score === null || e.score === undefined ? '—' : e.score.toFixed(2)));
}

function draw() {
  const shown = events.filter(matches);
  count.textContent = `${shown.length} event(s)${events.length >= LIMIT ? ` (newest ${LIMIT})` : ''}`;
  if (!shown.length) {
    clear(results, el('p', { class: 'empty' }, 'No events match these filters.'));
    return;
  }
  if (view === 'grid') {
    clear(results, el('div', { class: 'ev-grid' }, shown.map(card)));
  } else {
    clear(results, el('div', { class: 'table-wrap' }, el('table', { class: 'table ev-list' },
      el('thead', null, el('tr', null, ['Picture', 'Type', 'Label', 'Camera', 'Start', 'Length', 'Score']
        .map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', null, shown.map(row)))));
  }
}

function saveUrl() {
  const u = new URL(location.href);
  u.search = '';
  if (f.camera.value) u.searchParams.set('camera', f.camera.value);
  if (f.type.value) u.searchParams.set('type', f.type.value);
  if (f.label.value) u.searchParams.set('label', f.label.value);
  if (f.from.value) u.searchParams.set('from', new Date(f.from.value).toISOString());
  if (f.to.value) u.searchParams.set('to', new Date(f.to.value).toISOString());
  if (view === 'list') u.searchParams.set('view', 'list');
  history.replaceState(null, '', u);
}

async function load() {
  saveUrl();
  const q = new URLSearchParams({ limit: String(LIMIT) });
  if (f.camera.value) q.set('camera', f.camera.value);
  if (f.type.value) q.set('type', f.type.value);
  if (f.from.value) q.set('from', new Date(f.from.value).toISOString());
  if (f.to.value) q.set('to', new Date(f.to.value).toISOString());
  try {
    events = await api('GET', `/events?${q}`);
  } catch (e) {
    showError(e, results);
    return;
  }
  fresh.clear();
  draw();
}

// A camera added since the page loaded: learn its name (once per id).
const asked = new Set();
async function learnName(id) {
  if (!id || names.has(id) || asked.has(id)) return;
  asked.add(id);
  try {
    const c = await api('GET', `/cameras/${encodeURIComponent(id)}`);
    names.set(id, c.name || id);
    draw();
  } catch { /* the id will do */ }
}

sse('/events/stream', (type, data) => {
  if (type !== 'event' || !data || !data.id) return;
  learnName(data.camera);
  const i = events.findIndex((e) => e.id === data.id);
  if (i >= 0) events[i] = data;
  else {
    events.unshift(data);
    fresh.add(data.id);
    if (events.length > LIMIT) events.pop();
  }
  draw();
}, ['open']);

// The EventSource wrapper has no "connected" callback: a short request tells.
liveDot.classList.add('on');
liveText.textContent = 'live';
window.addEventListener('offline', () => { liveDot.classList.remove('on'); liveText.textContent = 'offline'; });
window.addEventListener('online', () => { liveDot.classList.add('on'); liveText.textContent = 'live'; });

await load();
