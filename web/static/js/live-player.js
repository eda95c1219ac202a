// LivePlayer: one camera's live view, reusable (the /live/{id} page uses it;
// the web UI's grid will embed several).
//
// Transport: the camera's own H.264/H.265 as MPEG-TS over a WebSocket
// (/api/v1/cameras/{id}/live), demuxed by mpegts.js into MSE. Where MSE
// cannot play the codec (Safari/iOS, or H.265 where MSE lacks it) the native
// HLS player gets /api/v1/cameras/{id}/live.m3u8 instead.
//
// Live edge: a live player drifts behind (network hiccups, tab sleep, decoder
// stalls). Every 250 ms we look at how far the playhead is behind the end of
// what is buffered; past targetDelay we play 5 % faster until back under 60 %
// of it, past maxDelay (0.3 s: SPEC's bound) we jump to the edge. A hidden tab is
// re-checked when it becomes visible again. The server starts every
// connection with the current GOP, so the first picture comes at once and
// the first check skips to the live edge.
//
// Errors and closed connections reconnect with backoff (0.5 s doubling to 10 s,
// back to 0.5 s after 10 s of playing).
//
// Stream: a camera with a sub stream (docs/streams.md) serves it with
// ?stream=sub. Small views (grid and wall tiles, anything on a phone) ask for
// it, big ones for the main stream (streamFor); whenLive() lets a page start
// a second player on the other stream out of sight and swap once it paints.
//
// Uses mpegts.js (static/vendor/mpegts.js): a page loads it with a deferred
// <script>, or only preloads it and lets the first player that needs it run
// it (the grid: its tiles and their stills do not wait for 270 KB of script
// to compile).

const HEVC_TYPES = [
  'video/mp4; codecs="hvc1.1.6.L93.B0"',
  'video/mp4; codecs="hev1.1.6.L93.B0"',
];

// mpegts.js's own test (Features.supportMSEH264Playback), without it.
function canPlayH264Mse() {
  const type = 'video/mp4; codecs="avc1.42E01E,mp4a.40.2"';
  return [window.MediaSource, window.ManagedMediaSource].some((MS) => !!MS && MS.isTypeSupported(type));
}

let mpegtsLoading = null;
function loadMpegts() {
  if (window.mpegts) return Promise.resolve();
  if (!mpegtsLoading) {
    mpegtsLoading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      // Beside this module, so under the same version as the page's preload.
      script.src = new URL('../vendor/mpegts.js', import.meta.url).href;
      script.onload = () => resolve();
      script.onerror = () => {
        mpegtsLoading = null;
        script.remove();
        reject(new Error('mpegts.js did not load'));
      };
      document.head.append(script);
    });
  }
  return mpegtsLoading;
}

export function canPlayHevcMse() {
  const MS = window.ManagedMediaSource || window.MediaSource;
  return !!MS && HEVC_TYPES.some((t) => MS.isTypeSupported(t));
}

// Native HLS (Safari; recent Chrome has it too) for @codec: ask with the
// codec, since a browser may play HLS but not H.265 inside it.
export function canPlayNativeHls(codec) {
  const type = codec === 'h265' ? 'application/vnd.apple.mpegurl; codecs="hvc1.1.6.L93.B0"'
                                : 'application/vnd.apple.mpegurl; codecs="avc1.64001f"';
  return document.createElement('video').canPlayType(type) !== '';
}

// A phone-sized window (portrait): every view is small there.
export function narrowScreen() {
  return window.matchMedia('(max-width: 600px)').matches;
}

// The stream for a view of @cam: 'sub' when the camera has a sub stream and
// the view is small (@big false) or the screen is, else 'main'.
export function streamFor(cam, big) {
  return cam && cam.sub_source && (!big || narrowScreen()) ? 'sub' : 'main';
}

function teardown(p) {
  try {
    p.pause();
    p.unload();
    p.detachMediaElement();
    p.destroy();
  } catch (e) { /* already gone */ }
}

export class LivePlayer {
  // options: cameraId (required), maxDelay (s, default 0.3: jump to the edge past it),
  // targetDelay (s, default 0.2: play 5 % faster past it), stats (default true),
  // transport ('auto' (default), 'ws' or 'hls': force one, for tests and debugging),
  // apiBase (default '/api/v1'), stream ('main' (default) or 'sub': the
  // camera's sub stream, where it has one; the server sends main otherwise),
  // camera (the camera's object from a list the page already has: saves
  // asking the server for its codec before connecting), poster (default
  // false: show the stream's latest keyframe, snapshot.jpg, as a still until
  // the first frame is painted; a grid's tiles have a picture long before
  // their players have decoded one. The page's answer may carry a preload
  // hint for it, http/page-hints.c).
  constructor(container, options) {
    this.container = container;
    this.cameraId = options.cameraId;
    this.stream = options.stream === 'sub' ? 'sub' : 'main';
    this.maxDelay = options.maxDelay ?? 0.3;
    this.targetDelay = options.targetDelay ?? 0.2;
    this.apiBase = options.apiBase ?? '/api/v1';
    this.showStats = options.stats ?? true;
    this.transport = options.transport ?? 'auto';
    this.camera = options.camera ?? null;
    this.poster = options.poster ?? false;
    this.player = null;
    this.mode = null;          // 'mse' | 'hls' | 'none'
    this.backoff = 500;
    this.playingSince = 0;
    this.timers = [];
    this.info = { codec: '', width: 0, height: 0, kbps: 0, delay: Infinity, skips: 0, reconnects: 0 };
    this.firstFrameAt = 0;     // performance.now() of the first painted frame
    this.still = null;         // the poster's <img>, until the first frame

    this.video = document.createElement('video');
    this.video.muted = true;   // autoplay needs it; the UI can unmute
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.stats = document.createElement('div');
    this.stats.className = 'stats';
    this.message = document.createElement('div');
    this.message.className = 'message';
    container.append(this.video, this.message);
    if (this.showStats) container.append(this.stats);

    this.onVisibility = () => {
      if (document.visibilityState === 'visible') this.catchUp(true);
    };
  }

  async start() {
    this.stopped = false;
    document.addEventListener('visibilitychange', this.onVisibility);
    this.timers.push(setInterval(() => this.tick(), 250));
    let cam = this.camera;
    if (!cam) {
      try {
        const r = await fetch(`${this.apiBase}/cameras/${encodeURIComponent(this.cameraId)}`,
                              { credentials: 'same-origin', headers: { 'X-Vigil-UI': '1' } });
        if (r.status === 404) return this.say('No such camera.');
        if (r.ok) cam = await r.json();
      } catch (e) { /* offline: try anyway */ }
    }
    // The two streams may differ (an H.265 main stream, an H.264 sub stream).
    const st = cam?.status || {};
    const codec = (this.stream === 'sub' && st.sub?.codec) || st.codec || 'h264';
    this.info.codec = codec;
    const useMse = this.transport !== 'hls' && canPlayH264Mse() && (codec !== 'h265' || canPlayHevcMse());
    const useHls = !useMse && this.transport !== 'ws' && canPlayNativeHls(codec);
    // Only of a stream that is up (a camera that is offline keeps its last
    // keyframe, which may be hours old) and that this browser can play. The
    // still only bridges a normal start: it goes once a frame has been
    // painted, and when the player has to reconnect first (a still that
    // never moves would pass for a frozen camera).
    let stillShown = null;
    if (this.poster && (useMse || useHls) &&
        (this.stream === 'sub' && st.sub ? st.sub.state : st.state) === 'streaming')
      stillShown = this.showStill(`${this.apiBase}/cameras/${encodeURIComponent(this.cameraId)}/snapshot.jpg${this.query()}`);
    if (useMse) {
      this.mode = 'mse';
      // The still paints first: once a grid's players have their first
      // video (~100 ms after connecting) the page is too busy to paint
      // anything else for a while.
      Promise.all([stillShown, loadMpegts()]).then(() => this.connect(),
        () => this.say('The video player did not load. Reload the page.'));
    } else if (useHls) {
      this.mode = 'hls';
      this.video.addEventListener('error', () => {
        this.dropStill();
        this.say('This browser cannot play this stream.');
      });
      this.video.src = `${this.apiBase}/cameras/${encodeURIComponent(this.cameraId)}/live.m3u8${this.query()}`;
      this.video.play().catch(() => {});
    } else {
      this.mode = 'none';
      this.say(codec === 'h265'
        ? 'This browser cannot decode H.265 video. Try Safari, or Chrome/Edge on a machine with hardware HEVC decoding.'
        : 'This browser cannot play live video (no Media Source Extensions).');
    }
    const painted = () => {
      this.firstFrameAt = performance.now();
      this.dropStill();
    };
    if (this.video.requestVideoFrameCallback) this.video.requestVideoFrameCallback(painted);
    else this.video.addEventListener('playing', painted, { once: true });
  }

  // The still at @url over the video (an <img>, not the video's poster
  // attribute: it can be decoded before it is shown, and it takes the
  // page's preload of the same URL). Resolves once it is decoded and a frame
  // has gone by, or after 250 + 100 ms at most (a hidden tab draws no
  // frames).
  showStill(url) {
    const img = document.createElement('img');
    img.className = 'still';
    img.alt = '';
    img.setAttribute('elementtiming', `poster ${this.cameraId}`);
    img.addEventListener('error', () => { if (this.still === img) this.dropStill(); });
    img.src = url;
    this.still = img;
    this.container.insertBefore(img, this.message);
    const decoded = img.decode().catch(() => {});
    const capped = new Promise((resolve) => setTimeout(resolve, 250));
    return Promise.race([decoded, capped]).then(() => new Promise((resolve) => {
      requestAnimationFrame(() => setTimeout(resolve, 0));
      setTimeout(resolve, 100);
    }));
  }

  // The still goes for good: a frame was painted, or none is coming soon (a
  // still that never moves would pass for a frozen camera).
  dropStill() {
    this.still?.remove();
    this.still = null;
  }

  query() { return this.stream === 'sub' ? '?stream=sub' : ''; }

  wsUrl() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}${this.apiBase}/cameras/${encodeURIComponent(this.cameraId)}/live${this.query()}`;
  }

  // Resolves with true once frames have been painted at the live edge for
  // 300 ms (the server's first GOP arrives in bursts: a player that paints
  // its first frame is often about to jump to the edge; a swap then would
  // show the jump), false when the browser cannot play the stream (mode
  // 'none') or the player is stopped first. For swapping players without a
  // black frame.
  whenLive(settle = 300) {
    return new Promise((resolve) => {
      const v = this.video;
      let done = false;
      let since = 0;
      const finish = (ok) => { if (!done) { done = true; resolve(ok); } };
      // Native HLS plays seconds behind its buffer's end: no edge to wait for.
      const ready = () => v.readyState >= 2 && v.currentTime > 0 && !v.seeking &&
        (this.mode !== 'mse' || this.delay() <= this.maxDelay);
      const check = () => {
        if (!ready()) since = 0;
        else if (!since) since = performance.now();
        else if (performance.now() - since >= settle) finish(true);
      };
      const poll = () => {
        if (done) return;
        if (this.stopped || this.mode === 'none') return finish(false);
        if (!v.requestVideoFrameCallback || v.paused) check();
        setTimeout(poll, 50);
      };
      // A presented frame is the proof of a picture; without
      // requestVideoFrameCallback, readyState and the playhead are.
      const onFrame = () => {
        if (done || this.stopped) return;
        check();
        if (!done) v.requestVideoFrameCallback(onFrame);
      };
      v.requestVideoFrameCallback?.(onFrame);
      poll();
    });
  }

  connect() {
    if (this.stopped) return;
    this.destroyPlayer();
    const p = mpegts.createPlayer(
      { type: 'mpegts', isLive: true, url: this.wsUrl() },
      {
        enableWorker: false,
        enableStashBuffer: false,   // hand bytes to MSE at once: latency over smoothness
        lazyLoad: false,
        autoCleanupSourceBuffer: true,
        autoCleanupMaxBackwardDuration: 10,
        autoCleanupMinBackwardDuration: 5,
        liveBufferLatencyChasing: false, // we chase ourselves (tick), by seeking
        // Open the WebSocket at once rather than after MediaSource's
        // "sourceopen" (hundreds of ms with a grid of players starting):
        // mpegts.js keeps what arrives until then. Not in a hidden tab,
        // where "sourceopen" may wait until the tab is shown and a live
        // stream would pile up meanwhile.
        deferLoadAfterSourceOpen: document.visibilityState !== 'visible',
      });
    this.player = p;
    // A player being torn down (destroyPlayer) may still report: ignore it.
    p.on(mpegts.Events.ERROR, () => {
      p.vigilFailed = true;
      if (this.player === p) this.retry();
    });
    p.on(mpegts.Events.LOADING_COMPLETE, () => { if (this.player === p) this.retry(); });
    p.on(mpegts.Events.MEDIA_INFO, (mi) => {
      p.vigilOpened = true;
      if (mi.videoCodec) this.info.codec = mi.videoCodec;
    });
    p.on(mpegts.Events.STATISTICS_INFO, (s) => {
      if (typeof s.speed === 'number') this.info.kbps = s.speed * 8;
    });
    p.attachMediaElement(this.video);
    p.load();
    const play = p.play();
    if (play && play.catch) play.catch(() => {});
    this.say('');
  }

  retry() {
    if (this.stopped || this.retryTimer) return;
    this.dropStill();
    this.info.reconnects++;
    this.say('Reconnecting…');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, this.backoff);
    this.backoff = Math.min(this.backoff * 2, 10000);
  }

  // How far the playhead is behind the newest frame received (seconds):
  // Infinity while nothing is buffered (not started, reconnecting, or the
  // playhead past the buffer), never a reassuring 0.
  delay() {
    const b = this.video.buffered;
    if (!b.length) return Infinity;
    const end = b.end(b.length - 1);
    if (this.video.currentTime > end) return Infinity;
    return end - this.video.currentTime;
  }

  catchUp(force) {
    const b = this.video.buffered;
    if (!b.length) return;
    const end = b.end(b.length - 1);
    const d = end - this.video.currentTime;
    if (d > this.maxDelay || (force && d > 0.2)) {
      // Land a little before the end: at the very end playback stalls.
      this.video.currentTime = Math.max(b.start(b.length - 1), end - 0.1);
      this.info.skips++;
      this.video.playbackRate = 1;
    } else if (d > this.targetDelay) {
      // Slowly drifting behind (camera clock a little fast, a busy CPU):
      // catch up by playing 5 % faster rather than by a visible jump.
      this.video.playbackRate = 1.05;
    } else if (d < this.targetDelay * 0.6) {
      // Not lower: below ~0.12 s (mpegts.js + MSE) the buffer would run dry.
      this.video.playbackRate = 1;
    }
    if (this.video.paused && this.mode === 'mse') this.video.play().catch(() => {});
  }

  tick() {
    const v = this.video;
    if (this.mode === 'mse') {
      this.catchUp(false);
      if (!v.paused && v.readyState >= 2) {
        if (!this.playingSince) this.playingSince = performance.now();
        if (performance.now() - this.playingSince > 10000) this.backoff = 500;
      } else {
        this.playingSince = 0;
      }
    }
    this.info.delay = this.delay();
    this.info.width = v.videoWidth;
    this.info.height = v.videoHeight;
    if (this.showStats && this.mode !== 'none') {
      this.stats.textContent =
        `${this.cameraId} · ${this.mode === 'hls' ? 'HLS' : 'WebSocket'}\n` +
        `delay ${Number.isFinite(this.info.delay) ? (this.info.delay * 1000).toFixed(0) + ' ms' : '–'} · ` +
        `${(this.info.kbps / 1000).toFixed(2)} Mbps\n` +
        `${this.info.width}×${this.info.height} · ${this.info.codec}`;
    }
  }

  say(text) { this.message.textContent = text; }

  destroyPlayer() {
    if (!this.player) return;
    teardown(this.player);
    this.player = null;
  }

  stop() {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.timers.forEach(clearInterval);
    this.timers = [];
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    // mpegts.js closes a WebSocket that is still connecting when unloaded;
    // the browser then fires the socket's "error" after destroy() removed
    // the loader's handler, and mpegts.js throws an uncaught
    // RuntimeException (a player stopped right after it started: a wall
    // rebuilt, a page left at once). Such a player is torn down a few
    // seconds later, when its socket has opened (a clean close) or failed
    // (reported while still handled). Its video element is being dropped.
    const p = this.player;
    if (p && !p.vigilOpened && !p.vigilFailed) {
      this.player = null;
      setTimeout(() => teardown(p), 3000);
      return;
    }
    this.destroyPlayer();
    this.video.removeAttribute('src');
  }
}

// A camera's live picture that moves between its streams without a black
// frame (grid and wall tiles, enlarged and shrunk back): the player on the
// new stream starts in a box behind the shown one and takes its place once
// it has painted at the live edge (whenLive); switching back before then
// cancels it. When the browser cannot play the new stream (an H.265 main
// stream without HEVC decoding) the shown player stays.
export class LiveSwitcher {
  // @screen: the element the players' boxes go in (the last box is on top);
  // @options: LivePlayer's (options.stream is the first stream), plus
  // boxClass (the boxes' class, default 'vigil-player') and onSwap(player, old),
  // called when the new player has taken the old one's place.
  constructor(screen, options) {
    this.screen = screen;
    this.options = options;
    this.pending = null;   // { player, box } while a switch is under way
    const { player, box } = this.make(options.stream, options.poster);
    this.player = player;
    this.box = box;
  }

  // @poster: the first player's (options.poster); a player switched to
  // starts behind the shown picture and needs none.
  make(stream, poster = false) {
    const box = document.createElement('div');
    box.className = this.options.boxClass || 'vigil-player';
    this.screen.prepend(box);
    const player = new LivePlayer(box, { ...this.options, stream, poster });
    box.dataset.stream = player.stream;
    return { player, box };
  }

  start() {
    this.player.start();
    return this;
  }

  // The stream shown, or being switched to.
  get stream() { return this.pending ? this.pending.player.stream : this.player.stream; }

  // @camera: the camera's newer object from a list, if the page has one.
  switchTo(stream, camera) {
    if (camera) this.options.camera = camera;
    if (stream === this.stream) return;
    if (this.pending) {
      this.pending.player.stop();
      this.pending.box.remove();
      this.pending = null;
    }
    if (stream === this.player.stream) return;
    const pending = this.make(stream);
    this.pending = pending;
    pending.player.start();
    pending.player.whenLive().then((live) => {
      if (this.pending !== pending) return;
      this.pending = null;
      if (!live) {
        pending.player.stop();
        pending.box.remove();
        return;
      }
      const old = this.player, oldBox = this.box;
      this.player = pending.player;
      this.box = pending.box;
      this.options.onSwap?.(this.player, old);
      oldBox.remove();
      old.stop();
    });
  }

  stop() {
    this.player.stop();
    this.pending?.player.stop();
    this.pending?.box.remove();
    this.pending = null;
  }
}
