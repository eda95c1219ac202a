// The camera page's PTZ pad (docs/onvif.md): arrows that pan and tilt while
// pressed (mouse, touch and pen through pointer events; Space or Enter on a
// focused arrow), zoom in and out, Home, and the camera's presets (go to,
// save the current view under a name, remove). With the video focused the
// arrow keys pan and tilt and + and - zoom, while held. Commands go out one
// after another, so a stop never overtakes its move on the way to the camera.
import { api, el, clear, toast, confirmDialog } from './ui.js';

const SPEED = 0.5;

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
  function send(body) {
    queue = queue.then(async () => {
      try {
        const r = await api('POST', `/cameras/${enc}/ptz`, body);
        errorBox.hidden = true;
        return r ?? true;   // 204: true; null is for failures
      } catch (e) {
        clear(errorBox, `PTZ: ${e.message}`);
        errorBox.hidden = false;
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
    el('p', { class: 'small muted' }, 'Hold an arrow to move. With the video focused: arrow keys, + and −.'),
    el('h3', null, 'Presets'),
    list,
    el('form', { class: 'toolbar', id: 'ptz-save', onsubmit: save },
      nameInput, el('button', { class: 'btn', type: 'submit' }, 'Save view')));
}
