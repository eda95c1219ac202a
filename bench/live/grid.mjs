// bench/live grid: a 4x4 grid of dual-stream cameras in chromium (issue 14).
// 16 vigil-fakecam cameras, each a 1280x720 main stream and its 640x360
// /camN_sub; vigil gets them as source + sub_source. The grid page (/) opens
// one live player per camera on the sub stream. Measured, in one run:
//   - per tile, navigation start -> first video frame painted
//     (requestVideoFrameCallback, hooked before the page's scripts run), and
//     the grid page's own marks (session checked, camera list in, tiles made);
//   - per tile, navigation start -> its poster (the sub stream's latest
//     keyframe as a JPEG) painted (Element Timing), and the first picture of
//     either kind;
//   - the bytes the tab received over VIGIL_BENCH_WINDOW s (default 20), from
//     vigil's own counter vigil_live_bytes_sent_total{kind="ws"}, next to 16x
//     the sub streams' measured bitrate (status.sub.bitrate_kbps) and 16x the
//     main streams';
//   - the CPU time of chromium's renderer and GPU processes over the same
//     window (CDP SystemInfo.getProcessInfo), in % of one core.
// The first load is a fresh browser profile with the session cookie already
// set (caches empty, no login page: a user whose browser dropped its cache).
// VIGIL_BENCH_FIRST=login makes it a new user's first visit instead: the
// fresh profile opens /, is sent to /login, logs in through the form and is
// sent back to /; the figures are the grid's, from that last navigation.
//
//   VIGIL_BIN=build/src/vigil FAKECAM_BIN=build/tools/fakecam/vigil-fakecam \
//     node bench/live/grid.mjs
import { launchBrowser, loginContext, sleep, waitFor, freePort, PASSWORD } from '../../tests/ui/live-common.mjs';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.env.VIGIL_BENCH_CAMERAS || 16);
const WINDOW_S = Number(process.env.VIGIL_BENCH_WINDOW || 20);
const VIGIL_BIN = process.env.VIGIL_BIN || 'build/src/vigil';
const FAKECAM_BIN = process.env.FAKECAM_BIN || 'build/tools/fakecam/vigil-fakecam';
const q = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

const dir = mkdtempSync(join(tmpdir(), 'vigil-grid-'));
const fport = await freePort();
const fakecam = spawn(FAKECAM_BIN, ['--port', String(fport), '--cameras', String(N), '--size', '1280x720',
                                    '--fps', '25', '--gop', '1', '--bitrate', '2000', '--sub-size', '640x360',
                                    '--sub-bitrate', '500', '--scene', 'motion:0'],
                      { stdio: ['ignore', 'pipe', 'ignore'] });
await new Promise((resolve, reject) => {
  let out = '';
  fakecam.stdout.on('data', (d) => { out += d; if (out.includes(`cam${N}_sub`)) resolve(); });
  fakecam.on('exit', (c) => reject(new Error('fakecam exited ' + c)));
});
const port = await freePort();
const log = openSync(join(dir, 'vigil.log'), 'a');
const vigil = spawn(VIGIL_BIN, ['--data-dir', dir, '--listen', `127.0.0.1:${port}`],
                    { stdio: ['ignore', log, log], env: { ...process.env, VIGIL_ADMIN_PASSWORD: PASSWORD } });
const base = `http://127.0.0.1:${port}`;
const auth = 'Basic ' + Buffer.from('admin:' + PASSWORD).toString('base64');
const api = async (method, path, body) => {
  const r = await fetch(base + path, { method, headers: { Authorization: auth, 'Content-Type': 'application/json' },
                                       body: body ? JSON.stringify(body) : undefined });
  return path === '/metrics' ? r.text() : r.json();
};
let browser;
try {
  await waitFor(async () => (await fetch(base + '/api/v1/health')).ok, 15000, 'vigil');
  const rtsp = `rtsp://127.0.0.1:${fport}`;
  for (let i = 1; i <= N; i++)
    await api('POST', '/api/v1/cameras', { id: `c${i}`, name: `Camera ${i}`, source: `${rtsp}/cam${i}`,
                                           sub_source: `${rtsp}/cam${i}_sub`, record: 'off',
                                           motion: { enabled: false } });
  const cams = await waitFor(async () => {
    const list = await api('GET', '/api/v1/cameras');
    return list.every((c) => c.status.state === 'streaming' && c.status.sub?.state === 'streaming' &&
                             c.status.sub.bitrate_kbps && c.status.bitrate_kbps) ? list : null;
  }, 60000, 'all cameras and sub streams streaming');
  const subKbps = cams.reduce((a, c) => a + c.status.sub.bitrate_kbps, 0);
  const mainKbps = cams.reduce((a, c) => a + c.status.bitrate_kbps, 0);

  const viaLogin = process.env.VIGIL_BENCH_FIRST === 'login';
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 }, credentials: !viaLogin });
  const page = await browser.context.newPage();
  if (!viaLogin) await loginContext(browser.context, base);
  // Before any script of the page: note when each <video> paints its first frame.
  await page.addInitScript(() => {
    window.firstFrames = [];
    window.wsOpened = [];
    window.wsFirstData = [];
    window.videoLoaded = [];
    window.framesBy = {};    // camera id -> first video frame painted
    window.postersBy = {};   // camera id -> poster painted
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.identifier.startsWith('poster '))
          window.postersBy[e.identifier.slice(7)] ??= e.renderTime || e.loadTime;
      }
    }).observe({ type: 'element', buffered: true });
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.wsOpened.push(performance.now());
        this.addEventListener('message', () => window.wsFirstData.push(performance.now()), { once: true });
      }
    };
    const seen = new WeakSet();
    const hook = (v) => {
      if (seen.has(v)) return;
      seen.add(v);
      v.requestVideoFrameCallback(() => {
        const now = performance.now();
        window.firstFrames.push(now);
        const id = v.closest('[data-camera]')?.dataset.camera;
        if (id) window.framesBy[id] ??= now;
      });
      v.addEventListener('loadeddata', () => window.videoLoaded.push(performance.now()), { once: true });
    };
    new MutationObserver(() => document.querySelectorAll('video').forEach(hook))
      .observe(document, { childList: true, subtree: true });
  });
  const wsUrls = [];
  page.on('websocket', (ws) => wsUrls.push(ws.url()));
  // VIGIL_BENCH_PROFILE=1: the page's main thread sampled (CDP Profiler)
  // from navigation to the last first frame, self time by function.
  const prof = process.env.VIGIL_BENCH_PROFILE ? await page.context().newCDPSession(page) : null;
  if (prof) {
    await prof.send('Profiler.enable');
    await prof.send('Profiler.setSamplingInterval', { interval: 500 });
    await prof.send('Profiler.start');
  }
  // VIGIL_BENCH_LOADS=k: open the grid k times in the same browser (via
  // about:blank), a returning user's warm caches after the first; each load's
  // per-tile figures are printed, the details below are the last load's.
  const LOADS = Number(process.env.VIGIL_BENCH_LOADS || 1);
  // Per tile: its poster's paint and the first picture of either kind.
  const firstPictures = (pg) => pg.evaluate(() => {
    const ids = [...document.querySelectorAll('[data-camera]')].map((t) => t.dataset.camera);
    return { posters: ids.map((id) => window.postersBy[id]).filter((t) => t !== undefined),
             first: ids.map((id) => Math.min(window.postersBy[id] ?? Infinity, window.framesBy[id] ?? Infinity)) };
  });
  const span0 = (a) => `median ${q(a, 0.5).toFixed(0)}, max ${Math.max(...a).toFixed(0)}`;
  // Opens the grid; the first time through the login form with VIGIL_BENCH_FIRST=login.
  let loggedIn = !viaLogin;
  const openGrid = async () => {
    await page.goto(`${base}/`);
    if (loggedIn) return;
    await page.waitForURL(/\/login/, { timeout: 15000 });
    await page.fill('#username', 'admin');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`, { timeout: 15000 }), page.click('button[type=submit]')]);
    loggedIn = true;
  };
  if (viaLogin) console.log('load 1: a first visit through /login (fresh profile, no cookie)');
  for (let load = 1; load < LOADS; load++) {
    await openGrid();
    await page.waitForFunction((n) => window.firstFrames.length >= n, N, { timeout: 15000 });
    const r = await page.evaluate(() => ({ ws: window.wsOpened, data: window.wsFirstData, paint: window.firstFrames }));
    const pic = await firstPictures(page);
    console.log(`load ${load}: WebSockets created ${span0(r.ws)}, first message ${span0(r.data)}, ` +
                `first frame painted ${span0(r.paint)}, posters painted ${pic.posters.length ? span0(pic.posters) : 'none'}, ` +
                `first picture ${span0(pic.first)} (ms from navigation start)`);
    await page.goto('about:blank');
    await sleep(2000);
  }
  await openGrid();
  await page.waitForFunction((n) => window.firstFrames.length >= n, N, { timeout: 15000 });
  if (prof) {
    const { profile } = await prof.send('Profiler.stop');
    const self = new Map();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = profile.timeDeltas;
    profile.samples.forEach((id, i) => {
      const f = byId.get(id).callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\//, '')}:${f.lineNumber}`;
      self.set(key, (self.get(key) || 0) + (dt[i + 1] || 0) / 1000);
    });
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`main thread profile, ${total.toFixed(0)} ms sampled; self time, top 25:`);
    for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
      console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${k}`);
  }
  const painted = await page.evaluate(() => window.firstFrames);
  const opened = await page.evaluate(() => window.wsOpened);
  const firstData = await page.evaluate(() => window.wsFirstData);
  const loaded = await page.evaluate(() => window.videoLoaded);
  const timing = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('vigil:'))
      .map((m) => `${m.name.slice(6)} ${m.startTime.toFixed(0)}`);
    // What the page fetched before its players (scripts, styles, API calls):
    // name, start and end in ms from navigation start.
    const fetched = performance.getEntriesByType('resource')
      .filter((r) => !/\/live(\?|$)/.test(r.name) && r.startTime < 3000)
      .map((r) => `${new URL(r.name).pathname.replace(/^.*\//, '')} ${r.startTime.toFixed(0)}-${r.responseEnd.toFixed(0)}`);
    return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, marks, fetched,
             html: `${n.requestStart.toFixed(0)}-${n.responseEnd.toFixed(0)}` };
  });
  const subWs = wsUrls.filter((u) => u.includes('stream=sub')).length;

  const cdp = await browser.context.browser()?.newBrowserCDPSession?.();
  const procCpu = async () => {
    if (!cdp) return null;
    const info = await cdp.send('SystemInfo.getProcessInfo');
    return info.processInfo.filter((p) => p.type !== 'browser').reduce((a, p) => a + p.cpuTime, 0);
  };
  const bytes = async () => {
    const text = await api('GET', '/metrics');
    let sum = 0;
    for (const m of text.matchAll(/^vigil_live_bytes_sent_total\{camera="[^"]*",transport="ws"\} (\d+)/gm))
      sum += Number(m[1]);
    return sum;
  };
  await sleep(3000);
  const b0 = await bytes(), c0 = await procCpu(), t0 = Date.now();
  await sleep(WINDOW_S * 1000);
  const b1 = await bytes(), c1 = await procCpu(), t1 = Date.now();
  const secs = (t1 - t0) / 1000;
  const kbps = (b1 - b0) * 8 / 1000 / secs;
  const quality = await page.evaluate(() => [...document.querySelectorAll('video')].map((v) => {
    const pq = v.getVideoPlaybackQuality();
    return { w: v.videoWidth, h: v.videoHeight, frames: pq.totalVideoFrames, dropped: pq.droppedVideoFrames };
  }));
  console.log(`grid of ${N} dual-stream cameras, chromium ${browser.context.browser()?.version() ?? ''}`);
  console.log(`WebSockets opened: ${wsUrls.length}, with stream=sub: ${subWs}`);
  console.log(`page: DOMContentLoaded ${timing.dcl.toFixed(0)} ms, load ${timing.load.toFixed(0)} ms; ` +
              `WebSockets created (ms from navigation start): first ${Math.min(...opened).toFixed(0)}, ` +
              `last ${Math.max(...opened).toFixed(0)}`);
  console.log(`grid page marks (ms from navigation start): ${timing.marks.join(', ') || 'none'}`);
  console.log(`fetched (ms from navigation start): page ${timing.html}, ${timing.fetched.join(', ')}`);
  const span = (a) => a.length ? `median ${q(a, 0.5).toFixed(0)}, max ${Math.max(...a).toFixed(0)}` : 'none';
  console.log(`per tile (ms from navigation start): WebSocket's first message ${span(firstData)}; ` +
              `video loadeddata ${span(loaded)}`);
  console.log(`first frame painted per tile (ms from navigation start): median ${q(painted, 0.5).toFixed(0)}, ` +
              `max ${Math.max(...painted).toFixed(0)}, all < 1000: ${painted.every((t) => t < 1000)}`);
  const pic = await firstPictures(page);
  console.log(`poster painted per tile (ms from navigation start): ${pic.posters.length} of ${N}` +
              (pic.posters.length ? `, ${span(pic.posters)}` : ''));
  console.log(`first picture per tile, poster or video frame (ms from navigation start): ${span(pic.first)}, ` +
              `all < 1000: ${pic.first.every((t) => t < 1000)}`);
  console.log(`video sizes in the tiles: ${[...new Set(quality.map((x) => `${x.w}x${x.h}`))].join(', ')}; ` +
              `frames ${quality.reduce((a, x) => a + x.frames, 0)}, dropped ${quality.reduce((a, x) => a + x.dropped, 0)}`);
  console.log(`tab received ${kbps.toFixed(0)} kbit/s over ${secs.toFixed(0)} s; sum of the sub streams ` +
              `${subKbps} kbit/s (ratio ${(kbps / subKbps).toFixed(2)}), of the main streams ${mainKbps} kbit/s`);
  if (c0 !== null)
    console.log(`chromium renderer+GPU+utility CPU: ${((c1 - c0) / secs * 100).toFixed(1)} % of one core`);
} finally {
  if (browser) await browser.close();
  vigil.kill('SIGTERM');
  fakecam.kill('SIGTERM');
  setTimeout(() => rmSync(dir, { recursive: true, force: true }), 500);
}
