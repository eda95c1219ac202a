// bench/live grid baseline: how soon can this machine's chromium paint a 4x4
// grid of 640x360 H.264 videos at all, with no camera, no vigil and no
// mpegts.js? The floor under bench/live/grid.mjs's "first frame per tile".
// A 1-second 640x360 25 fps clip (one GOP, libx264, fragmented MP4, made by
// ffmpeg) is served by a loopback HTTP server in this process; a page with
// N tiles (same 1280x900 window, same chromium flags as the UI tests) plays it
// in every tile, in two ways:
//   src: <video src=clip.mp4 muted autoplay>, the browser's own loading;
//   mse: one MediaSource per tile and the clip (fetched once) appended whole,
//        the path mpegts.js ends in, without its demuxing and remuxing.
// Printed per mode: ms from navigation start to each tile's first painted
// frame (requestVideoFrameCallback), and from the tiles' creation.
//
//   node bench/live/grid-baseline.mjs            (VIGIL_BENCH_CAMERAS=16, rounds 3)
import { launchBrowser } from '../../tests/ui/live-common.mjs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.env.VIGIL_BENCH_CAMERAS || 16);
const ROUNDS = Number(process.env.VIGIL_BENCH_ROUNDS || 3);
const q = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

const dir = mkdtempSync(join(tmpdir(), 'vigil-grid-baseline-'));
const clipPath = join(dir, 'clip.mp4');
execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '1',
                        '-c:v', 'libx264', '-profile:v', 'main', '-pix_fmt', 'yuv420p', '-g', '25',
                        '-b:v', '500k', '-movflags', 'frag_keyframe+empty_moov+default_base_moof',
                        clipPath]);
const clip = readFileSync(clipPath);

const page = (mode) => `<!doctype html><html><head><meta charset="utf-8">
<style>body{margin:0;background:#111}#g{display:grid;grid-template-columns:repeat(4,1fr);gap:4px}
video{width:100%;aspect-ratio:16/9;background:#000}</style></head><body><div id="g"></div><script>
window.firstFrames = []; window.created = 0;
const g = document.getElementById('g');
const codec = 'video/mp4; codecs="avc1.4d401e"';
async function start() {
  const data = ${mode === 'mse' ? "await (await fetch('/clip.mp4')).arrayBuffer()" : 'null'};
  window.created = performance.now();
  for (let i = 0; i < ${N}; i++) {
    const v = document.createElement('video');
    v.muted = true; v.autoplay = true; v.playsInline = true;
    v.requestVideoFrameCallback(() => window.firstFrames.push(performance.now()));
    g.appendChild(v);
    if (${JSON.stringify(mode)} === 'src') { v.src = '/clip.mp4'; continue; }
    const ms = new MediaSource();
    ms.addEventListener('sourceopen', () => {
      const sb = ms.addSourceBuffer(codec);
      sb.appendBuffer(data);
    }, { once: true });
    v.src = URL.createObjectURL(ms);
  }
}
start();
</script></body></html>`;

const server = createServer((req, res) => {
  if (req.url === '/clip.mp4') {
    res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': clip.length });
    res.end(clip);
  } else {
    const mode = req.url.includes('mse') ? 'mse' : 'src';
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(page(mode));
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await launchBrowser({ credentials: false, viewport: { width: 1280, height: 900 } });
try {
  console.log(`grid baseline: ${N} tiles of a 640x360 25 fps H.264 clip (1 GOP, ${clip.length} bytes), ` +
              `chromium ${browser.context.browser()?.version() ?? ''}`);
  for (let r = 1; r <= ROUNDS; r++) {
    for (const mode of ['src', 'mse']) {
      const p = await browser.context.newPage();
      await p.goto(`${base}/?${mode}`);
      await p.waitForFunction((n) => window.firstFrames.length >= n, N, { timeout: 20000 });
      const { frames, created } = await p.evaluate(() => ({ frames: window.firstFrames, created: window.created }));
      console.log(`round ${r} ${mode}: first frame per tile (ms from navigation start) median ` +
                  `${q(frames, 0.5).toFixed(0)}, max ${Math.max(...frames).toFixed(0)}; ` +
                  `from the tiles' creation (${created.toFixed(0)} ms) median ` +
                  `${(q(frames, 0.5) - created).toFixed(0)}, max ${(Math.max(...frames) - created).toFixed(0)}`);
      await p.close();
    }
  }
} finally {
  await browser.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
