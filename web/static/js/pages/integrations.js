// /integrations (admins): the public address links sent out use, the MQTT
// connection (state refreshed every 3 s, settings form), the RTSP server that
// restreams every camera (state and clients, settings form) and the webhooks
// (list, add/edit/delete, Send test, the delivery log). Settings go through
// PATCH /api/v1/settings: {"public_url"}, {"mqtt": {...}} or the whole
// {"notify": [...]} list; secrets are write-only ("…_set" in GET).
import { api, el, clear, startPage, isAdmin, fmtTime, toast, confirmDialog, showError } from '../ui.js';

const me = await startPage({ title: 'Integrations', active: 'integrations' });
const main = document.getElementById('main');

const TYPES = ['motion', 'object', 'barcode', 'alarm'];
const STATE_CLASS = { connected: 'badge-ok', listening: 'badge-ok', connecting: 'badge-warn', error: 'badge-danger',
  disabled: 'state-disabled' };

let uid = 0;
function field(label, input, hint) {
  input.id = input.id || `f-${++uid}`;
  const hintEl = hint ? el('div', { class: 'hint', id: `${input.id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return el('div', { class: 'field' }, el('label', { for: input.id }, label), input, hintEl);
}
function check(label, input) {
  input.id = input.id || `f-${++uid}`;
  return el('div', { class: 'field' }, el('label', { class: 'check', for: input.id }, input, label));
}
const text = (id, value, attrs = {}) => el('input', { id, type: 'text', value: value ?? '', spellcheck: 'false', ...attrs });
const box = (id, checked) => el('input', { id, type: 'checkbox', checked: !!checked });
const alertBox = (id) => el('div', { class: 'alert alert-error', role: 'alert', id, hidden: true });
// A number input's value: a number, null when empty, the text when not a number
// (the API then words what is wrong).
function numberOf(input) {
  const v = input.value.trim();
  if (v === '') return null;
  return Number.isFinite(Number(v)) ? Number(v) : v;
}

// A write-only secret: the input (empty; "unchanged" when one is stored) and
// the "remove" checkbox; value() → undefined (keep), null (remove) or the new text.
function secretField(id, label, isSet, setHint) {
  const input = el('input', { id, type: 'password', autocomplete: 'new-password', spellcheck: 'false',
    placeholder: isSet ? 'unchanged' : 'none' });
  const remove = isSet ? box(`${id}-remove`, false) : null;
  if (remove) remove.addEventListener('change', () => { input.disabled = remove.checked; if (remove.checked) input.value = ''; });
  return {
    nodes: [field(label, input, isSet ? `${setHint}; leave empty to keep it.` : null),
      remove ? check(`Remove the ${label.toLowerCase()}`, remove) : null],
    value: () => (remove && remove.checked ? null : input.value ? input.value : undefined),
  };
}

if (!isAdmin(me)) {
  clear(main, el('div', { class: 'page-head' }, el('h1', null, 'Integrations')),
    el('section', { class: 'card', id: 'not-admin' },
      el('p', null, 'Only administrators can see and change the integrations (MQTT, webhooks).'),
      el('p', null, el('a', { href: '/system' }, 'The System page'), ' shows the MQTT connection state.')));
} else {
  await adminPage().catch((e) => showError(e, main));
}

async function adminPage() {
  const updated = el('span', { class: 'small muted', id: 'updated', 'aria-live': 'off' });
  const publicCard = el('section', { class: 'card', id: 'public', 'aria-labelledby': 'public-h' });
  const mqttCard = el('section', { class: 'card', id: 'mqtt', 'aria-labelledby': 'mqtt-h' });
  const rtspCard = el('section', { class: 'card', id: 'rtsp', 'aria-labelledby': 'rtsp-h' });
  const rtspState = el('p', { id: 'rtsp-state-line', class: 'state-line', 'aria-live': 'polite' });
  const hooksCard = el('section', { class: 'card', id: 'webhooks', 'aria-labelledby': 'hooks-h' });
  const hookFormCard = el('section', { class: 'card', id: 'webhook-form-card', 'aria-labelledby': 'hook-form-h', hidden: true });
  const logCard = el('section', { class: 'card', id: 'deliveries', 'aria-labelledby': 'log-h' });
  const mqttState = el('p', { id: 'mqtt-state-line', class: 'state-line', 'aria-live': 'polite' });

  clear(main,
    el('div', { class: 'page-head' }, el('h1', null, 'Integrations'), updated),
    el('div', { class: 'grid' }, publicCard, mqttCard, rtspCard, hookFormCard, hooksCard, logCard));

  let settings = await api('GET', '/settings');
  const [users, cameras] = await Promise.all([api('GET', '/users'), api('GET', '/cameras')]);
  const hasNotify = Array.isArray(settings.notify);
  const testResults = new Map();   // webhook name → { node } (its last Send test)

  // --- public address ---
  function renderPublic() {
    const input = el('input', { id: 'public-url', type: 'url', inputmode: 'url', spellcheck: 'false',
      value: settings.public_url || '', placeholder: 'https://nvr.example:8443' });
    const err = alertBox('public-error');
    const save = el('button', { class: 'btn btn-primary', type: 'submit', id: 'save-public-url' }, 'Save');
    clear(publicCard, el('h2', { id: 'public-h' }, 'Public address'),
      el('form', { id: 'public-form', novalidate: true, onsubmit: async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        save.disabled = true;
        try {
          settings = await api('PATCH', '/settings', { public_url: input.value.trim() || null });
          toast('Public address saved', 'ok');
          renderPublic();
        } catch (e) { showError(e, err); }
        save.disabled = false;
      } },
        field('Address browsers reach vigil at', input,
          'Links in Home Assistant and in notifications use it; empty: no links.'),
        err, el('div', { class: 'toolbar' }, save)));
  }

  // --- MQTT ---
  function renderMqttState(m) {
    const state = m?.state || 'disabled';
    clear(mqttState, 'Connection: ',
      el('span', { class: `badge ${STATE_CLASS[state] || ''}`, id: 'mqtt-state' }, state),
      m?.error ? [' ', el('span', { class: 'small', id: 'mqtt-error' }, m.error)] : null);
  }

  function renderMqtt() {
    const m = settings.mqtt || {};
    const enabled = box('mqtt-enabled', m.enabled);
    const host = text('mqtt-host', m.host, { placeholder: 'broker.lan', autocomplete: 'off' });
    const port = el('input', { id: 'mqtt-port', type: 'number', min: 1, max: 65535, step: 1, inputmode: 'numeric',
      value: String(m.port ?? 1883) });
    const tls = box('mqtt-tls', m.tls);
    const caFile = text('mqtt-ca-file', m.ca_file, { placeholder: '/etc/ssl/certs (the system\'s)', autocomplete: 'off' });
    const username = text('mqtt-username', m.username, { placeholder: 'anonymous', autocomplete: 'off' });
    const password = secretField('mqtt-password', 'Password', m.password_set, 'A password is set');
    const clientId = text('mqtt-client-id', m.client_id);
    const topic = text('mqtt-topic-prefix', m.topic_prefix);
    const discovery = text('mqtt-discovery-prefix', m.discovery_prefix);
    const user = el('select', { id: 'mqtt-user' },
      el('option', { value: '', selected: !m.user }, 'operator role (default)'),
      users.map((u) => el('option', { value: u.name, selected: m.user === u.name }, `${u.name} (${u.role})`)));
    const err = alertBox('mqtt-form-error');
    const save = el('button', { class: 'btn btn-primary', type: 'submit', id: 'save-mqtt' }, 'Save MQTT');
    const submit = async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      save.disabled = true;
      const body = {
        enabled: enabled.checked, host: host.value.trim() || null, port: numberOf(port), tls: tls.checked,
        ca_file: caFile.value.trim() || null,
        username: username.value, client_id: clientId.value.trim(), topic_prefix: topic.value.trim(),
        discovery_prefix: discovery.value.trim(), user: user.value || null,
      };
      const pw = password.value();
      if (pw !== undefined) body.password = pw;
      try {
        settings = await api('PATCH', '/settings', { mqtt: body });
        toast('MQTT settings saved', 'ok');
        renderMqtt();
        refresh();
      } catch (e) { showError(e, err); save.disabled = false; }
    };
    clear(mqttCard, el('h2', { id: 'mqtt-h' }, 'MQTT'), mqttState,
      el('p', { class: 'small muted' }, 'Home Assistant finds the cameras through MQTT discovery; commands act with the rights of the user below.'),
      el('form', { id: 'mqtt-form', novalidate: true, onsubmit: submit },
        check('Connect to an MQTT broker', enabled),
        el('div', { class: 'row row-3' }, field('Broker host', host), field('Port', port),
          el('div', { class: 'field field-check' }, el('span', { class: 'label' }, 'TLS'),
            el('label', { class: 'check', for: 'mqtt-tls' }, tls, 'Encrypt (the broker\'s certificate is checked)'))),
        field('CA certificates (TLS)', caFile, 'A PEM file on the vigil host, for a broker with a certificate of your own CA. Empty: the system\'s CAs.'),
        el('div', { class: 'row row-2' }, field('User name', username, 'Empty: anonymous'),
          el('div', null, password.nodes)),
        el('div', { class: 'row row-3' }, field('Client id', clientId), field('Topic prefix', topic),
          field('Discovery prefix', discovery)),
        field('Commands act as', user, 'The vigil user whose rights MQTT commands (record, detection…) have.'),
        err, el('div', { class: 'toolbar' }, save)));
  }

  // --- RTSP server ---
  function renderRtspState(r) {
    const state = r?.state || 'disabled';
    clear(rtspState, 'Server: ',
      el('span', { class: `badge ${STATE_CLASS[state] || ''}`, id: 'rtsp-state' }, state),
      state === 'listening' ? ` · ${r.clients} client${r.clients === 1 ? '' : 's'}` : null,
      r?.error ? [' ', el('span', { class: 'small', id: 'rtsp-error' }, r.error)] : null);
  }

  function renderRtsp() {
    const r = settings.rtsp_server || {};
    const enabled = box('rtsp-enabled', r.enabled);
    const listen = text('rtsp-listen', r.listen, { placeholder: '0.0.0.0:8554', autocomplete: 'off' });
    const err = alertBox('rtsp-form-error');
    const save = el('button', { class: 'btn btn-primary', type: 'submit', id: 'save-rtsp' }, 'Save RTSP server');
    const port = (r.listen || '0.0.0.0:8554').split(':').pop();
    clear(rtspCard, el('h2', { id: 'rtsp-h' }, 'RTSP server'), rtspState,
      el('p', { class: 'small muted' }, 'Other players and recorders (VLC, Home Assistant, a second NVR) pull ',
        el('code', null, `rtsp://${location.hostname}:${port}/<camera id>`), ' (and ', el('code', null, '…_sub'),
        ' for the sub stream) from vigil, not from the camera. They log in as a vigil user with the view right.'),
      el('form', { id: 'rtsp-form', novalidate: true, onsubmit: async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        save.disabled = true;
        try {
          settings = await api('PATCH', '/settings',
            { rtsp_server: { enabled: enabled.checked, listen: listen.value.trim() } });
          toast('RTSP server settings saved', 'ok');
          renderRtsp();
          refresh();
        } catch (e) { showError(e, err); save.disabled = false; }
      } },
        check('Serve every camera over RTSP', enabled),
        field('Listen on', listen, 'Address and port, e.g. 0.0.0.0:8554 (every interface) or [::]:8554.'),
        err, el('div', { class: 'toolbar' }, save)));
  }

  // --- webhooks ---
  const hostOf = (url) => { try { return new URL(url).host; } catch { return url || '—'; } };
  // The PATCH form of a stored webhook: secrets left out (kept by name).
  const stripped = ({ secret_set, auth_token_set, ...w }) => w;   // eslint-disable-line no-unused-vars

  async function saveHooks(list, what) {
    settings = await api('PATCH', '/settings', { notify: list });
    toast(what, 'ok');
    renderHooks();
  }

  function renderHooks() {
    if (!hasNotify) {
      clear(hooksCard, el('h2', { id: 'hooks-h' }, 'Webhooks'),
        el('p', { class: 'muted' }, 'This vigil has no webhooks (no "notify" in its settings).'));
      logCard.hidden = true;
      return;
    }
    const hooks = settings.notify || [];
    clear(hooksCard,
      el('div', { class: 'card-head' }, el('h2', { id: 'hooks-h' }, 'Webhooks'),
        el('button', { class: 'btn btn-small btn-primary', type: 'button', id: 'add-webhook', onclick: () => openHookForm(null) }, '+ Add webhook')),
      el('p', { class: 'small muted' }, 'Each event that passes a webhook\'s filter is sent to its address (JSON, or an ntfy message).'),
      !hooks.length ? el('p', { class: 'muted', id: 'no-webhooks' }, 'No webhooks.') :
      el('div', { class: 'table-wrap' }, el('table', { class: 'table', id: 'webhooks-table' },
        el('thead', null, el('tr', null, ['Webhook', 'Format', 'Enabled', ''].map((h) =>
          el('th', { scope: 'col', class: h === 'Format' ? 'hide-narrow' : null }, h)))),
        el('tbody', null, hooks.map(hookRow)))));
  }

  // One webhook: name and address host, format, on/off; Send test (its
  // result under the buttons), Edit, Delete.
  function hookRow(w) {
    const result = el('div', { class: 'small test-result', 'aria-live': 'polite' });
    const prev = testResults.get(w.name);
    if (prev) result.append(...prev.node.childNodes);
    testResults.set(w.name, { node: result });
    return el('tr', { dataset: { webhook: w.name } },
      el('td', null, el('div', { class: 'hook-name' }, w.name), el('div', { class: 'small muted hook-host' }, hostOf(w.url))),
      el('td', { class: 'hide-narrow' }, w.format),
      el('td', null, el('span', { class: `badge ${w.enabled ? 'badge-ok' : 'state-disabled'}` }, w.enabled ? 'on' : 'off')),
      el('td', null, el('div', { class: 'toolbar' },
        el('button', { class: 'btn btn-small', type: 'button', 'aria-label': `Send a test to ${w.name}`,
          dataset: { action: 'test' }, onclick: (ev) => sendTest(w, ev.currentTarget) }, 'Send test'),
        el('button', { class: 'btn btn-small', type: 'button', 'aria-label': `Edit ${w.name}`,
          dataset: { action: 'edit' }, onclick: () => openHookForm(w) }, 'Edit'),
        el('button', { class: 'btn btn-small btn-danger', type: 'button', 'aria-label': `Delete ${w.name}`,
          dataset: { action: 'delete' }, onclick: () => deleteHook(w) }, 'Delete')), result));
  }

  async function deleteHook(w) {
    if (!await confirmDialog(`Delete webhook "${w.name}"?`, { ok: 'Delete', danger: true })) return;
    try {
      await saveHooks(settings.notify.filter((h) => h.name !== w.name).map(stripped), `Webhook ${w.name} deleted`);
      if (hookFormCard.dataset.editing === w.name) hookFormCard.hidden = true;
    } catch (e) { showError(e); }
  }

  function deliveryResult(d) {
    if (d.error) return `${d.status ? `${d.status}: ` : ''}${d.error}`;
    if (d.status) return `${d.status}${d.duration_ms != null ? ` in ${d.duration_ms} ms` : ''}`;
    return null;
  }

  // POST /notify/test, then the delivery log until that delivery has a result.
  async function sendTest(w, button) {
    const show = (msg, kind) => {
      const node = testResults.get(w.name).node;
      clear(node, el('span', { class: kind === 'ok' ? 'test-ok' : kind === 'error' ? 'test-error' : 'muted' }, msg));
    };
    button.disabled = true;
    show('sending…');
    try {
      const { delivery } = await api('POST', '/notify/test', { name: w.name });
      const end = Date.now() + 60000;
      for (;;) {
        const log = await api('GET', '/notify/deliveries');
        renderLog(log);
        const d = (log.deliveries || []).find((x) => x.id === delivery);
        const res = d && deliveryResult(d);
        if (res) {
          const good = !d.error && d.status >= 200 && d.status < 300;
          show(`${good ? '✓' : '✗'} ${res}`, good ? 'ok' : 'error');
          break;
        }
        if (Date.now() > end) { show('no answer yet (see the delivery log)', 'error'); break; }
        await new Promise((r) => setTimeout(r, 500));
      }
    } catch (e) { show(e.message, 'error'); }
    button.disabled = false;
  }

  function openHookForm(w) {
    const editing = w ? w.name : null;
    const ev = w?.events || {};
    const name = text('wh-name', w?.name, { autocomplete: 'off', required: true });
    const enabled = box('wh-enabled', w ? w.enabled : true);
    const url = el('input', { id: 'wh-url', type: 'url', inputmode: 'url', spellcheck: 'false', value: w?.url || '',
      placeholder: 'https://ntfy.sh/my-topic' });
    const format = el('select', { id: 'wh-format' }, ['json', 'ntfy'].map((f) =>
      el('option', { value: f, selected: (w?.format || 'json') === f }, f === 'json' ? 'JSON' : 'ntfy')));
    const snapshot = el('select', { id: 'wh-snapshot' }, [['none', 'none'], ['url', 'a link (needs the public address)'],
      ['attach', 'attached']].map(([v, label]) => el('option', { value: v, selected: (w?.snapshot || 'none') === v }, label)));
    const cooldown = el('input', { id: 'wh-cooldown', type: 'number', min: 0, step: 1, inputmode: 'numeric',
      value: String(w?.cooldown_s ?? 0) });
    const camBoxes = cameras.map((c) => el('input', { type: 'checkbox', checked: (ev.cameras || []).includes(c.id),
      dataset: { camera: c.id }, id: `wh-cam-${++uid}` }));
    const typeBoxes = TYPES.map((t) => el('input', { type: 'checkbox', checked: (ev.types || []).includes(t),
      dataset: { type: t }, id: `wh-type-${t}` }));
    const labels = text('wh-labels', (ev.labels || []).join(', '), { placeholder: 'person, car' });
    const minScore = el('input', { id: 'wh-min-score', type: 'number', min: 0, max: 1, step: 0.05, inputmode: 'decimal',
      value: String(ev.min_score ?? 0) });
    // Secrets are kept by the webhook's name: a renamed one starts without.
    const secret = secretField('wh-secret', 'Secret', w?.secret_set, 'A secret is set');
    const token = secretField('wh-token', 'Auth token', w?.auth_token_set, 'A token is set');
    const err = alertBox('webhook-form-error');
    const save = el('button', { class: 'btn btn-primary', type: 'submit', id: 'save-webhook' }, 'Save webhook');
    const cancel = el('button', { class: 'btn', type: 'button', onclick: () => { hookFormCard.hidden = true; } }, 'Cancel');
    const checks = (boxes, labelOf) => el('div', { class: 'checks' }, boxes.map((b, i) =>
      el('label', { class: 'check', for: b.id }, b, labelOf(i))));
    hookFormCard.dataset.editing = editing || '';
    clear(hookFormCard, el('h2', { id: 'hook-form-h' }, editing ? `Edit webhook ${editing}` : 'New webhook'),
      el('form', { id: 'webhook-form', novalidate: true, onsubmit: async (e) => {
        e.preventDefault();
        err.hidden = true;
        const hook = {
          name: name.value.trim(), enabled: enabled.checked, url: url.value.trim(), format: format.value,
          events: {
            cameras: camBoxes.filter((b) => b.checked).map((b) => b.dataset.camera),
            types: typeBoxes.filter((b) => b.checked).map((b) => b.dataset.type),
            labels: labels.value.split(',').map((s) => s.trim()).filter(Boolean),
            min_score: numberOf(minScore) ?? 0,
          },
          snapshot: snapshot.value, cooldown_s: numberOf(cooldown) ?? 0,
        };
        for (const [key, f] of [['secret', secret], ['auth_token', token]]) {
          const v = f.value();
          if (v !== undefined) hook[key] = v;
        }
        const list = (settings.notify || []).map(stripped);
        const at = editing === null ? -1 : list.findIndex((h) => h.name === editing);
        if (at < 0) list.push(hook); else list[at] = hook;
        save.disabled = true;
        try {
          await saveHooks(list, `Webhook ${hook.name} saved`);
          hookFormCard.hidden = true;
        } catch (x) { showError(x, err); }
        save.disabled = false;
      } },
        el('div', { class: 'row row-2' }, field('Name', name), field('Address (URL)', url)),
        check('Enabled', enabled),
        el('div', { class: 'row row-3' }, field('Format', format), field('Snapshot', snapshot,
          settings.public_url ? null : 'A link needs the public address above.'),
        field('Cooldown (s)', cooldown, 'At most one message per camera in this time.')),
        el('fieldset', null, el('legend', null, 'Events'),
          el('div', { class: 'field' }, el('span', { class: 'label' }, 'Cameras'),
            cameras.length ? checks(camBoxes, (i) => cameras[i].name) : el('span', { class: 'muted small' }, 'No cameras.'),
            el('div', { class: 'hint' }, 'None ticked: every camera.')),
          el('div', { class: 'field' }, el('span', { class: 'label' }, 'Types'), checks(typeBoxes, (i) => TYPES[i]),
            el('div', { class: 'hint' }, 'None ticked: every type.')),
          el('div', { class: 'row row-2' }, field('Labels', labels, 'Comma-separated; empty: any label.'),
            field('Minimum score', minScore, '0 to 1; 0: any score.'))),
        el('div', { class: 'row row-2' }, el('div', null, secret.nodes), el('div', null, token.nodes)),
        editing ? el('p', { class: 'small muted' }, 'Renaming a webhook drops its stored secret and token.') : null,
        err, el('div', { class: 'toolbar' }, save, cancel)));
    hookFormCard.hidden = false;
    hookFormCard.scrollIntoView({ block: 'start', behavior: 'smooth' });
    name.focus({ preventScroll: true });
  }

  // --- delivery log ---
  function renderLog(log) {
    const rows = log.deliveries || [];
    clear(logCard,
      el('div', { class: 'card-head' }, el('h2', { id: 'log-h' }, 'Delivery log'),
        el('span', { class: 'small muted', id: 'delivery-counters' },
          `queued ${log.queued ?? 0} · dropped ${log.dropped ?? 0}`)),
      !rows.length ? el('p', { class: 'muted', id: 'no-deliveries' }, 'Nothing sent yet.') :
      el('div', { class: 'table-wrap' }, el('table', { class: 'table', id: 'deliveries-table' },
        el('thead', null, el('tr', null, ['Time', 'Webhook', 'Event', 'Type', 'Attempt', 'Result', 'Duration'].map((h) =>
          el('th', { scope: 'col', class: ['Event', 'Attempt', 'Duration'].includes(h) ? 'hide-narrow' : null }, h)))),
        el('tbody', null, rows.map((d) => el('tr', { dataset: { delivery: d.id } },
          el('td', { class: 'small' }, fmtTime(d.time, true)),
          el('td', null, d.webhook),
          el('td', { class: 'small hide-narrow' }, d.event ?? '—'),
          el('td', null, d.type),
          el('td', { class: 'hide-narrow' }, String(d.attempt ?? '—')),
          el('td', { class: ['small', d.error ? 'test-error' : d.status >= 200 && d.status < 300 ? 'test-ok' : null] },
            deliveryResult(d) || el('span', { class: 'muted' }, 'pending')),
          el('td', { class: 'small hide-narrow' }, d.duration_ms != null ? `${d.duration_ms} ms` : '—')))))));
  }

  async function refresh() {
    try {
      const [sys, log] = await Promise.all([api('GET', '/system'),
        hasNotify ? api('GET', '/notify/deliveries') : null]);
      renderMqttState(sys.mqtt);
      renderRtspState(sys.rtsp_server);
      if (log) renderLog(log);
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      if (e.status !== 401) updated.textContent = `update failed: ${e.message}`;
    }
  }

  renderPublic();
  renderMqtt();
  renderRtsp();
  renderHooks();
  await refresh();
  setInterval(() => { if (document.visibilityState === 'visible') refresh(); }, 3000);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refresh(); });
}
