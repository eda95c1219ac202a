// Browser test of main and sub streams in the web UI (docs/streams.md),
// against the real daemon and two vigil-fakecams: the main one at 1280×720,
// a second one at 640×360 standing in for the camera's sub stream.
// - the camera form: the sub stream's fields, Test probing both streams side
//   by side, a validation error next to the sub source, the saved fields;
// - the camera page: the sub stream's status, its player on the main stream;
// - the grid: the dual-stream tile plays the sub stream (its WebSocket asks
//   ?stream=sub; its poster, until the first frame, is the sub stream's
//   snapshot, a single-stream tile's the main one's), enlarging it switches to a main-stream WebSocket and back
//   on Escape, and the visible video never lacks a picture while it does
//   (sampled every 50 ms: readyState, currentTime and the picture's
//   brightness drawn to a canvas);
// - a wall tile asks for the sub stream; enlarged it fills the wall on the
//   main stream, seamlessly, and Escape puts it back; a one-tile wall asks
//   for main;
// - the form and the grid at 375 px (no sideways scroll; phones get sub).
// Any console error or page error fails the test. Prints TAP.
import { startAll, startFakecam, launchBrowser, loginContext, sleep, tapSuite, waitFor, watchErrors } from './live-common.mjs';

const { shots, ok, done } = tapSuite();

const errors = [];
let expected = [];
const watch = watchErrors(errors, () => expected);
async function shoot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}
// Every WebSocket a page opens: { url, at } (Date.now() when it opened).
function sockets(page) {
  const list = [];
  page.on('websocket', (ws) => list.push({ url: ws.url(), at: Date.now() }));
  return list;
}
const isLive = (u, cam) => new RegExp(`/cameras/${cam}/live(\\?|$)`).test(u);
const streamOf = (u) => new URL(u).searchParams.get('stream') || 'main';

// In the page: samples the visible video of the player boxes @boxes (a
// selector; the last box is on top) every 50 ms (readyState, currentTime,
// size, mean brightness of the picture) until stopped.
const gridBoxes = (cam) => `.tile[data-camera="${cam}"] .tile-screen > .vigil-player`;
const startSampler = (page, sel) => page.evaluate((sel) => {
  const canvas = document.createElement('canvas');
  canvas.width = 16;
  canvas.height = 9;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const samples = [];
  window.vigilSamples = samples;
  window.vigilSampler = setInterval(() => {
    const boxes = document.querySelectorAll(sel);
    const v = boxes[boxes.length - 1]?.querySelector('video');   // the last one is on top
    if (!v) { samples.push({ none: true, at: Math.round(performance.now()) }); return; }
    let light = -1;
    try {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, 16, 9);
      ctx.drawImage(v, 0, 0, 16, 9);
      const d = ctx.getImageData(0, 0, 16, 9).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
      light = sum / (d.length / 4) / 3;
    } catch { /* not drawable */ }
    samples.push({ rs: v.readyState, t: v.currentTime, w: v.videoWidth, light, players: boxes.length,
                   seeking: v.seeking, at: Math.round(performance.now()) });
  }, 50);
}, sel);
const stopSampler = (page) => page.evaluate(() => {
  clearInterval(window.vigilSampler);
  return window.vigilSamples;
});
// No picture: nothing drawn (the canvas stays black), or not seeking and
// without a current frame. While a player jumps to the live edge (seeking)
// chromium keeps showing, and drawing, its last frame: not blank.
const blank = (s) => s.none || s.light < 8 || !(s.t > 0) || (s.rs < 2 && !s.seeking);
// The samples watched the whole switch: at least 5, never more than 1 s
// apart, so a blank picture for longer than that cannot slip between two.
// The 50 ms timer runs late on a busy machine: beside a soak, the wall's
// effects (software WebGL) kept it waiting up to 0.7 s, and a count alone
// (it was "more than 10") failed there while saying nothing of the gaps.
const maxGap = (samples) => Math.max(0, ...samples.slice(1).map((x, i) => x.at - samples[i].at));
const watched = (samples) => samples.length >= 5 && maxGap(samples) <= 1000;
// One switch watched: the boxes @sel sampled from 300 ms before @to.act()
// until 1 s after @to.done holds in the page. A switch watched too sparsely
// is undone with @back and watched again, up to 3 times: at the lowest CPU
// priority beside a soak the timer once went 1978 ms without a sample. A
// blank sample ends the attempts: that one is the result.
const watchSwitch = async (page, sel, to, back) => {
  const settle = (sw) => page.waitForFunction(sw.done, sw.arg, { timeout: 15000 });
  for (let attempt = 1; ; attempt++) {
    await startSampler(page, sel);
    await sleep(300);
    const at = Date.now();
    await to.act();
    await settle(to);
    const swapMs = Date.now() - at;
    await sleep(1000);
    const samples = await stopSampler(page);
    const gaps = samples.filter(blank);
    if (watched(samples) || gaps.length || attempt === 3) return { samples, gaps, at, swapMs, attempt };
    await back.act();
    await settle(back);
    await sleep(1000);
  }
};
const attempts = (w) => (w.attempt > 1 ? `, watched closely enough on attempt ${w.attempt}` : '');
const tileState = (page, cam) => page.evaluate((id) => {
  const t = window.vigilTiles.get(id);
  return { stream: t.live.player.stream, pending: !!t.live.pending, t: t.live.player.video.currentTime,
           w: t.live.player.video.videoWidth, enlarged: t.tile.classList.contains('enlarged') };
}, cam);

const env = await startAll(['--no-sub', '--cameras', '2', '--scene', 'motion:0', '--gop', '1'], { camera: false });
const small = await startFakecam(['--no-sub', '--size', '640x360', '--scene', 'motion:0', '--gop', '1']);
const browser = await launchBrowser({ credentials: false });
try {
  await loginContext(browser.context, env.base);
  const page = watch(await browser.context.newPage(), 'desktop');
  const pageSockets = sockets(page);

  // --- the form ---
  await page.goto(`${env.base}/cameras/new`);
  await page.waitForSelector('#camera-form');
  ok(await page.isDisabled('[data-field="record_stream"]') && await page.isDisabled('[data-field="barcode_stream"]'),
     'without a sub source, record and barcode streams are off');
  await page.fill('[data-field="name"]', 'Dual');
  await page.fill('[data-field="source"]', `${env.rtsp}/cam1`);
  await page.fill('[data-field="sub_source"]', `${small.rtsp}/cam1`);
  ok(!(await page.isDisabled('[data-field="record_stream"]')) && await page.isDisabled('[data-field="barcode_stream"]'),
     'a sub source enables the record stream; the barcode stream waits for barcodes');
  const hint = await page.locator('[data-field="sub_username"] ~ .hint').textContent();
  ok(/main stream/.test(hint), `the sub user name's hint says the main one is used (${hint})`);
  const probes = [];
  page.on('request', (r) => { if (r.url().endsWith('/cameras/probe')) probes.push(r.postDataJSON()); });
  await page.click('#test-source');
  await page.waitForSelector('#probe-ok, #probe-error', { timeout: 15000 });
  await page.waitForSelector('#probe-sub-ok, #probe-sub-error', { timeout: 15000 });
  const mainText = await page.textContent('#probe-result section:first-child');
  const subText = await page.textContent('#probe-result section:last-child');
  ok(/1280×720/.test(mainText) && /640×360/.test(subText) && await page.isVisible('#probe-sub-ok'),
     `Test shows both streams side by side (main: ${mainText} | sub: ${subText})`);
  const subProbe = probes.find((b) => b.stream === 'sub');
  ok(probes.length === 2 && subProbe && subProbe.source === `${small.rtsp}/cam1` && !('camera' in subProbe),
     `the sub stream's probe sends its source and "stream": "sub" (${JSON.stringify(probes)})`);
  await shoot(page, 'streams-form-test');
  // A wrong sub source: the API's error appears next to its field.
  await page.fill('[data-field="sub_source"]', 'ftp://nowhere/x');
  expected = [/400/];
  await page.click('#save');
  await page.waitForSelector('[data-field="sub_source"][aria-invalid="true"]', { timeout: 5000 });
  await sleep(200);
  expected = [];
  const subErr = await page.locator('[data-field="sub_source"] ~ .error').textContent();
  ok(/sub_source/.test(subErr), `an invalid sub source shows the API's error next to it (${subErr})`);
  await page.fill('[data-field="sub_source"]', `${small.rtsp}/cam1`);
  await page.selectOption('[data-field="record_stream"]', 'both');
  await page.check('[data-field="barcodes"]');
  ok(!(await page.isDisabled('[data-field="barcode_interval_s"]')), 'barcodes on: the barcode interval applies');
  await page.fill('[data-field="barcode_interval_s"]', '5');
  await shoot(page, 'streams-form');
  await page.click('#save');
  await page.waitForURL(/\/cameras\/dual$/, { timeout: 10000 });
  const saved = await (await env.api('GET', '/api/v1/cameras/dual')).json();
  ok(saved.sub_source === `${small.rtsp}/cam1` && saved.sub_username === null && saved.record_stream === 'both' &&
     saved.barcode_stream === 'main' && saved.barcode_interval_s === 5,
     `the sub stream's fields saved (${['sub_source', 'sub_username', 'record_stream', 'barcode_stream',
       'barcode_interval_s'].map((k) => saved[k]).join(', ')})`);

  // --- the camera page: main stream in the player, the sub stream's status ---
  await page.waitForFunction(() => window.vigilPlayer && window.vigilPlayer.video.currentTime > 0.3,
                             null, { timeout: 20000 });
  const camWs = pageSockets.filter((s) => isLive(s.url, 'dual'));
  ok(camWs.length >= 1 && camWs.every((s) => streamOf(s.url) === 'main'),
     `the camera page plays the main stream (${camWs.map((s) => s.url).join(' ')})`);
  const subShown = await page.waitForFunction(
    () => /640×360/.test(document.getElementById('st-sub-size')?.textContent || ''), null, { timeout: 15000 })
    .then(() => true, () => false);
  const subStatus = await page.textContent('#sub-status');
  ok(subShown && /streaming/.test(subStatus) && /H264/.test(subStatus) && /sub stream/.test(subStatus),
     `the camera page shows the sub stream's status and the analysis stream (${subStatus})`);
  await shoot(page, 'streams-camera');

  // --- the grid ---
  await env.api('POST', '/api/v1/cameras', { id: 'single', name: 'Single', source: `${env.rtsp}/cam2` });
  // Posters are only asked for of streams that are up.
  await waitFor(async () => (await (await env.api('GET', '/api/v1/cameras/single')).json()).status.state === 'streaming',
                20000, 'the single camera streaming');
  pageSockets.length = 0;
  // Each tile's poster: its stream's latest keyframe, until the first frame.
  // Requests, not responses: a poster still loading when the first frame
  // paints is dropped, and its request cancelled.
  const posters = [], posterReplies = [];
  page.on('request', (r) => { if (r.url().includes('/snapshot.jpg')) posters.push({ url: r.url(), at: Date.now() }); });
  page.on('response', (r) => {
    if (r.url().includes('/snapshot.jpg')) posterReplies.push(`${r.status()} ${r.headers()['content-type']}`);
  });
  await page.goto(`${env.base}/`);
  await page.waitForFunction(() => ['dual', 'single'].every((id) => {
    const t = window.vigilTiles && window.vigilTiles.get(id);
    return t && t.live && t.live.player.video.currentTime > 0.5;
  }), null, { timeout: 20000 });
  const dualWs = pageSockets.filter((s) => isLive(s.url, 'dual'));
  const singleWs = pageSockets.filter((s) => isLive(s.url, 'single'));
  ok(dualWs.length === 1 && streamOf(dualWs[0].url) === 'sub',
     `the dual-stream tile asks for the sub stream (${dualWs.map((s) => s.url).join(' ')})`);
  ok(singleWs.length === 1 && streamOf(singleWs[0].url) === 'main',
     `a camera without a sub stream asks for main (${singleWs.map((s) => s.url).join(' ')})`);
  let st = await tileState(page, 'dual');
  ok(st.w === 640, `the tile shows the sub stream's picture (${st.w} px wide)`);
  const posterOf = (cam) => posters.filter((x) => new URL(x.url).pathname === `/api/v1/cameras/${cam}/snapshot.jpg`);
  const dualPoster = posterOf('dual'), singlePoster = posterOf('single');
  ok(dualPoster.length === 1 && new URL(dualPoster[0].url).search === '?stream=sub' &&
     singlePoster.length === 1 && new URL(singlePoster[0].url).search === '' &&
     posterReplies.every((x) => x === '200 image/jpeg'),
     `each tile's poster is its stream's snapshot (${posters.map((x) => x.url.replace(/^.*\/cameras\//, '')).join(', ')}; ` +
     `answered: ${posterReplies.join(', ') || 'none'})`);
  // Fetched once each, by the page's preload hints (http/page-hints.c),
  // before the grid's scripts ran; the tiles' stills took those.
  const initiators = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((r) => r.name.includes('/snapshot.jpg')).map((r) => r.initiatorType));
  ok(initiators.length === 2 && initiators.every((x) => x === 'link'),
     `the posters come from the page's preload hints (${initiators.join(', ')})`);
  const stills = await page.evaluate(() => document.querySelectorAll('.tile img.still').length);
  ok(stills === 0, `the posters are gone once the tiles play (${stills} left)`);
  // A player that has to reconnect shows no still meanwhile (it would pass
  // for a frozen camera).
  const afterRetry = await page.evaluate(() => {
    const p = window.vigilTiles.get('single').live.player;
    p.showStill('/static/img/favicon.svg');
    const shown = !!p.container.querySelector('img.still');
    p.retry();
    return { shown, left: p.container.querySelectorAll('img.still').length };
  });
  ok(afterRetry.shown && afterRetry.left === 0, `a reconnecting player drops its poster (${JSON.stringify(afterRetry)})`);
  await page.waitForSelector('.tile .badge.state-streaming', { timeout: 10000 });
  await shoot(page, 'streams-grid');

  // What the stills look like: a page whose live sockets never hear from
  // vigil (answered here, by the test) keeps them, since no frame comes.
  {
    const held = watch(await browser.context.newPage(), 'stills');
    await held.routeWebSocket(/\/live(\?|$)/, () => {});
    await held.goto(`${env.base}/`);
    await held.waitForFunction(() => ['dual', 'single'].every((id) => {
      const img = document.querySelector(`.tile[data-camera="${id}"] img.still`);
      return img && img.complete && img.naturalWidth > 0;
    }), null, { timeout: 10000 });
    const shown = await held.evaluate(() => [...document.querySelectorAll('.tile')].map((t) => {
      const img = t.querySelector('img.still');
      const r = img?.getBoundingClientRect();
      return { id: t.dataset.camera, w: img?.naturalWidth, shownW: Math.round(r?.width ?? 0),
               tileW: Math.round(t.getBoundingClientRect().width),
               frames: t.querySelector('video')?.getVideoPlaybackQuality().totalVideoFrames };
    }));
    const of = (id) => shown.find((x) => x.id === id) || {};
    ok(of('dual').w === 640 && of('single').w > 640 &&
       shown.every((x) => x.frames === 0 && x.shownW >= x.tileW - 4),
       `before any video, each tile shows its stream's still over the whole tile (${JSON.stringify(shown)})`);
    await shoot(held, 'streams-grid-stills');
    await held.close();
  }

  // Enlarge: a main-stream WebSocket, a seamless swap.
  const gridOn = (stream, act) => ({ act, arg: stream, done: (s) => {
    const t = window.vigilTiles.get('dual');
    return t.live.player.stream === s && !t.live.pending;
  } });
  const gridEnlarge = gridOn('main', () => page.click('.tile[data-camera="dual"] .tile-zoom'));
  const gridShrink = gridOn('sub', () => page.keyboard.press('Escape'));
  let w = await watchSwitch(page, gridBoxes('dual'), gridEnlarge, gridShrink);
  let { samples, gaps } = w;
  const { at: clickAt, swapMs } = w;
  const newWs = pageSockets.filter((s) => isLive(s.url, 'dual') && s.at >= clickAt);
  ok(!posters.some((x) => x.at >= clickAt), 'the player switched to asks for no poster');
  ok(newWs.length === 1 && streamOf(newWs[0].url) === 'main',
     `enlarging opens a main-stream WebSocket (${newWs.map((s) => s.url).join(' ')})`);
  ok(watched(samples) && gaps.length === 0,
     `no sample without a picture while switching to main (${gaps.length} of ${samples.length} blank, ` +
     `at most ${maxGap(samples)} ms apart, ` +
     `${samples.filter((s) => s.seeking).length} at a live-edge jump, swap after ${swapMs} ms, widths ${[...new Set(samples.map((s) => s.w))].join('/')}, ` +
     `darkest ${Math.min(...samples.map((s) => s.light)).toFixed(0)}${attempts(w)}${gaps.length ? ': ' + JSON.stringify(gaps) : ''})`);
  ok(samples.some((s) => s.players === 2) && samples.some((s) => s.w === 640) && samples.at(-1).w === 1280,
     'two players overlapped, then the main stream\'s picture alone');
  st = await tileState(page, 'dual');
  await sleep(1000);
  const st2 = await tileState(page, 'dual');
  ok(st.enlarged && st2.t > st.t + 0.5 && st2.w === 1280,
     `the enlarged tile plays the main stream (${st.t.toFixed(2)} → ${st2.t.toFixed(2)}, ${st2.w} px)`);
  ok(await page.isHidden('.tile[data-camera="single"]'), 'the other tiles are hidden while one is enlarged');
  await shoot(page, 'streams-grid-enlarged');

  // Escape: back to the sub stream, seamlessly too.
  w = await watchSwitch(page, gridBoxes('dual'), gridShrink, gridEnlarge);
  ({ samples, gaps } = w);
  const backWs = pageSockets.filter((s) => isLive(s.url, 'dual') && s.at >= w.at);
  st = await tileState(page, 'dual');
  ok(backWs.length === 1 && streamOf(backWs[0].url) === 'sub' && !st.enlarged && st.w === 640,
     `Escape shrinks the tile back to the sub stream (${backWs.map((s) => s.url).join(' ')}, ${st.w} px)`);
  ok(watched(samples) && gaps.length === 0,
     `no sample without a picture while switching back (${gaps.length} of ${samples.length} blank, ` +
     `at most ${maxGap(samples)} ms apart, ` +
     `${samples.filter((s) => s.seeking).length} at a live-edge jump${attempts(w)}` +
     `${gaps.length ? ': ' + JSON.stringify(gaps) : ''})`);
  ok(await page.isVisible('.tile[data-camera="single"]'), 'the other tiles show again');

  // --- a wall tile asks for the sub stream ---
  const wr = await env.api('POST', '/api/v1/walls', { name: 'dual-wall', title: 'Dual', layout: { cols: 2, rows: 1 },
    tiles: [{ x: 0, y: 0, w: 1, h: 1, source: { camera: 'dual' }, effect: { name: 'sepia', params: {} } },
            { x: 1, y: 0, w: 1, h: 1, source: { camera: 'single' }, effect: { name: 'grain', params: {} } }] });
  ok(wr.status === 201, `wall created (${wr.status})`);
  pageSockets.length = 0;
  await page.goto(`${env.base}/wall/dual-wall`);
  await page.waitForFunction(() => window.vigilWall && window.vigilWall.tiles.length === 2 &&
    window.vigilWall.tiles.every((t) => t.video && t.video.currentTime > 0.3), null, { timeout: 20000 });
  const wallWs = pageSockets.filter((s) => isLive(s.url, 'dual'));
  ok(wallWs.length === 1 && streamOf(wallWs[0].url) === 'sub',
     `a wall tile asks for the sub stream (${wallWs.map((s) => s.url).join(' ')})`);

  // Enlarging a wall tile: it fills the wall on the main stream, seamlessly,
  // and Escape brings it back to its place on the sub stream.
  const wallBoxes = '.wall-tile[data-x="0"] .fx-view > .vigil-player';
  const wallTile = () => page.evaluate(() => {
    const t = window.vigilWall.tiles[0];
    const box = t.container.parentElement.getBoundingClientRect();
    const grid = document.getElementById('wall-grid').getBoundingClientRect();
    return { stream: t.live.player.stream, pending: !!t.live.pending, w: t.video.videoWidth,
             fxVideo: !!t.view && t.view.video === t.video, frames: t.view?.frames, pixels: t.view?.sample(),
             t: t.video.currentTime, fills: Math.abs(box.width - grid.width) < 2 && Math.abs(box.height - grid.height) < 2,
             enlarged: t.container.parentElement.classList.contains('enlarged'),
             otherHidden: getComputedStyle(document.querySelector('.wall-tile[data-x="1"]')).display === 'none' };
  });
  const wallOn = (stream, act) => ({ act, arg: stream, done: (s) => {
    const t = window.vigilWall.tiles[0];
    return t.live.player.stream === s && !t.live.pending;
  } });
  const wallEnlarge = wallOn('main', () => page.click('.wall-tile[data-x="0"] .tile-zoom'));
  const wallShrink = wallOn('sub', () => page.keyboard.press('Escape'));
  w = await watchSwitch(page, wallBoxes, wallEnlarge, wallShrink);
  ({ samples, gaps } = w);
  let wt = await wallTile();
  const wallMainWs = pageSockets.filter((s) => isLive(s.url, 'dual') && s.at >= w.at);
  ok(wallMainWs.length === 1 && streamOf(wallMainWs[0].url) === 'main' && wt.enlarged && wt.fills &&
     wt.otherHidden && wt.w === 1280,
     `an enlarged wall tile fills the wall on the main stream (${wallMainWs.map((s) => s.url).join(' ')}, ` +
     `${wt.w} px, fills ${wt.fills}, the other tile hidden ${wt.otherHidden})`);
  ok(watched(samples) && gaps.length === 0 && samples.some((s) => s.players === 2),
     `no sample without a picture while the wall tile switches to main (${gaps.length} of ${samples.length} blank, ` +
     `at most ${maxGap(samples)} ms apart${attempts(w)}` +
     `${gaps.length ? ': ' + JSON.stringify(gaps) : ''})`);
  await sleep(500);
  const wt2 = await wallTile();
  ok(wt.fxVideo && wt2.frames > wt.frames && wt2.pixels && wt2.pixels.mean > 10 && wt2.pixels.spread > 5,
     `the tile's effect draws the main stream's video (frames ${wt.frames} → ${wt2.frames}, ` +
     `mean ${wt2.pixels?.mean.toFixed(0)} spread ${wt2.pixels?.spread.toFixed(0)})`);
  await shoot(page, 'streams-wall-enlarged');
  w = await watchSwitch(page, wallBoxes, wallShrink, wallEnlarge);
  ({ samples, gaps } = w);
  wt = await wallTile();
  const wallSubWs = pageSockets.filter((s) => isLive(s.url, 'dual') && s.at >= w.at);
  // The other tile (with an effect, hidden meanwhile) draws again.
  const other = await page.evaluate(() => window.vigilWall.tiles[1].view?.sample());
  ok(other && other.mean > 10 && other.spread > 5,
     `the other tile's effect draws again after the enlarged one shrank (mean ${other?.mean.toFixed(0)})`);
  ok(wallSubWs.length === 1 && streamOf(wallSubWs[0].url) === 'sub' && !wt.enlarged && !wt.fills &&
     !wt.otherHidden && wt.w === 640 && watched(samples) && gaps.length === 0,
     `Escape puts the wall tile back on the sub stream (${wallSubWs.map((s) => s.url).join(' ')}, ${wt.w} px, ` +
     `${gaps.length} of ${samples.length} samples blank, at most ${maxGap(samples)} ms apart${attempts(w)})`);

  // A wall of one tile is a big view: the main stream.
  await env.api('POST', '/api/v1/walls', { name: 'one-wall', title: 'One', layout: { cols: 1, rows: 1 },
    tiles: [{ x: 0, y: 0, w: 1, h: 1, source: { camera: 'dual' } }] });
  pageSockets.length = 0;
  await page.goto(`${env.base}/wall/one-wall`);
  await page.waitForFunction(() => window.vigilWall && window.vigilWall.tiles.length === 1 &&
    window.vigilWall.tiles[0].video?.currentTime > 0.3, null, { timeout: 20000 });
  const oneWs = pageSockets.filter((s) => isLive(s.url, 'dual'));
  ok(oneWs.length === 1 && streamOf(oneWs[0].url) === 'main' && !(await page.$('.tile-zoom')),
     `a wall of one tile asks for the main stream and has no enlarge button (${oneWs.map((s) => s.url).join(' ')})`);

  // --- phone width ---
  const phone = watch(await browser.context.newPage(), 'phone');
  await phone.setViewportSize({ width: 375, height: 740 });
  const phoneSockets = sockets(phone);
  await phone.goto(`${env.base}/cameras/dual`);
  await phone.waitForFunction(() => window.vigilPlayer && window.vigilPlayer.video.currentTime > 0.3,
                              null, { timeout: 20000 });
  const pws = phoneSockets.filter((s) => isLive(s.url, 'dual'));
  ok(pws.length === 1 && streamOf(pws[0].url) === 'sub',
     `on a phone the camera page plays the sub stream (${pws.map((s) => s.url).join(' ')})`);
  for (const [name, path, sel] of [['streams-grid-phone', '/', '.tile'],
                                   ['streams-form-phone', '/cameras/dual/edit', '#sub-stream']]) {
    await phone.goto(env.base + path);
    await phone.waitForSelector(sel, { timeout: 10000 });
    await sleep(500);
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    ok(wide <= 375, `${name} fits 375 px (scrollWidth ${wide})`);
    await shoot(phone, name);
  }
  // Editing: the sub probe names the camera, whose saved sub stream fills in.
  const editProbes = [];
  phone.on('request', (r) => { if (r.url().endsWith('/cameras/probe')) editProbes.push(r.postDataJSON()); });
  await phone.click('#test-source');
  await phone.waitForSelector('#probe-sub-ok, #probe-sub-error', { timeout: 15000 });
  const sp = editProbes.find((b) => b.stream === 'sub');
  ok(await phone.isVisible('#probe-sub-ok') && sp && sp.camera === 'dual',
     `editing, Test probes the saved camera's sub stream too (${JSON.stringify(sp)})`);
  await sleep(300);
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
  ok(wide <= 375, `both probe results fit 375 px (scrollWidth ${wide})`);
  await shoot(phone, 'streams-form-test-phone');
  await phone.close();
  await page.close();
} catch (e) {
  ok(false, 'exception: ' + (e.stack || e));
  for (const [i, p] of browser.context.pages().entries()) {
    await p.screenshot({ path: `${shots}/streams-failure-${i}.png` }).catch(() => {});
  }
} finally {
  await browser.close();
  small.proc.kill('SIGTERM');
  env.stop();
}
ok(errors.length === 0, `no console or page errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
done();
