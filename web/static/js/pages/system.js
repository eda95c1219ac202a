// /system: disk (total, free, used by vigil), quota, CPU and memory of vigil,
// uptime, the MQTT connection, object detection's scheduling figures, every
// camera's state (refreshed every 5 s); for admins the global settings form
// (storage quota, detection model and input size).
import { api, el, clear, startPage, isAdmin, fmtBytes, fmtDuration, toast, showError } from '../ui.js';

const user = await startPage({ title: 'System', active: 'system' });
const main = document.getElementById('main');

const diskCard = el('section', { class: 'card', id: 'disk', 'aria-labelledby': 'disk-h' });
const procCard = el('section', { class: 'card', id: 'process', 'aria-labelledby': 'proc-h' });
const detectCard = el('section', { class: 'card', id: 'detect', 'aria-labelledby': 'detect-h' });
const camsCard = el('section', { class: 'card', id: 'cameras', 'aria-labelledby': 'cams-h' });
const settingsCard = isAdmin(user) ? el('section', { class: 'card', id: 'settings', 'aria-labelledby': 'set-h' }) : null;
const updated = el('span', { class: 'small muted', id: 'updated', 'aria-live': 'off' });

clear(main,
  el('div', { class: 'page-head' }, el('h1', null, 'System'), updated),
  el('div', { class: 'grid grid-2' }, diskCard, procCard),
  el('div', { class: 'grid', style: { marginTop: '.75rem' } }, detectCard),
  el('div', { class: 'grid', style: { marginTop: '.75rem' } }, camsCard, settingsCard));

function bar(used, total, label) {
  const pct = total ? Math.min(100, (used / total) * 100) : 0;
  return el('div', { class: 'meter disk-meter', role: 'meter', 'aria-label': label,
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': pct.toFixed(0) },
    el('div', { class: `meter-fill${pct > 90 ? ' over' : ''}`, style: { width: `${pct}%` } }));
}

function renderSystem(s) {
  const d = s.disk || {};
  const usedAll = (d.total_bytes || 0) - (d.free_bytes || 0);
  const q = s.quota || {};
  clear(diskCard,
    el('h2', { id: 'disk-h' }, 'Disk'),
    bar(usedAll, d.total_bytes, 'Disk space used'),
    el('dl', { class: 'kv', style: { marginTop: '.6rem' } },
      el('dt', null, 'Total'), el('dd', { id: 'disk-total' }, fmtBytes(d.total_bytes)),
      el('dt', null, 'Free'), el('dd', { id: 'disk-free' }, fmtBytes(d.free_bytes),
        d.total_bytes ? ` (${((d.free_bytes / d.total_bytes) * 100).toFixed(1)} %)` : ''),
      el('dt', null, 'Used by vigil'), el('dd', { id: 'disk-vigil' }, fmtBytes(d.used_by_vigil_bytes)),
      el('dt', null, 'Quota'), el('dd', { id: 'quota' },
        q.max_bytes ? `at most ${fmtBytes(q.max_bytes)}, ` : 'no size limit, ',
        `keep ${q.min_free_percent ?? 10} % of the disk free`),
      d.path ? [el('dt', null, 'Data directory'), el('dd', null, el('code', null, d.path))] : null),
    el('p', { class: 'small muted' }, 'Oldest recordings go first when a limit is reached; recordings marked "keep" are spared.'));
  clear(procCard,
    el('h2', { id: 'proc-h' }, 'vigil'),
    el('dl', { class: 'kv' },
      el('dt', null, 'Version'), el('dd', null, s.version),
      el('dt', null, 'Up for'), el('dd', { id: 'uptime' }, fmtDuration(s.uptime_s)),
      el('dt', null, 'CPU'), el('dd', { id: 'cpu' }, `${s.cpu?.process_percent ?? '—'} % of one core`,
        s.cpu?.cores ? ` (${s.cpu.cores} cores)` : ''),
      el('dt', null, 'Memory'), el('dd', { id: 'memory' }, fmtBytes(s.memory?.rss_bytes)),
      el('dt', null, 'Cameras'), el('dd', null, String(s.cameras ?? '—')),
      el('dt', null, 'MQTT'), el('dd', { id: 'mqtt' }, mqttLine(s.mqtt))));
}

const ms = (v) => (v == null ? '—' : `${v.toFixed(v < 10 ? 1 : 0)} ms`);

// Object detection: every camera's inferences of the last minute, and per
// camera (those this user may see) how many ran and how many were dropped.
function renderDetect(d, cams) {
  const names = new Map(cams.map((c) => [c.id, c.name]));
  if (!d) return;
  const span = `last ${d.window_s ?? 60} s`;
  clear(detectCard,
    el('h2', { id: 'detect-h' }, 'Object detection'),
    el('dl', { class: 'kv' },
      el('dt', null, 'Inferences'), el('dd', { id: 'detect-rate' },
        `${(d.inferences_per_s ?? 0).toFixed(2)} per second (${span}), ${d.inferences ?? 0} since start`),
      el('dt', null, 'Inference time'), el('dd', { id: 'detect-inference' }, `${ms(d.inference_ms)} on average`),
      el('dt', null, 'Queue wait'), el('dd', { id: 'detect-wait' },
        `${ms(d.queue_wait_ms)} on average, ${ms(d.queue_wait_p95_ms)} for the slowest 5 %`)),
    d.cameras?.length ? el('div', { class: 'table-wrap', style: { marginTop: '.6rem' } },
      el('table', { class: 'table', id: 'detect-cameras' },
        el('thead', null, el('tr', null, ['Camera', 'Inferences', 'Dropped']
          .map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', null, d.cameras.map((c) => el('tr', null,
          el('td', null, el('a', { href: `/cameras/${encodeURIComponent(c.camera)}` }, names.get(c.camera) || c.camera)),
          el('td', null, String(c.inferences)),
          el('td', null, String(c.dropped))))))) : null,
    el('p', { class: 'small muted' }, 'Queue wait: from a keyframe\'s arrival to the start of its detection. ' +
      'Dropped: keyframes due for detection that a newer one replaced while the detector was busy; ' +
      'cameras with motion go first.'));
}

const MQTT_CLASS = { connected: 'badge-ok', connecting: 'badge-warn', error: 'badge-danger', disabled: 'state-disabled' };

// The MQTT connection: state badge, the error, for admins a link to its settings.
function mqttLine(m) {
  const state = m?.state || 'disabled';
  return [el('span', { class: `badge ${MQTT_CLASS[state] || ''}`, id: 'mqtt-state' }, state),
    m?.error ? [' ', el('span', { class: 'small', id: 'mqtt-error' }, m.error)] : null,
    isAdmin(user) ? [' ', el('a', { class: 'small', href: '/integrations', id: 'mqtt-settings' }, 'MQTT settings')] : null];
}

// Columns a phone leaves out (the camera page has them).
const NARROW_HIDDEN = new Set(['Bitrate', 'Viewers', 'Reconnects']);

function renderCameras(cams) {
  clear(camsCard, el('h2', { id: 'cams-h' }, 'Cameras'),
    !cams.length ? el('p', { class: 'muted' }, 'No cameras.') :
    el('div', { class: 'table-wrap' }, el('table', { class: 'table' },
      el('thead', null, el('tr', null, ['Camera', 'State', 'Recording', 'Video', 'Bitrate', 'Viewers', 'Reconnects', 'Error']
        .map((h) => el('th', { scope: 'col', class: NARROW_HIDDEN.has(h) ? 'hide-narrow' : null }, h)))),
      el('tbody', null, cams.map((c) => {
        const st = c.status || {};
        const state = c.enabled === false ? 'disabled' : st.state;
        return el('tr', null,
          el('td', null, el('a', { href: `/cameras/${encodeURIComponent(c.id)}` }, c.name)),
          el('td', null, el('span', { class: `badge state-${state}` }, state)),
          el('td', null, st.recording ? [el('span', { class: 'rec-dot' }), ' yes'] : `no (${c.record})`),
          el('td', null, st.codec ? `${st.codec.toUpperCase()} ${st.width}×${st.height} ${Number(st.fps || 0).toFixed(0)} fps` : '—'),
          el('td', { class: 'hide-narrow' }, st.bitrate_kbps ? `${(st.bitrate_kbps / 1000).toFixed(2)} Mbit/s` : '—'),
          el('td', { class: 'hide-narrow' }, String(st.viewers ?? 0)),
          el('td', { class: 'hide-narrow' }, String(st.reconnects ?? 0)),
          el('td', { class: 'small' }, st.error || ''));
      })))));
}

async function refresh() {
  try {
    const [s, cams] = await Promise.all([api('GET', '/system'), api('GET', '/cameras')]);
    renderSystem(s);
    renderDetect(s.detect, cams);
    renderCameras(cams);
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (e.status !== 401) updated.textContent = `update failed: ${e.message}`;
  }
}

// --- settings (admins) ---
async function renderSettings() {
  const s = await api('GET', '/settings');
  const maxGb = el('input', { id: 'max-gb', type: 'number', min: 0, step: 0.1, inputmode: 'decimal',
    value: s.storage.max_bytes ? String(s.storage.max_bytes / 1e9) : '', placeholder: 'no limit',
    'aria-describedby': 'max-gb-hint' });
  const minFree = el('input', { id: 'min-free', type: 'number', min: 0, max: 99, step: 1,
    value: String(s.storage.min_free_percent ?? 10) });
  const model = el('input', { id: 'detect-model', type: 'text', value: s.detect.model || '', placeholder: 'none',
    spellcheck: 'false', 'aria-describedby': 'detect-hint' });
  const effective = s.detect.input_size_effective;
  const inputSize = el('input', { id: 'detect-input-size', type: 'number', min: 128, max: 1024, step: 32,
    inputmode: 'numeric', value: s.detect.input_size ? String(s.detect.input_size) : '',
    placeholder: s.detect.input_size == null && effective ? `default (${effective})` : 'default',
    'aria-describedby': 'detect-size-hint' });
  const err = el('div', { class: 'alert alert-error', role: 'alert', id: 'settings-error', hidden: true });
  const save = el('button', { class: 'btn btn-primary', type: 'submit', id: 'save-settings' }, 'Save settings');
  clear(settingsCard, el('h2', { id: 'set-h' }, 'Settings'),
    el('form', { id: 'settings-form', novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      save.disabled = true;
      const gb = maxGb.value.trim();
      const body = {
        storage: { max_bytes: gb === '' || Number(gb) === 0 ? null : Math.round(Number(gb) * 1e9),
          min_free_percent: Number(minFree.value) },
        detect: { model: model.value.trim() || null,
          input_size: inputSize.value.trim() === '' ? null : Number(inputSize.value) },
      };
      try {
        await api('PATCH', '/settings', body);
        toast('Settings saved', 'ok');
        refresh();
        renderSettings().catch((e) => showError(e, settingsCard)); // the size the model now runs at
      } catch (e) { showError(e, err); }
      save.disabled = false;
    } },
      el('div', { class: 'row row-4' },
        el('div', { class: 'field' }, el('label', { for: 'max-gb' }, 'Storage quota (GB)'), maxGb,
          el('div', { class: 'hint', id: 'max-gb-hint' }, 'Empty: no size limit')),
        el('div', { class: 'field' }, el('label', { for: 'min-free' }, 'Keep free (% of disk)'), minFree),
        el('div', { class: 'field' }, el('label', { for: 'detect-model' }, 'Detection model'), model,
          el('div', { class: 'hint', id: 'detect-hint' },
            s.detect.available ? 'Object detection is available.' : `Object detection unavailable: ${s.detect.error || 'no model'}`)),
        el('div', { class: 'field' }, el('label', { for: 'detect-input-size' }, 'Detection input size (px)'), inputSize,
          el('div', { class: 'hint', id: 'detect-size-hint' },
            `A multiple of 32 from 128 to 1024; empty: 384. Smaller is faster, larger finds smaller objects.${
              effective ? ` The model runs at up to ${effective}×${effective}, fitted to each picture ` +
                `(${effective}×${Math.ceil(effective * 9 / 16 / 32) * 32} for 16:9).` : ''}`))),
      err, el('div', { class: 'toolbar' }, save)));
}

await refresh();
if (settingsCard) renderSettings().catch((e) => showError(e, settingsCard));
setInterval(() => { if (document.visibilityState === 'visible') refresh(); }, 5000);
