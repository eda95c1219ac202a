// Browser test of the playback, events and wall screens against the real
// daemon and vigil-fakecam (two cameras: "cam", a static scene, and "qr", a
// QR code added while the events page is open):
// - a manual recording (start/stop through the API) opens from the timeline
//   and plays: currentTime advances, the wall clock shows the recording's
//   time, 4x makes it play faster;
// - the events page shows the barcode event live (SSE) with its thumbnail and
//   the type filter works;
// - a 2×2 wall with effects is built in the builder, saved, opened at
//   /wall/<name>: every tile's video advances and its effect canvas draws;
//   kiosk mode survives a reload;
// - screenshots of every screen at desktop and 375 px width are saved to
//   $VIGIL_UI_SHOTS; any console or page error fails the test. Prints TAP.
import { startAll, launchBrowser, loginContext, sleep, tapSuite, waitFor, watchErrors } from './live-common.mjs';

const { shots, ok, done } = tapSuite();

const errors = [];
const watch = watchErrors(errors);
// Scrolled to the top first: the sticky navigation bar would otherwise show
// in the middle of a full-page shot.
const shoot = async (page, name) => {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
};

const env = await startAll(['--cameras', '2', '--size', '640x360', '--fps', '15', '--gop', '1',
                            '--bitrate', '600', '--scene', 'static', '--scene', 'qr:VIGIL-TEST']);
const browser = await launchBrowser({ credentials: false });
const t0 = Date.now();
try {
  await loginContext(browser.context, env.base);
  if (process.env.DEBUG_CONSOLE) {
    await browser.context.addInitScript(() => {
      window.addEventListener('error', (ev) => console.log('ERRDBG', ev.message, ev.filename, ev.lineno, ev.colno, ev.error && ev.error.stack));
      window.addEventListener('unhandledrejection', (ev) => console.log('REJDBG', String(ev.reason), ev.reason && ev.reason.stack));
    });
  }
  const page = watch(await browser.context.newPage(), 'desktop');

  // --- a manual recording ---
  let r = await env.api('POST', `/api/v1/cameras/${env.cam}/recording`, { action: 'start' });
  ok(r.status === 200 || r.status === 201 || r.status === 202, `manual recording starts (${r.status})`);
  await sleep(8000);
  r = await env.api('POST', `/api/v1/cameras/${env.cam}/recording`, { action: 'stop' });
  ok(r.status < 300, `manual recording stops (${r.status})`);
  const rec = await waitFor(async () => {
    const list = await (await env.api('GET', `/api/v1/recordings?camera=${env.cam}`)).json();
    return list.find((x) => x.reason === 'manual' && x.duration_s >= 4);
  }, 20000, 'the manual recording in the index');
  ok(!!rec, `recording ${rec.id} indexed (${rec.duration_s} s)`);

  // --- events: live barcode event, filters ---
  await page.goto(`${env.base}/events`);
  await page.waitForSelector('#ev-results');
  await sleep(500);
  r = await env.api('POST', '/api/v1/cameras', { id: 'qr', name: 'QR door', source: `${env.rtsp}/cam2`,
                                                   barcodes: true });
  ok(r.status === 201, 'camera "qr" added while the events page is open');
  await page.waitForSelector('.ev-card[data-id] .badge.type-barcode', { timeout: 30000 });
  ok(true, 'the barcode event appeared live (SSE)');
  await page.waitForSelector('.ev-card img.ev-img', { timeout: 15000 });
  const thumbOk = await page.$eval('.ev-card img.ev-img', (img) => img.complete && img.naturalWidth === 320);
  ok(thumbOk, 'the event card shows its 320 px thumbnail');
  const label = await page.textContent('.ev-card .ev-meta strong');
  ok(/VIGIL-TEST/.test(label), `the card shows the code (${label.trim()})`);
  await shoot(page, 'events');
  await page.selectOption('#f-type', 'motion');
  await page.waitForSelector('#ev-results .empty', { timeout: 5000 });
  ok(true, 'filtering by type motion hides the barcode event');
  await page.selectOption('#f-type', 'barcode');
  await page.waitForSelector('.ev-card .badge.type-barcode', { timeout: 5000 });
  ok(new URL(page.url()).searchParams.get('type') === 'barcode', 'the filter is in the URL');
  await page.fill('#f-label', 'nothing-like-this');
  await page.waitForSelector('#ev-results .empty', { timeout: 5000 });
  await page.fill('#f-label', 'vigil-test');
  await page.waitForSelector('.ev-card', { timeout: 5000 });
  ok(true, 'the label filter matches the code text');
  await page.click('#view-list');
  await page.waitForSelector('table.ev-list tbody tr', { timeout: 5000 });
  await shoot(page, 'events-list');
  ok(true, 'list view');

  // --- recordings: timeline → play, wall clock, 4x ---
  await page.goto(`${env.base}/recordings?camera=${env.cam}`);
  const block = await page.waitForSelector(`.tl-block[data-id="${rec.id}"]`, { timeout: 10000 });
  // Opened without a time, the page loads the day's newest recording.
  const autoloaded = await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && (v.currentSrc || v.src) && v.readyState >= 2;
  }, null, { timeout: 10000 }).then(() => true, () => false);
  ok(autoloaded, 'the newest recording loads without a click');
  // Zoom in until the block is a comfortable click target.
  for (let i = 0; i < 6; i++) {
    const w = (await block.boundingBox()).width;
    if (w > 60) break;
    await page.evaluate((id) => {
      const b = document.querySelector(`.tl-block[data-id="${id}"]`);
      b.scrollIntoView({ inline: 'center' });
    }, rec.id);
    await page.click('#zoom-in');
  }
  await page.evaluate((id) => document.querySelector(`.tl-block[data-id="${id}"]`)
    .scrollIntoView({ inline: 'center' }), rec.id);
  await page.hover(`.tl-block[data-id="${rec.id}"]`);
  await page.waitForSelector('.tl-hover:not([hidden]) img', { timeout: 5000 });
  ok(true, 'hovering the timeline shows a thumbnail');
  const box = await block.boundingBox();
  await page.mouse.click(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.waitForFunction(() => {
    const p = window.vigilPlayback;
    return p && p.video.readyState >= 2 && p.video.currentTime > 0.3;
  }, null, { timeout: 15000 });
  const a = await page.evaluate(() => window.vigilPlayback.video.currentTime);
  await sleep(1500);
  const b = await page.evaluate(() => window.vigilPlayback.video.currentTime);
  ok(b > a + 0.5, `the recording plays from the timeline (currentTime ${a.toFixed(2)} → ${b.toFixed(2)})`);
  const clock = Number(await page.getAttribute('.pb-clock', 'data-wallclock'));
  const recStart = Date.parse(rec.start), recEnd = Date.parse(rec.end);
  ok(clock >= recStart - 1000 && clock <= recEnd + 1000,
     `the wall clock shows the recording's time (${new Date(clock).toISOString()} in ${rec.start}…${rec.end})`);
  const clockText = await page.textContent('.pb-clock');
  ok(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(clockText), `wall clock text "${clockText}"`);
  // A full-page shot resizes the view, which resets the timeline's sideways
  // scroll: shoot a tall viewport instead, with the playhead scrolled in.
  await page.setViewportSize({ width: 1280, height: 1100 });
  await page.evaluate(() => {
    const sc = document.querySelector('.tl-scroll'), cur = document.querySelector('.tl-cursor');
    sc.scrollLeft = cur.offsetLeft - sc.clientWidth / 3;
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: `${shots}/recordings.png` });
  await page.setViewportSize({ width: 1280, height: 720 });
  // Step to the next and previous event (events placed in the recording).
  await page.evaluate((ms) => window.vigilPlayback.setEvents([
    { id: 901, start: new Date(ms + 1500).toISOString() },
    { id: 902, start: new Date(ms + 7000).toISOString() }]), recStart);
  await page.evaluate(() => { window.vigilPlayback.video.currentTime = 2.5; });
  await sleep(300);
  await page.click('.pb-next');
  await sleep(600);
  const afterNext = Number(await page.getAttribute('.pb-clock', 'data-wallclock')) - recStart;
  ok(afterNext > 5000 && afterNext < 7500, `next event: the picture jumps to ${afterNext} ms (event at 7000, shown from 1 s before)`);
  await page.click('.pb-prev');
  await sleep(600);
  const afterPrev = Number(await page.getAttribute('.pb-clock', 'data-wallclock')) - recStart;
  ok(afterPrev >= 0 && afterPrev < 2500, `previous event: the picture jumps to ${afterPrev} ms (event at 1500)`);
  await page.evaluate(() => { const v = window.vigilPlayback.video; v.currentTime = 0.2; });
  await sleep(500);
  await page.selectOption('.pb-speed', '4');
  const rate = await page.evaluate(() => window.vigilPlayback.video.playbackRate);
  ok(rate === 4, `speed 4x (playbackRate ${rate})`);
  const c1 = await page.evaluate(() => window.vigilPlayback.video.currentTime);
  await sleep(1000);
  const c2 = await page.evaluate(() => window.vigilPlayback.video.currentTime);
  ok(c2 - c1 > 1.8 || (await page.evaluate(() => window.vigilPlayback.video.ended)),
     `4x plays faster than real time (${(c2 - c1).toFixed(2)} s of video in 1 s)`);
  const dl = await page.getAttribute('.pb-download', 'href');
  ok(dl === `/api/v1/recordings/${rec.id}/export.mp4`, `MP4 download link ${dl}`);
  // A range selection gives a camera export link.
  await page.fill('#range-from', await page.evaluate((ms) => {
    const d = new Date(ms); const p = (x) => String(x).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, recStart));
  await page.fill('#range-to', await page.evaluate((ms) => {
    const d = new Date(ms); const p = (x) => String(x).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, recStart + 3000));
  await page.dispatchEvent('#range-to', 'change');
  const rangeHref = await page.getAttribute('#range-download', 'href');
  const exp = await env.api('GET', rangeHref);
  ok(rangeHref.includes(`/cameras/${env.cam}/export.mp4?from=`) && exp.status === 200,
     `range export link answers ${exp.status}`);
  // Keep toggle.
  await page.click('#rec-keep');
  await waitFor(async () => (await (await env.api('GET', `/api/v1/recordings/${rec.id}`)).json()).keep,
                5000, 'keep saved');
  ok(true, 'the keep box sets keep on the recording');

  // --- wall builder: a 2×2 wall with effects ---
  await page.goto(`${env.base}/walls`);
  await page.click('#new-wall');
  await page.fill('#wall-title', 'Test wall');
  await page.click('#layout-2x2');
  const setTile = async (i, source, effect) => {
    await page.click(`.wb-tile[data-index="${i}"]`);
    await page.selectOption('#tile-source', source);
    await page.selectOption('#tile-effect', effect);
  };
  await setTile(0, `camera:${env.cam}`, 'crt');
  await page.fill('#param-scanlines', '0.8');
  await page.dispatchEvent('#param-scanlines', 'input');
  await setTile(1, 'camera:qr', 'thermal');
  await setTile(2, `recording:${rec.id}`, 'sepia');
  await setTile(3, `camera:${env.cam}`, 'pixelate');
  await page.waitForFunction(() => document.querySelector('#tile-preview canvas'), null, { timeout: 10000 });
  await sleep(1000);
  await shoot(page, 'walls-builder');
  await page.click('#wall-save');
  await page.waitForSelector('.card[data-wall="test-wall"]', { timeout: 5000 });
  const saved = await (await env.api('GET', '/api/v1/walls/test-wall')).json();
  ok(saved.layout.cols === 2 && saved.tiles.length === 4 && saved.tiles[0].effect.name === 'crt' &&
     saved.tiles[0].effect.params.scanlines === 0.8 && saved.tiles[2].source.recording === rec.id,
     'the builder saved the 2×2 wall with its effects');
  await shoot(page, 'walls');
  // What GET answers can be PUT back unchanged (recorded tiles included).
  r = await env.api('PUT', '/api/v1/walls/test-wall', saved);
  ok(r.status === 200, `GET → PUT round trip of the wall (${r.status})`);

  // --- the wall ---
  await page.goto(`${env.base}/wall/test-wall`);
  await page.waitForFunction(() => window.vigilWall && window.vigilWall.tiles.length === 4 &&
    window.vigilWall.tiles.every((t) => t.view && t.view.app), null, { timeout: 20000 });
  const sample = () => page.evaluate(() => window.vigilWall.tiles.map((t) => ({
    time: t.video.currentTime, frames: t.view.frames, fx: t.tile.effect.name,
    kind: t.player.recording ? `recording ${t.player.recording.id}` : `live ${t.player.cameraId}`,
    canvas: !!t.container.querySelector('canvas.fx-canvas'), fallback: t.view.fallback,
    pixels: t.view.sample() })));
  await page.waitForFunction(() => window.vigilWall.tiles.every((t) => t.video.currentTime > 0),
                             null, { timeout: 20000 });
  const s1 = await sample();
  await sleep(2000);
  const s2 = await sample();
  // Playing: the video advances, the canvas redraws, and what it draws is a
  // picture (not black, not flat), so the effect's shader works.
  s2.forEach((s, i) => ok(s.canvas && !s.fallback && s.time > s1[i].time && s.frames > s1[i].frames &&
    s.pixels && s.pixels.mean > 10 && s.pixels.spread > 5,
    `wall tile ${i + 1} (${s.kind}, ${s.fx}) plays: video ${s1[i].time.toFixed(2)} → ${s.time.toFixed(2)}, ` +
    `canvas frames ${s1[i].frames} → ${s.frames}, mean ${s.pixels?.mean.toFixed(0)} spread ${s.pixels?.spread.toFixed(0)}`));
  ok(s2[2].kind === `recording ${rec.id}` && s2[0].kind === `live ${env.cam}`,
     'the recorded tile plays the recording, the live ones their camera');
  await shoot(page, 'wall');
  // Every effect compiles and draws a picture (tile 1 switched through all).
  const effects = await page.evaluate(() => import('/static/js/effects.js').then((m) => Object.keys(m.EFFECTS)));
  const drawn = [];
  for (const fx of effects) {
    await page.evaluate((name) => window.vigilWall.tiles[0].setEffect(name, {}), fx);
    await sleep(400);
    const px = await page.evaluate(() => window.vigilWall.tiles[0].view.sample());
    drawn.push(`${fx} ${px ? px.mean.toFixed(0) + '/' + px.spread.toFixed(0) : 'none'}`);
    await page.locator('.wall-tile').first().screenshot({ path: `${shots}/effect-${fx}.png` });
    if (!px || px.mean < 8 || px.spread < 4) errors.push(`effect ${fx} draws nothing (${JSON.stringify(px)})`);
  }
  ok(effects.length >= 10 && drawn.length === effects.length,
     `all ${effects.length} effects draw (mean/spread: ${drawn.join(', ')})`);
  // Kiosk survives a reload (state in the URL).
  await page.click('#kiosk-toggle');
  ok(await page.evaluate(() => document.body.classList.contains('kiosk')), 'kiosk mode on');
  await page.reload();
  await page.waitForFunction(() => window.vigilWall && window.vigilWall.tiles.length === 4, null,
                             { timeout: 20000 });
  ok(await page.evaluate(() => document.body.classList.contains('kiosk') &&
     getComputedStyle(document.querySelector('.site-nav')).display === 'none'),
     'kiosk mode survives the reload and hides the navigation');
  await sleep(2000);
  await shoot(page, 'wall-kiosk');
  await page.close();

  // --- a viewer who may see only "cam" live ---
  r = await env.api('POST', '/api/v1/users', { name: 'walt', password: 'walt-password-1',
                                               role: 'viewer', cameras: { [env.cam]: ['view'] } });
  ok(r.status === 201, 'viewer "walt" created');
  const viewerBrowser = await launchBrowser({ credentials: false });
  try {
    await loginContext(viewerBrowser.context, env.base, 'walt', 'walt-password-1');
    const vp = watch(await viewerBrowser.context.newPage(), 'viewer');
    await vp.goto(`${env.base}/walls`);
    await vp.waitForSelector('.card[data-wall="test-wall"]', { timeout: 10000 });
    ok(!(await vp.$('#new-wall')) && !(await vp.$('.card[data-wall="test-wall"] .btn-danger')),
       'a viewer sees the walls but no New/Delete');
    await vp.goto(`${env.base}/wall/test-wall?kiosk=0`);
    await vp.waitForFunction(() => document.querySelectorAll('.wall-tile').length === 4 &&
      document.querySelectorAll('.wall-note').length === 2, null, { timeout: 15000 });
    const notes = await vp.$$eval('.wall-note', (n) => n.map((x) => x.textContent));
    ok(notes.every((t) => t === 'no access'),
       `the qr and recorded tiles show "no access" to the viewer (${notes.join(', ')})`);
    await vp.waitForFunction(() => {
      const playing = window.vigilWall.tiles.filter((t) => t.player);
      return playing.length === 2 && playing.every((t) => t.video.currentTime > 0);
    }, null, { timeout: 20000 });
    ok(true, 'the viewer\'s two "cam" tiles play');
    const html = await vp.content();
    ok(!html.includes('QR door') && !html.includes(`recording ${rec.id}`),
       'nothing about the hidden tiles leaks into the page');
    await shoot(vp, 'wall-viewer');
    await vp.close();
  } finally {
    await viewerBrowser.close();
  }

  // --- phone width ---
  const phone = watch(await browser.context.newPage(), 'phone');
  await phone.setViewportSize({ width: 375, height: 740 });
  for (const [name, path, ready] of [
    ['events', '/events', '.ev-card'],
    ['recordings', `/recordings?camera=${env.cam}&t=${encodeURIComponent(new Date(recStart + 1000).toISOString())}`, '.tl-block'],
    ['walls', '/walls?edit=test-wall', '#wb-grid'],
    ['wall', '/wall/test-wall?kiosk=0', '.wall-tile canvas'],
  ]) {
    await phone.goto(env.base + path);
    await phone.waitForSelector(ready, { timeout: 15000 });
    await sleep(1500);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    ok(overflow <= 1, `${name} fits 375 px (overflow ${overflow} px)`);
    await shoot(phone, `${name}-375`);
  }
  await phone.close();

  // --- deleting the recording from the recordings page ---
  {
    const dp = watch(await browser.context.newPage(), 'delete');
    await dp.goto(`${env.base}/recordings?camera=${env.cam}&t=${encodeURIComponent(new Date(recStart + 1000).toISOString())}`);
    await dp.waitForSelector('#rec-delete', { timeout: 15000 });
    await dp.click('#rec-delete');
    await dp.click('dialog.modal .btn-danger');
    await waitFor(async () => (await env.api('GET', `/api/v1/recordings/${rec.id}`)).status === 404,
                  10000, 'the recording deleted');
    ok(true, 'Delete (after the confirmation) removes the recording');
    await dp.close();
  }

  ok(errors.length === 0, `no console or page errors${errors.length ? ':\n# ' + errors.join('\n# ') : ''}`);
} catch (e) {
  ok(false, `unexpected: ${e.stack || e}`);
} finally {
  await browser.close();
  env.stop();
}
console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s`);
done();
