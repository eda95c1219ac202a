// bench/soak browser viewer: one headless chromium page on /live/{cam},
// logged in like the UI tests (tests/ui/live-common.mjs), printing one JSON
// line every 5 s: {"t": unix s, "delay": s behind the live edge (the player's
// own figure), "frames", "dropped", "reconnects"}. The page keeps running
// across vigil restarts (the player reconnects by itself); run.py restarts
// this process if it dies.
//
//   node bench/soak/browser.mjs BASE_URL CAMERA PASSWORD
import { launchBrowser, loginContext, playerState, sleep } from '../../tests/ui/live-common.mjs';

const [base, cam, password] = process.argv.slice(2);
const browser = await launchBrowser({ credentials: false });
try {
  const page = await browser.context.newPage();
  await loginContext(page.context(), base, 'admin', password);
  await page.goto(`${base}/live/${cam}`);
  for (;;) {
    await sleep(5000);
    try {
      const s = await playerState(page);
      console.log(JSON.stringify({ t: Date.now() / 1000, delay: s.delay, frames: s.frames,
                                   dropped: s.dropped, reconnects: s.reconnects }));
    } catch (e) {
      console.log(JSON.stringify({ t: Date.now() / 1000, error: String(e).slice(0, 200) }));
      // Chromium gone: exit, run.py starts a new one.
      if (String(e).includes('has been closed')) process.exit(1);
      // The session may be gone after a vigil restart: log in again.
      try {
        await loginContext(page.context(), base, 'admin', password);
        await page.goto(`${base}/live/${cam}`);
      } catch (_) { /* next round */ }
    }
  }
} finally {
  await browser.close();
}
