// Shared set-up of the browser tests and the live benchmark: starts
// vigil-fakecam and vigil on free loopback ports, adds the camera, launches
// Debian's chromium through playwright-core.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const webDir = new URL('../../web/', import.meta.url).pathname;
const { chromium } = require(join(webDir, 'node_modules', 'playwright-core'));

export const PASSWORD = 'ui-test-pw';
const VIGIL_BIN = process.env.VIGIL_BIN || 'build/src/vigil';
const FAKECAM_BIN = process.env.FAKECAM_BIN || 'build/tools/fakecam/vigil-fakecam';

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

// A page watcher: it puts the page's errors and its console errors into
// @errors as "label: text", except console errors matching one of the
// expressions @expected() gives now (the failed loads a step expects).
// DEBUG_CONSOLE=1 also prints the other console messages.
export function watchErrors(errors, expected = () => []) {
  return (page, label) => {
    page.on('pageerror', (e) => errors.push(`${label}: page error ${e} at ${page.url()}`));
    page.on('console', (m) => {
      const text = m.text();
      if (m.type() !== 'error') {
        if (process.env.DEBUG_CONSOLE) console.log('# console', m.type(), text.slice(0, 400));
        return;
      }
      if (expected().some((re) => re.test(text))) return;
      errors.push(`${label}: ${text}`);
    });
    return page;
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

// Starts vigil-fakecam on a free port: { proc, rtsp } (rtsp://127.0.0.1:PORT),
// and with --onvif, onvif: its device service URL.
export async function startFakecam(args) {
  const fport = await freePort();
  const proc = spawn(FAKECAM_BIN, ['--port', String(fport), ...args],
                     { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { out += d; if (out.includes('serving rtsp://')) resolve(); });
    proc.on('exit', (c) => reject(new Error('fakecam exited ' + c)));
  });
  const onvif = /vigil-fakecam: onvif (\S+)/.exec(out)?.[1] || null;
  return { proc, rtsp: `rtsp://127.0.0.1:${fport}`, onvif };
}

// options.camera (default true): add fakecam's cam1 as camera "cam" and wait
// until it streams; false leaves vigil without cameras (env.cam is null).
export async function startAll(fakecamArgs = ['--scene', 'motion:0'], { camera = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ui-'));
  const { proc: fakecam, rtsp } = await startFakecam(fakecamArgs);
  const port = await freePort();
  const log = openSync(join(dir, 'vigil.log'), 'a');
  const vigil = spawn(VIGIL_BIN, ['--data-dir', dir, '--listen', `127.0.0.1:${port}`],
                      { stdio: ['ignore', log, log],
                        env: { ...process.env, VIGIL_ADMIN_PASSWORD: PASSWORD } });
  const base = `http://127.0.0.1:${port}`;
  const auth = 'Basic ' + Buffer.from('admin:' + PASSWORD).toString('base64');
  const api = (method, path, body) => fetch(base + path, {
    method, headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined });
  await waitFor(async () => (await fetch(base + '/api/v1/health')).ok, 15000, 'vigil');
  const stop = () => {
    vigil.kill('SIGTERM');
    fakecam.kill('SIGTERM');
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 500);
  };
  if (!camera) return { base, cam: null, api, stop, dir, vigil, rtsp };
  const r = await api('POST', '/api/v1/cameras',
                      { name: 'cam', source: `${rtsp}/cam1` });
  if (r.status !== 201) throw new Error('camera create: ' + r.status);
  const cam = (await r.json()).id;
  await waitFor(async () => (await (await api('GET', `/api/v1/cameras/${cam}`)).json())
    .status.state === 'streaming', 30000, 'camera streaming');
  return { base, cam, api, stop, dir, vigil, rtsp };
}

// options.credentials (default true): answer Basic challenges as admin. The
// web UI's tests pass false and log in through the form.
export async function launchBrowser({ credentials = true, viewport } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--autoplay-policy=no-user-gesture-required'],
    httpCredentials: credentials ? { username: 'admin', password: PASSWORD } : undefined,
    viewport: viewport || { width: 1280, height: 720 },
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

// Logs @context in as @user through POST /api/v1/session: the session cookie
// then goes with the pages' requests, as after the login form.
export async function loginContext(context, base, user = 'admin', password = PASSWORD) {
  const r = await context.request.post(`${base}/api/v1/session`,
                                       { data: { username: user, password } });
  if (r.status() !== 200) throw new Error(`login as ${user}: ${r.status()}`);
  return r.json();
}

// Opens /live/{cam} (logged in as admin) and resolves with the ms from
// navigation to the first painted frame.
export async function openLive(page, base, cam) {
  await loginContext(page.context(), base);
  const t0 = Date.now();
  await page.goto(`${base}/live/${cam}`);
  await page.waitForFunction(() => {
    const p = window.vigilPlayer;
    return p && p.video.readyState >= 2 && p.video.currentTime > 0 &&
      p.video.getVideoPlaybackQuality().totalVideoFrames > 0;
  }, null, { timeout: 10000, polling: 10 });
  return Date.now() - t0;
}

export const playerState = (page) => page.evaluate(() => {
  const p = window.vigilPlayer;
  const q = p.video.getVideoPlaybackQuality();
  return { t: p.video.currentTime, delay: p.delay(), frames: q.totalVideoFrames,
           dropped: q.droppedVideoFrames, w: p.video.videoWidth, h: p.video.videoHeight,
           mode: p.mode, codec: p.info.codec, skips: p.info.skips,
           reconnects: p.info.reconnects, message: p.message.textContent,
           ranges: p.video.buffered.length };
});

// Without chromium a browser test is skipped (exit 77), except in CI
// (VIGIL_CI=1, set by .ci/run), which installs it: there that is a failure.
export function requireChromium() {
  if (existsSync(process.env.CHROMIUM || '/usr/bin/chromium')) return;
  if (process.env.VIGIL_CI) {
    console.log('not ok 1 - chromium is not installed, and CI must run the browser tests');
    console.log('1..1');
    process.exit(1);
  }
  console.log('1..0 # SKIP chromium is not installed');
  process.exit(77);
}

// TAP for a browser test file: requireChromium(); gives the screenshot folder
// ($VIGIL_UI_SHOTS, default build/tests/ui/screenshots), ok(cond, what) for
// each check, and done() to print the plan and exit.
export function tapSuite() {
  requireChromium();
  const shots = process.env.VIGIL_UI_SHOTS || 'build/tests/ui/screenshots';
  mkdirSync(shots, { recursive: true });
  let n = 0, failed = 0;
  const ok = (cond, what) => {
    n++;
    if (!cond) failed++;
    console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
  };
  const done = () => {
    console.log(`1..${n}`);
    process.exit(failed ? 1 : 0);
  };
  return { shots, ok, done };
}
