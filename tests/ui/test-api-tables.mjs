// The UI's copies of two API tables, checked against the running daemon:
// the wall effects (web/static/js/effect-list.js against the walls API,
// src/http/walls-body.c) and the camera fields (web/static/js/camera-fields.js
// against the cameras API, src/config/config-read.c): effect names, parameters,
// ranges and defaults; camera defaults, numeric ranges, choices and name
// lengths. The daemon is asked, not its source read: defaults from what it
// stores, limits from its 400 messages. Prints every difference and fails.
// Needs node only (no browser).
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { freePort, waitFor, PASSWORD } from './live-common.mjs';
import { EFFECTS } from '../../web/static/js/effect-list.js';
import {
  CAMERA_CHOICES, CAMERA_DEFAULTS, CAMERA_RANGES, CAMERA_TEXT_MAX,
} from '../../web/static/js/camera-fields.js';

const VIGIL_BIN = process.env.VIGIL_BIN || 'build/src/vigil';
const differences = [];
const differ = (what) => differences.push(what);
const show = (v) => JSON.stringify(v);

// An API message's numbers after @pattern, or a difference saying the
// message was not understood (a changed wording must not pass silently).
function readMessage(message, pattern, what) {
  const m = pattern.exec(message || '');
  if (!m) differ(`${what}: cannot read the API's answer ${show(message)}`);
  return m;
}

// Members of @a and @b that differ, as "path: a vs b" lines.
function compare(path, js, api) {
  if (isDeepStrictEqual(js, api)) return;
  const isObject = (v) => v && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(js) || !isObject(api)) {
    differ(`${path}: UI ${show(js)}, API ${show(api)}`);
    return;
  }
  for (const k of new Set([...Object.keys(js), ...Object.keys(api)])) {
    if (!(k in api)) differ(`${path}.${k}: in the UI only`);
    else if (!(k in js)) differ(`${path}.${k}: in the API only (${show(api[k])})`);
    else compare(`${path}.${k}`, js[k], api[k]);
  }
}

// {"motion": {"zones": [{...a valid zone, x: value}]}} for "motion.zones[].x".
function bodyFor(field, value) {
  const zone = /^motion\.zones\[\]\.(\w+)$/.exec(field);
  if (zone) {
    return { motion: { zones: [{ name: 'z', x: 0, y: 0, w: 0.5, h: 0.5, [zone[1]]: value }] } };
  }
  const parts = field.split('.');
  const body = {};
  let at = body;
  for (const p of parts.slice(0, -1)) at = at[p] = {};
  at[parts.at(-1)] = value;
  return body;
}

async function checkEffects(api) {
  let walls = 0;
  const post = async (effect) => {
    const r = await api('POST', '/api/v1/walls', { name: `fx-${++walls}`, layout: { cols: 1, rows: 1 },
      tiles: [{ x: 0, y: 0, w: 1, h: 1, source: null, effect }] });
    return { status: r.status, body: await r.json() };
  };

  const unknown = await post({ name: 'no-such-effect' });
  const m = readMessage(unknown.body.error, /effect "name" must be one of (.+)$/, 'effect names');
  if (!m) return;
  const apiNames = m[1].split(', ');
  const jsNames = Object.keys(EFFECTS);
  for (const n of jsNames.filter((x) => !apiNames.includes(x))) differ(`effect ${n}: in the UI only`);
  for (const n of apiNames.filter((x) => !jsNames.includes(x))) differ(`effect ${n}: in the API only`);

  for (const name of jsNames.filter((x) => apiNames.includes(x))) {
    const stored = await post({ name });
    if (stored.status !== 201) {
      differ(`effect ${name}: the API refuses it without parameters: ${stored.body.error}`);
      continue;
    }
    const apiParams = stored.body.tiles[0].effect.params;
    const jsParams = EFFECTS[name].params;
    compare(`effect ${name} defaults`,
            Object.fromEntries(Object.entries(jsParams).map(([k, p]) => [k, p.def])), apiParams);
    for (const [param, p] of Object.entries(jsParams)) {
      if (!(param in apiParams)) continue;
      const r = await post({ name, params: { [param]: 1e300 } });
      const range = readMessage(r.body.error, /must be from (\S+) to (\S+)$/, `effect ${name}.${param}`);
      if (range) compare(`effect ${name}.${param} range`, { min: p.min, max: p.max },
                         { min: Number(range[1]), max: Number(range[2]) });
    }
  }
  return jsNames.length;
}

async function checkCamera(api) {
  const r = await api('POST', '/api/v1/cameras', { name: 'tables', source: 'test://' });
  const cam = await r.json();
  if (r.status !== 201) throw new Error(`camera create: ${r.status} ${show(cam)}`);
  // What the request gave, and what is not configuration.
  const given = { id: cam.id, name: cam.name, source: cam.source, status: cam.status };
  compare('camera defaults', { ...CAMERA_DEFAULTS, ...given }, { ...cam, ...given });

  const patch = async (body) => {
    const res = await api('PATCH', `/api/v1/cameras/${cam.id}`, body);
    return { status: res.status, error: (await res.json()).error };
  };
  const refusal = async (field, value) => {
    const res = await patch(bodyFor(field, value));
    const shown = field.replace('[]', '[0]');
    if (res.status !== 400 || !res.error.startsWith(`field "${shown}" `)) {
      differ(`${field}: the API does not refuse ${show(value)} (${res.status} ${show(res.error)})`);
      return null;
    }
    return res.error;
  };

  for (const [field, js] of Object.entries(CAMERA_RANGES)) {
    const message = await refusal(field, 1e6);
    if (!message) continue;
    const range = readMessage(message,
      /must be (an integer|a number) (?:between|greater than) (\S+) (?:and|and at most) (\S+)$/, field);
    if (!range) continue;
    compare(`${field} range`, { min: js.min, max: js.max }, { min: Number(range[2]), max: Number(range[3]) });
    if (range[1] === 'an integer' && !Number.isInteger(js.step)) {
      differ(`${field}: the API takes integers, the UI steps by ${js.step}`);
    }
  }
  for (const [field, js] of Object.entries(CAMERA_CHOICES)) {
    const message = await refusal(field, 'no-such-choice');
    const choices = message && readMessage(message, /must be one of (.+)$/, field);
    if (!choices) continue;
    // The ones it takes: the message may name more than the member accepts.
    const taken = [];
    for (const value of choices[1].split(', ')) {
      if ((await patch(bodyFor(field, value))).status === 200) taken.push(value);
    }
    compare(`${field} choices`, js.map(([value]) => value), taken);
  }
  for (const [field, max] of Object.entries(CAMERA_TEXT_MAX)) {
    const message = await refusal(field, 'x'.repeat(1000));
    const length = message && readMessage(message, /must be (?:\d+ to )?(\d+) characters$/, field);
    if (length) compare(`${field} length`, max, Number(length[1]));
  }
  return Object.keys(CAMERA_RANGES).length + Object.keys(CAMERA_CHOICES).length;
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-tables-'));
const port = await freePort();
const log = openSync(join(dir, 'vigil.log'), 'a');
const vigil = spawn(VIGIL_BIN, ['--data-dir', dir, '--listen', `127.0.0.1:${port}`],
                    { stdio: ['ignore', log, log], env: { ...process.env, VIGIL_ADMIN_PASSWORD: PASSWORD } });
const base = `http://127.0.0.1:${port}`;
const auth = 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64');
const api = (method, path, body) => fetch(base + path, {
  method, headers: { Authorization: auth, 'Content-Type': 'application/json' },
  body: body ? JSON.stringify(body) : undefined });
let effects, fields;
try {
  await waitFor(async () => (await fetch(`${base}/api/v1/health`)).ok, 15000, 'vigil');
  effects = await checkEffects(api);
  fields = await checkCamera(api);
} finally {
  vigil.kill('SIGTERM');
  await new Promise((resolve) => vigil.on('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
if (differences.length) {
  console.error(`The UI and the API differ (${differences.length}):`);
  for (const d of differences) console.error(`  ${d}`);
  process.exit(1);
}
console.log(`ok: ${effects} effects and ${fields} camera fields agree with the API`);
