// Browser test: chromium plays /live/{id} from vigil-fakecam: the first frame
// comes at once, and the player stays at the live edge (it skips forward
// rather than drifting) for 30 s (bench/live/browser.mjs watches for 10
// minutes). (That the first WebSocket message starts
// with the current GOP is checked by tests/integration/test_live.py.) SPEC's
// numbers (0.5 s to the first frame, 0.3 s behind the edge) are measured by
// bench/live/browser.mjs on a quiet machine; here the bounds are wide enough
// for a loaded 2-core CI machine and still fail on the faults they guard
// against (a player that does not start, one that falls behind and never
// catches up). The live HLS output
// plays in chromium too (natively, or through the UI's hls.js where this
// chromium has no native HLS). Prints TAP. VIGIL_UI_SECONDS changes the 30 s.
import { startAll, launchBrowser, loginContext, openLive, playerState, requireChromium, sleep }
  from './live-common.mjs';

requireChromium();

const seconds = Number(process.env.VIGIL_UI_SECONDS || 30);
const shot = process.env.VIGIL_UI_SCREENSHOT;
let n = 0, failed = 0;
const ok = (cond, what) => {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
};

const env = await startAll(['--scene', 'motion:0', '--bitrate', '2000', '--gop', '1']);
const browser = await launchBrowser();
try {
  // A fresh browser's first video page also pays for chromium's own start
  // (media and GPU processes, decoder, static files): ~0.8 s here, not vigil's
  // doing. That load is reported; SPEC's 0.5 s is checked on the next one.
  const cold = await browser.context.newPage();
  console.log(`# cold browser: first frame after ${await openLive(cold, env.base, env.cam)} ms`);
  await cold.close();
  // The median of five warm loads: one load on this shared 2-core machine
  // can be slowed by anything else running; five are not.
  const errors = [];
  const loads = [];
  let page = null;
  for (let i = 0; i < 5; i++) {
    if (page) await page.close();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    loads.push(await openLive(page, env.base, env.cam));
  }
  const ttfp = [...loads].sort((a, b) => a - b)[2];
  const s0 = await playerState(page);
  await sleep(1000);
  const s1 = await playerState(page);
  console.log(`# first frame after ${loads.join(', ')} ms (median ${ttfp}); ${JSON.stringify(s1)}`);
  ok(ttfp < 1500, `first frame at once (median of 5 loads ${ttfp} ms < 1.5 s)`);
  ok(s1.t > s0.t + 0.5 && s1.frames > s0.frames, 'video advances');
  ok(s1.w === 1280 && s1.h === 720, `resolution ${s1.w}x${s1.h}`);
  const delays = [];
  const shown = [];
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const s = await playerState(page);
    delays.push(s.delay);
    // Without a delay: "empty" when nothing is buffered, "dry" when the
    // playhead has reached the newest frame received.
    shown.push(Number.isFinite(s.delay) ? s.delay.toFixed(2) : s.ranges ? 'dry' : 'empty');
  }
  const s2 = await playerState(page);
  console.log(`# after ${seconds} s: ${JSON.stringify(s2)}`);
  console.log(`# delays: ${shown.join(' ')}`);
  ok(s2.t > s1.t + seconds * 0.9, `played ${(s2.t - s1.t).toFixed(1)} s in ${seconds} s`);
  ok(s2.delay < 1.0, `behind the live edge by ${s2.delay.toFixed(3)} s at the end (< 1 s)`);
  const sorted = [...delays].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  ok(median < 0.3, `median delay ${median.toFixed(3)} s behind the live edge (< 0.3 s)`);
  const over = delays.filter((d) => !(d < 1.5)).length;
  ok(over === 0, `${over} of ${delays.length} samples 1.5 s or more behind (or nothing buffered)`);
  ok(s2.reconnects === 0, `no reconnects (${s2.reconnects})`);
  ok(errors.length === 0, `no page errors ${errors.join('; ')}`);
  if (shot) await page.screenshot({ path: shot });
  // The HLS output in a browser: recent chromium plays HLS natively, as
  // Safari does (Safari itself cannot run here).
  const hls = await browser.context.newPage();
  await hls.goto(`${env.base}/live/${env.cam}?transport=hls`);
  await hls.waitForFunction(() => window.vigilPlayer && window.vigilPlayer.mode, null,
                            { timeout: 10000 });
  const native = await hls.evaluate(() => window.vigilPlayer.mode);
  if (native === 'hls') {
    await hls.waitForFunction(() => window.vigilPlayer.video.currentTime > 1, null,
                              { timeout: 20000 });
    const h = await playerState(hls);
    ok(h.w === 1280 && h.h === 720 && h.frames > 0, `live HLS plays natively in chromium (${JSON.stringify(h)})`);
  } else {
    // No native HLS here: the same live.m3u8 through hls.js (the bundle the
    // recordings page uses), in a video element on a vigil page.
    const h = await hls.evaluate(async (cam) => {
      const { default: Hls } = await import('/static/vendor/hls.mjs');
      if (!Hls.isSupported()) return { error: 'hls.js unsupported' };
      const v = document.createElement('video');
      v.muted = true;
      document.body.append(v);
      const player = new Hls({ liveDurationInfinity: true });
      player.loadSource(`/api/v1/cameras/${cam}/live.m3u8`);
      player.attachMedia(v);
      v.play().catch(() => {});
      const end = Date.now() + 20000;
      while (Date.now() < end && !(v.currentTime > 1)) await new Promise((r) => setTimeout(r, 200));
      const q = v.getVideoPlaybackQuality();
      return { t: v.currentTime, w: v.videoWidth, h: v.videoHeight, frames: q.totalVideoFrames };
    }, env.cam);
    ok(h.t > 1 && h.w === 1280 && h.h === 720 && h.frames > 0,
       `live HLS plays in chromium through hls.js (no native HLS) (${JSON.stringify(h)})`);
  }
  await hls.close();
} catch (e) {
  ok(false, 'exception: ' + (e.stack || e));
} finally {
  await browser.close();
  env.stop();
}
// H.265: chromium either decodes it through MSE (hvc1 supported) or says
// plainly that it cannot; it must never sit on a black picture silently.
const env265 = await startAll(['--codec', 'h265', '--size', '640x360', '--gop', '1']);
const browser265 = await launchBrowser();
await loginContext(browser265.context, env265.base);
try {
  const page = await browser265.context.newPage();
  await page.goto(`${env265.base}/live/${env265.cam}`);
  const hevc = await page.evaluate(() => MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L93.B0"'));
  if (hevc) {
    await page.waitForFunction(() => window.vigilPlayer.video.currentTime > 0.5, null, { timeout: 10000 });
    ok(true, 'H.265 plays through MSE');
  } else {
    await page.waitForFunction(() => window.vigilPlayer.message.textContent.length > 0, null,
                               { timeout: 10000 });
    const st = await playerState(page);
    ok(/cannot decode H\.265/.test(st.message) && st.mode === 'none',
       `H.265 without decoder: "${st.message}"`);
  }
} catch (e) {
  ok(false, 'H.265 exception: ' + (e.stack || e));
} finally {
  await browser265.close();
  env265.stop();
}

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
