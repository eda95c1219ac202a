// /cameras/new and /cameras/{id}/edit: the camera form. Source with a "Test"
// button (POST /api/v1/cameras/probe: codec, size, keyframe interval or a
// clear error, before saving; with a sub source both streams, side by side),
// credentials (the passwords are write-only: the form shows "password set"),
// the sub stream (docs/streams.md: its URL and credentials, which stream is
// recorded and read for barcodes), "Find cameras" for admins adding one
// (onvif-find.js: WS-Discovery, then the picked device's streams), recording, motion with a live motion-level
// meter and zones drawn on the snapshot with mouse or finger (pointer
// events), detection, barcodes, delete. The API's validation errors
// ('field "motion.zones[0].x" must ...') are shown next to their field.
import { api, el, clear, startPage, can, isAdmin, toast, pathParam, confirmDialog, showError } from '../ui.js';
import { CAMERA_CHOICES, CAMERA_DEFAULTS, CAMERA_RANGES, CAMERA_TEXT_MAX } from '../camera-fields.js';
import { onvifFinder } from '../onvif-find.js';

const user = await startPage({ title: 'Camera settings', active: 'cameras' });
const main = document.getElementById('main');
const editId = location.pathname.startsWith('/cameras/new') ? null : pathParam(1);
const enc = editId ? encodeURIComponent(editId) : null;

let cam = null;
if (editId) {
  try {
    cam = await api('GET', `/cameras/${enc}`);
  } catch (e) {
    clear(main, el('h1', null, 'Camera settings'), el('div', { class: 'alert alert-error', role: 'alert' },
      e.status === 404 ? `There is no camera "${editId}".` : e.message));
    await new Promise(() => {});
  }
}
const allowed = editId ? can(user, editId, 'control') : can(user, '*', 'control');
if (!allowed) {
  clear(main, el('h1', null, 'Camera settings'), el('div', { class: 'alert alert-error', role: 'alert' },
    editId ? 'Changing this camera needs the control right on it.'
           : 'Adding cameras needs the control right on all cameras.'));
  await new Promise(() => {});
}
document.title = `${cam ? cam.name : 'New camera'} · settings · vigil`;

const c = cam || structuredClone(CAMERA_DEFAULTS);
const zones = (c.motion?.zones || []).map((z) => ({ ...z }));

// --- field helpers ---
let uid = 0;
// A labelled field; @input gets an id and data-field (the API's field name).
function field(label, input, { hint, fieldName, cls } = {}) {
  input.id = input.id || `f-${++uid}`;
  if (fieldName) input.dataset.field = fieldName;
  const err = el('div', { class: 'error', id: `${input.id}-err`, hidden: true });
  const hintEl = hint ? el('div', { class: 'hint', id: `${input.id}-hint` }, hint) : null;
  input.setAttribute('aria-describedby', [hintEl && hintEl.id, err.id].filter(Boolean).join(' '));
  return el('div', { class: ['field', cls] }, el('label', { for: input.id }, label), input, hintEl, err);
}
function check(label, input, fieldName) {
  input.id = input.id || `f-${++uid}`;
  if (fieldName) input.dataset.field = fieldName;
  return el('div', { class: 'field' }, el('label', { class: 'check', for: input.id }, input, label),
    el('div', { class: 'error', id: `${input.id}-err`, hidden: true }));
}
const num = (value, attrs = {}) => el('input', { type: 'number', value: String(value ?? ''), inputmode: 'decimal', ...attrs });
const text = (value, attrs = {}) => el('input', { type: 'text', value: value ?? '', ...attrs });
function select(value, options) {
  return el('select', null, options.map(([v, label]) => el('option', { value: v, selected: v === value }, label)));
}

// --- inputs ---
const fName = text(c.name, { required: true, maxlength: CAMERA_TEXT_MAX.name, autocomplete: 'off' });
const fId = editId ? null : text('', { pattern: '[a-z0-9-]{1,32}', placeholder: 'from the name', autocomplete: 'off', spellcheck: 'false' });
const fEnabled = el('input', { type: 'checkbox', checked: c.enabled !== false });
const fSource = text(c.source, { required: true, placeholder: 'rtsp://192.0.2.10:554/stream1', spellcheck: 'false',
  autocomplete: 'off', inputmode: 'url' });
const fTransport = select(c.rtsp_transport || 'tcp', CAMERA_CHOICES.rtsp_transport);
const fUser = text(c.username || '', { autocomplete: 'off', spellcheck: 'false' });
const fPass = el('input', { type: 'password', autocomplete: 'new-password',
  placeholder: c.password_set ? 'password set (leave empty to keep it)' : 'none' });
const fClearPass = el('input', { type: 'checkbox' });
const testBtn = el('button', { class: 'btn', type: 'button', id: 'test-source', onclick: testSource }, 'Test');
const testOut = el('div', { id: 'probe-result', role: 'status', 'aria-live': 'polite' });

// ONVIF (docs/onvif.md): the device service address, for PTZ; the camera's
// user name and password log in. A new camera may leave the source empty.
const fOnvif = text(c.onvif?.address || '', { placeholder: 'http://192.0.2.10/onvif/device_service or 192.0.2.10',
  spellcheck: 'false', autocomplete: 'off', inputmode: 'url' });
// The camera's own motion detection over ONVIF events (docs/onvif.md#events).
const fOnvifMotion = el('input', { type: 'checkbox', checked: !!c.onvif?.motion_events });
const fSubSource = text(c.sub_source || '', { placeholder: 'rtsp://192.0.2.10:554/stream2', spellcheck: 'false',
  autocomplete: 'off', inputmode: 'url' });
const fSubUser = text(c.sub_username || '', { autocomplete: 'off', spellcheck: 'false',
  placeholder: 'the main stream\'s' });
const fSubPass = el('input', { type: 'password', autocomplete: 'new-password',
  placeholder: c.sub_password_set ? 'password set (leave empty to keep it)' : 'the main stream\'s' });
const fClearSubPass = el('input', { type: 'checkbox' });
const fRecordStream = select(c.record_stream || 'main', CAMERA_CHOICES.record_stream);
const fBarcodeStream = select(c.barcode_stream || 'main', CAMERA_CHOICES.barcode_stream);
const fBarcodeInterval = num(c.barcode_interval_s ?? CAMERA_DEFAULTS.barcode_interval_s,
  CAMERA_RANGES.barcode_interval_s);
// The choices only mean something with a sub stream (and barcodes on).
function syncSubFields() {
  const sub = !!fSubSource.value.trim();
  fRecordStream.disabled = !sub;
  fBarcodeStream.disabled = !sub || !fBarcodes.checked;
  fBarcodeInterval.disabled = fBarcodeStream.disabled || fBarcodeStream.value !== 'main';
}

const fRecord = select(c.record, CAMERA_CHOICES.record);
const fPre = num(c.pre_roll_s, CAMERA_RANGES.pre_roll_s);
const fPost = num(c.post_roll_s, CAMERA_RANGES.post_roll_s);
const fRetain = num(c.retain_days, CAMERA_RANGES.retain_days);

const fMotion = el('input', { type: 'checkbox', checked: !!c.motion?.enabled });
const threshold = c.motion?.threshold ?? CAMERA_DEFAULTS.motion.threshold;
const fThreshold = num(threshold, CAMERA_RANGES['motion.threshold']);
// The slider covers the useful half of the range; the number takes all of it.
const fThresholdRange = el('input', { type: 'range', min: 0, max: 0.5, step: 0.005, value: String(threshold),
  'aria-label': 'Motion threshold slider' });
fThreshold.addEventListener('input', () => { fThresholdRange.value = fThreshold.value; drawMeter(); });
fThresholdRange.addEventListener('input', () => { fThreshold.value = fThresholdRange.value; drawMeter(); });
const meterFill = el('div', { class: 'meter-fill' });
const meterMark = el('div', { class: 'meter-mark' });
const meter = el('div', { class: 'meter', id: 'motion-meter', role: 'meter', 'aria-label': 'Motion level',
  'aria-valuemin': '0', 'aria-valuemax': '1' }, meterFill, meterMark);
const meterText = el('span', { class: 'small muted', id: 'motion-level' }, editId ? '…' : 'after saving');

const fDetect = el('input', { type: 'checkbox', checked: !!c.detect?.enabled });
const fClasses = text((c.detect?.classes || []).join(', '), { spellcheck: 'false' });
const fMinScore = num(c.detect?.min_score ?? CAMERA_DEFAULTS.detect.min_score, CAMERA_RANGES['detect.min_score']);
const fInterval = num(c.detect?.interval_s ?? CAMERA_DEFAULTS.detect.interval_s, CAMERA_RANGES['detect.interval_s']);
const fRecordOn = text((c.detect?.record_on || []).join(', '), { spellcheck: 'false', placeholder: 'e.g. person' });
const fMainCrop = el('input', { type: 'checkbox', checked: !!c.detect?.main_crop });
const fBarcodes = el('input', { type: 'checkbox', checked: !!c.barcodes });
for (const [input, ev] of [[fSubSource, 'input'], [fBarcodes, 'change'], [fBarcodeStream, 'change']]) {
  input.addEventListener(ev, syncSubFields);
}

const formError = el('div', { class: 'alert alert-error', id: 'form-error', role: 'alert', hidden: true });
const saveBtn = el('button', { class: 'btn btn-primary', type: 'submit', id: 'save' }, editId ? 'Save' : 'Add camera');

// --- zones editor ---
const snapImg = el('img', { class: 'zone-picture', alt: editId ? `Snapshot of ${c.name}` : '', draggable: 'false' });
const zoneLayer = el('div', { class: 'zone-layer', id: 'zone-layer', 'aria-hidden': 'true' });
const zoneCanvas = el('div', { class: 'zone-editor', id: 'zone-editor' }, snapImg, zoneLayer);
const zoneList = el('div', { id: 'zone-list', 'data-field': 'motion.zones' });
const zoneErr = el('div', { class: 'error', id: 'zones-err', hidden: true });

// The picture refreshes every 3 s (a preview of the camera's view); the next
// one loads off-screen and replaces the shown one only once complete.
// The requests the page repeats (snapshot, level): stopped, and waited for,
// before the camera is deleted, so that none asks for it once it is gone.
let stopped = false;
let snapBusy = null;
let pollBusy = null;
const timers = [];

function loadSnapshot() {
  if (stopped) return;
  if (!editId || c.status?.state !== 'streaming') {
    if (!snapImg.src) zoneCanvas.classList.add('no-picture');
    return;
  }
  const next = new Image();
  snapBusy = new Promise((resolve) => {
    next.onload = () => {
      snapImg.src = next.src;
      zoneCanvas.classList.remove('no-picture');
      // Zones are fractions of the camera's frame: the box takes its shape.
      if (next.naturalWidth) zoneCanvas.style.aspectRatio = `${next.naturalWidth} / ${next.naturalHeight}`;
      resolve();
    };
    next.onerror = () => { if (!snapImg.src) zoneCanvas.classList.add('no-picture'); resolve(); };
  });
  next.src = `/api/v1/cameras/${enc}/snapshot.jpg?t=${Date.now()}`;
}

async function stopRepeating() {
  stopped = true;
  timers.splice(0).forEach(clearInterval);
  await Promise.all([snapBusy, pollBusy]);
}

const clamp = (v, lo = 0, hi = 1) => Math.min(hi, Math.max(lo, v));
const round3 = (v) => Math.round(v * 1000) / 1000;

function renderZones() {
  clear(zoneLayer, zones.map((z, i) => el('div', { class: 'zone-rect', dataset: { zone: String(i) },
    style: { left: `${z.x * 100}%`, top: `${z.y * 100}%`, width: `${z.w * 100}%`, height: `${z.h * 100}%` } },
    el('span', { class: 'zone-label' }, z.name))));
  if (!zones.length) {
    clear(zoneList, el('p', { class: 'muted small' }, 'No zones: motion anywhere in the picture counts. Drag on the picture to draw one.'));
    return;
  }
  clear(zoneList, el('div', { class: 'table-wrap' }, el('table', { class: 'table zones-table' },
    el('thead', null, el('tr', null, ['Name', 'Threshold', 'x', 'y', 'w', 'h', ''].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', null, zones.map((z, i) => {
      const cell = (key) => {
        const input = key === 'name'
          ? text(z.name, { maxlength: CAMERA_TEXT_MAX['motion.zones[].name'], 'aria-label': `Zone ${i + 1} name` })
          : num(z[key], { ...CAMERA_RANGES[`motion.zones[].${key}`], 'aria-label': `Zone ${z.name} ${key}` });
        input.dataset.field = `motion.zones[${i}].${key}`;
        input.addEventListener('change', () => {
          z[key] = key === 'name' ? input.value : Number(input.value);
          renderZones();
        });
        return el('td', null, input);
      };
      return el('tr', null, cell('name'), cell('threshold'),
        cell('x'), cell('y'), cell('w'), cell('h'),
        el('td', null, el('button', { class: 'btn btn-small btn-danger', type: 'button',
          'aria-label': `Delete zone ${z.name}`, onclick: () => { zones.splice(i, 1); renderZones(); } }, 'Delete')));
    })))));
}

function nextZoneName() {
  let n = zones.length + 1;
  while (zones.some((z) => z.name === `zone ${n}`)) n++;
  return `zone ${n}`;
}

// Drawing: pointer events cover mouse, pen and touch alike.
let drawing = null;
zoneLayer.addEventListener('pointerdown', (ev) => {
  if (ev.button !== 0) return;
  const r = zoneLayer.getBoundingClientRect();
  const x = clamp((ev.clientX - r.left) / r.width), y = clamp((ev.clientY - r.top) / r.height);
  const rect = el('div', { class: 'zone-rect drawing' });
  zoneLayer.append(rect);
  drawing = { x0: x, y0: y, x, y, rect, r };
  zoneLayer.setPointerCapture(ev.pointerId);
  ev.preventDefault();
});
zoneLayer.addEventListener('pointermove', (ev) => {
  if (!drawing) return;
  const { r } = drawing;
  drawing.x = clamp((ev.clientX - r.left) / r.width);
  drawing.y = clamp((ev.clientY - r.top) / r.height);
  const x = Math.min(drawing.x0, drawing.x), y = Math.min(drawing.y0, drawing.y);
  Object.assign(drawing.rect.style, { left: `${x * 100}%`, top: `${y * 100}%`,
    width: `${Math.abs(drawing.x - drawing.x0) * 100}%`, height: `${Math.abs(drawing.y - drawing.y0) * 100}%` });
});
function endDraw() {
  if (!drawing) return;
  const d = drawing;
  drawing = null;
  d.rect.remove();
  const x = round3(Math.min(d.x0, d.x)), y = round3(Math.min(d.y0, d.y));
  const w = round3(Math.min(Math.abs(d.x - d.x0), 1 - x)), h = round3(Math.min(Math.abs(d.y - d.y0), 1 - y));
  if (w < 0.02 || h < 0.02) return;   // a click, not a drag
  zones.push({ name: nextZoneName(), x, y, w, h, threshold: Number(fThreshold.value) || CAMERA_DEFAULTS.motion.threshold });
  renderZones();
}
zoneLayer.addEventListener('pointerup', endDraw);
zoneLayer.addEventListener('pointercancel', endDraw);

// Keyboard users add a zone with a button and adjust its numbers.
const addZoneBtn = el('button', { class: 'btn btn-small', type: 'button', id: 'add-zone', onclick: () => {
  zones.push({ name: nextZoneName(), x: 0.25, y: 0.25, w: 0.5, h: 0.5, threshold: Number(fThreshold.value) || CAMERA_DEFAULTS.motion.threshold });
  renderZones();
} }, '+ Add zone');

// --- motion meter ---
let level = null;
function drawMeter() {
  const th = Number(fThreshold.value) || 0;
  const scale = Math.max(th * 2.5, level || 0, 0.01);
  meterMark.style.left = `${(th / scale) * 100}%`;
  meterFill.style.width = `${((level || 0) / scale) * 100}%`;
  meterFill.classList.toggle('over', level !== null && level > th);
  meter.setAttribute('aria-valuenow', String(level ?? 0));
  if (level !== null) meterText.textContent = `level ${level.toFixed(3)} · threshold ${th}${level > th ? ' · motion' : ''}`;
}
function pollLevel() {
  if (stopped || !editId || document.visibilityState !== 'visible') return;
  pollBusy = readLevel();
}
async function readLevel() {
  try {
    const now = await api('GET', `/cameras/${enc}`);
    c.status = now.status;
    level = typeof now.status?.motion_level === 'number' ? now.status.motion_level : null;
    if (level === null) meterText.textContent = now.status?.state === 'streaming' ? 'no level yet' : `camera ${now.status?.state}`;
    drawMeter();
  } catch { /* next time */ }
}

// --- Test (probe) ---
function probeBody() {
  const body = { source: fSource.value.trim(), rtsp_transport: fTransport.value };
  if (fUser.value.trim()) body.username = fUser.value.trim();
  else if (editId) body.username = null;
  if (fPass.value) body.password = fPass.value;
  else if (fClearPass.checked) body.password = null;
  if (editId) body.camera = editId;
  return body;
}
// The sub stream with the credentials it would use: its own as typed, else
// the main stream's as typed; what is not typed the server takes from the
// saved camera (its sub_* fields, then its main credentials).
function subProbeBody() {
  const body = { source: fSubSource.value.trim(), rtsp_transport: fTransport.value, stream: 'sub' };
  const u = fSubUser.value.trim() || fUser.value.trim();
  if (u) body.username = u;
  const ownPass = c.sub_password_set && !fClearSubPass.checked;
  if (fSubPass.value) body.password = fSubPass.value;
  else if (!ownPass && fPass.value) body.password = fPass.value;
  if (editId) body.camera = editId;
  return body;
}
// One probe's answer; @sub: ids and texts of the sub stream's.
function probeResult(p, sub) {
  const id = (name) => (sub ? `probe-sub-${name}` : `probe-${name}`);
  const kfBad = p.keyframe_interval_s && (p.keyframe_interval_s < 0.5 || p.keyframe_interval_s > 2);
  return el('div', { class: `alert ${kfBad ? 'alert-warn' : 'alert-ok'}`, id: id('ok') },
    el('strong', null, sub ? 'The sub stream works. ' : 'The source works. '),
    el('span', { id: id('codec') }, p.codec.toUpperCase()), ' · ',
    el('span', { id: id('size') }, `${p.width}×${p.height}`), ' · ',
    `${p.fps} fps · ${(p.bitrate_kbps / 1000).toFixed(2)} Mbit/s · keyframe every `,
    el('span', { id: id('kf') }, p.keyframe_interval_s ? `${p.keyframe_interval_s} s` : 'unknown (fewer than two keyframes in 8 s)'),
    p.has_audio ? ' · audio' : '',
    kfBad ? el('div', null, 'The keyframe interval is outside the advised 0.5–2 s: change it in the camera\'s own settings.') : null,
    p.codec === 'h265' ? el('div', { class: 'small' }, sub
      ? 'H.265: the grid and walls need a browser with HEVC decoding; most cameras can send H.264 on the sub stream.'
      : 'H.265: recording works everywhere; live view needs a browser with HEVC decoding (Safari, or hardware support).') : null);
}
function probeFailure(e, sub) {
  return el('div', { class: 'alert alert-error', id: sub ? 'probe-sub-error' : 'probe-error', role: 'alert' },
    el('strong', null, sub ? 'The sub stream does not work: ' : 'The source does not work: '), e.message);
}
// The sub stream's probe names the body's fields ("source"): the form's are sub_*.
const subFieldMessage = (m) => m.replace(/field "(source|username|password)"/, 'field "sub_$1"');

async function testSource() {
  clearErrors();
  testBtn.disabled = true;
  const withSub = !!fSubSource.value.trim();
  clear(testOut, el('p', { class: 'muted' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }),
    withSub ? ' Testing both streams (up to 8 s)…' : ' Testing the source (up to 8 s)…'));
  const [main, sub] = await Promise.allSettled([api('POST', '/cameras/probe', probeBody()),
    withSub ? api('POST', '/cameras/probe', subProbeBody()) : null]);
  if (main.status === 'rejected' && main.reason.status === 400) showFieldError(main.reason.message);
  else if (withSub && sub.status === 'rejected' && sub.reason.status === 400) showFieldError(subFieldMessage(sub.reason.message));
  const one = (r, isSub) => (r.status === 'fulfilled' ? probeResult(r.value, isSub) : probeFailure(r.reason, isSub));
  if (!withSub) clear(testOut, one(main, false));
  else {
    clear(testOut, el('div', { class: 'probe-pair' },
      el('section', { 'aria-label': 'Main stream' }, el('h3', null, 'Main stream'), one(main, false)),
      el('section', { 'aria-label': 'Sub stream' }, el('h3', null, 'Sub stream'), one(sub, true))));
  }
  testBtn.disabled = false;
}

// --- errors next to fields ---
function clearErrors() {
  formError.hidden = true;
  for (const e of main.querySelectorAll('.field .error, #zones-err')) { e.hidden = true; e.textContent = ''; }
  for (const i of main.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}
function showFieldError(message) {
  const m = /field "([^"]+)"/.exec(message);
  let name = m ? m[1] : null;
  while (name) {
    const input = main.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (input) {
      const err = name.startsWith('motion.zones') ? zoneErr : document.getElementById(`${input.id}-err`);
      if (input.matches('input, select')) input.setAttribute('aria-invalid', 'true');
      if (err) { err.textContent = message; err.hidden = false; }
      (input.matches('input, select') ? input : zoneLayer.closest('fieldset')).scrollIntoView?.({ block: 'center' });
      if (input.matches('input, select')) input.focus();
      return;
    }
    name = name.includes('[') || name.includes('.') ? name.replace(/(\.[^.[\]]+|\[\d+\])$/, '') : null;
  }
  clear(formError, message);
  formError.hidden = false;
  formError.scrollIntoView?.({ block: 'center' });
}

const list = (s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
function payload() {
  const body = {
    name: fName.value.trim(),
    enabled: fEnabled.checked,
    source: fSource.value.trim(),
    rtsp_transport: fTransport.value,
    record: fRecord.value,
    pre_roll_s: Number(fPre.value),
    post_roll_s: Number(fPost.value),
    retain_days: Number(fRetain.value),
    motion: { enabled: fMotion.checked, threshold: Number(fThreshold.value),
      zones: zones.map((z) => ({ name: z.name, x: z.x, y: z.y, w: z.w, h: z.h, threshold: z.threshold })) },
    detect: { enabled: fDetect.checked, classes: list(fClasses.value), min_score: Number(fMinScore.value),
      interval_s: Number(fInterval.value), record_on: list(fRecordOn.value), main_crop: fMainCrop.checked },
    barcodes: fBarcodes.checked,
  };
  if (fId && fId.value.trim()) body.id = fId.value.trim();
  const onvif = fOnvif.value.trim();
  body.onvif = onvif ? { ...(c.onvif || {}), address: onvif, motion_events: fOnvifMotion.checked } : null;
  // The finder's profiles, while its device is the one named.
  if (body.onvif && onvifProfiles && onvifProfiles.address === onvif) {
    body.onvif.profile = onvifProfiles.profile;
    body.onvif.sub_profile = onvifProfiles.sub_profile;
  }
  if (!editId && onvif && !body.source) delete body.source;
  const u = fUser.value.trim();
  if (u) body.username = u;
  else if (editId && c.username) body.username = null;
  if (fPass.value) body.password = fPass.value;
  else if (fClearPass.checked) body.password = null;
  const sub = fSubSource.value.trim();
  body.sub_source = sub || null;
  body.sub_username = fSubUser.value.trim() || null;
  if (fSubPass.value) body.sub_password = fSubPass.value;
  else if (fClearSubPass.checked) body.sub_password = null;
  body.record_stream = fRecordStream.value;
  body.barcode_stream = fBarcodeStream.value;
  body.barcode_interval_s = Number(fBarcodeInterval.value);
  return body;
}

async function onSubmit(ev) {
  ev.preventDefault();
  clearErrors();
  saveBtn.disabled = true;
  try {
    const saved = editId
      ? await api('PATCH', `/cameras/${enc}`, payload())
      : await api('POST', '/cameras', payload());
    toast(editId ? 'Saved' : 'Camera added', 'ok');
    location.assign(`/cameras/${encodeURIComponent(saved.id)}`);
  } catch (e) {
    if (e.status === 400 || e.status === 409) showFieldError(e.status === 409 ? `field "id": ${e.message}` : e.message);
    else showError(e, formError);
    saveBtn.disabled = false;
  }
}

async function onDelete() {
  if (!await confirmDialog(`Delete camera "${c.name}"? Its live view stops; recordings stay until retention removes them.`,
    { ok: 'Delete', danger: true })) return;
  await stopRepeating();
  try {
    await api('DELETE', `/cameras/${enc}`);
    toast('Camera deleted', 'ok');
    location.assign('/');
  } catch (e) {
    showError(e, formError);
    stopped = false;
    startRepeating();
  }
}

// ONVIF discovery and probe (admins, new cameras): the device's streams, its
// address (PTZ, events) with the profiles picked, and the credentials given
// for it fill the form; nothing is saved yet.
let onvifProfiles = null; // { address, profile, sub_profile } from the finder
function fillFromOnvif(answer, creds, address) {
  if (!fName.value.trim()) fName.value = [answer.manufacturer, answer.model].filter(Boolean).join(' ');
  fSource.value = answer.source;
  fSubSource.value = answer.sub_source || '';
  fUser.value = creds.username || '';
  fPass.value = creds.password || '';
  fOnvif.value = address;
  onvifProfiles = { address, profile: answer.profile || null, sub_profile: answer.sub_profile || null };
  syncSubFields();
}
const finder = !editId && isAdmin(user) ? onvifFinder(fillFromOnvif) : null;

// --- layout ---
clear(main,
  el('div', { class: 'page-head' },
    el('h1', null, editId ? `Settings: ${c.name}` : 'Add camera'),
    editId ? el('a', { class: 'btn', href: `/cameras/${enc}` }, '← Camera') : el('a', { class: 'btn', href: '/' }, '← Cameras')),
  finder,
  el('form', { id: 'camera-form', class: 'camera-form', onsubmit: onSubmit, novalidate: true },
    el('div', { class: 'grid grid-2' },
      el('div', null,
        el('fieldset', null, el('legend', null, 'Camera'),
          field('Name', fName, { fieldName: 'name' }),
          fId ? field('Id (in URLs; cannot change later)', fId, { fieldName: 'id', hint: 'a-z, 0-9 and -, up to 32 characters' }) : null,
          check('Enabled', fEnabled, 'enabled')),
        el('fieldset', null, el('legend', null, 'Source'),
          field('Source URL', fSource, { fieldName: 'source',
            hint: 'rtsp://, rtsps://, srt://, http(s)://….m3u8, file:///…, v4l2:///dev/video0 or test://' }),
          el('div', { class: 'row row-3' },
            field('RTSP transport', fTransport, { fieldName: 'rtsp_transport' }),
            field('User name', fUser, { fieldName: 'username' }),
            field('Password', fPass, { fieldName: 'password',
              hint: c.password_set ? 'A password is set.' : null })),
          c.password_set ? check('Remove the stored password', fClearPass) : null,
          field('ONVIF address', fOnvif, { fieldName: 'onvif.address',
            hint: 'Optional, for pan/tilt/zoom. Same user name and password. Adding a camera, the source may then stay empty: the device tells it.' }),
          check('Motion from the camera (ONVIF events); switch off Motion below to decode nothing', fOnvifMotion,
            'onvif.motion_events'),
          el('div', { class: 'toolbar' }, testBtn, el('span', { class: 'small muted' },
            'Opens the source (and the sub stream, when given) for a few seconds; nothing is saved.')),
          testOut),
        el('fieldset', { id: 'sub-stream' }, el('legend', null, 'Sub stream'),
          el('p', { class: 'small muted' }, 'Optional: the camera\'s second, smaller encoding of the same picture ' +
            '(about 640×360). It feeds the grid, walls, phones and motion analysis; the main stream is recorded ' +
            'and shown on the camera page.'),
          field('Sub stream URL', fSubSource, { fieldName: 'sub_source',
            hint: 'empty: no sub stream. The same kinds of URL as the source; Test checks it too.' }),
          el('div', { class: 'row row-2' },
            field('Sub stream user name', fSubUser, { fieldName: 'sub_username',
              hint: 'Empty: the main stream\'s user name.' }),
            field('Sub stream password', fSubPass, { fieldName: 'sub_password',
              hint: c.sub_password_set ? 'A password of its own is set.' : 'Empty: the main stream\'s password.' })),
          c.sub_password_set ? check('Remove the sub stream\'s password (it then uses the main stream\'s)', fClearSubPass) : null,
          field('Recorded stream', fRecordStream, { fieldName: 'record_stream',
            hint: 'Main: full quality. Sub: small files, little detail. Both: the main stream plus the sub stream beside it.' }),
          el('div', { class: 'row row-2' },
            field('Read barcodes from', fBarcodeStream, { fieldName: 'barcode_stream',
              hint: 'Small codes need the main stream\'s detail. Needs barcodes on.' }),
            field('Barcode interval (s)', fBarcodeInterval, { fieldName: 'barcode_interval_s',
              hint: 'From the main stream: at most one picture decoded per this many seconds.' }))),
        el('fieldset', null, el('legend', null, 'Recording'),
          field('Record', fRecord, { fieldName: 'record', hint: 'On events: motion, objects, barcodes or a manual start begin a recording.' }),
          el('div', { class: 'row row-3' },
            field('Pre-roll (s)', fPre, { fieldName: 'pre_roll_s' }),
            field('Post-roll (s)', fPost, { fieldName: 'post_roll_s' }),
            field('Keep (days)', fRetain, { fieldName: 'retain_days' }))),
        el('fieldset', null, el('legend', null, 'Objects and codes'),
          check('Object detection', fDetect, 'detect.enabled'),
          field('Classes', fClasses, { fieldName: 'detect.classes', hint: 'comma-separated COCO names: person, car, dog…' }),
          el('div', { class: 'row row-2' },
            field('Minimum score', fMinScore, { fieldName: 'detect.min_score' }),
            field('Interval while idle (s)', fInterval, { fieldName: 'detect.interval_s' })),
          field('Record only on', fRecordOn, { fieldName: 'detect.record_on',
            hint: 'classes that must be seen for motion to start a recording; empty = any motion' }),
          check('Look closer at motion on the main stream (small, distant objects; needs a sub stream)',
            fMainCrop, 'detect.main_crop'),
          check('Read QR codes and barcodes', fBarcodes, 'barcodes'))),
      el('div', null,
        el('fieldset', null, el('legend', null, 'Motion'),
          check('Motion detection', fMotion, 'motion.enabled'),
          el('div', { class: 'row row-2' },
            field('Threshold', fThreshold, { fieldName: 'motion.threshold', hint: '0.08 separates a person walking from noise' }),
            el('div', { class: 'field' }, el('span', { class: 'label', 'aria-hidden': 'true' }, '\u00a0'), fThresholdRange)),
          el('div', { class: 'field' }, el('span', { class: 'label' }, 'Live motion level'), meter, meterText),
          el('h3', null, 'Zones'),
          el('p', { class: 'small muted' }, 'Drag on the picture (mouse or finger) to draw a zone. Each zone has its own threshold.'),
          zoneCanvas, zoneErr,
          el('div', { class: 'toolbar', style: { margin: '.5rem 0' } }, addZoneBtn,
            editId ? el('button', { class: 'btn btn-small', type: 'button', onclick: loadSnapshot }, 'Refresh picture') : null),
          zoneList))),
    formError,
    el('div', { class: 'toolbar form-actions' }, saveBtn,
      el('a', { class: 'btn', href: editId ? `/cameras/${enc}` : '/' }, 'Cancel'),
      editId ? el('button', { class: 'btn btn-danger', type: 'button', id: 'delete', onclick: onDelete,
        style: { marginLeft: 'auto' } }, 'Delete camera') : null)));

renderZones();
syncSubFields();
loadSnapshot();
drawMeter();
function startRepeating() {
  timers.push(setInterval(pollLevel, 500));
  timers.push(setInterval(() => { if (document.visibilityState === 'visible' && !drawing) loadSnapshot(); }, 3000));
}
if (editId) {
  pollLevel();
  startRepeating();
}
if (!editId) fName.focus();
// For tests and debugging.
window.vigilZones = zones;
