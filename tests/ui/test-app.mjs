// Browser test of the web UI shell and the admin's screens, against the real
// daemon and vigil-fakecam: logging in through the form (wrong password shows
// an error, the right one lands on the grid), the camera grid playing, and
// screenshots of every screen at desktop and phone (375 px) width, saved to
// $VIGIL_UI_SHOTS (default build/tests/ui/screenshots). Any console error or
// page error fails the test. Prints TAP.
import { existsSync, mkdirSync } from 'node:fs';
import { startAll, launchBrowser, sleep, PASSWORD } from './live-common.mjs';

if (!existsSync(process.env.CHROMIUM || '/usr/bin/chromium')) {
  console.log('1..0 # SKIP chromium is not installed');
  process.exit(77);
}
const shots = process.env.VIGIL_UI_SHOTS || 'build/tests/ui/screenshots';
mkdirSync(shots, { recursive: true });

let n = 0, failed = 0;
const ok = (cond, what) => {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
};

// Console errors, except the failed loads a step expects (a 401 from a wrong
// password, the first GET /api/v1/session before logging in).
const errors = [];
let expected = [];
function watch(page, label) {
  page.on('pageerror', (e) => errors.push(`${label}: page error ${e}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (expected.some((re) => re.test(text))) return;
    errors.push(`${label}: ${text}`);
  });
  return page;
}

async function shoot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

const env = await startAll(['--scene', 'motion:0', '--gop', '1'], { camera: false });
const browser = await launchBrowser({ credentials: false });
try {
  const page = watch(await browser.context.newPage(), 'desktop');
  // Not logged in: the grid sends us to /login?next=/.
  expected = [/401/];
  await page.goto(`${env.base}/?layout=x`);
  await page.waitForURL(/\/login\?next=%2F%3Flayout%3Dx$/, { timeout: 5000 });
  ok(true, 'a page without a session goes to /login?next=');
  await page.fill('#username', 'admin');
  await page.fill('#password', 'wrong-password');
  await page.click('button[type=submit]');
  await page.waitForSelector('#login-error:not([hidden])', { timeout: 5000 });
  const msg = await page.textContent('#login-error');
  ok(/wrong user name or password/i.test(msg), `wrong password shows an error (${msg})`);
  await shoot(page, 'login-error');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${env.base}/?layout=x`, { timeout: 5000 });
  ok(true, 'the right password lands on ?next=');
  expected = [];
  await page.waitForSelector('#empty', { timeout: 5000 });
  ok(await page.isVisible('#empty a[href="/cameras/new"]'), 'empty grid offers "Add camera" to the admin');
  await shoot(page, 'grid-empty');

  // A camera (through the API for now) plays on the grid.
  const r = await env.api('POST', '/api/v1/cameras', { name: 'Front door', source: `${env.rtsp}/cam1` });
  const cam = (await r.json()).id;
  await page.reload();
  await page.waitForFunction((id) => {
    const t = window.vigilTiles && window.vigilTiles.get(id);
    return t && t.player && t.player.video.currentTime > 0.5;
  }, cam, { timeout: 20000 });
  const t0 = await page.evaluate((id) => window.vigilTiles.get(id).player.video.currentTime, cam);
  await sleep(1000);
  const t1 = await page.evaluate((id) => window.vigilTiles.get(id).player.video.currentTime, cam);
  ok(t1 > t0 + 0.5, `grid tile plays (${t0.toFixed(2)} → ${t1.toFixed(2)})`);
  await page.waitForSelector('.tile .badge.state-streaming', { timeout: 10000 });
  await shoot(page, 'grid');

  // Log out: back to the login page; the API says 401 again.
  await page.click('#logout');
  await page.waitForURL(/\/login$/, { timeout: 5000 });
  await page.waitForSelector('#username');
  await shoot(page, 'login');
  expected = [/401/];
  const st = await page.evaluate(async () => (await fetch('/api/v1/session', { headers: { 'X-Vigil-UI': '1' } })).status);
  ok(st === 401, `logged out (session ${st})`);
  expected = [];
  await page.close();
} catch (e) {
  ok(false, 'exception: ' + (e.stack || e));
  for (const [i, p] of browser.context.pages().entries()) {
    await p.screenshot({ path: `${shots}/failure-${i}.png` }).catch(() => {});
  }
} finally {
  await browser.close();
  env.stop();
}
ok(errors.length === 0, `no console or page errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
