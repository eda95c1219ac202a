// Browser test of "Find cameras" on the add-camera form (onvif-find.js)
// against the real daemon and two vigil-fakecams with --onvif, each on its
// own loopback address (vigil probes on lo: VIGIL_ONVIF_DISCOVER_LOOPBACK=1):
// both are listed, the one already added as a camera is marked with a link
// to it; picking the other asks for credentials; a wrong password shows the
// API's worded error; the right one fills name, source, sub stream, user name,
// password and the ONVIF address, and two lists pick the main and sub
// profiles (changing the sources); the camera saves with the device's source,
// ONVIF address and profiles. A camera
// operator who is no admin gets no "Find cameras". Screenshots:
// $VIGIL_UI_SHOTS/onvif-*.png. Any console or page error other than the
// expected 400 fails the test. Prints TAP.
import { spawn } from 'node:child_process';
import { startAll, launchBrowser, loginContext, freePort, tapSuite, watchErrors } from './live-common.mjs';

const { shots, ok, done } = tapSuite();
const FAKECAM_BIN = process.env.FAKECAM_BIN || 'build/tools/fakecam/vigil-fakecam';
const CAM_PASSWORD = 'onvif-ui-pw-31';

const errors = [];
let expected = [];
const watch = watchErrors(errors, () => expected);
async function shoot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

// An ONVIF fakecam on @address: { proc, port, onvif } (its device service URL).
async function onvifFakecam(address, ...args) {
  const port = await freePort();
  const proc = spawn(FAKECAM_BIN, ['--port', String(port), '--address', address, '--size', '320x240',
                                   '--sub-size', '160x120', '--onvif', '0', ...args],
                     { stdio: ['ignore', 'pipe', 'ignore'] });
  const onvif = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /vigil-fakecam: onvif (\S+)/.exec(out);
      if (m && out.includes('serving rtsp://')) resolve(m[1]);
    });
    proc.on('exit', (c) => reject(new Error('fakecam exited ' + c)));
  });
  return { proc, port, onvif };
}

process.env.VIGIL_ONVIF_DISCOVER_LOOPBACK = '1';
const hall = await onvifFakecam('127.0.0.2', '--user', `admin:${CAM_PASSWORD}`);
const porch = await onvifFakecam('127.0.0.3', '--onvif-name', 'Porch maker');
const env = await startAll(['--scene', 'static'], { camera: false });
const browser = await launchBrowser({ credentials: false });
try {
  let r = await env.api('POST', '/api/v1/cameras',
                        { id: 'porch', name: 'Porch', source: `rtsp://127.0.0.3:${porch.port}/cam1` });
  ok(r.status === 201, `the porch camera is added (${r.status})`);
  r = await env.api('POST', '/api/v1/users', { name: 'otto', password: 'otto-pw-123456', role: 'operator',
                                               cameras: { '*': ['view', 'control'] } });
  ok(r.status === 201, `an operator with control on all cameras (${r.status})`);

  await loginContext(browser.context, env.base);
  const page = watch(await browser.context.newPage(), 'admin');
  await page.goto(`${env.base}/cameras/new`);
  await page.waitForSelector('#find-cameras', { timeout: 10000 });
  await page.click('#find-cameras');
  const hallRow = `#onvif-list li[data-address="${hall.onvif}"]`;
  const porchRow = `#onvif-list li[data-address="${porch.onvif}"]`;
  await page.waitForSelector(hallRow, { timeout: 10000 });
  ok(true, 'the discovered devices are listed');
  ok(await page.isVisible(porchRow), 'both fakecams are listed');
  ok((await page.textContent(`${hallRow} .onvif-name`)).includes('vigil fakecam'),
     'a device shows its manufacturer and model');
  ok((await page.textContent(`${porchRow} .onvif-name`)).includes('Porch maker fakecam'),
     'the name scope is decoded');
  ok(await page.getAttribute(`${porchRow} .onvif-added a`, 'href') === '/cameras/porch',
     'the device already added is marked and links to its camera');
  ok(await page.locator(`${hallRow} .onvif-added`).count() === 0, 'the other one is not marked');
  await shoot(page, 'onvif-found');

  await page.click(`${hallRow} .onvif-pick`);
  await page.waitForSelector('#onvif-password', { timeout: 5000 });
  ok(await page.evaluate(() => document.activeElement.id) === 'onvif-password',
     'picking a device asks for its password');
  expected = [/400/];
  await page.fill('#onvif-password', 'wrong-password');
  await page.click('#onvif-probe');
  await page.waitForSelector('#onvif-error', { timeout: 20000 });
  const err = await page.textContent('#onvif-error');
  ok(err.includes('wrong username or password'), `a wrong password shows the API's words (${err})`);
  await shoot(page, 'onvif-wrong-password');
  expected = [];

  await page.fill('#onvif-password', CAM_PASSWORD);
  await page.click('#onvif-probe');
  await page.waitForSelector('#onvif-ok', { timeout: 20000 });
  const value = (f) => page.inputValue(`[data-field="${f}"]`);
  ok(await value('name') === 'vigil fakecam', `the name is filled (${await value('name')})`);
  ok(await value('source') === `rtsp://127.0.0.2:${hall.port}/cam1`, `the source is filled (${await value('source')})`);
  ok(await value('sub_source') === `rtsp://127.0.0.2:${hall.port}/cam1_sub`, 'the sub stream is filled');
  ok(await value('username') === 'admin', 'the user name is filled');
  ok(await value('password') === CAM_PASSWORD, 'the password is filled');
  ok(await value('onvif.address') === hall.onvif, `the ONVIF address is filled (${await value('onvif.address')})`);
  ok(await page.inputValue('#onvif-profile') === 'main' && await page.inputValue('#onvif-sub-profile') === 'sub',
     'the profile lists start at the largest (main) and the smallest (sub)');
  await page.selectOption('#onvif-sub-profile', '');
  ok(await value('sub_source') === '', 'picking no sub stream empties the sub source');
  await page.selectOption('#onvif-profile', 'sub');
  ok(await value('source') === `rtsp://127.0.0.2:${hall.port}/cam1_sub`, 'picking another main profile changes the source');
  await page.selectOption('#onvif-profile', 'main');
  await page.selectOption('#onvif-sub-profile', 'sub');
  ok(await value('source') === `rtsp://127.0.0.2:${hall.port}/cam1` &&
     await value('sub_source') === `rtsp://127.0.0.2:${hall.port}/cam1_sub`, 'and back');
  await shoot(page, 'onvif-filled');

  // The camera page asks for PTZ presets; this device has no PTZ service,
  // which the API answers 409 (the page then shows no pad).
  expected = [/409/];
  await page.click('#save');
  await page.waitForURL(/\/cameras\/vigil-fakecam$/, { timeout: 10000 });
  const cam = await (await env.api('GET', '/api/v1/cameras/vigil-fakecam')).json();
  ok(cam.source === `rtsp://127.0.0.2:${hall.port}/cam1` && cam.password_set && cam.username === 'admin',
     'the saved camera has the device\'s source and credentials');
  ok(cam.onvif?.address === hall.onvif && cam.onvif?.profile === 'main' && cam.onvif?.sub_profile === 'sub',
     `the saved camera has the device's ONVIF address and profiles (${JSON.stringify(cam.onvif)})`);

  const otto = await launchBrowser({ credentials: false });
  try {
    await loginContext(otto.context, env.base, 'otto', 'otto-pw-123456');
    const p2 = watch(await otto.context.newPage(), 'operator');
    await p2.goto(`${env.base}/cameras/new`);
    await p2.waitForSelector('#camera-form', { timeout: 10000 });
    ok(await p2.locator('#find-cameras').count() === 0, 'an operator who is no admin gets no "Find cameras"');
  } finally {
    await otto.close();
  }
  ok(errors.length === 0, `no console or page errors${errors.length ? ': ' + errors.join('; ') : ''}`);
} catch (e) {
  ok(false, `unexpected failure: ${e.stack || e}`);
} finally {
  await browser.close();
  env.stop();
  hall.proc.kill('SIGTERM');
  porch.proc.kill('SIGTERM');
}
done();
