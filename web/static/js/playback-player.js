// PlaybackPlayer: plays one recording (its VOD HLS playlist,
// /api/v1/recordings/{id}/playlist.m3u8) with seeking, speeds 0.5x to 8x,
// the wall-clock time of the picture, an MP4 download and steps to the
// previous/next event. Used by the /recordings page and the wall's recorded
// tiles.
//
// Transport: hls.js into MSE; where MSE is missing (Safari on iPhone) the
// browser's own HLS player gets the playlist. The wall clock comes from
// EXT-X-PROGRAM-DATE-TIME: hls.js gives each fragment's programDateTime
// (ms since the epoch) and its media start, so the picture's time is
// programDateTime + (currentTime - frag.start); native HLS gives
// video.getStartDate(). Without either we fall back to the recording's start.
import Hls from '/static/vendor/hls.mjs';

export const SPEEDS = [0.5, 1, 2, 4, 8];

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Local "HH:MM:SS" (with the date when @withDate).
export function fmtClock(ms, withDate = false) {
  const d = new Date(ms);
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}` : t;
}

export function nativeHlsOnly() {
  return !Hls.isSupported() &&
    !!document.createElement('video').canPlayType('application/vnd.apple.mpegurl');
}

export class PlaybackPlayer {
  // options: controls (default true: build the control bar), apiBase,
  // onEventStep(direction, fromMs): called when stepping past this
  // recording's events (the page loads the recording holding the next one),
  // onTime(ms): the wall clock, about 4 times a second while playing,
  // loop (default false): start over at the end (walls).
  constructor(container, options = {}) {
    this.container = container;
    this.apiBase = options.apiBase ?? '/api/v1';
    this.onEventStep = options.onEventStep || null;
    this.onTime = options.onTime || null;
    this.loop = !!options.loop;
    this.recording = null;
    this.events = [];        // [{id, startMs}], sorted
    this.hls = null;
    this.frags = [];         // [{start (media s), pdt (ms), duration}]
    this.speed = 1;
    this.pendingSeekMs = null;

    this.root = document.createElement('div');
    this.root.className = 'pb-player';
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.autoplay = true;
    this.video.loop = this.loop;
    this.message = document.createElement('div');
    this.message.className = 'pb-message';
    this.message.setAttribute('role', 'status');
    const stage = document.createElement('div');
    stage.className = 'pb-stage';
    stage.append(this.video, this.message);
    this.root.append(stage);
    if (options.controls !== false) this.root.append(this.buildControls());
    container.append(this.root);

    this.onTimeUpdate = () => this.refresh();
    this.video.addEventListener('timeupdate', this.onTimeUpdate);
    this.video.addEventListener('play', () => this.refresh());
    this.video.addEventListener('pause', () => this.refresh());
    this.video.addEventListener('ratechange', () => {
      // Seeking or a source change may reset the rate: keep the chosen one.
      if (this.video.playbackRate !== this.speed) this.video.playbackRate = this.speed;
    });
    this.video.addEventListener('loadedmetadata', () => {
      this.video.playbackRate = this.speed;
      this.applyPendingSeek();
      this.refresh();
    });
    this.timer = setInterval(() => {
      if (!this.video.paused && this.onTime) {
        const t = this.wallClock();
        if (t !== null) this.onTime(t);
      }
    }, 250);
  }

  buildControls() {
    const bar = document.createElement('div');
    bar.className = 'pb-controls';
    const button = (label, text, onclick, cls = '') => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `btn btn-small ${cls}`;
      b.setAttribute('aria-label', label);
      b.title = label;
      b.textContent = text;
      b.addEventListener('click', onclick);
      return b;
    };
    this.playButton = button('Pause', '❚❚', () => this.togglePlay(), 'pb-play');
    this.prevButton = button('Previous event', '◂ event', () => this.stepEvent(-1), 'pb-prev');
    this.nextButton = button('Next event', 'event ▸', () => this.stepEvent(1), 'pb-next');
    this.back10 = button('Back 10 seconds', '−10 s', () => this.skip(-10));
    this.fwd10 = button('Forward 10 seconds', '+10 s', () => this.skip(10));

    this.seek = document.createElement('input');
    this.seek.type = 'range';
    this.seek.min = '0';
    this.seek.max = '1';
    this.seek.step = '0.1';
    this.seek.value = '0';
    this.seek.className = 'pb-seek';
    this.seek.setAttribute('aria-label', 'Position in the recording');
    this.seek.addEventListener('input', () => { this.seeking = true; });
    this.seek.addEventListener('change', () => {
      this.seeking = false;
      this.video.currentTime = Number(this.seek.value);
    });

    this.clock = document.createElement('output');
    this.clock.className = 'pb-clock mono';
    this.clock.setAttribute('aria-label', 'Time of the picture');
    this.clock.textContent = '--:--:--';

    const speedLabel = document.createElement('label');
    speedLabel.className = 'pb-speed-label';
    const speedText = document.createElement('span');
    speedText.className = 'sr-only';
    speedText.textContent = 'Speed';
    this.speedSelect = document.createElement('select');
    this.speedSelect.className = 'pb-speed';
    for (const s of SPEEDS) {
      const o = document.createElement('option');
      o.value = String(s);
      o.textContent = `${s}×`;
      if (s === 1) o.selected = true;
      this.speedSelect.append(o);
    }
    this.speedSelect.addEventListener('change', () => this.setSpeed(Number(this.speedSelect.value)));
    speedLabel.append(speedText, this.speedSelect);

    this.download = document.createElement('a');
    this.download.className = 'btn btn-small pb-download';
    this.download.textContent = 'MP4';
    this.download.title = 'Download this recording as MP4';
    this.download.setAttribute('aria-label', 'Download this recording as MP4');
    this.download.setAttribute('download', '');

    const row1 = document.createElement('div');
    row1.className = 'pb-row';
    row1.append(this.seek);
    const row2 = document.createElement('div');
    row2.className = 'pb-row';
    row2.append(this.prevButton, this.back10, this.playButton, this.fwd10, this.nextButton,
                this.clock, speedLabel, this.download);
    bar.append(row1, row2);
    return bar;
  }

  say(text) { this.message.textContent = text || ''; }

  // Loads @recording (the API's recording object). @startMs: wall clock to
  // start at (null: its beginning).
  load(recording, startMs = null) {
    this.recording = recording;
    this.recStartMs = Date.parse(recording.start);
    this.frags = [];
    this.pendingSeekMs = startMs;
    this.say('');
    const url = `${this.apiBase}/recordings/${recording.id}/playlist.m3u8`;
    if (this.download) {
      this.download.href = `${this.apiBase}/recordings/${recording.id}/export.mp4`;
      this.download.setAttribute('download', `${recording.camera}-${recording.id}.mp4`);
    }
    this.destroyHls();
    if (Hls.isSupported()) {
      this.mode = 'hls.js';
      const hls = new Hls({
        enableWorker: false,
        maxBufferLength: 60,          // 8x needs a deep buffer
        maxMaxBufferLength: 120,
        backBufferLength: 30,
        startPosition: -1,
        xhrSetup: (xhr) => { xhr.withCredentials = true; },
      });
      this.hls = hls;
      hls.on(Hls.Events.LEVEL_LOADED, (_, data) => {
        this.frags = (data.details.fragments || [])
          .filter((f) => Number.isFinite(f.programDateTime))
          .map((f) => ({ start: f.start, pdt: f.programDateTime, duration: f.duration }));
        this.applyPendingSeek();
        this.refresh();
      });
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
          this.say('Network error; retrying…');
          setTimeout(() => this.hls === hls && hls.startLoad(), 2000);
        } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          hls.recoverMediaError();
        } else {
          this.say(`Cannot play this recording (${data.details}).`);
        }
      });
      hls.loadSource(url);
      hls.attachMedia(this.video);
    } else if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.mode = 'native';
      this.video.src = url;
    } else {
      this.mode = 'none';
      this.say('This browser cannot play HLS video.');
      return;
    }
    this.video.play().catch(() => {});
    this.refresh();
  }

  applyPendingSeek() {
    if (this.pendingSeekMs === null || this.video.readyState < 1) return;
    if (this.mode === 'hls.js' && !this.frags.length) return;
    const t = this.mediaTimeOf(this.pendingSeekMs);
    this.pendingSeekMs = null;
    if (t !== null && t > 0.05) this.video.currentTime = t;
  }

  // Media time (s) of wall clock @ms in this recording, clamped to it.
  mediaTimeOf(ms) {
    if (this.mode === 'hls.js' && this.frags.length) {
      let f = this.frags[0];
      for (const g of this.frags) if (g.pdt <= ms) f = g;
      const within = Math.min(Math.max(0, (ms - f.pdt) / 1000), f.duration);
      return f.start + within;
    }
    const start = this.startDateMs();
    return Math.max(0, (ms - start) / 1000);
  }

  startDateMs() {
    const d = this.video.getStartDate ? this.video.getStartDate() : null;
    const t = d ? d.getTime() : NaN;
    return Number.isFinite(t) ? t : this.recStartMs;
  }

  // The wall clock (ms since the epoch) of the picture shown, or null.
  wallClock() {
    if (!this.recording) return null;
    const ct = this.video.currentTime;
    if (this.mode === 'hls.js' && this.frags.length) {
      let f = this.frags[0];
      for (const g of this.frags) if (g.start <= ct + 0.001) f = g;
      return f.pdt + (ct - f.start) * 1000;
    }
    return this.startDateMs() + ct * 1000;
  }

  seekToWallClock(ms) {
    if (this.video.readyState < 1 || (this.mode === 'hls.js' && !this.frags.length)) {
      this.pendingSeekMs = ms;
      return;
    }
    this.video.currentTime = this.mediaTimeOf(ms);
  }

  setSpeed(speed) {
    this.speed = speed;
    this.video.playbackRate = speed;
    if (this.speedSelect) this.speedSelect.value = String(speed);
  }

  togglePlay() {
    if (this.video.paused) this.video.play().catch(() => {});
    else this.video.pause();
  }

  skip(seconds) {
    const d = this.video.duration;
    let t = this.video.currentTime + seconds;
    if (Number.isFinite(d)) t = Math.min(t, d - 0.1);
    this.video.currentTime = Math.max(0, t);
  }

  // @events: [{id, start}] (API event objects) of this camera, any order.
  setEvents(events) {
    this.events = events.map((e) => ({ id: e.id, startMs: Date.parse(e.start) }))
      .filter((e) => Number.isFinite(e.startMs)).sort((a, b) => a.startMs - b.startMs);
    this.refresh();
  }

  // Jumps to the next (1) or previous (-1) event; outside this recording the
  // page is asked (onEventStep) to load the right one.
  stepEvent(direction) {
    const now = this.wallClock() ?? this.recStartMs;
    const list = direction > 0
      ? this.events.filter((e) => e.startMs > now + 1000)
      : this.events.filter((e) => e.startMs < now - 1500).reverse();
    const target = list[0];
    if (!target) return false;
    const endMs = this.recording ? Date.parse(this.recording.end) : NaN;
    if (target.startMs >= this.recStartMs && (!Number.isFinite(endMs) || target.startMs <= endMs)) {
      this.seekToWallClock(Math.max(this.recStartMs, target.startMs - 1000));
      this.video.play().catch(() => {});
    } else if (this.onEventStep) {
      this.onEventStep(direction, target.startMs);
    }
    return true;
  }

  refresh() {
    if (!this.playButton) return;
    const v = this.video;
    this.playButton.textContent = v.paused ? '▶' : '❚❚';
    this.playButton.setAttribute('aria-label', v.paused ? 'Play' : 'Pause');
    this.playButton.title = v.paused ? 'Play' : 'Pause';
    const d = v.duration;
    if (Number.isFinite(d) && d > 0) this.seek.max = String(d);
    if (!this.seeking) this.seek.value = String(v.currentTime || 0);
    const t = this.wallClock();
    if (t !== null) {
      this.clock.textContent = fmtClock(t, true);
      this.clock.dataset.wallclock = String(Math.round(t));
    }
    const now = t ?? 0;
    this.prevButton.disabled = !this.events.some((e) => e.startMs < now - 1500);
    this.nextButton.disabled = !this.events.some((e) => e.startMs > now + 1000);
  }

  destroyHls() {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
  }

  destroy() {
    clearInterval(this.timer);
    this.destroyHls();
    this.video.removeAttribute('src');
    this.video.load();
    this.root.remove();
    this.recording = null;
  }
}
