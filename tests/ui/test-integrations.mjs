// Browser test of the Integrations page (/integrations, admins) and the MQTT
// line of the System page, against the real daemon: the MQTT form pointed at
// a closed port shows the connection state and its error, an invalid port
// shows the API's worded 400, the password is never echoed into the page,
// the public address saves; the RTSP server is enabled, listens and is
// disabled again from its form; webhooks (when the daemon has them): one pointing
// at a local HTTP receiver, Send test, the delivery with status 200 in the
// log, the receiver got it; a viewer gets no nav entry and the page refuses.
// Screenshots at 1280 px and 390 px: $VIGIL_UI_SHOTS/integrations*.png.
// Any console error or page error fails the test. Prints TAP.
import { createServer } from 'node:http';
import { startAll, launchBrowser, loginContext, freePort, sleep, tapSuite, watchErrors } from './live-common.mjs';

const { shots, ok, done } = tapSuite();

const errors = [];
let expected = [];
const watch = watchErrors(errors, () => expected);

// Saves with @button and waits for this save's "saved" toast.
async function saveAndToast(page, button) {
  await page.evaluate(() => document.getElementById('toasts')?.replaceChildren());
  await page.click(button);
  await page.waitForSelector('.toast-ok', { timeout: 5000 });
}

async function shoot(page, name) {
  // Without the toasts of earlier saves (fixed, they land mid-page in a full-page shot).
  await page.evaluate(() => { window.scrollTo(0, 0); document.getElementById('toasts')?.replaceChildren(); });
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

// A tiny webhook receiver: every request's method, path, headers and body.
const received = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    received.push({ method: req.method, url: req.url, headers: req.headers, body });
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

const MQTT_PASSWORD = 'mqtt-Secret-pw-4711';
const env = await startAll(['--scene', 'motion:0'], { camera: false });
const browser = await launchBrowser({ credentials: false });
try {
  await env.api('POST', '/api/v1/cameras', { id: 'porch', name: 'Porch', source: `${env.rtsp}/cam1` });
  const vr = await env.api('POST', '/api/v1/users',
                           { name: 'vera', password: 'vera-pw-12345', role: 'viewer', cameras: { '*': ['view'] } });
  ok(vr.status === 201, `a viewer created (${vr.status})`);
  const hasNotify = Array.isArray((await (await env.api('GET', '/api/v1/settings')).json()).notify);

  await loginContext(browser.context, env.base);
  const page = watch(await browser.context.newPage(), 'desktop');
  await page.goto(`${env.base}/system`);
  await page.waitForSelector('#mqtt-state', { timeout: 10000 });
  ok(await page.textContent('#mqtt-state') === 'disabled', 'the System page shows MQTT "disabled"');
  ok(await page.isVisible('.nav-links a[href="/integrations"]'), 'the admin\'s nav has "Integrations"');
  await page.click('#mqtt-settings');
  await page.waitForURL(/\/integrations$/, { timeout: 5000 });
  await page.waitForSelector('#mqtt-form', { timeout: 10000 });
  ok(true, 'the System page\'s MQTT line links to /integrations for an admin');
  ok(await page.getAttribute('.nav-links a[href="/integrations"]', 'aria-current') === 'page',
     'the nav marks Integrations as the current page');

  // An unreachable broker: a loopback port nobody listens on.
  const closed = await freePort();
  await page.check('#mqtt-enabled');
  await page.fill('#mqtt-host', '127.0.0.1');
  await page.fill('#mqtt-port', String(closed));
  await page.fill('#mqtt-password', MQTT_PASSWORD);
  await page.selectOption('#mqtt-user', 'vera');
  await page.fill('#mqtt-ca-file', '/etc/vigil/broker-ca.pem');
  await saveAndToast(page, '#save-mqtt');
  let s = await (await env.api('GET', '/api/v1/settings')).json();
  ok(s.mqtt.enabled && s.mqtt.host === '127.0.0.1' && s.mqtt.port === closed && s.mqtt.password_set &&
     s.mqtt.user === 'vera' && s.mqtt.ca_file === '/etc/vigil/broker-ca.pem', `MQTT settings saved from the form (${JSON.stringify(s.mqtt)})`);
  await page.waitForFunction(() => /^(connecting|error)$/.test(document.getElementById('mqtt-state')?.textContent) &&
                             document.getElementById('mqtt-error')?.textContent,
                             null, { timeout: 20000 });
  const state = await page.textContent('#mqtt-state');
  const stateErr = await page.textContent('#mqtt-error');
  ok(new RegExp(`127\\.0\\.0\\.1:${closed}|refused`, 'i').test(stateErr),
     `the state becomes ${state} with the error (${stateErr})`);
  await shoot(page, 'integrations-mqtt-error');

  // An invalid port: the API's worded 400 in the form's alert, nothing saved.
  await page.fill('#mqtt-port', '70000');
  expected = [/400/];
  await page.click('#save-mqtt');
  await page.waitForSelector('#mqtt-form-error:not([hidden])', { timeout: 5000 });
  await sleep(200);
  expected = [];
  const portErr = await page.textContent('#mqtt-form-error');
  ok(/mqtt\.port/.test(portErr) && /65535/.test(portErr), `an invalid port shows the worded 400 (${portErr})`);
  s = await (await env.api('GET', '/api/v1/settings')).json();
  ok(s.mqtt.port === closed, 'the invalid port is not saved');

  // The RTSP server: enabled on a free loopback port it listens (state and
  // clients from /system), a bad address is the API's worded 400.
  const rtspPort = await freePort();
  await page.check('#rtsp-enabled');
  await page.fill('#rtsp-listen', `127.0.0.1:${rtspPort}`);
  await saveAndToast(page, '#save-rtsp');
  await page.waitForFunction(() => document.getElementById('rtsp-state')?.textContent === 'listening',
                             null, { timeout: 10000 });
  ok(/0 clients/.test(await page.textContent('#rtsp-state-line')),
     `the RTSP server listens (${await page.textContent('#rtsp-state-line')})`);
  s = await (await env.api('GET', '/api/v1/settings')).json();
  ok(s.rtsp_server.enabled && s.rtsp_server.listen === `127.0.0.1:${rtspPort}`, 'RTSP server settings saved');
  await page.fill('#rtsp-listen', 'nowhere');
  expected = [/400/];
  await page.click('#save-rtsp');
  await page.waitForSelector('#rtsp-form-error:not([hidden])', { timeout: 5000 });
  await sleep(200);
  expected = [];
  ok(/rtsp_server\.listen/.test(await page.textContent('#rtsp-form-error')), 'a bad listen address shows the worded 400');
  await page.fill('#rtsp-listen', `127.0.0.1:${rtspPort}`);
  await page.uncheck('#rtsp-enabled');
  await saveAndToast(page, '#save-rtsp');
  await page.waitForFunction(() => document.getElementById('rtsp-state')?.textContent === 'disabled',
                             null, { timeout: 10000 });
  ok(true, 'the RTSP server disabled from the form');

  // The public address.
  await page.fill('#public-url', 'http://nvr.example:8080/');
  await page.click('#save-public-url');
  await page.waitForFunction(() => document.getElementById('public-url').value === 'http://nvr.example:8080',
                             null, { timeout: 5000 });
  s = await (await env.api('GET', '/api/v1/settings')).json();
  ok(s.public_url === 'http://nvr.example:8080', `public address saved (${s.public_url})`);

  // After a reload the password is nowhere in the page.
  await page.reload();
  await page.waitForSelector('#mqtt-form');
  await page.waitForSelector('#mqtt-error', { timeout: 10000 });
  const leak = await page.evaluate((pw) => ({
    html: document.documentElement.outerHTML.includes(pw),
    inputs: [...document.querySelectorAll('input')].some((i) => i.value.includes(pw)),
    field: document.getElementById('mqtt-password').value,
    placeholder: document.getElementById('mqtt-password').placeholder,
    remove: !!document.getElementById('mqtt-password-remove'),
    user: document.getElementById('mqtt-user').value,
  }), MQTT_PASSWORD);
  ok(!leak.html && !leak.inputs && leak.field === '' && leak.placeholder === 'unchanged' && leak.remove,
     `the password is not echoed after a reload (${JSON.stringify(leak)})`);
  ok(leak.user === 'vera', 'the "commands act as" user reads back');
  // Saving again without touching the password keeps it; "remove" removes it.
  await saveAndToast(page, '#save-mqtt');
  s = await (await env.api('GET', '/api/v1/settings')).json();
  ok(s.mqtt.password_set, 'saving with an empty password field keeps the password');
  await page.check('#mqtt-password-remove');
  await page.selectOption('#mqtt-user', '');
  await page.click('#save-mqtt');
  await page.waitForFunction(() => !document.getElementById('mqtt-password-remove'), null, { timeout: 5000 });
  s = await (await env.api('GET', '/api/v1/settings')).json();
  ok(!s.mqtt.password_set && s.mqtt.user === null, 'remove password and "operator role" save (password_set false, user null)');
  const html = await (await env.api('GET', '/api/v1/settings')).text();
  ok(!html.includes(MQTT_PASSWORD), 'the API never shows the password');

  if (hasNotify) {
    await page.click('#add-webhook');
    await page.waitForSelector('#webhook-form');
    await page.fill('#wh-name', 'local');
    await page.fill('#wh-url', receiverUrl);
    await page.check('#wh-type-object');
    await page.fill('#wh-labels', 'person, car');
    await page.fill('#wh-min-score', '0.6');
    await page.fill('#wh-secret', 'hook-secret-123');
    await shoot(page, 'integrations-webhook-form');
    await page.click('#save-webhook');
    await page.waitForSelector('#webhooks-table tr[data-webhook="local"]', { timeout: 5000 });
    s = await (await env.api('GET', '/api/v1/settings')).json();
    const w = s.notify.find((h) => h.name === 'local');
    ok(w && w.url === receiverUrl && w.secret_set && JSON.stringify(w.events.types) === '["object"]' &&
       JSON.stringify(w.events.labels) === '["person","car"]' && w.events.min_score === 0.6,
       `webhook saved from the form (${JSON.stringify(w)})`);
    await page.click('#webhooks-table tr[data-webhook="local"] [data-action="test"]');
    await page.waitForFunction(() => /200/.test(document.querySelector(
      '#webhooks-table tr[data-webhook="local"] .test-result')?.textContent), null, { timeout: 30000 });
    const res = await page.textContent('#webhooks-table tr[data-webhook="local"] .test-result');
    ok(/✓ 200/.test(res), `Send test shows the delivery's status (${res})`);
    await page.waitForFunction(() => [...document.querySelectorAll('#deliveries-table tbody tr')]
      .some((tr) => /local/.test(tr.textContent) && /test/.test(tr.textContent) && /200/.test(tr.textContent)),
    null, { timeout: 10000 });
    ok(true, 'the delivery log shows the test delivery with status 200');
    ok(/queued \d+ · dropped \d+/.test(await page.textContent('#delivery-counters')), 'the log shows queued and dropped');
    ok(received.length >= 1 && received[0].method === 'POST' && received[0].url === '/hook' &&
       received[0].headers['x-vigil-event'] === 'test' && !!received[0].headers['x-vigil-signature'],
       `the receiver got the test, signed with the secret typed in the form (${received.map((r) =>
         `${r.method} ${r.url} ${r.headers['x-vigil-event']} signed ${!!r.headers['x-vigil-signature']}`).join(', ')})`);
    // Editing keeps the secret (not re-sent), deleting empties the list.
    await page.click('#webhooks-table tr[data-webhook="local"] [data-action="edit"]');
    await page.waitForSelector('#webhook-form');
    ok(await page.inputValue('#wh-secret') === '' && await page.getAttribute('#wh-secret', 'placeholder') === 'unchanged',
       'the edit form does not echo the secret');
    await page.uncheck('#wh-enabled');
    await page.click('#save-webhook');
    await page.waitForSelector('#webhooks-table tr[data-webhook="local"] .state-disabled', { timeout: 5000 });
    s = await (await env.api('GET', '/api/v1/settings')).json();
    ok(s.notify[0].enabled === false && s.notify[0].secret_set, 'an edit keeps the stored secret');
    await shoot(page, 'integrations');
  } else {
    await shoot(page, 'integrations');
  }

  // Phone width: no sideways scroll.
  const phone = watch(await browser.context.newPage(), 'phone');
  await phone.setViewportSize({ width: 390, height: 844 });
  for (const [name, path, sel] of [['integrations', '/integrations', '#mqtt-form'], ['system', '/system', '#mqtt-state']]) {
    await phone.goto(env.base + path);
    await phone.waitForSelector(sel, { timeout: 10000 });
    await sleep(500);
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    ok(wide <= 390, `${name} fits 390 px (scrollWidth ${wide})`);
    await shoot(phone, `${name === 'system' ? 'system-mqtt' : name}-phone`);
  }
  if (hasNotify) {
    await phone.goto(env.base + '/integrations');
    await phone.click('#webhooks-table tr[data-webhook="local"] [data-action="edit"]');
    await phone.waitForSelector('#webhook-form');
    await sleep(500);
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    ok(wide <= 390, `the webhook form fits 390 px (scrollWidth ${wide})`);
    await shoot(phone, 'integrations-webhook-form-phone');
    await phone.goto(env.base + '/integrations');
    await phone.waitForSelector('#webhooks-table');
    await phone.click('#webhooks-table tr[data-webhook="local"] [data-action="delete"]');
    await phone.click('dialog.modal .btn-danger');
    await phone.waitForSelector('#no-webhooks', { timeout: 5000 });
    s = await (await env.api('GET', '/api/v1/settings')).json();
    ok(s.notify.length === 0, 'a webhook deleted');
  }
  await phone.close();
  // Just above the fold-up width (820 px) the admin's nav, one entry longer, still fits one row.
  await page.setViewportSize({ width: 821, height: 700 });
  await page.goto(`${env.base}/integrations`);
  await page.waitForSelector('#mqtt-form');
  const navH = await page.evaluate(() => document.querySelector('.nav-bar').getBoundingClientRect().height);
  await page.screenshot({ path: `${shots}/integrations-821.png` });
  ok(navH < 60, `the nav fits one row at 821 px (${navH} px high)`);
  await page.close();

  // A viewer: no nav entry; the page refuses; the System page shows the state without the link.
  await browser.context.clearCookies();
  await loginContext(browser.context, env.base, 'vera', 'vera-pw-12345');
  const viewer = watch(await browser.context.newPage(), 'viewer');
  await viewer.goto(`${env.base}/system`);
  await viewer.waitForSelector('#mqtt-state', { timeout: 10000 });
  ok(/connecting|error|disabled/.test(await viewer.textContent('#mqtt-state')) && !(await viewer.isVisible('#mqtt-settings')),
     'a viewer sees the MQTT state on the System page, without the settings link');
  ok(!(await viewer.locator('.nav-links a[href="/integrations"]').count()), 'a viewer\'s nav has no "Integrations"');
  await viewer.goto(`${env.base}/integrations`);
  await viewer.waitForSelector('#not-admin', { timeout: 10000 });
  ok(!(await viewer.isVisible('#mqtt-form')) && /only administrators/i.test(await viewer.textContent('#not-admin')),
     'the Integrations page refuses a viewer');
  await shoot(viewer, 'integrations-viewer');
  await viewer.close();
} catch (e) {
  ok(false, 'exception: ' + (e.stack || e));
  for (const [i, p] of browser.context.pages().entries()) {
    await p.screenshot({ path: `${shots}/integrations-failure-${i}.png` }).catch(() => {});
  }
} finally {
  await browser.close();
  env.stop();
  receiver.close();
}
ok(errors.length === 0, `no console or page errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
done();
