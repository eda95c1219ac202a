// /cameras/{id}: one camera. Live view with the latency overlay, snapshot,
// manual recording, status (codec, size, fps, bitrate, keyframe interval with
// a warning outside 0.5–2 s, viewers, reconnects, error; with a sub stream
// its own state and numbers, and which stream the analysis reads) and recent
// events. Controls the user has no right to are not shown. The player shows
// the main stream (the sub stream on a phone). A camera with PTZ gets the PTZ
// pad (ptz-pad.js) for users with control.
import { api, el, clear, startPage, can, fmtTime, fmtDuration, toast, pathParam, showError } from '../ui.js';
import { LivePlayer, streamFor } from '../live-player.js';
import { ptzPad } from '../ptz-pad.js';

const user = await startPage({ title: 'Camera', active: 'cameras' });
const main = document.getElementById('main');
const id = pathParam(1);
const enc = encodeURIComponent(id);

let cam;
try {
  cam = await api('GET', `/cameras/${enc}`);
} catch (e) {
  clear(main, el('div', { class: 'page-head' }, el('h1', null, 'Camera')),
    el('div', { class: 'alert alert-error', role: 'alert' },
      e.status === 404 ? `There is no camera "${id}" (or you may not see it).` : e.message),
    el('a', { class: 'btn', href: '/' }, '← All cameras'));
  await new Promise(() => {});   // nothing more to show
}
document.title = `${cam.name} · vigil`;

const mayView = can(user, id, 'view');
const mayPlay = can(user, id, 'playback');
const mayControl = can(user, id, 'control');

const stateBadge = el('span', { class: 'badge', id: 'state' });
const recBadge = el('span', { class: 'badge badge-danger', hidden: true }, el('span', { class: 'rec-dot' }), ' REC');
const recButton = mayControl
  ? el('button', { class: 'btn btn-rec', type: 'button', id: 'record', onclick: toggleRecord }, 'Record')
  : null;
const snapshot = mayView
  ? el('a', { class: 'btn', id: 'snapshot', href: `/api/v1/cameras/${enc}/snapshot.jpg`,
      target: '_blank', rel: 'noopener', download: `${id}-snapshot.jpg` }, 'Snapshot')
  : null;
const status = el('dl', { class: 'kv', id: 'status' });
const subStatus = el('dl', { class: 'kv', id: 'sub-status' });
const subSection = el('div', { id: 'sub-section', hidden: true },
  el('h3', { id: 'sub-h' }, 'Sub stream'), subStatus);
const kfWarn = el('div', { class: 'alert alert-warn', id: 'kf-warning', hidden: true });
const errorBox = el('div', { class: 'alert alert-error', id: 'cam-error', hidden: true });
const events = el('div', { id: 'events' });
const playerBox = el('div', { class: 'vigil-player' });

clear(main,
  el('div', { class: 'page-head' },
    el('h1', null, cam.name), stateBadge, recBadge),
  el('div', { class: 'toolbar', style: { marginBottom: '.75rem' } },
    el('a', { class: 'btn', href: '/' }, '← Cameras'),
    snapshot, recButton,
    mayView ? el('a', { class: 'btn', href: `/live/${enc}` }, 'Full window') : null,
    mayPlay ? el('a', { class: 'btn', href: `/recordings?camera=${enc}` }, 'Recordings') : null,
    mayPlay ? el('a', { class: 'btn', href: `/events?camera=${enc}` }, 'Events') : null,
    mayControl ? el('a', { class: 'btn', href: `/cameras/${enc}/edit`, id: 'edit' }, 'Edit') : null),
  errorBox,
  el('div', { class: 'grid grid-2 camera-layout' },
    el('section', { 'aria-label': 'Live view' },
      el('div', { class: 'player-box' }, playerBox)),
    el('div', { class: 'grid', id: 'camera-side' },
      el('section', { class: 'card', 'aria-labelledby': 'status-h' },
        el('h2', { id: 'status-h' }, 'Status'), kfWarn, status, subSection),
      mayPlay ? el('section', { class: 'card', 'aria-labelledby': 'events-h' },
        el('h2', { id: 'events-h' }, 'Recent events'), events) : null)));

let player = null;
if (mayView && cam.enabled !== false) {
  player = new LivePlayer(playerBox, { cameraId: id, stats: true, stream: streamFor(cam, true) });
  player.start();
  window.vigilPlayer = player;   // tests and debugging
} else {
  playerBox.append(el('div', { class: 'message' },
    cam.enabled === false ? 'This camera is disabled.' : 'You may not view this camera live.'));
}

function row(label, value, idName) {
  return [el('dt', null, label), el('dd', idName ? { id: idName } : null, value)];
}

const mbps = (kbps) => (kbps ? `${(kbps / 1000).toFixed(2)} Mbit/s` : '—');
const kfText = (kf) => (kf ? [`${Number(kf).toFixed(2)} s `, kf < 0.5 || kf > 2
  ? el('span', { class: 'badge badge-warn' }, 'outside 0.5–2 s') : null] : '—');

// status.sub: null without a sub stream (docs/streams.md).
function renderSub(c) {
  const sub = c.status?.sub;
  subSection.hidden = !sub;
  if (!sub) return;
  const state = sub.state || 'unknown';
  clear(subStatus,
    row('State', el('span', { class: `badge state-${state}` }, state), 'st-sub-state'),
    row('Codec', sub.codec ? sub.codec.toUpperCase() : '—', 'st-sub-codec'),
    row('Resolution', sub.width ? `${sub.width}×${sub.height}` : '—', 'st-sub-size'),
    row('Frame rate', sub.fps ? `${Number(sub.fps).toFixed(1)} fps` : '—'),
    row('Bitrate', mbps(sub.bitrate_kbps)),
    row('Keyframe interval', kfText(sub.keyframe_interval_s), 'st-sub-kf'),
    row('Viewers', String(sub.viewers ?? 0)),
    row('Analysis reads', c.status.analysis_stream === 'sub' ? 'the sub stream'
      : c.status.analysis_stream === 'main' ? 'the main stream' : '—', 'st-analysis'),
    sub.error ? row('Error', el('span', { class: 'field-error' }, sub.error), 'st-sub-error') : null,
    row('Source', (c.sub_source || '').replace(/\/\/[^@/]*@/, '//***@')));
}

function renderStatus(c) {
  cam = c;
  const st = c.status || {};
  const state = c.enabled === false ? 'disabled' : st.state || 'unknown';
  stateBadge.className = `badge state-${state}`;
  stateBadge.textContent = state;
  recBadge.hidden = !st.recording;
  if (recButton) {
    recButton.textContent = st.recording ? 'Stop recording' : 'Record';
    recButton.classList.toggle('on', !!st.recording);
    recButton.setAttribute('aria-pressed', String(!!st.recording));
    recButton.disabled = state !== 'streaming' && !st.recording;
    recButton.title = c.record === 'off' ? 'Records even though the record mode is "off"' : '';
  }
  const kf = st.keyframe_interval_s;
  const kfBad = kf && (kf < 0.5 || kf > 2);
  clear(status,
    row('Codec', st.codec ? st.codec.toUpperCase() : '—', 'st-codec'),
    row('Resolution', st.width ? `${st.width}×${st.height}` : '—', 'st-size'),
    row('Frame rate', st.fps ? `${Number(st.fps).toFixed(1)} fps` : '—'),
    row('Bitrate', mbps(st.bitrate_kbps)),
    row('Keyframe interval', kfText(kf), 'st-kf'),
    row('Viewers', String(st.viewers ?? 0)),
    row('Reconnects', String(st.reconnects ?? 0)),
    row('Recording', st.recording ? 'yes' : `no (mode: ${c.record})`),
    row('Motion level', typeof st.motion_level === 'number'
      ? `${st.motion_level.toFixed(3)} (threshold ${c.motion?.threshold ?? '—'})` : '—'),
    st.onvif_events ? row('ONVIF events', st.onvif_events, 'st-onvif-events') : null,
    row('Since', st.since ? fmtTime(st.since) : '—'),
    row('Source', c.source.replace(/\/\/[^@/]*@/, '//***@')));
  // No picture to take while the camera does not stream (503).
  if (snapshot) snapshot.hidden = state !== 'streaming';
  kfWarn.hidden = !kfBad;
  if (kfBad) {
    clear(kfWarn, `The camera sends a keyframe every ${Number(kf).toFixed(1)} s. ` +
      'Between 0.5 and 2 s is advised: ' +
      (kf > 2 ? 'live view starts late and motion is checked rarely.' : 'the bitrate is wasted on keyframes.') +
      ' Change the "GOP" or "I-frame interval" in the camera\'s own settings.');
  }
  renderSub(c);
  errorBox.hidden = !st.error;
  if (st.error) clear(errorBox, `Camera error: ${st.error}`);
}

async function refresh() {
  try { renderStatus(await api('GET', `/cameras/${enc}`)); } catch (e) { if (e.status !== 401) console.warn(e.message); }
}

async function toggleRecord() {
  const on = !!cam.status?.recording;
  recButton.disabled = true;
  try {
    await api('POST', `/cameras/${enc}/recording`, { action: on ? 'stop' : 'start' });
    toast(on ? 'Recording stopped' : 'Recording started', 'ok');
  } catch (e) {
    showError(e);
  }
  await refresh();
}

async function loadEvents() {
  if (!mayPlay) return;
  try {
    const list = await api('GET', `/events?camera=${enc}&limit=10`);
    if (!list.length) { clear(events, el('p', { class: 'muted' }, 'No events yet.')); return; }
    clear(events, el('div', { class: 'table-wrap' }, el('table', { class: 'table' },
      el('thead', null, el('tr', null, el('th', null, 'When'), el('th', null, 'What'), el('th', null, 'Length'))),
      el('tbody', null, list.map((ev) => el('tr', null,
        el('td', null, fmtTime(ev.start, true)),
        el('td', null, el('span', { class: `badge ev-${ev.type}` }, ev.type), ' ',
          ev.label || (ev.data && ev.data.text) || ''),
        el('td', null, ev.end ? fmtDuration((new Date(ev.end) - new Date(ev.start)) / 1000) : 'ongoing')))))));
  } catch (e) {
    clear(events, el('p', { class: 'muted' }, e.message));
  }
}

renderStatus(cam);
loadEvents();
if (mayControl && cam.onvif) {
  ptzPad(id, playerBox.parentElement).then((pad) => {
    if (pad) document.getElementById('camera-side').prepend(pad);
  });
}
setInterval(() => { if (document.visibilityState === 'visible') refresh(); }, 2000);
setInterval(() => { if (document.visibilityState === 'visible') loadEvents(); }, 10000);
