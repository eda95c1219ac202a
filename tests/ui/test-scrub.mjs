// Browser test of the recordings player's main and sub streams
// (docs/playback-and-walls.md, "Main and sub streams"), against the real
// daemon and vigil-fakecam (1280×720 main streams, 640×360 sub streams at
// camN_sub). Both cameras record continuously for about 20 s; "dual" with
// record_stream "both", "plain" without a sub stream.
// - "dual" at 1x plays main and asks for nothing of the sub stream; at 8x the
//   player loads the sub playlist (stream=sub requests) and shows 640-px
//   video; back at 1x it plays main (1280 px) at the same wall-clock time
//   (within a GOP); paused at 8x it shows main at the paused frame; dragging
//   the position slider, or the playhead on the day's timeline, plays sub
//   while held and main where it is let go;
//   the picture never goes black during the switches (sampled every 50 ms);
// - the stream badge and the Auto / Main / Sub choice; Main holds main at 8x;
// - "plain" (no sub stream) never requests stream=sub, shows neither;
// - a wall of both recordings: the small "dual" tile plays sub, enlarged
//   main (its effect following the new <video>), sub again after Escape;
// - screenshots at 1280 and 375 px; no console or page errors. Prints TAP.
import { startAll, launchBrowser, loginContext, sleep, tapSuite, waitFor, watchErrors } from './live-common.mjs';

const { shots, ok, done } = tapSuite();

const errors = [];
const watch = watchErrors(errors);
// Every request a page makes under /api/v1/recordings: { url, at }.
function requests(page) {
  const list = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/recordings/')) list.push({ url: r.url(), at: Date.now() }); });
  return list;
}
const isSub = (u) => new URL(u).searchParams.get('stream') === 'sub';

// The player's state (window.vigilPlayback).
const pstate = (page) => page.evaluate(() => {
  const p = window.vigilPlayback;
  const v = p.video;
  return { stream: p.stream, pending: p.pendingStream, w: v.videoWidth, t: v.currentTime,
           clock: p.wallClock(), paused: v.paused, ended: v.ended, rate: v.playbackRate,
           videos: document.querySelectorAll('.pb-stage video').length,
           badge: document.querySelector('.pb-stream').hidden ? null : document.querySelector('.pb-stream').textContent,
           quality: document.querySelector('.pb-quality-label').hidden ? null : document.querySelector('.pb-quality').value };
});
const settled = (page, stream) => page.waitForFunction((s) => {
  const p = window.vigilPlayback;
  return p.stream === s && !p.pendingStream && p.video.readyState >= 2;
}, stream, { timeout: 15000 });

// In the page: every 50 ms the picture on top (the last <video> of the
// stage), drawn to a canvas (mean brightness), and the wall clock.
const startSampler = (page) => page.evaluate(() => {
  const canvas = document.createElement('canvas');
  canvas.width = 16;
  canvas.height = 9;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const samples = [];
  window.vigilSamples = samples;
  window.vigilSampler = setInterval(() => {
    const vs = document.querySelectorAll('.pb-stage video');
    const v = vs[vs.length - 1];
    let light = -1;
    try {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, 16, 9);
      ctx.drawImage(v, 0, 0, 16, 9);
      const d = ctx.getImageData(0, 0, 16, 9).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
      light = sum / (d.length / 4) / 3;
    } catch { /* not drawable */ }
    samples.push({ rs: v.readyState, w: v.videoWidth, light, seeking: v.seeking, videos: vs.length,
                   stream: window.vigilPlayback.stream, clock: Math.round(window.vigilPlayback.wallClock()),
                   at: Math.round(performance.now()) });
  }, 50);
});
const stopSampler = (page) => page.evaluate(() => {
  clearInterval(window.vigilSampler);
  return window.vigilSamples;
});
// No picture: nothing drawn, or no current frame (a seeking video keeps
// showing its last frame).
const blank = (s) => s.light < 8 || (s.rs < 2 && !s.seeking);
const summary = (samples) => `${samples.length} samples, widths ${[...new Set(samples.map((s) => s.w))].join('/')}, ` +
  `darkest ${Math.min(...samples.map((s) => s.light)).toFixed(0)}, at most ${Math.max(...samples.map((s) => s.videos))} videos`;

const GOP_MS = 1000;
const fakecam = ['--size', '1280x720', '--fps', '15', '--gop', '1', '--bitrate', '1500', '--scene', 'motion:0'];
const env = await startAll(['--cameras', '2', ...fakecam, '--sub-size', '640x360', '--sub-bitrate', '400'],
                           { camera: false });
const browser = await launchBrowser({ credentials: false });
const t0 = Date.now();
try {
  // --- two cameras recording continuously for about 20 s ---
  let r = await env.api('POST', '/api/v1/cameras', { id: 'dual', name: 'Dual', source: `${env.rtsp}/cam1`,
    sub_source: `${env.rtsp}/cam1_sub`, record: 'continuous', record_stream: 'both' });
  ok(r.status === 201, `camera "dual" (record_stream both) added (${r.status})`);
  r = await env.api('POST', '/api/v1/cameras', { id: 'plain', name: 'Plain', source: `${env.rtsp}/cam2`,
    record: 'continuous' });
  ok(r.status === 201, `camera "plain" (no sub stream) added (${r.status})`);
  await waitFor(async () => {
    const c = await (await env.api('GET', '/api/v1/cameras/dual')).json();
    return c.status.state === 'streaming' && c.status.sub && c.status.sub.state === 'streaming';
  }, 30000, 'both streams of "dual"');
  await sleep(21000);
  for (const id of ['dual', 'plain']) await env.api('PATCH', `/api/v1/cameras/${id}`, { record: 'off' });
  const recOf = (id) => waitFor(async () => {
    const list = await (await env.api('GET', `/api/v1/recordings?camera=${id}`)).json();
    const rec = list.sort((a, b) => b.duration_s - a.duration_s)[0];
    if (!rec || rec.duration_s < 15) return null;
    for (const u of [rec.playlist, rec.sub_playlist].filter(Boolean)) {
      if (!(await (await env.api('GET', u)).text()).includes('#EXT-X-ENDLIST')) return null;
    }
    return rec;
  }, 20000, `the closed recording of ${id}`);
  const dual = await recOf('dual'), plain = await recOf('plain');
  ok(dual.sub_playlist === `/api/v1/recordings/${dual.id}/playlist.m3u8?stream=sub` && plain.sub_playlist === null,
     `"dual" has a sub playlist (${dual.sub_playlist}), "plain" none (${dual.duration_s} s, ${plain.duration_s} s)`);
  const dualStart = Date.parse(dual.start);

  await loginContext(browser.context, env.base);
  const page = watch(await browser.context.newPage(), 'desktop');
  const reqs = requests(page);

  // --- 1x: main only ---
  await page.goto(`${env.base}/recordings?camera=dual&t=${encodeURIComponent(new Date(dualStart + 500).toISOString())}`);
  await page.waitForFunction(() => {
    const p = window.vigilPlayback;
    return p && p.recording && p.video.readyState >= 2 && p.video.currentTime > 0.3;
  }, null, { timeout: 15000 });
  await sleep(500);
  let st = await pstate(page);
  ok(st.stream === 'main' && st.w === 1280 && !reqs.some((x) => isSub(x.url)),
     `at 1x the player plays main (${st.w} px) and asks for nothing of the sub stream (${reqs.length} requests)`);
  ok(st.badge && /^main 1280×720/.test(st.badge) && st.quality === 'auto',
     `the badge says "${st.badge}", the stream choice is ${st.quality}`);

  // --- 8x: sub ---
  await startSampler(page);
  let at = Date.now();
  await page.selectOption('.pb-speed', '8');
  await settled(page, 'sub');
  const subMs = Date.now() - at;
  st = await pstate(page);
  const subReqs = reqs.filter((x) => isSub(x.url));
  ok(subReqs.some((x) => /\/playlist\.m3u8\?stream=sub$/.test(x.url)) &&
     subReqs.some((x) => /\/segments\/\d{6}\.ts\?stream=sub$/.test(x.url)),
     `at 8x the player loads the sub playlist and its segments (${subReqs.length} requests, swap after ${subMs} ms)`);
  ok(st.w === 640 && st.rate === 8 && /^sub 640×360/.test(st.badge), `8x shows the sub stream: ${st.w} px at ${st.rate}x, badge "${st.badge}"`);
  await sleep(500);
  const st8 = await pstate(page);
  ok(!st8.paused && st8.clock - st.clock > 2000,
     `the sub stream plays fast (${((st8.clock - st.clock) / 1000).toFixed(1)} s of video in 0.5 s)`);
  // Shot with the controls in view.
  await page.evaluate(() => document.querySelector('.pb-controls').scrollIntoView({ block: 'end' }));
  await page.screenshot({ path: `${shots}/scrub-8x.png` });

  // --- back to 1x: main at the same time ---
  at = Date.now();
  await page.selectOption('.pb-speed', '1');
  const before = await pstate(page);
  const atBefore = Date.now();
  await settled(page, 'main');
  const after = await pstate(page);
  const expected = before.clock + (Date.now() - atBefore);
  ok(after.w === 1280 && !after.paused && Math.abs(after.clock - expected) <= GOP_MS,
     `back at 1x the player plays main (${after.w} px) at the same time: ${after.clock - dualStart} ms into the ` +
     `recording, expected ${expected - dualStart} (${after.clock - expected} ms off, swap after ${Date.now() - at} ms)`);
  await sleep(500);
  let samples = await stopSampler(page);
  let gaps = samples.filter(blank);
  ok(samples.some((s) => s.stream === 'sub') && samples.at(-1).stream === 'main' && gaps.length === 0,
     `no sample without a picture through main → sub → main (${gaps.length} blank; ${summary(samples)}` +
     `${gaps.length ? ': ' + JSON.stringify(gaps.slice(0, 5)) : ''})`);
  // The picture's time only moves forward (no jump back at a switch), and
  // never jumps more than a GOP beyond the speed.
  const jumps = samples.slice(1).map((s, i) => ({ d: s.clock - samples[i].clock, dt: s.at - samples[i].at, s }))
    .filter((j) => j.d < -GOP_MS || j.d > 8 * j.dt + GOP_MS);
  ok(jumps.length === 0, `the wall clock runs on across both switches${jumps.length ? ': ' + JSON.stringify(jumps) : ''}`);

  // --- paused at 8x: main at the paused frame ---
  await page.evaluate((ms) => window.vigilPlayback.seekToWallClock(ms), dualStart + 2000);
  await page.selectOption('.pb-speed', '8');
  await settled(page, 'sub');
  await startSampler(page);
  await page.click('.pb-play');
  const pausedAt = (await pstate(page)).clock;
  await settled(page, 'main');
  await sleep(300);
  st = await pstate(page);
  samples = await stopSampler(page);
  gaps = samples.filter(blank);
  ok(st.paused && st.w === 1280 && Math.abs(st.clock - pausedAt) <= 250 && gaps.length === 0,
     `paused at 8x the player shows main (${st.w} px) at the paused frame (${st.clock - pausedAt} ms off; ` +
     `${gaps.length} blank of ${samples.length})`);
  await page.screenshot({ path: `${shots}/scrub-paused.png` });

  // --- dragging the position slider: sub while held, main where let go ---
  const slider = await page.locator('.pb-seek').boundingBox();
  const y = slider.y + slider.height / 2;
  const reqsBefore = reqs.filter((x) => isSub(x.url)).length;
  await page.mouse.move(slider.x + slider.width * 0.2, y);
  await page.mouse.down();
  for (let i = 1; i <= 15; i++) {
    await page.mouse.move(slider.x + slider.width * (0.2 + 0.03 * i), y);
    await sleep(100);
  }
  const held = await page.waitForFunction(() => window.vigilPlayback.stream === 'sub', null, { timeout: 10000 })
    .then(() => true, () => false);
  await sleep(300);
  st = await pstate(page);
  const heldClock = await page.evaluate(() => Number(document.querySelector('.pb-clock').dataset.wallclock));
  const sliderMs = dualStart + 1000 * await page.evaluate(() => Number(document.querySelector('.pb-seek').value));
  ok(held && st.w === 640 && Math.abs(st.clock - sliderMs) <= 500 && reqs.filter((x) => isSub(x.url)).length > reqsBefore,
     `dragging the slider shows the sub stream (${st.w} px) at the slider's time (${st.clock - sliderMs} ms off, clock ${heldClock - dualStart} ms)`);
  await startSampler(page);
  await page.mouse.up();
  await settled(page, 'main');
  await sleep(300);
  st = await pstate(page);
  samples = await stopSampler(page);
  gaps = samples.filter(blank);
  ok(st.paused && st.w === 1280 && Math.abs(st.clock - sliderMs) <= 250 && gaps.length === 0,
     `let go, the player shows main (${st.w} px) where the slider is (${st.clock - sliderMs} ms off; ` +
     `${gaps.length} blank of ${samples.length})`);

  // --- dragging the playhead on the day's timeline, while playing at 1x ---
  await page.selectOption('.pb-speed', '1');
  await page.click('.pb-play');
  for (let i = 0; i < 8; i++) await page.click('#zoom-in');   // 15 min across
  await page.evaluate(() => document.querySelector('.tl-cursor').scrollIntoView({ inline: 'center', block: 'center' }));
  await sleep(300);
  const cur = await page.locator('.tl-cursor').boundingBox();
  const block = await page.locator(`.tl-block[data-id="${dual.id}"]`).boundingBox();
  const cy = cur.y + cur.height / 2;
  const subBefore = reqs.filter((x) => isSub(x.url)).length;
  await page.mouse.move(cur.x + 1, cy);
  await page.mouse.down();
  const x0 = cur.x + 1, x1 = block.x + block.width * 0.25;
  for (let i = 1; i <= 12; i++) {
    await page.mouse.move(x0 + ((x1 - x0) * i) / 12, cy);
    await sleep(100);
  }
  const tlHeld = await page.waitForFunction(() => window.vigilPlayback.stream === 'sub', null, { timeout: 10000 })
    .then(() => true, () => false);
  st = await pstate(page);
  const cursorMs = await page.evaluate(() => window.vigilPlayback.scrubMs);
  ok(tlHeld && st.w === 640 && st.paused && Math.abs(st.clock - cursorMs) <= 500 &&
     reqs.filter((x) => isSub(x.url)).length > subBefore,
     `dragging the playhead on the timeline shows the sub stream (${st.w} px) at the playhead's time ` +
     `(${st.clock - cursorMs} ms off, ${cursorMs - dualStart} ms into the recording)`);
  await page.screenshot({ path: `${shots}/scrub-timeline.png` });
  at = Date.now();
  await page.mouse.up();
  await settled(page, 'main');
  st = await pstate(page);
  ok(!st.paused && st.w === 1280 && Math.abs(st.clock - cursorMs - (Date.now() - at)) <= GOP_MS,
     `let go, it plays on at 1x on main (${st.w} px) from there (${st.clock - cursorMs} ms after the playhead's time, ` +
     `${Date.now() - at} ms later)`);

  // --- the stream choice: Main holds main at 8x; Sub plays sub at 1x ---
  await page.selectOption('.pb-quality', 'main');
  await page.evaluate((ms) => window.vigilPlayback.seekToWallClock(ms), dualStart + 2000);
  await page.selectOption('.pb-speed', '8');
  await sleep(1000);
  st = await pstate(page);
  ok(st.stream === 'main' && !st.pending && st.rate === 8 && st.w === 1280,
     `with "Main" chosen 8x stays on main (${st.stream}, ${st.w} px)`);
  await page.selectOption('.pb-speed', '1');
  await page.evaluate((ms) => window.vigilPlayback.seekToWallClock(ms), dualStart + 3000);
  await page.selectOption('.pb-quality', 'sub');
  await settled(page, 'sub');
  st = await pstate(page);
  ok(st.w === 640 && st.rate === 1, `with "Sub" chosen 1x plays sub (${st.w} px)`);
  await page.reload();
  await page.waitForFunction(() => window.vigilPlayback?.recording && window.vigilPlayback.video.readyState >= 2,
                             null, { timeout: 15000 });
  st = await pstate(page);
  ok(st.quality === 'sub' && st.stream === 'sub', `the choice is kept across a reload (${st.quality}, ${st.stream})`);
  await page.selectOption('.pb-quality', 'auto');
  await settled(page, 'main');
  ok(true, 'Auto at 1x: main again');

  // --- 375 px ---
  await page.setViewportSize({ width: 375, height: 800 });
  await page.selectOption('.pb-speed', '8');
  await settled(page, 'sub').catch(() => {});
  await sleep(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  ok(overflow <= 1, `the player with its stream choice fits 375 px (overflow ${overflow} px)`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/scrub-375.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.selectOption('.pb-speed', '1');

  // --- a recording without a sub stream ---
  reqs.length = 0;
  await page.goto(`${env.base}/recordings?camera=plain&t=${encodeURIComponent(new Date(Date.parse(plain.start) + 500).toISOString())}`);
  await page.waitForFunction(() => window.vigilPlayback?.recording && window.vigilPlayback.video.currentTime > 0.3,
                             null, { timeout: 15000 });
  await page.selectOption('.pb-speed', '8');
  await sleep(800);
  await page.click('.pb-play');
  const ps = await page.locator('.pb-seek').boundingBox();
  await page.mouse.move(ps.x + ps.width * 0.3, ps.y + ps.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) {
    await page.mouse.move(ps.x + ps.width * (0.3 + 0.04 * i), ps.y + ps.height / 2);
    await sleep(80);
  }
  await page.mouse.up();
  await sleep(800);
  st = await pstate(page);
  ok(!reqs.some((x) => isSub(x.url)) && reqs.some((x) => /\/segments\//.test(x.url)),
     `a recording without a sub stream never asks for stream=sub (${reqs.length} requests)`);
  ok(st.stream === 'main' && st.videos === 1 && st.badge === null && st.quality === null && st.w === 1280,
     `it shows no badge and no stream choice, one <video> (${st.videos}), ${st.w} px`);
  await page.screenshot({ path: `${shots}/scrub-plain.png` });

  // --- a wall of the two recordings: the small tile plays the sub stream,
  // enlarged the main one (its effect following), and back on Escape ---
  const wr = await env.api('POST', '/api/v1/walls', { name: 'rec-wall', title: 'Recorded', layout: { cols: 2, rows: 1 },
    tiles: [{ x: 0, y: 0, w: 1, h: 1, source: { recording: dual.id }, effect: { name: 'sepia', params: {} } },
            { x: 1, y: 0, w: 1, h: 1, source: { recording: plain.id } }] });
  ok(wr.status === 201, `a wall of the two recordings (${wr.status})`);
  reqs.length = 0;
  await page.goto(`${env.base}/wall/rec-wall?kiosk=0`);
  const wallState = () => page.evaluate(() => window.vigilWall.tiles.map((t) => ({
    stream: t.player.stream, pending: t.player.pendingStream, w: t.video.videoWidth, t: t.video.currentTime,
    fx: t.view ? t.view.video === t.video : null, enlarged: t.container.parentElement.classList.contains('enlarged'),
    badge: !t.container.querySelector('.pb-stream').hidden })));
  const wallSettled = (stream) => page.waitForFunction((s) => {
    const t = window.vigilWall?.tiles[0];
    return t && t.player && t.player.stream === s && !t.player.pendingStream && t.video.readyState >= 2 &&
      t.video.currentTime > 0.3 && (!t.view || t.view.video === t.video);
  }, stream, { timeout: 20000 });
  await wallSettled('sub');
  // The plain tile starts on its own: wait for its picture too.
  await page.waitForFunction(() => window.vigilWall.tiles[1]?.video.videoWidth > 0, null,
                             { timeout: 20000 });
  let ws = await wallState();
  ok(ws[0].stream === 'sub' && ws[0].w === 640 && ws[0].fx && !ws[0].badge && ws[1].stream === 'main' && ws[1].w === 1280,
     `the small tiles play the dual recording's sub stream (${ws[0].w} px) and the plain one's main (${ws[1].w} px), ` +
     `no badge on a wall (${reqs.filter((x) => isSub(x.url)).length} stream=sub requests)`);
  await page.click('.wall-tile[data-x="0"] .tile-zoom');
  await wallSettled('main');
  ws = await wallState();
  ok(ws[0].enlarged && ws[0].w === 1280 && ws[0].fx && reqs.some((x) => !isSub(x.url) && x.url.includes(`/${dual.id}/`)),
     `enlarged, the recorded tile plays the main stream (${ws[0].w} px) and its effect draws it`);
  await page.keyboard.press('Escape');
  await wallSettled('sub');
  ws = await wallState();
  ok(!ws[0].enlarged && ws[0].w === 640 && ws[0].fx, `Escape: back to the sub stream (${ws[0].w} px)`);
  await page.close();
} catch (e) {
  ok(false, `unexpected: ${e.stack || e}`);
  for (const [i, p] of browser.context.pages().entries()) {
    await p.screenshot({ path: `${shots}/scrub-failure-${i}.png` }).catch(() => {});
  }
} finally {
  await browser.close();
  env.stop();
}
ok(errors.length === 0, `no console or page errors${errors.length ? ':\n# ' + errors.join('\n# ') : ''}`);
console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s`);
done();
