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
//
// Main and sub stream (option subStream, the recordings page): a recording
// made with record_stream "both" has a sub_playlist (the camera's small
// stream). With the stream choice on Auto the player shows the sub stream
// while the user scrubs (drags the position slider, or the page's playhead:
// beginScrub/scrubTo/endScrub) and while it plays at 4x or faster, and the
// main stream at normal speeds and when paused on a frame. A switch keeps the
// wall-clock time (both playlists carry EXT-X-PROGRAM-DATE-TIME): the other
// stream loads in a second <video> behind the shown one, at the same time,
// and replaces it once it has a picture there, so the view never goes black.
// Main and Sub force one stream. Native HLS (no MSE) always plays main.
import Hls from '../vendor/hls.mjs';

export const SPEEDS = [0.5, 1, 2, 4, 8];
// Auto plays the sub stream from this speed up.
export const SUB_SPEED = 4;
const QUALITY_KEY = 'vigil.playback.stream';

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

// One stream of the recording in one <video>: hls.js (or native HLS), the
// fragments' wall-clock map, and seeks by wall clock.
class Track {
  constructor(player, video) {
    this.player = player;
    this.video = video;
    this.hls = null;
    this.frags = [];         // [{start (media s), pdt (ms), duration}]
    this.mode = null;        // 'hls.js' | 'native' | 'none'
    this.stream = 'main';
    this.pendingSeekMs = null;
    this.started = false;    // hls.js: loading from the start position
    this.seekMs = null;      // a wall-clock seek waiting for the current one to finish
  }

  // Plays @url of @stream from wall clock @startMs (null: the beginning).
  open(url, stream, startMs) {
    this.destroyHls();
    this.stream = stream;
    this.frags = [];
    this.started = false;
    this.seekMs = null;
    this.pendingSeekMs = startMs;
    if (Hls.isSupported()) {
      this.mode = 'hls.js';
      const hls = new Hls({
        enableWorker: false,
        maxBufferLength: 60,          // 8x needs a deep buffer
        maxMaxBufferLength: 120,
        backBufferLength: 30,
        // Fragments load from the start position, once the playlist says
        // which fragment holds it: no fragment is fetched for nothing.
        autoStartLoad: false,
        xhrSetup: (xhr) => { xhr.withCredentials = true; },
      });
      this.hls = hls;
      hls.on(Hls.Events.LEVEL_LOADED, (_, data) => {
        this.frags = (data.details.fragments || [])
          .filter((f) => Number.isFinite(f.programDateTime))
          .map((f) => ({ start: f.start, pdt: f.programDateTime, duration: f.duration }));
        if (!this.started) {
          this.started = true;
          let t = -1;
          if (this.pendingSeekMs !== null) {
            const m = this.mediaTimeOf(this.pendingSeekMs);
            if (m !== null && m > 0.05) t = m;
          }
          this.pendingSeekMs = null;
          hls.startLoad(t);
        }
        this.player.trackChanged(this);
      });
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
          this.player.trackMessage(this, 'Network error; retrying…');
          setTimeout(() => this.hls === hls && hls.startLoad(), 2000);
        } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          hls.recoverMediaError();
        } else {
          this.player.trackMessage(this, `Cannot play this recording (${data.details}).`);
        }
      });
      hls.loadSource(url);
      hls.attachMedia(this.video);
    } else if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.mode = 'native';
      this.video.src = url;
    } else {
      this.mode = 'none';
    }
  }

  // Wall-clock positions are known (hls.js: the playlist is in).
  get mapped() {
    return this.mode !== 'hls.js' || this.frags.length > 0;
  }

  applyPendingSeek() {
    if (this.pendingSeekMs === null || this.video.readyState < 1 || !this.mapped) return;
    const t = this.mediaTimeOf(this.pendingSeekMs);
    this.pendingSeekMs = null;
    if (t !== null && t > 0.05) this.video.currentTime = t;
  }

  // Media time (s) of wall clock @ms in this stream, clamped to it.
  mediaTimeOf(ms) {
    if (this.mode === 'hls.js' && this.frags.length) {
      let f = this.frags[0];
      for (const g of this.frags) if (g.pdt <= ms) f = g;
      const within = Math.min(Math.max(0, (ms - f.pdt) / 1000), f.duration);
      return f.start + within;
    }
    return Math.max(0, (ms - this.startDateMs()) / 1000);
  }

  startDateMs() {
    const d = this.video.getStartDate ? this.video.getStartDate() : null;
    const t = d ? d.getTime() : NaN;
    return Number.isFinite(t) ? t : this.player.recStartMs;
  }

  // The wall clock (ms since the epoch) of the picture shown.
  wallClock() {
    const ct = this.video.currentTime;
    if (this.mode === 'hls.js' && this.frags.length) {
      let f = this.frags[0];
      for (const g of this.frags) if (g.start <= ct + 0.001) f = g;
      return f.pdt + (ct - f.start) * 1000;
    }
    return this.startDateMs() + ct * 1000;
  }

  // Wall clock of the end of the last fragment, or null.
  endMs() {
    const f = this.frags[this.frags.length - 1];
    return f ? f.pdt + f.duration * 1000 : null;
  }

  // Seeks to wall clock @ms; before the playlist or the metadata are in,
  // once they are. While a seek runs the newest target waits for it to end
  // (dragging asks for far more positions than the decoder can show).
  seekToWallClock(ms) {
    if (!this.started && this.mode === 'hls.js') {
      this.pendingSeekMs = ms;
      return;
    }
    if (this.video.readyState < 1 || !this.mapped) {
      this.pendingSeekMs = ms;
      return;
    }
    if (this.video.seeking) {
      this.seekMs = ms;
      return;
    }
    this.video.currentTime = this.mediaTimeOf(ms);
  }

  onSeeked() {
    if (this.seekMs === null) return;
    const ms = this.seekMs;
    this.seekMs = null;
    this.video.currentTime = this.mediaTimeOf(ms);
  }

  destroyHls() {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
  }
}

export class PlaybackPlayer {
  // options: controls (default true: build the control bar), apiBase,
  // onEventStep(direction, fromMs): called when stepping past this
  // recording's events (the page loads the recording holding the next one),
  // onTime(ms): the wall clock, about 4 times a second while playing,
  // loop (default false): start over at the end (walls),
  // subStream (default false): use a recording's sub stream to scrub and
  // for fast playback, with the Auto / Main / Sub choice and the badge,
  // quality ('auto', 'main' or 'sub'): the stream choice to start with
  // instead of the one the user last made here (a wall tile: 'sub' while
  // small, 'main' enlarged; setQuality(q, false) changes it unsaved),
  // onSwap(video): the shown <video> changed (a switch of stream).
  constructor(container, options = {}) {
    this.container = container;
    this.apiBase = options.apiBase ?? '/api/v1';
    this.onEventStep = options.onEventStep || null;
    this.onTime = options.onTime || null;
    this.loop = !!options.loop;
    this.subStream = !!options.subStream;
    this.onSwap = options.onSwap || null;
    this.controls = options.controls !== false;
    this.recording = null;
    this.events = [];        // [{id, startMs}], sorted
    this.speed = 1;
    this.scrubbing = false;
    this.next = null;        // the track being readied to replace the shown one
    this.quality = 'auto';
    if (['auto', 'main', 'sub'].includes(options.quality)) {
      this.quality = options.quality;
    } else if (this.subStream) {
      try {
        const q = localStorage.getItem(QUALITY_KEY);
        if (q === 'main' || q === 'sub') this.quality = q;
      } catch (e) { /* storage off */ }
    }

    this.root = document.createElement('div');
    this.root.className = 'pb-player';
    this.message = document.createElement('div');
    this.message.className = 'pb-message';
    this.message.setAttribute('role', 'status');
    this.badge = document.createElement('span');
    this.badge.className = 'pb-stream';
    this.badge.hidden = true;
    this.stage = document.createElement('div');
    this.stage.className = 'pb-stage';
    this.track = new Track(this, this.newVideo());
    this.stage.append(this.track.video, this.badge, this.message);
    this.root.append(this.stage);
    if (this.controls) this.root.append(this.buildControls());
    container.append(this.root);

    this.timer = setInterval(() => {
      if (!this.video.paused && this.onTime) {
        const t = this.wallClock();
        if (t !== null) this.onTime(t);
      }
    }, 250);
  }

  // The <video> shown (it changes when the stream does).
  get video() { return this.track.video; }
  get mode() { return this.track.mode; }
  // The stream shown, and the one being readied (null: none).
  get stream() { return this.track.stream; }
  get pendingStream() { return this.next ? this.next.stream : null; }

  newVideo() {
    const v = document.createElement('video');
    v.muted = true;
    v.playsInline = true;
    v.autoplay = !this.next && !this.track; // the first one; later ones start paused
    v.loop = this.loop;
    const mine = () => this.track && this.track.video === v;
    const track = () => (this.track && this.track.video === v ? this.track
      : this.next && this.next.video === v ? this.next : null);
    v.addEventListener('timeupdate', () => mine() && this.refresh());
    v.addEventListener('play', () => { if (mine()) { this.refresh(); this.updateStream(); } });
    v.addEventListener('pause', () => { if (mine()) { this.refresh(); this.updateStream(); } });
    v.addEventListener('resize', () => mine() && this.showBadge());
    v.addEventListener('ratechange', () => {
      // Seeking or a source change may reset the rate: keep the chosen one.
      if (track() && v.playbackRate !== this.speed) v.playbackRate = this.speed;
    });
    v.addEventListener('loadedmetadata', () => {
      const t = track();
      if (!t) return;
      v.playbackRate = this.speed;
      t.applyPendingSeek();
      if (t === this.track) this.refresh();
    });
    v.addEventListener('seeked', () => track()?.onSeeked());
    return v;
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

    // The slider is in seconds of wall clock from the recording's start (the
    // two streams' media times differ).
    this.seek = document.createElement('input');
    this.seek.type = 'range';
    this.seek.min = '0';
    this.seek.max = '1';
    this.seek.step = '0.1';
    this.seek.value = '0';
    this.seek.className = 'pb-seek';
    this.seek.setAttribute('aria-label', 'Position in the recording');
    // Dragging scrubs (the picture follows, on the sub stream where there is
    // one); a keyboard step seeks once.
    this.seek.addEventListener('pointerdown', () => this.beginScrub());
    this.seek.addEventListener('input', () => {
      const ms = this.recStartMs + Number(this.seek.value) * 1000;
      if (this.scrubbing) this.scrubTo(ms);
      else this.seeking = true;
    });
    this.seek.addEventListener('change', () => {
      const ms = this.recStartMs + Number(this.seek.value) * 1000;
      if (this.scrubbing) {
        this.scrubTo(ms);
        this.endScrub();
      } else {
        this.seeking = false;
        this.seekToWallClock(ms);
      }
    });
    // A drag let go outside the slider may not fire "change".
    const up = () => { if (this.scrubbing && this.scrubFromSlider) this.endScrub(); };
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);

    this.clock = document.createElement('output');
    this.clock.className = 'pb-clock mono';
    this.clock.setAttribute('aria-label', 'Time of the picture');
    this.clock.textContent = '--:--:--';

    const select = (label, cls, options, value, onchange) => {
      const l = document.createElement('label');
      l.className = `${cls}-label`;
      const text = document.createElement('span');
      text.className = 'sr-only';
      text.textContent = label;
      const s = document.createElement('select');
      s.className = cls;
      s.title = label;
      for (const [v, t] of options) {
        const o = document.createElement('option');
        o.value = v;
        o.textContent = t;
        if (v === value) o.selected = true;
        s.append(o);
      }
      s.addEventListener('change', () => onchange(s.value));
      l.append(text, s);
      return [l, s];
    };
    let speedLabel;
    [speedLabel, this.speedSelect] = select('Speed', 'pb-speed', SPEEDS.map((s) => [String(s), `${s}×`]),
                                            '1', (v) => this.setSpeed(Number(v)));
    [this.qualityLabel, this.qualitySelect] = select(
      'Stream: Auto uses the small sub stream to scrub and at 4× and 8×, the main stream otherwise',
      'pb-quality', [['auto', 'Auto'], ['main', 'Main'], ['sub', 'Sub']], this.quality,
      (v) => this.setQuality(v));
    this.qualityLabel.hidden = true;

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
                this.clock, speedLabel, this.qualityLabel, this.download);
    bar.append(row1, row2);
    return bar;
  }

  say(text) { this.message.textContent = text || ''; }

  trackMessage(track, text) {
    if (track === this.track) this.say(text);
  }

  // @track's playlist is in (its wall-clock map changed).
  trackChanged(track) {
    if (track !== this.track) return;
    this.showBadge();
    this.refresh();
  }

  // The recording has a sub stream this player may use.
  hasSub() {
    return this.subStream && !!(this.recording && this.recording.sub_playlist) &&
      this.track.mode === 'hls.js';
  }

  urlOf(stream) {
    const base = `${this.apiBase}/recordings/${this.recording.id}/playlist.m3u8`;
    return stream === 'sub' ? `${base}?stream=sub` : base;
  }

  // The stream to show now (docs/playback-and-walls.md, "Main and sub").
  wantedStream() {
    if (!this.hasSub()) return 'main';
    if (this.quality !== 'auto') return this.quality;
    // A scrub goes to sub once it lasts (a click on the slider is a seek).
    if (this.scrubbing) return this.scrubSub ? 'sub' : (this.next ? this.next.stream : this.track.stream);
    const v = this.video;
    // At the end (paused, ended) stay: nothing to look at more closely.
    if (v.ended) return this.next ? this.next.stream : this.track.stream;
    return !v.paused && this.speed >= SUB_SPEED ? 'sub' : 'main';
  }

  // Loads @recording (the API's recording object). @startMs: wall clock to
  // start at (null: its beginning).
  load(recording, startMs = null) {
    this.recording = recording;
    this.recStartMs = Date.parse(recording.start);
    this.say('');
    this.dropNext();
    if (this.download) {
      this.download.href = `${this.apiBase}/recordings/${recording.id}/export.mp4`;
      this.download.setAttribute('download', `${recording.camera}-${recording.id}.mp4`);
    }
    // A new recording goes into the shown <video>: the first stream is the
    // one wanted (a recording opened at 8x starts on its sub stream).
    const sub = this.subStream && !!recording.sub_playlist && Hls.isSupported() &&
      (this.quality === 'sub' || (this.quality === 'auto' && this.speed >= SUB_SPEED));
    const stream = sub ? 'sub' : 'main';
    this.track.open(this.urlOf(stream), stream, startMs);
    if (this.track.mode === 'none') {
      this.say('This browser cannot play HLS video.');
      return;
    }
    if (this.qualityLabel) this.qualityLabel.hidden = !this.hasSub();
    this.video.play().catch(() => {});
    this.showBadge();
    this.refresh();
  }

  // --- switching streams ---

  // Starts readying the wanted stream when it is not the one shown (or
  // being readied); a switch back first cancels the one under way.
  updateStream() {
    if (!this.recording) return;
    const want = this.wantedStream();
    const target = this.next ? this.next.stream : this.track.stream;
    if (want === target) return;
    this.dropNext();
    if (want === this.track.stream) { this.showBadge(); return; }
    const ms = this.scrubMs ?? this.wallClock() ?? this.recStartMs;
    const next = new Track(this, this.newVideo());
    this.next = next;
    next.video.classList.add('pb-next');
    this.stage.insertBefore(next.video, this.track.video);   // behind the shown one
    next.open(this.urlOf(want), want, ms);
    next.target = ms;
    next.retargets = 0;
    this.showBadge();
    this.waitForPicture(next);
  }

  dropNext() {
    if (!this.next) return;
    const n = this.next;
    this.next = null;
    clearTimeout(n.timer);
    n.destroyHls();
    n.video.removeAttribute('src');
    n.video.load();
    n.video.remove();
  }

  // Swaps @next in once it shows the picture at the shown one's time. While
  // the shown one plays on, @next waits a little ahead of it (a lead of 0.5 s
  // of real time, doubled each time it was not enough) until the shown one
  // gets there; paused or scrubbing, it goes to the same time.
  waitForPicture(next) {
    const v = next.video;
    let painted = false, readySince = 0, lead = 500;
    const onFrame = () => { painted = true; };
    v.addEventListener('seeked', () => { painted = false; v.requestVideoFrameCallback?.(onFrame); });
    v.addEventListener('loadeddata', () => v.requestVideoFrameCallback?.(onFrame), { once: true });
    const poll = () => {
      if (this.next !== next) return;
      const ready = next.started && v.readyState >= 2 && !v.seeking && next.pendingSeekMs === null &&
        next.seekMs === null;
      if (!ready) readySince = 0;
      else if (!readySince) readySince = performance.now();
      // A frame presented, or (without requestVideoFrameCallback, or a
      // browser that does not call it for a paused video) 250 ms ready.
      if (ready && (painted || performance.now() - readySince > 250)) {
        const shown = this.video;
        const playing = !shown.paused && !this.scrubbing;
        const now = this.scrubbing ? this.scrubMs : this.wallClock();
        const off = now === null ? 0 : next.wallClock() - now;   // > 0: @next is ahead
        if (playing && next.retargets < 4 && (off < -100 * this.speed || off > 2 * lead * this.speed + 1000)) {
          next.retargets++;
          next.seekToWallClock(now + lead * this.speed);
          lead *= 2;
          readySince = 0;
        } else if (!playing && Math.abs(off) > 250 && next.retargets < 6) {
          next.retargets++;
          next.seekToWallClock(now);
          readySince = 0;
        } else if (!playing || off <= 50 * this.speed || next.retargets >= 4) {
          this.swap(next);
          return;
        }
        // else: ahead of the shown one, which gets there soon.
      }
      next.timer = setTimeout(poll, 20);
    };
    poll();
  }

  swap(next) {
    const old = this.track;
    const playing = !old.video.paused && !this.scrubbing;
    this.next = null;
    this.track = next;
    next.video.classList.remove('pb-next');
    next.video.playbackRate = this.speed;
    next.video.loop = this.loop;
    if (playing) next.video.play().catch(() => {});
    old.destroyHls();
    old.video.removeAttribute('src');
    old.video.load();
    old.video.remove();
    this.say('');
    this.showBadge();
    this.refresh();
    this.onSwap?.(next.video);
    // Things may have changed while it loaded (a pause, another speed).
    this.updateStream();
  }

  // Dragging: the picture follows scrubTo(ms) (on the sub stream where
  // there is one, with Auto); endScrub() goes back to what plays.
  beginScrub(fromSlider = true) {
    if (!this.recording) return;
    this.scrubFromSlider = fromSlider;
    if (this.scrubbing) return;
    this.scrubbing = true;
    this.seeking = true;
    this.scrubMs = this.wallClock();
    this.scrubSub = false;
    this.resumeAfterScrub = !this.video.paused;
    this.video.pause();
    this.scrubTimer = setTimeout(() => {
      this.scrubSub = true;
      this.updateStream();
    }, 150);
  }

  scrubTo(ms) {
    if (!this.scrubbing) return;
    this.scrubMs = ms;
    this.track.seekToWallClock(ms);
    if (this.next) {
      this.next.target = ms;
      this.next.seekToWallClock(ms);
    }
    if (this.clock) this.showClock(ms);
  }

  endScrub() {
    if (!this.scrubbing) return;
    this.scrubbing = false;
    this.scrubSub = false;
    clearTimeout(this.scrubTimer);
    this.seeking = false;
    const ms = this.scrubMs;
    this.scrubMs = null;
    if (ms !== null && ms !== undefined) {
      this.track.seekToWallClock(ms);
      if (this.next) this.next.seekToWallClock(ms);
    }
    if (this.resumeAfterScrub) this.video.play().catch(() => {});
    this.updateStream();
    this.refresh();
  }

  // @remember: keep the choice for the next recordings page.
  setQuality(q, remember = true) {
    this.quality = q === 'main' || q === 'sub' ? q : 'auto';
    if (this.qualitySelect) this.qualitySelect.value = this.quality;
    if (remember) {
      try { localStorage.setItem(QUALITY_KEY, this.quality); } catch (e) { /* storage off */ }
    }
    this.updateStream();
  }

  // The badge on the picture: which stream plays (and its size), only for
  // recordings that have both, in a player with controls.
  showBadge() {
    const on = this.controls && this.hasSub();
    this.badge.hidden = !on;
    if (!on) return;
    const v = this.video;
    const size = v.videoWidth ? ` ${v.videoWidth}×${v.videoHeight}` : '';
    const next = this.next ? ` → ${this.next.stream}` : '';
    this.badge.textContent = `${this.stream}${size}${next}`;
    this.badge.dataset.stream = this.stream;
    this.badge.title = this.stream === 'sub'
      ? 'Playing the sub stream (smaller, for scrubbing and fast playback)'
      : 'Playing the main stream (full resolution)';
  }

  // --- positions ---

  // Media time (s) of wall clock @ms in the shown stream.
  mediaTimeOf(ms) { return this.track.mediaTimeOf(ms); }

  startDateMs() { return this.track.startDateMs(); }

  // The wall clock (ms since the epoch) of the picture shown, or null.
  wallClock() {
    if (!this.recording) return null;
    return this.track.wallClock();
  }

  seekToWallClock(ms) {
    this.track.seekToWallClock(ms);
    if (this.next) {
      this.next.target = ms;
      this.next.seekToWallClock(ms);
    }
  }

  setSpeed(speed) {
    this.speed = speed;
    this.video.playbackRate = speed;
    if (this.next) this.next.video.playbackRate = speed;
    if (this.speedSelect) this.speedSelect.value = String(speed);
    this.updateStream();
  }

  togglePlay() {
    if (this.video.paused) this.video.play().catch(() => {});
    else this.video.pause();
  }

  skip(seconds) {
    const t = this.wallClock();
    if (t === null) return;
    let ms = t + seconds * 1000;
    const end = this.track.endMs();
    if (end !== null) ms = Math.min(ms, end - 100);
    else if (Number.isFinite(this.video.duration)) ms = Math.min(ms, this.startDateMs() + (this.video.duration - 0.1) * 1000);
    this.seekToWallClock(Math.max(this.recStartMs, ms));
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

  showClock(t) {
    this.clock.textContent = fmtClock(t, true);
    this.clock.dataset.wallclock = String(Math.round(t));
  }

  refresh() {
    if (!this.playButton) return;
    const v = this.video;
    const paused = v.paused && !(this.scrubbing && this.resumeAfterScrub);
    this.playButton.textContent = paused ? '▶' : '❚❚';
    this.playButton.setAttribute('aria-label', paused ? 'Play' : 'Pause');
    this.playButton.title = paused ? 'Play' : 'Pause';
    const t = this.scrubbing ? this.scrubMs : this.wallClock();
    if (this.recording) {
      // The slider: seconds of wall clock since the recording's start.
      const endMs = Math.max(this.track.endMs() ?? 0, Date.parse(this.recording.end) || 0,
        Number.isFinite(v.duration) ? this.startDateMs() + v.duration * 1000 : 0);
      if (endMs > this.recStartMs) this.seek.max = String((endMs - this.recStartMs) / 1000);
      if (!this.seeking && t !== null) this.seek.value = String(Math.max(0, (t - this.recStartMs) / 1000));
    }
    if (t !== null) this.showClock(t);
    const now = t ?? 0;
    this.prevButton.disabled = !this.events.some((e) => e.startMs < now - 1500);
    this.nextButton.disabled = !this.events.some((e) => e.startMs > now + 1000);
  }

  destroy() {
    clearInterval(this.timer);
    this.dropNext();
    this.track.destroyHls();
    this.video.removeAttribute('src');
    this.video.load();
    this.root.remove();
    this.recording = null;
  }
}
