// /recordings: one camera, one day. A zoomable timeline (24 h down to a few
// minutes) with the recordings as blocks and the events as markers; hovering
// shows the time and a thumbnail; a click plays from that moment
// (playback-player.js); dragging selects a range for an MP4 download. The
// recording being played can be kept (spared by retention) or deleted by
// users with the control right.
//
// URL: /recordings?camera=ID&day=YYYY-MM-DD&t=ISO (t: play from there), so a
// link from the events page opens the right moment and a reload keeps it.
import { api, el, clear, startPage, can, fmtDuration, fmtBytes, toast, confirmDialog,
  showError, sse } from '../ui.js';
import { PlaybackPlayer, fmtClock } from '../playback-player.js';

const user = await startPage({ title: 'Recordings', active: 'recordings' });
const main = document.getElementById('main');
const params = new URLSearchParams(location.search);
const DAY_MS = 86400000;
const ZOOMS = [1, 2, 4, 8, 16, 32, 96]; // 24 h … 15 min across the view

const pad = (n) => String(n).padStart(2, '0');
const dayString = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
function dayStart(str) {
  const [y, m, d] = str.split('-').map(Number);
  return new Date(y, m - 1, d).getTime();
}
// datetime-local value of @ms (local time, seconds).
const localInput = (ms) => {
  const d = new Date(ms);
  return `${dayString(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

let cameras = [];
try {
  cameras = (await api('GET', '/cameras')).filter((c) => can(user, c.id, 'playback'));
} catch (e) {
  clear(main, el('div', { class: 'alert alert-error', role: 'alert' }, showError(e, null)));
  throw e;
}

const state = {
  camera: params.get('camera') || (cameras[0] && cameras[0].id) || '',
  day: params.get('day') || null,
  zoom: 1,
  recordings: [],
  events: [],
  current: null,     // the recording playing
  sel: null,         // [fromMs, toMs]
};
const startAt = params.get('t') ? Date.parse(params.get('t')) : null;
if (!state.day) state.day = dayString(new Date(Number.isFinite(startAt) ? startAt : Date.now()));

// --- layout ---
const cameraSelect = el('select', { id: 'rec-camera', onchange: () => { state.camera = cameraSelect.value; reload(); } },
  cameras.map((c) => el('option', { value: c.id, selected: c.id === state.camera }, c.name || c.id)));
const dayInput = el('input', { id: 'rec-day', type: 'date', value: state.day,
  onchange: () => { if (dayInput.value) { state.day = dayInput.value; reload(); } } });
const shiftDay = (n) => {
  state.day = dayString(new Date(dayStart(state.day) + n * DAY_MS + 3600000));
  dayInput.value = state.day;
  reload();
};
const zoomLabel = el('span', { class: 'small muted', 'aria-live': 'polite' });
const tl = el('div', { class: 'tl', id: 'timeline' });
// The scrolling box takes the focus, not the (wider) timeline: focusing the
// timeline would scroll its left edge (midnight) into view.
const tlScroll = el('div', { class: 'tl-scroll', role: 'group', tabindex: '0',
  'aria-label': 'Timeline of the day: click to play from that time, drag to select a range, arrow keys move, Enter plays' }, tl);
const hover = el('div', { class: 'tl-hover', hidden: true });
const tlWrap = el('div', { class: 'tl-wrap' }, hover, tlScroll);
const playerBox = el('div', { id: 'player' });
const info = el('div', { class: 'card', id: 'rec-info', hidden: true });
const list = el('ul', { class: 'rec-list', id: 'rec-list', 'aria-label': 'Recordings of the day' });
const fromInput = el('input', { id: 'range-from', type: 'datetime-local', step: '1' });
const toInput = el('input', { id: 'range-to', type: 'datetime-local', step: '1' });
const rangeLink = el('a', { class: 'btn', id: 'range-download', href: '#', download: '' }, 'Download range (MP4)');
const status = el('p', { class: 'muted small', id: 'rec-status', role: 'status' });

const player = new PlaybackPlayer(playerBox, {
  subStream: true,   // scrub and play fast on a recording's sub stream
  onEventStep: (dir, ms) => playAt(ms - 1000, dir),
  onTime: (ms) => drawCursor(ms),
});
window.vigilPlayback = player; // tests and debugging

clear(main,
  el('div', { class: 'page-head' }, el('h1', null, 'Recordings')),
  cameras.length ? null : el('p', { class: 'empty' }, 'No camera whose recordings you may play back.'),
  el('div', { class: 'toolbar' },
    el('div', { class: 'field inline' }, el('label', { for: 'rec-camera' }, 'Camera'), cameraSelect),
    el('div', { class: 'field inline' }, el('label', { for: 'rec-day' }, 'Day'), dayInput),
    el('button', { class: 'btn btn-small', type: 'button', onclick: () => shiftDay(-1), 'aria-label': 'Previous day' }, '‹'),
    el('button', { class: 'btn btn-small', type: 'button', onclick: () => shiftDay(1), 'aria-label': 'Next day' }, '›'),
    el('button', { class: 'btn btn-small', type: 'button', id: 'zoom-out', onclick: () => zoom(-1), 'aria-label': 'Zoom out' }, '−'),
    el('button', { class: 'btn btn-small', type: 'button', id: 'zoom-in', onclick: () => zoom(1), 'aria-label': 'Zoom in' }, '+'),
    zoomLabel),
  tlWrap,
  el('div', { class: 'tl-legend', 'aria-hidden': 'true' },
    el('span', { style: '--c: var(--accent-2)' }, 'event recording'),
    el('span', { style: '--c: #3a5f86' }, 'continuous'),
    el('span', { style: '--c: #8b6cd6' }, 'manual'),
    el('span', { style: '--c: var(--warn)' }, 'motion'),
    el('span', { style: '--c: var(--ok)' }, 'object'),
    el('span', { style: '--c: #5ad1e6' }, 'barcode'),
    el('span', { style: '--c: var(--danger)' }, 'alarm')),
  status,
  el('div', { class: 'rec-layout' },
    el('section', { 'aria-label': 'Player' }, playerBox, info),
    el('section', { 'aria-label': 'Range and list' },
      el('div', { class: 'card' },
        el('h2', null, 'Download a time range'),
        el('p', { class: 'small muted' }, 'Drag on the timeline, or type the times.'),
        el('div', { class: 'range-row' },
          el('div', { class: 'field' }, el('label', { for: 'range-from' }, 'From'), fromInput),
          el('div', { class: 'field' }, el('label', { for: 'range-to' }, 'To'), toInput),
          rangeLink)),
      el('h2', null, 'Recordings'),
      list)));

// --- timeline geometry ---
const t0 = () => dayStart(state.day);
const xOf = (ms) => ((ms - t0()) / DAY_MS) * tl.clientWidth;
const msOf = (x) => t0() + (x / tl.clientWidth) * DAY_MS;
const pct = (ms) => `${(((ms - t0()) / DAY_MS) * 100).toFixed(4)}%`;

function zoom(dir, centerMs = null) {
  const i = Math.max(0, Math.min(ZOOMS.length - 1, ZOOMS.indexOf(state.zoom) + dir));
  const keep = centerMs ?? msOf(tlScroll.scrollLeft + tlScroll.clientWidth / 2);
  state.zoom = ZOOMS[i];
  tl.style.width = `${state.zoom * 100}%`;
  zoomLabel.textContent = `${fmtDuration(DAY_MS / 1000 / state.zoom)} across`;
  drawAxis();
  tlScroll.scrollLeft = xOf(keep) - tlScroll.clientWidth / 2;
}

function drawAxis() {
  tl.querySelectorAll('.tl-tick').forEach((n) => n.remove());
  const visibleMs = DAY_MS / state.zoom;
  const steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800].map((s) => s * 1000);
  const step = steps.find((s) => visibleMs / s <= 8) || 10800000;
  const axis = tl.querySelector('.tl-axis');
  if (!axis) return;
  for (let t = t0(); t < t0() + DAY_MS; t += step) {
    const d = new Date(t);
    axis.append(el('span', { class: 'tl-tick', style: { left: pct(t) } },
      `${pad(d.getHours())}:${pad(d.getMinutes())}`));
  }
}

function render() {
  clear(tl, el('div', { class: 'tl-axis' }));
  const dayEnd = t0() + DAY_MS;
  for (const r of state.recordings) {
    const s = Math.max(Date.parse(r.start), t0());
    const e = Math.min(Date.parse(r.end), dayEnd);
    tl.append(el('div', {
      class: ['tl-block', `reason-${r.reason.split(':')[0]}`, r.keep && 'keep',
              state.current && state.current.id === r.id && 'current'],
      style: { left: pct(s), width: `${Math.max(0.01, ((e - s) / DAY_MS) * 100)}%` },
      dataset: { id: r.id }, title: `${r.reason} ${fmtClock(s)}–${fmtClock(e)}` }));
  }
  for (const ev of state.events) {
    const s = Date.parse(ev.start);
    if (s < t0() || s >= dayEnd) continue;
    tl.append(el('div', { class: ['tl-event', `type-${ev.type}`], style: { left: pct(s) },
      dataset: { id: ev.id }, title: `${ev.type}${ev.label ? ' ' + ev.label : ''} ${fmtClock(s)}` }));
  }
  tl.append(el('div', { class: 'tl-cursor', hidden: true }));
  tl.append(el('div', { class: 'tl-sel', hidden: true }));
  drawAxis();
  drawSelection();
  renderList();
  status.textContent = `${state.recordings.length} recording(s), ${state.events.length} event(s) on ${state.day}.`;
}

function renderList() {
  clear(list, state.recordings.length ? null
    : el('li', { class: 'muted' }, 'No recordings on this day.'),
  [...state.recordings].sort((a, b) => Date.parse(a.start) - Date.parse(b.start)).map((r) =>
    el('li', null, el('button', {
      class: ['rec-item', state.current && state.current.id === r.id && 'current'], type: 'button',
      dataset: { id: r.id }, onclick: () => play(r, null) },
    el('img', { src: r.thumbnail || '', alt: '', loading: 'lazy' }),
    el('span', null, el('strong', null, `${fmtClock(Date.parse(r.start))}`), ' ',
      el('span', { class: 'muted small' }, `${fmtDuration(r.duration_s)} · ${r.reason}${r.keep ? ' · kept' : ''}`))))));
}

function drawCursor(ms, follow = true) {
  const c = tl.querySelector('.tl-cursor');
  if (!c) return;
  c.hidden = !(ms >= t0() && ms < t0() + DAY_MS);
  c.style.left = pct(ms);
  // Follow the playhead, unless the user is looking elsewhere (hovering).
  const x = xOf(ms);
  if (follow && !c.hidden && hover.hidden &&
      (x < tlScroll.scrollLeft || x > tlScroll.scrollLeft + tlScroll.clientWidth)) {
    tlScroll.scrollLeft = x - tlScroll.clientWidth / 3;
  }
}

function drawSelection() {
  const s = tl.querySelector('.tl-sel');
  if (!s) return;
  s.hidden = !state.sel;
  if (state.sel) {
    s.style.left = pct(state.sel[0]);
    s.style.width = `${((state.sel[1] - state.sel[0]) / DAY_MS) * 100}%`;
  }
}

function setRange(from, to) {
  state.sel = [Math.min(from, to), Math.max(from, to)];
  fromInput.value = localInput(state.sel[0]);
  toInput.value = localInput(state.sel[1]);
  updateRangeLink();
  drawSelection();
}

function updateRangeLink() {
  const f = Date.parse(fromInput.value), t = Date.parse(toInput.value);
  const ok = state.camera && Number.isFinite(f) && Number.isFinite(t) && t > f;
  rangeLink.setAttribute('aria-disabled', String(!ok));
  rangeLink.href = ok ? `/api/v1/cameras/${encodeURIComponent(state.camera)}/export.mp4?from=${
    encodeURIComponent(new Date(f).toISOString())}&to=${encodeURIComponent(new Date(t).toISOString())}` : '#';
  rangeLink.setAttribute('download', ok ? `${state.camera}-${fromInput.value.replace(/[:T]/g, '')}.mp4` : '');
}
fromInput.addEventListener('change', () => { updateRangeLink(); });
toInput.addEventListener('change', () => { updateRangeLink(); });
rangeLink.addEventListener('click', (e) => {
  if (rangeLink.getAttribute('aria-disabled') === 'true') {
    e.preventDefault();
    toast('Choose a time range first (drag on the timeline).', 'error');
  }
});

// --- recording info, keep, delete ---
function renderInfo(r) {
  info.hidden = false;
  const control = can(user, r.camera, 'control');
  const keep = el('input', { type: 'checkbox', id: 'rec-keep', checked: r.keep, disabled: !control,
    onchange: async () => {
      try {
        const updated = await api('PATCH', `/recordings/${r.id}`, { keep: keep.checked });
        Object.assign(r, updated);
        toast(updated.keep ? 'Kept: retention will spare it.' : 'No longer kept.', 'ok');
        render();
      } catch (e) { keep.checked = !keep.checked; showError(e); }
    } });
  clear(info,
    el('h2', null, `Recording ${r.id}`),
    el('dl', { class: 'kv' },
      el('dt', null, 'Start'), el('dd', null, fmtClock(Date.parse(r.start), true)),
      el('dt', null, 'Length'), el('dd', null, fmtDuration(r.duration_s)),
      el('dt', null, 'Reason'), el('dd', null, r.reason),
      el('dt', null, 'Size'), el('dd', null, fmtBytes(r.size_bytes)),
      r.sub_playlist ? [el('dt', null, 'Streams'), el('dd', null, 'main and sub (small, for scrubbing and fast playback)')] : null),
    el('div', { class: 'toolbar' },
      el('label', { class: 'check', for: 'rec-keep' }, keep, ' Keep (spare from retention)'),
      control ? el('button', { class: 'btn btn-danger btn-small', type: 'button', id: 'rec-delete',
        onclick: async () => {
          if (!await confirmDialog(`Delete recording ${r.id}? This cannot be undone.`, { ok: 'Delete', danger: true })) return;
          try {
            await api('DELETE', `/recordings/${r.id}`);
            toast('Recording deleted.', 'ok');
            player.video.pause();
            state.current = null;
            info.hidden = true;
            await reload();
          } catch (e) { showError(e); }
        } }, 'Delete') : null));
}

function play(r, atMs) {
  state.current = r;
  player.load(r, atMs);
  player.setEvents(state.events);
  renderInfo(r);
  render();
  if (atMs) drawCursor(atMs);
  const u = new URL(location.href);
  u.searchParams.set('camera', state.camera);
  u.searchParams.set('day', state.day);
  if (atMs) u.searchParams.set('t', new Date(atMs).toISOString()); else u.searchParams.delete('t');
  history.replaceState(null, '', u);
}

// Plays from @ms: the recording holding it, else the next one after it
// (@dir < 0: the one before).
async function playAt(ms, dir = 1) {
  const day = dayString(new Date(ms));
  if (day !== state.day) {
    state.day = day;
    dayInput.value = day;
    await reload(false);
  }
  const recs = [...state.recordings].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  let r = recs.find((x) => Date.parse(x.start) <= ms && ms <= Date.parse(x.end) + 1000);
  if (!r) r = dir >= 0 ? recs.find((x) => Date.parse(x.start) > ms)
    : [...recs].reverse().find((x) => Date.parse(x.end) < ms);
  if (!r) { toast('No recording at that time.', 'info'); return; }
  play(r, Math.max(ms, Date.parse(r.start)));
}

// --- timeline interaction ---
// Pressing on the playhead (within 6 px) and dragging scrubs the recording
// playing (the player's sub stream where it has one); elsewhere a drag
// selects a range and a click plays.
let drag = null;
function xIn(e) { return e.clientX - tl.getBoundingClientRect().left; }
function onPlayhead(x) {
  const c = tl.querySelector('.tl-cursor');
  return !!(state.current && c && !c.hidden && Math.abs(x - c.offsetLeft) <= 6);
}
// @ms clamped to the recording playing.
function inCurrent(ms) {
  const r = state.current;
  return Math.max(Date.parse(r.start), Math.min(Date.parse(r.end), ms));
}
tl.addEventListener('pointerdown', (e) => {
  if (e.button !== 0) return;
  const x = xIn(e);
  if (e.pointerType !== 'touch' && onPlayhead(x)) {
    drag = { x, scrub: true };
    tl.classList.add('scrubbing');
    player.beginScrub(false);
  } else {
    drag = { x, moved: false };
  }
  tl.setPointerCapture(e.pointerId);
});
tl.addEventListener('pointermove', (e) => {
  const x = xIn(e);
  const ms = msOf(x);
  if (drag && drag.scrub) {
    const t = inCurrent(ms);
    player.scrubTo(t);
    drawCursor(t, false);
    showHover(e, t, true);
    return;
  }
  showHover(e, ms);
  tl.classList.toggle('on-playhead', !drag && onPlayhead(x));
  if (drag && Math.abs(x - drag.x) > 6 && e.pointerType === 'mouse') {
    drag.moved = true;
    setRange(msOf(drag.x), ms);
  }
});
tl.addEventListener('pointerup', (e) => {
  if (!drag) return;
  const { moved, scrub } = drag;
  drag = null;
  hover.hidden = true;
  if (scrub) {
    tl.classList.remove('scrubbing');
    player.endScrub();
  } else if (!moved) {
    playAt(msOf(xIn(e)));
  }
});
tl.addEventListener('pointercancel', () => {
  if (drag && drag.scrub) {
    tl.classList.remove('scrubbing');
    player.endScrub();
  }
  drag = null;
});
tl.addEventListener('pointerleave', () => { hover.hidden = true; });
tl.addEventListener('wheel', (e) => {
  if (!e.ctrlKey) return;
  e.preventDefault();
  zoom(e.deltaY < 0 ? 1 : -1, msOf(xIn(e)));
}, { passive: false });
let keyMs = null;
tlScroll.addEventListener('keydown', (e) => {
  const step = DAY_MS / state.zoom / 20;
  if (keyMs === null) keyMs = player.wallClock() ?? t0() + DAY_MS / 2;
  if (e.key === 'ArrowRight') keyMs += step;
  else if (e.key === 'ArrowLeft') keyMs -= step;
  else if (e.key === '+' || e.key === '=') { zoom(1, keyMs); return; }
  else if (e.key === '-') { zoom(-1, keyMs); return; }
  else if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); playAt(keyMs); return; }
  else return;
  e.preventDefault();
  keyMs = Math.max(t0(), Math.min(t0() + DAY_MS - 1, keyMs));
  drawCursor(keyMs, false);
  tlScroll.setAttribute('aria-valuetext', fmtClock(keyMs));
  status.textContent = `Timeline at ${fmtClock(keyMs)}; Enter plays from there.`;
});

// The hover card: the time, and the thumbnail of the nearest event (within
// a few pixels) or of the recording under the pointer; only the time while
// scrubbing (@timeOnly: the player shows the picture).
function showHover(e, ms, timeOnly = false) {
  const px = DAY_MS / tl.clientWidth; // ms per pixel
  let img = null, what = '';
  let best = null;
  for (const ev of timeOnly ? [] : state.events) {
    const d = Math.abs(Date.parse(ev.start) - ms);
    if (d < 8 * px && (!best || d < best.d)) best = { d, ev };
  }
  if (best) {
    img = best.ev.thumbnail;
    what = `${best.ev.type}${best.ev.label ? ' · ' + best.ev.label : ''}`;
  } else {
    const r = timeOnly ? null : state.recordings.find((x) => Date.parse(x.start) <= ms && ms <= Date.parse(x.end));
    if (r) { img = r.thumbnail; what = r.reason; }
  }
  clear(hover, img ? el('img', { src: img, alt: '' }) : null,
    el('div', { class: 'mono' }, fmtClock(ms)), what ? el('div', { class: 'muted' }, what) : null);
  const wrapLeft = tlWrap.getBoundingClientRect().left;
  hover.style.left = `${Math.max(85, Math.min(tlWrap.clientWidth - 85, e.clientX - wrapLeft))}px`;
  hover.hidden = false;
}

// --- data ---
async function reload(autoplay = true) {
  if (!state.camera) return;
  const from = new Date(t0()).toISOString(), to = new Date(t0() + DAY_MS).toISOString();
  const q = `camera=${encodeURIComponent(state.camera)}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  try {
    const [recs, evs] = await Promise.all([
      api('GET', `/recordings?${q}&limit=1000`),
      api('GET', `/events?${q}&limit=1000`),
    ]);
    state.recordings = recs;
    state.events = evs.filter((e) => e.type !== 'alarm' || e.camera);
  } catch (e) {
    showError(e);
    state.recordings = [];
    state.events = [];
  }
  player.setEvents(state.events);
  render();
  if (autoplay && Number.isFinite(startAt) && !state.started) {
    state.started = true;
    await playAt(startAt);
    zoom(0, startAt);
  } else if (autoplay && !state.started && !state.current && state.recordings.length) {
    // Opened without a time: the day's newest recording, as NVRs do, rather
    // than an empty player.
    state.started = true;
    const newest = state.recordings.reduce((a, b) => (Date.parse(b.start) > Date.parse(a.start) ? b : a));
    play(newest, null);
  }
}

// New recordings and events of this camera appear as they happen.
sse('/events/stream', (type, data) => {
  if (type === 'event' && data && data.camera === state.camera) {
    const i = state.events.findIndex((e) => e.id === data.id);
    if (i >= 0) state.events[i] = data; else state.events.push(data);
    player.setEvents(state.events);
    render();
  }
});

// After a resize the playhead may be out of view: bring it back.
window.addEventListener('resize', () => {
  const t = player.wallClock();
  if (t !== null && !player.video.paused) drawCursor(t);
});

zoom(0);
await reload();
