// The camera page's PTZ pad (docs/onvif.md): arrows that pan and tilt while
// pressed (mouse, touch and pen through pointer events; Space or Enter on a
// focused arrow), zoom in and out, Home, and the camera's presets (go to,
// save the current view under a name, remove). With the video focused the
// arrow keys pan and tilt and + and - zoom, while held. Commands go out one
// after another, so a stop never overtakes its move on the way to the camera.
// With "Click to centre" on, a click or tap on the video sends a relative
// move that brings the clicked point to the middle (CENTRE_GAIN below).
import { api, el, clear, toast, confirmDialog } from './ui.js';

const SPEED = 0.5;
// Click to centre: pan = the click's offset from the centre in half-widths
// (-1..1) × CENTRE_GAIN, tilt likewise from half-heights, upwards. 5/3
// centres the clicked point on vigil-fakecam at zoom 0 (its viewport is 5/8
// of a world twice the frame, and pan -1..1 spans the rest: 0.625 / 0.375);
// ONVIF's generic translation space is not tied to the field of view, so on
// real cameras (and zoomed in) it over- or undershoots (docs/onvif.md).
const CENTRE_GAIN = 5 / 3;

// Returns the pad's section, or null when the camera has no PTZ (409) or the
// user may not use it (403/404); @focusTarget gets the keyboard control.
export async function ptzPad(cameraId, focusTarget) {
  const enc = encodeURIComponent(cameraId);
  let presets;
  try {
    presets = await api('GET', `/cameras/${enc}/ptz/presets`);
  } catch (e) {
    if ([403, 404, 409].includes(e.status)) return null;
    presets = null;   // a device error: the pad still shows, with the words
    console.warn(`PTZ presets: ${e.message}`);
  }

  const errorBox = el('div', { class: 'alert alert-error', id: 'ptz-error', role: 'alert', hidden: true });
  let queue = Promise.resolve();
  function send(body, onError) {
    queue = queue.then(async () => {
      try {
        const r = await api('POST', `/cameras/${enc}/ptz`, body);
        errorBox.hidden = true;
        return r ?? true;   // 204: true; null is for failures
      } catch (e) {
        clear(errorBox, `PTZ: ${e.message}`);
        errorBox.hidden = false;
        onError?.(e);
        return null;
      }
    });
    return queue;
  }

  // One held control at a time: pressing another one replaces the move.
  let held = null;
  function press(key, speeds) {
    if (held === key) return;
    held = key;
    send({ action: 'move', pan: 0, tilt: 0, zoom: 0, ...speeds });
  }
  function release(key) {
    if (held !== key) return;
    held = null;
    send({ action: 'stop' });
  }

  function holdButton(id, label, title, speeds) {
    const b = el('button', { class: 'btn ptz-btn', type: 'button', id, title, 'aria-label': title }, label);
    b.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      // Keeps the release when the finger slides off; synthetic events have
      // no real pointer to capture.
      try { b.setPointerCapture(e.pointerId); } catch { /* nothing to capture */ }
      b.classList.add('on');
      press(id, speeds);
    });
    const up = () => { b.classList.remove('on'); release(id); };
    b.addEventListener('pointerup', up);
    b.addEventListener('pointercancel', up);
    b.addEventListener('lostpointercapture', up);
    b.addEventListener('contextmenu', (e) => e.preventDefault());
    b.addEventListener('keydown', (e) => {
      if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) { e.preventDefault(); press(id, speeds); }
    });
    b.addEventListener('keyup', (e) => { if (e.key === ' ' || e.key === 'Enter') up(); });
    b.addEventListener('blur', up);
    return b;
  }

  const pad = el('div', { class: 'ptz-pad', role: 'group', 'aria-label': 'Pan and tilt' },
    el('span'), holdButton('ptz-up', '▲', 'Tilt up', { tilt: SPEED }), el('span'),
    holdButton('ptz-left', '◀', 'Pan left', { pan: -SPEED }),
    el('button', { class: 'btn ptz-btn', type: 'button', id: 'ptz-home', title: 'Home position',
      onclick: () => send({ action: 'home' }) }, '⌂'),
    holdButton('ptz-right', '▶', 'Pan right', { pan: SPEED }),
    el('span'), holdButton('ptz-down', '▼', 'Tilt down', { tilt: -SPEED }), el('span'));
  const zoom = el('div', { class: 'ptz-zoom', role: 'group', 'aria-label': 'Zoom' },
    holdButton('ptz-zoom-in', '+', 'Zoom in', { zoom: SPEED }),
    holdButton('ptz-zoom-out', '−', 'Zoom out', { zoom: -SPEED }));

  // Keyboard on the focused video.
  const KEYS = { ArrowUp: { tilt: SPEED }, ArrowDown: { tilt: -SPEED }, ArrowLeft: { pan: -SPEED },
    ArrowRight: { pan: SPEED }, '+': { zoom: SPEED }, '=': { zoom: SPEED }, '-': { zoom: -SPEED } };
  if (focusTarget) {
    focusTarget.tabIndex = 0;
    focusTarget.setAttribute('aria-keyshortcuts', 'ArrowUp ArrowDown ArrowLeft ArrowRight + -');
    focusTarget.title = 'Arrow keys: pan and tilt, + and -: zoom';
    focusTarget.addEventListener('keydown', (e) => {
      const speeds = KEYS[e.key];
      if (!speeds) return;
      e.preventDefault();
      if (!e.repeat) press(`key-${e.key}`, speeds);
    });
    focusTarget.addEventListener('keyup', (e) => { if (KEYS[e.key]) release(`key-${e.key}`); });
    focusTarget.addEventListener('blur', () => { if (held?.startsWith('key-')) release(held); });
  }

  // Click to centre: off by default, so ordinary clicks on the video keep
  // doing what they do.
  const centreToggle = el('input', { type: 'checkbox', id: 'ptz-click-centre' });
  const centreLabel = el('label', { class: 'check', for: 'ptz-click-centre',
    title: 'A click or tap on the video turns the camera to that point' },
  centreToggle, ' Click to centre');
  if (focusTarget) {
    focusTarget.addEventListener('click', (e) => {
      if (!centreToggle.checked) return;
      const v = focusTarget.querySelector('video');
      if (!v || (e.target !== v && !v.contains(e.target) && e.target !== focusTarget)) return;
      // The picture inside the element (object-fit: contain letterboxes).
      const r = v.getBoundingClientRect();
      const ar = v.videoWidth && v.videoHeight ? v.videoWidth / v.videoHeight : r.width / r.height;
      const w = Math.min(r.width, r.height * ar), h = w / ar;
      const fx = (e.clientX - (r.left + r.width / 2)) / (w / 2);
      const fy = (e.clientY - (r.top + r.height / 2)) / (h / 2);
      if (Math.abs(fx) > 1 || Math.abs(fy) > 1) return;   // on the bars
      e.preventDefault();
      e.stopPropagation();
      const round = (x) => Math.round(Math.max(-1, Math.min(1, x)) * 1000) / 1000;
      const pan = round(fx * CENTRE_GAIN), tilt = round(-fy * CENTRE_GAIN);
      if (!pan && !tilt) return;
      send({ action: 'relative', pan, tilt }, (err) => {
        if (err.status === 409) centreToggle.checked = false;
      });
    }, true);
  }

  // Presets.
  const list = el('ul', { class: 'ptz-presets', id: 'ptz-presets' });
  const nameInput = el('input', { type: 'text', id: 'ptz-preset-name', maxlength: 64,
    placeholder: 'Name of the current view', autocomplete: 'off', 'aria-label': 'Preset name' });
  async function reload() {
    try {
      render(await api('GET', `/cameras/${enc}/ptz/presets`));
    } catch (e) {
      clear(list, el('li', { class: 'muted' }, e.message));
    }
  }
  function render(items) {
    if (!items) { clear(list); return; }
    if (!items.length) { clear(list, el('li', { class: 'muted' }, 'No presets yet.')); return; }
    clear(list, items.map((p) => el('li', { 'data-token': p.token },
      el('button', { class: 'btn btn-small ptz-goto', type: 'button', title: `Go to ${p.name}`,
        onclick: () => send({ action: 'goto_preset', preset: p.token }) }, p.name),
      el('button', { class: 'btn btn-small btn-danger ptz-remove', type: 'button',
        'aria-label': `Remove preset ${p.name}`, title: 'Remove',
        onclick: async () => {
          if (!await confirmDialog(`Remove preset "${p.name}"?`, { ok: 'Remove', danger: true })) return;
          if (await send({ action: 'remove_preset', preset: p.token }) !== null) reload();
        } }, '×'))));
  }
  async function save(ev) {
    ev.preventDefault();
    const name = nameInput.value.trim();
    if (!name) { nameInput.focus(); return; }
    const r = await send({ action: 'set_preset', name });
    if (r) {
      nameInput.value = '';
      toast(`Preset "${name}" saved`, 'ok');
      reload();
    }
  }
  render(presets);

  return el('section', { class: 'card ptz', id: 'ptz', 'aria-labelledby': 'ptz-h' },
    el('h2', { id: 'ptz-h' }, 'Pan, tilt, zoom'),
    errorBox,
    el('div', { class: 'ptz-controls' }, pad, zoom),
    centreLabel,
    el('p', { class: 'small muted' }, 'Hold an arrow to move. With the video focused: arrow keys, + and −.'),
    el('h3', null, 'Presets'),
    list,
    el('form', { class: 'toolbar', id: 'ptz-save', onsubmit: save },
      nameInput, el('button', { class: 'btn', type: 'submit' }, 'Save view')));
}
