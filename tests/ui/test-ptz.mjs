// Browser test of the camera page's PTZ pad (docs/onvif.md), against the real
// daemon and vigil-fakecam --onvif 0 --ptz, whose camera 1 is drawn live as a
// viewport that follows the PTZ state:
// - the pad shows for a camera with "onvif" and the control right;
// - holding an arrow with the mouse sends move then stop, and the picture in
//   the page's video moves (grey 64×36 samples drawn from the <video>);
// - with the video focused, an arrow key held sends move (pan < 0) then stop;
// - zoom in held, Home, presets: save the view under a name (listed), go
//   home, go to the preset (the picture comes back), remove it;
// - "Click to centre" on, a click right of the video's centre sends a
//   relative move with pan > 0 and the picture moves; against a device that
//   cannot (--ptz-no-relative) the 409's words show and the toggle goes off;
// - a touch-style pointer (pointerdown/up events) moves too; the page fits a
//   375 px phone;
// - a user with view only sees no pad, nor does a camera without "onvif".
// Any console error or page error fails the test. Prints TAP.
import { startAll, startFakecam, launchBrowser, loginContext, sleep, waitFor, tapSuite, watchErrors } from './live-common.mjs';

const { shots, ok, done } = tapSuite();
const PW = 'ptz-ui-pw-1';

const errors = [];
let expected = [];   // console errors a step expects (the 409 below)
const watch = watchErrors(errors, () => expected);

const env = await startAll(['--no-sub', '--size', '320x240', '--fps', '5'], { camera: false });
const cam = await startFakecam(['--user', `admin:${PW}`, '--size', '640x360', '--no-sub', '--fps', '15',
  '--gop', '0.5', '--onvif', '0', '--ptz']);
const browser = await launchBrowser({ credentials: false });

// The picture the page's video shows now: 64×36 grey levels.
const grab = (page) => page.evaluate(() => {
  const v = window.vigilPlayer.video;
  const c = document.createElement('canvas');
  c.width = 64;
  c.height = 36;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(v, 0, 0, 64, 36);
  const d = ctx.getImageData(0, 0, 64, 36).data;
  const out = [];
  for (let i = 0; i < d.length; i += 4) out.push((d[i] + d[i + 1] + d[i + 2]) / 3);
  return out;
});
const diff = (a, b) => a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0) / a.length;

try {
  let r = await env.api('POST', '/api/v1/cameras', { id: 'dome', name: 'Dome', source: `${cam.rtsp}/cam1`,
    username: 'admin', password: PW, onvif: { address: cam.onvif } });
  ok(r.status === 201, `camera with onvif created (${r.status})`);
  r = await env.api('POST', '/api/v1/cameras', { id: 'plain', name: 'Plain', source: `${env.rtsp}/cam1` });
  ok(r.status === 201, 'camera without onvif created');
  r = await env.api('POST', '/api/v1/users', { name: 'vic', password: 'vic-pw-123456', role: 'operator',
    cameras: { dome: ['view'], plain: ['view'] } });
  ok(r.status === 201, 'view-only user created');
  await waitFor(async () => (await (await env.api('GET', '/api/v1/cameras/dome')).json())
    .status.state === 'streaming', 30000, 'dome streaming');

  await loginContext(browser.context, env.base);
  const page = watch(await browser.context.newPage(), 'admin');
  const sent = [];
  page.on('request', (q) => { if (/\/cameras\/dome\/ptz$/.test(q.url())) sent.push(q.postDataJSON()); });
  await page.goto(`${env.base}/cameras/dome`);
  await page.waitForSelector('#ptz', { timeout: 15000 });
  ok(true, 'the PTZ pad shows');
  await page.waitForFunction(() => {
    const v = window.vigilPlayer?.video;
    return v && v.readyState >= 2 && v.currentTime > 0;
  }, null, { timeout: 15000 });
  await page.click('#ptz-home');
  await sleep(1500);
  const home = await grab(page);

  // Mouse: hold the right arrow.
  sent.length = 0;
  const right = await page.$('#ptz-right');
  const box = await right.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await sleep(700);
  await page.mouse.up();
  await waitFor(() => sent.length >= 2, 5000, 'move and stop');
  ok(sent[0]?.action === 'move' && sent[0].pan > 0 && sent[1]?.action === 'stop',
     `holding ▶ sends move (pan > 0) then stop: ${JSON.stringify(sent)}`);
  await sleep(1500);
  const panned = await grab(page);
  const d1 = diff(home, panned);
  ok(d1 > 8, `the picture moved (mean abs diff ${d1.toFixed(1)})`);
  await page.screenshot({ path: `${shots}/ptz-panned.png`, fullPage: true });

  // Keyboard on the focused video.
  sent.length = 0;
  await page.focus('.player-box');
  await page.keyboard.down('ArrowLeft');
  await sleep(500);
  await page.keyboard.up('ArrowLeft');
  await waitFor(() => sent.length >= 2, 5000, 'key move and stop');
  ok(sent[0]?.action === 'move' && sent[0].pan < 0 && sent[1]?.action === 'stop' && sent.length === 2,
     `arrow key held on the video: one move (pan < 0), one stop: ${JSON.stringify(sent)}`);
  sent.length = 0;
  await page.keyboard.down('+');
  await sleep(400);
  await page.keyboard.up('+');
  await waitFor(() => sent.length >= 2, 5000, 'zoom key');
  ok(sent[0]?.zoom > 0 && sent[1]?.action === 'stop', `+ on the video zooms in: ${JSON.stringify(sent)}`);

  // Zoom out button, held.
  sent.length = 0;
  const zo = await (await page.$('#ptz-zoom-out')).boundingBox();
  await page.mouse.move(zo.x + zo.width / 2, zo.y + zo.height / 2);
  await page.mouse.down();
  await sleep(300);
  await page.mouse.up();
  await waitFor(() => sent.length >= 2, 5000, 'zoom out');
  ok(sent[0]?.zoom < 0 && sent[1]?.action === 'stop', `holding − zooms out then stops: ${JSON.stringify(sent)}`);

  // Save the current view as a preset.
  await sleep(1500);
  const view = await grab(page);
  sent.length = 0;
  await page.fill('#ptz-preset-name', 'Front <door>');
  await page.click('#ptz-save button[type=submit]');
  await page.waitForSelector('#ptz-presets li[data-token] .ptz-goto', { timeout: 10000 });
  const label = await page.textContent('#ptz-presets .ptz-goto');
  ok(sent[0]?.action === 'set_preset' && label === 'Front <door>', `preset saved and listed as "${label}"`);

  // Home, then back to the preset.
  await page.click('#ptz-home');
  await sleep(1500);
  const atHome = await grab(page);
  ok(diff(view, atHome) > 8, `Home changes the picture (${diff(view, atHome).toFixed(1)})`);
  await page.click('#ptz-presets .ptz-goto');
  await sleep(1500);
  const back = await grab(page);
  ok(diff(view, back) < 4, `going to the preset brings the view back (diff ${diff(view, back).toFixed(1)}, ` +
     `home ${diff(view, atHome).toFixed(1)})`);
  await page.screenshot({ path: `${shots}/ptz-preset.png`, fullPage: true });

  // Click to centre.
  await page.click('#ptz-home');
  await sleep(1500);
  const beforeClick = await grab(page);
  sent.length = 0;
  await page.check('#ptz-click-centre');
  const vb = await (await page.$('.player-box video')).boundingBox();
  await page.mouse.click(vb.x + vb.width * 0.8, vb.y + vb.height / 2);
  await waitFor(() => sent.length >= 1, 5000, 'relative move');
  ok(sent[0]?.action === 'relative' && sent[0].pan > 0 && Math.abs(sent[0].tilt) < 0.05,
     `a click right of centre sends relative with pan > 0: ${JSON.stringify(sent)}`);
  await sleep(1500);
  const centred = await grab(page);
  ok(diff(beforeClick, centred) > 8, `the picture moved (mean abs diff ${diff(beforeClick, centred).toFixed(1)})`);
  await page.screenshot({ path: `${shots}/ptz-click-centre.png`, fullPage: true });
  await page.uncheck('#ptz-click-centre');
  sent.length = 0;
  await page.mouse.click(vb.x + vb.width * 0.8, vb.y + vb.height / 2);
  await sleep(500);
  ok(sent.length === 0, `with the toggle off a click sends nothing: ${JSON.stringify(sent)}`);
  await page.click('#ptz-home');
  await sleep(1500);

  // A touch-style pointer on ▲ (pointer events, as a finger sends them).
  sent.length = 0;
  await page.dispatchEvent('#ptz-up', 'pointerdown', { button: 0, pointerId: 7, pointerType: 'touch', isPrimary: true });
  await sleep(300);
  await page.dispatchEvent('#ptz-up', 'pointerup', { button: 0, pointerId: 7, pointerType: 'touch', isPrimary: true });
  await waitFor(() => sent.length >= 2, 5000, 'touch move');
  ok(sent[0]?.tilt > 0 && sent[1]?.action === 'stop', `touch on ▲ tilts up then stops: ${JSON.stringify(sent)}`);

  // A wall tile on the preset: the editor lists the presets, and opening
  // the wall sends the camera there.
  const presets = await (await env.api('GET', '/api/v1/cameras/dome/ptz/presets')).json();
  const token = presets.find((p) => p.name === 'Front <door>')?.token;
  r = await env.api('POST', '/api/v1/walls', { name: 'ptz-wall', title: 'PTZ wall',
    layout: { cols: 1, rows: 1 }, tiles: [{ x: 0, y: 0, w: 1, h: 1, source: { camera: 'dome', preset: token } }] });
  ok(r.status === 201 && (await r.json()).tiles[0].source.preset === token,
     `a wall tile keeps the preset ${token} (${r.status})`);
  await page.click('#ptz-home');
  await sleep(1500);
  const wallPage = watch(await browser.context.newPage(), 'wall');
  const wallSent = [];
  wallPage.on('request', (q) => { if (/\/cameras\/dome\/ptz$/.test(q.url())) wallSent.push(q.postDataJSON()); });
  await wallPage.goto(`${env.base}/wall/ptz-wall`);
  await waitFor(() => wallSent.length >= 1, 10000, 'the wall steers the camera');
  ok(wallSent[0]?.action === 'goto_preset' && wallSent[0]?.preset === token,
     `opening the wall sends the camera to its preset: ${JSON.stringify(wallSent)}`);
  await sleep(1500);
  const onWall = await grab(page);
  ok(diff(view, onWall) < 4, `the camera is back at the preset (diff ${diff(view, onWall).toFixed(1)})`);
  await wallPage.goto(`${env.base}/walls?edit=ptz-wall`);
  await wallPage.click('.wb-tile[data-index="0"]');
  await wallPage.waitForSelector('#tile-preset', { state: 'visible', timeout: 10000 });
  ok(await wallPage.inputValue('#tile-preset') === token, 'the wall editor shows the tile\'s preset');
  await wallPage.close();

  // Remove the preset.
  sent.length = 0;
  await page.click('#ptz-presets .ptz-remove');
  await page.click('dialog.modal .btn-danger');
  await page.waitForSelector('#ptz-presets li.muted', { timeout: 10000 });
  ok(sent.some((b) => b.action === 'remove_preset'), 'preset removed, the list is empty');
  ok(await page.isHidden('#ptz-error'), 'no PTZ error shown');

  // On a phone: the pad fits, and a touch on ▶ moves.
  const phone = watch(await browser.context.newPage(), 'phone');
  await phone.setViewportSize({ width: 375, height: 740 });
  await phone.goto(`${env.base}/cameras/dome`);
  await phone.waitForSelector('#ptz', { timeout: 15000 });
  await sleep(500);
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
  ok(wide <= 375, `the camera page with the pad fits 375 px (scrollWidth ${wide})`);
  await phone.evaluate(() => document.getElementById('ptz').scrollIntoView());
  await phone.screenshot({ path: `${shots}/ptz-phone.png` });
  await phone.close();

  // A camera that cannot move by a relative amount: 409, words, toggle off.
  const norel = await startFakecam(['--size', '320x180', '--no-sub', '--fps', '5', '--gop', '1',
    '--onvif', '0', '--ptz', '--ptz-no-relative']);
  try {
    r = await env.api('POST', '/api/v1/cameras', { id: 'norel', name: 'No relative',
      source: `${norel.rtsp}/cam1`, onvif: { address: norel.onvif } });
    ok(r.status === 201, `camera without relative moves created (${r.status})`);
    await waitFor(async () => (await (await env.api('GET', '/api/v1/cameras/norel')).json())
      .status.state === 'streaming', 30000, 'norel streaming');
    await page.goto(`${env.base}/cameras/norel`);
    await page.waitForSelector('#ptz', { timeout: 15000 });
    await page.waitForFunction(() => window.vigilPlayer?.video?.readyState >= 2, null, { timeout: 15000 });
    await page.check('#ptz-click-centre');
    expected = [/409/];
    const nb = await (await page.$('.player-box video')).boundingBox();
    await page.mouse.click(nb.x + nb.width * 0.3, nb.y + nb.height / 2);
    await page.waitForSelector('#ptz-error:not([hidden])', { timeout: 10000 });
    const words = await page.textContent('#ptz-error');
    ok(/cannot move by a relative amount/.test(words) && !(await page.isChecked('#ptz-click-centre')),
       `409 shows "${words}" and turns the toggle off`);
    await page.screenshot({ path: `${shots}/ptz-no-relative.png`, fullPage: true });
    expected = [];
  } finally {
    await env.api('DELETE', '/api/v1/cameras/norel');
    norel.proc.kill('SIGTERM');
  }

  // No pad without "onvif", nor for a user with view only.
  await page.goto(`${env.base}/cameras/plain`);
  await page.waitForSelector('#status dd', { timeout: 10000 });
  await sleep(1000);
  ok(!(await page.$('#ptz')), 'no pad for a camera without onvif');
  await page.close();

  const vic = await launchBrowser({ credentials: false });
  try {
    await loginContext(vic.context, env.base, 'vic', 'vic-pw-123456');
    const vp = watch(await vic.context.newPage(), 'vic');
    await vp.goto(`${env.base}/cameras/dome`);
    await vp.waitForSelector('#status dd', { timeout: 10000 });
    await sleep(1500);
    ok(!(await vp.$('#ptz')), 'no pad for a user with view only');
  } finally {
    await vic.close();
  }
} catch (e) {
  ok(false, 'exception: ' + (e.stack || e));
  for (const [i, p] of browser.context.pages().entries()) {
    await p.screenshot({ path: `${shots}/ptz-failure-${i}.png` }).catch(() => {});
  }
} finally {
  await browser.close();
  cam.proc.kill('SIGTERM');
  env.stop();
}
ok(errors.length === 0, `no console or page errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
done();
