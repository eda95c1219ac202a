// Browser test: chromium plays /live/{id} from vigil-fakecam. Video must
// advance within 1 s of opening the page and stay less than 0.5 s behind the
// live edge after 60 s. Prints TAP. VIGIL_UI_SECONDS shortens the 60 s run.
import { startAll, launchBrowser, loginContext, openLive, playerState, requireChromium, sleep }
  from './live-common.mjs';

requireChromium();

const seconds = Number(process.env.VIGIL_UI_SECONDS || 60);
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
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const ttfp = await openLive(page, env.base, env.cam);
  const s0 = await playerState(page);
  await sleep(1000);
  const s1 = await playerState(page);
  console.log(`# first frame after ${ttfp} ms; ${JSON.stringify(s1)}`);
  ok(ttfp < 1000, `first frame within 1 s (${ttfp} ms)`);
  ok(s1.t > s0.t + 0.5 && s1.frames > s0.frames, 'video advances');
  ok(s1.w === 1280 && s1.h === 720, `resolution ${s1.w}x${s1.h}`);
  const delays = [];
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    delays.push((await playerState(page)).delay);
  }
  const s2 = await playerState(page);
  console.log(`# after ${seconds} s: ${JSON.stringify(s2)}`);
  console.log(`# delays: ${delays.map((d) => d.toFixed(2)).join(' ')}`);
  ok(s2.t > s1.t + seconds * 0.9, `played ${(s2.t - s1.t).toFixed(1)} s in ${seconds} s`);
  ok(s2.delay < 0.5, `behind the live edge by ${s2.delay.toFixed(3)} s (< 0.5 s)`);
  const over = delays.filter((d) => d >= 0.5).length;
  ok(over <= 2, `${over} of ${delays.length} samples 0.5 s or more behind`);
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
    ok(h.w === 1280 && h.h === 720 && h.frames > 0, `live HLS plays in chromium (${JSON.stringify(h)})`);
  } else {
    console.log('# this chromium has no native HLS: HLS browser check skipped');
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
