// bench/live browser half: time to first picture in chromium (median of
// VIGIL_BENCH_RUNS=20 page loads) and the delay behind the live edge over
// VIGIL_BENCH_MINUTES (default 10) minutes, sampled every second.
//
//   VIGIL_BIN=build/src/vigil FAKECAM_BIN=build/tools/fakecam/vigil-fakecam \
//     node bench/live/browser.mjs
import { startAll, launchBrowser, openLive, playerState, sleep } from '../../tests/ui/live-common.mjs';

const runs = Number(process.env.VIGIL_BENCH_RUNS || 20);
const minutes = Number(process.env.VIGIL_BENCH_MINUTES || 10);
const q = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

const env = await startAll(['--size', '1280x720', '--fps', '25', '--gop', '1', '--bitrate', '4000',
                            '--scene', 'motion:0']);
const browser = await browser_();
async function browser_() { return launchBrowser(); }
try {
  const wall = [], painted = [];
  for (let i = 0; i < runs; i++) {
    const page = await browser.context.newPage();
    wall.push(await openLive(page, env.base, env.cam));
    // performance.now() counts from the navigation's start.
    await page.waitForFunction(() => window.vigilPlayer.firstFrameAt > 0, null, { timeout: 5000 });
    painted.push(await page.evaluate(() => window.vigilPlayer.firstFrameAt));
    await page.close();
    await sleep(300);
  }
  console.log(`time to first picture over ${runs} loads: navigation start -> first frame painted ` +
              `(requestVideoFrameCallback) median ${q(painted, 0.5).toFixed(0)} ms, ` +
              `min ${Math.min(...painted).toFixed(0)}, max ${Math.max(...painted).toFixed(0)}; ` +
              `as seen by the driver (goto -> frame) median ${q(wall, 0.5)} ms; first load ${painted[0].toFixed(0)} ms`);

  const page = await browser.context.newPage();
  await openLive(page, env.base, env.cam);
  const all = [];
  for (let m = 0; m < minutes; m++) {
    const d = [];
    for (let s = 0; s < 60; s++) {
      await sleep(1000);
      d.push((await playerState(page)).delay);
    }
    all.push(...d);
    const st = await playerState(page);
    console.log(`minute ${m + 1}: delay median ${(q(d, 0.5) * 1000).toFixed(0)} ms, ` +
                `p95 ${(q(d, 0.95) * 1000).toFixed(0)} ms, max ${(Math.max(...d) * 1000).toFixed(0)} ms; ` +
                `skips ${st.skips}, reconnects ${st.reconnects}, dropped frames ${st.dropped}/${st.frames}`);
  }
  console.log(`delay over ${minutes} min: median ${(q(all, 0.5) * 1000).toFixed(0)} ms, ` +
              `p95 ${(q(all, 0.95) * 1000).toFixed(0)} ms, max ${(Math.max(...all) * 1000).toFixed(0)} ms`);
} finally {
  await browser.close();
  env.stop();
}
