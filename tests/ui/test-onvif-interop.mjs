// vigil-fakecam's fake ONVIF device against an independent ONVIF client:
// the npm package `onvif` (agsh/onvif, web/node_modules), not vigil's own
// client (docs/onvif.md "Testing without a camera"). Node only, no browser.
// Device, media, PTZ and events services with a WS-Security digest, a wrong
// password, and WS-Discovery on loopback. TAP; exit 1 on any failure.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { freePort, sleep } from './live-common.mjs';

const require = createRequire(import.meta.url);
const webDir = new URL('../../web/', import.meta.url).pathname;
const { Cam, Discovery } = require(join(webDir, 'node_modules', 'onvif'));

const FAKECAM_BIN = process.env.FAKECAM_BIN || 'build/tools/fakecam/vigil-fakecam';
const USER = 'admin', PW = 'interop-pw';
// A loopback address of its own (all of 127/8 is lo): the fakecam's
// WS-Discovery responder answers there (docs/onvif.md "Loopback, for tests").
const HOST = '127.0.0.29';

let n = 0, failed = 0;
const ok = (cond, what, detail) => {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
  if (!cond && detail !== undefined) console.log(`# ${String(detail).replace(/\n/g, '\n# ')}`);
};
const comment = (s) => console.log(`# ${s}`);

// The package's callbacks as promises: resolves [err, data, xml], never
// rejects; a call that never answers gives a timeout error.
const call = (cam, method, ...args) => Promise.race([
  new Promise((resolve) => {
    try {
      cam[method](...args, (err, data, xml) => resolve([err, data, xml]));
    } catch (e) {
      resolve([e]);
    }
  }),
  sleep(20000).then(() => [new Error(`${method}: no answer in 20 s`)]),
]);

// Finds an object with $.Name === name anywhere in the package's parsed data.
function findItem(node, name) {
  if (!node || typeof node !== 'object') return null;
  if (node.$ && node.$.Name === name) return node;
  for (const v of Object.values(node)) {
    const f = findItem(v, name);
    if (f) return f;
  }
  return null;
}

const fport = await freePort();
const fakecam = spawn(FAKECAM_BIN, ['--port', String(fport), '--address', HOST, '--onvif', '0',
                                    '--ptz', '--user', `${USER}:${PW}`,
                                    '--onvif-motion-schedule', '3,3', '--size', '640x360'],
                      { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
await new Promise((resolve, reject) => {
  fakecam.stdout.on('data', (d) => { out += d; if (/serving rtsp:\/\/\S+_sub/.test(out)) resolve(); });
  fakecam.on('exit', (c) => reject(new Error('fakecam exited ' + c)));
  setTimeout(() => reject(new Error('fakecam did not start: ' + out)), 20000);
});
const exitAll = (code) => { fakecam.kill(); process.exit(code); };
const deviceUrl = new URL(/vigil-fakecam: onvif (\S+)/.exec(out)[1]);
const rtsp = [...out.matchAll(/serving (rtsp:\/\/\S+)/g)].map((m) => m[1]);
comment(`device ${deviceUrl.href}, streams ${rtsp.join(' ')}`);

const camOptions = (password) => ({
  hostname: deviceUrl.hostname, port: Number(deviceUrl.port), path: deviceUrl.pathname,
  username: USER, password, autoconnect: false, timeout: 20000,
});

try {
  // connect: GetSystemDateAndTime, GetServices (or GetCapabilities),
  // GetProfiles, GetVideoSources.
  const cam = new Cam(camOptions(PW));
  const warnings = [];
  cam.on('warning', (w) => warnings.push(w));
  const [cerr] = await call(cam, 'connect');
  ok(!cerr, 'connect', cerr?.stack || cerr);
  ok(warnings.length === 0, 'connect gives no warnings', warnings.join('\n'));
  ok(cam.uri?.media && cam.uri?.ptz && cam.uri?.events,
     'the device lists its media, PTZ and events services', JSON.stringify(cam.uri));

  const namespaces = (cam.services || []).map((s) => s.namespace);
  ok(namespaces.includes('http://www.onvif.org/ver10/media/wsdl'),
     'GetServices (asked first by the package) lists the media service', JSON.stringify(cam.services));
  const [caperr, caps] = await call(cam, 'getCapabilities');
  ok(!caperr && caps?.media?.XAddr && caps?.PTZ?.XAddr && caps?.events?.XAddr,
     'GetCapabilities gives media, PTZ and events addresses', caperr || JSON.stringify(caps));

  const [derr, info] = await call(cam, 'getDeviceInformation');
  ok(!derr && info?.manufacturer === 'vigil' && info?.model === 'fakecam',
     'GetDeviceInformation: manufacturer vigil, model fakecam', derr || JSON.stringify(info));

  const profiles = cam.profiles || [];
  const sizes = profiles.map((p) => {
    const r = p.videoEncoderConfiguration?.resolution;
    return r ? `${r.width}x${r.height}` : '?';
  });
  ok(profiles.length === 2, 'GetProfiles: two profiles', JSON.stringify(profiles.map((p) => p.$)));
  ok(sizes[0] === '640x360' && sizes[1] && sizes[1] !== '?' && sizes[1] !== '640x360',
     `profile sizes main ${sizes[0]}, sub ${sizes[1]}`, JSON.stringify(sizes));
  ok(cam.activeSource?.profileToken && cam.activeSource.profileToken === profiles[0]?.$?.token,
     'the package picks the main profile as its active source', JSON.stringify(cam.activeSource));

  for (const [i, p] of profiles.entries()) {
    const [serr, media] = await call(cam, 'getStreamUri', { protocol: 'RTSP', profileToken: p.$.token });
    ok(!serr && media?.uri === rtsp[i], `GetStreamUri ${p.$.token} is ${rtsp[i]}`,
       serr || JSON.stringify(media));
  }

  // PTZ
  let [err] = await call(cam, 'continuousMove', { x: 0.5, y: -0.2, zoom: 0.1 });
  ok(!err, 'ContinuousMove', err);
  await sleep(500);
  [err] = await call(cam, 'stop', { panTilt: true, zoom: true });
  ok(!err, 'Stop', err);
  let [perr, preset] = await call(cam, 'setPreset', { presetName: 'interop' });
  const token = preset?.setPresetResponse?.presetToken ?? preset?.[0]?.setPresetResponse?.[0]?.presetToken?.[0];
  ok(!perr && token, `SetPreset gives a token (${token})`, perr || JSON.stringify(preset));
  let [gerr, presets] = await call(cam, 'getPresets', {});
  ok(!gerr && String(presets?.interop?.$?.token) === String(token), 'GetPresets lists it by name and token',
     gerr || JSON.stringify(presets));
  [err] = await call(cam, 'gotoPreset', { preset: token });
  ok(!err, 'GotoPreset', err);
  [err] = await call(cam, 'removePreset', { presetToken: token });
  ok(!err, 'RemovePreset', err);
  [gerr, presets] = await call(cam, 'getPresets', {});
  ok(!gerr && !presets?.interop, 'GetPresets no longer lists it', gerr || JSON.stringify(presets));
  [err] = await call(cam, 'gotoHomePosition', {});
  ok(!err, 'GotoHomePosition', err);

  // Events: a PullPoint, pulled until the schedule's motion (3 s on, 3 s off).
  const [eerr, sub] = await call(cam, 'createPullPointSubscription');
  ok(!eerr && sub?.subscriptionReference?.address, 'CreatePullPointSubscription',
     eerr || JSON.stringify(sub));
  let motion = false, pulls = 0, pullErr = null;
  const end = Date.now() + 30000;
  while (!eerr && !motion && Date.now() < end) {
    const [merr, data] = await call(cam, 'pullMessages', { messageLimit: 10 });
    pulls++;
    if (merr) { pullErr = merr; break; }
    const msgs = [].concat(data?.notificationMessage ?? []);
    for (const m of msgs) {
      const item = findItem(m, 'IsMotion');
      if (item && String(item.$.Value) === 'true') motion = true;
    }
  }
  ok(motion, `PullMessages gives IsMotion true (${pulls} pulls)`, pullErr);
  [err] = await call(cam, 'unsubscribe');
  ok(!err, 'Unsubscribe', err);

  // A wrong password fails.
  const bad = new Cam(camOptions('wrong-' + PW));
  bad.on('warning', () => {});
  const [berr] = await call(bad, 'connect');
  const [bierr] = await call(bad, 'getDeviceInformation');
  ok(berr && bierr, 'a wrong password fails (connect and GetDeviceInformation)',
     `connect: ${berr}, GetDeviceInformation: ${bierr}`);
  comment(`wrong password: ${bierr?.message?.slice(0, 200)}`);

  // WS-Discovery: the package binds to the interface's address (lo:
  // 127.0.0.1), so its multicast Probe goes out on lo.
  const found = await new Promise((resolve) => {
    Discovery.probe({ device: 'lo', resolve: false, timeout: 3000 }, (errs, cams) => resolve({ errs, cams }));
  });
  const xaddrs = (found.cams || []).map((c) => c?.probeMatches?.probeMatch?.XAddrs).filter(Boolean);
  if (found.errs && !Array.isArray(found.errs)) {
    comment(`SKIP WS-Discovery: the package cannot probe on loopback here: ${found.errs}`);
  } else {
    ok(xaddrs.some((x) => x.split(' ').includes(deviceUrl.href)),
       'Discovery.probe on lo finds the device', `XAddrs ${JSON.stringify(xaddrs)} errors ${found.errs}`);
  }
} catch (e) {
  ok(false, 'no exception', e.stack);
}
console.log(`1..${n}`);
exitAll(failed ? 1 : 0);
