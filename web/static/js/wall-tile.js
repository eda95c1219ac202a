// One tile of a video wall: a live camera (live-player.js) or a recording
// played in a loop (playback-player.js), drawn through its effect
// (effects.js). The wall page and the builder's preview use it.
//
// Reconnecting: the live player reconnects by itself; on top of that a
// watchdog restarts a tile whose picture has not moved for 20 s (a player
// stuck after the server restarted, a tab woken from sleep).
//
// Stream: a tile moves between the camera's or the recording's streams
// (setStream: the wall enlarges a tile) without a black frame, through
// LiveSwitcher or PlaybackPlayer's own switch; the effect then draws the
// new stream's video.
import { LiveSwitcher } from './live-player.js';
import { PlaybackPlayer } from './playback-player.js';
import { EffectView, EFFECTS } from './effects.js';

const STALL_MS = 20000;

export class WallTile {
  // @tile: the API's tile object; @label: text for the corner label;
  // @stream: 'sub' for a camera with a sub stream (a tile is a small view);
  // @camera: the camera's object from a list the page already has.
  constructor(container, tile, { label = '', apiGet, stream = 'main', camera = null } = {}) {
    this.container = container;
    this.tile = tile;
    this.label = label;
    this.stream = stream;
    this.camera = camera;
    this.apiGet = apiGet;
    this.live = null;          // LiveSwitcher of a camera's tile
    this.playback = null;      // PlaybackPlayer of a recording's tile
    this.view = null;
    this.lastTime = -1;
    this.lastMove = performance.now();
    this.restarts = 0;
  }

  note(text) {
    this.container.append(Object.assign(document.createElement('div'),
      { className: 'wall-note', textContent: text }));
  }

  async start() {
    const src = this.tile.source;
    this.container.replaceChildren();
    if (!src) return this.note('empty');
    if (src.denied) return this.note('no access');
    const fxBox = document.createElement('div');
    fxBox.className = 'fx-view';
    this.container.append(fxBox);
    if (this.label) {
      this.container.append(Object.assign(document.createElement('div'),
        { className: 'wall-label', textContent: this.label }));
    }
    if (src.camera) {
      this.live = new LiveSwitcher(fxBox, {
        cameraId: src.camera, camera: this.camera, stats: false, stream: this.stream,
        boxClass: 'fx-src vigil-player', onSwap: (player) => this.view?.setVideo(player.video) });
      this.live.start();
    } else if (src.recording) {
      const srcBox = document.createElement('div');
      srcBox.className = 'fx-src vigil-player';
      fxBox.append(srcBox);
      let rec = null;
      try { rec = await this.apiGet(`/recordings/${src.recording}`); } catch { rec = null; }
      if (!rec) return this.note('recording not found');
      // The recording's sub stream while the tile is small (where it has one).
      this.playback = new PlaybackPlayer(srcBox, {
        controls: false, loop: true, subStream: true, quality: this.stream,
        onSwap: (video) => this.view?.setVideo(video) });
      this.playback.load(rec);
    }
    const effect = this.tile.effect || { name: 'none', params: {} };
    this.fxBox = fxBox;
    this.container.dataset.effect = effect.name;
    this.container.title = `${this.label}${effect.name !== 'none' ? ' · ' + EFFECTS[effect.name]?.label : ''}`;
    this.watchdog = setInterval(() => this.check(), 5000);
    // A tile without an effect shows its video as is: no WebGL context
    // (browsers allow about 16 per page).
    if (effect.name !== 'none') await this.startView(effect);
    return this;
  }

  async startView(effect) {
    this.view = new EffectView(this.fxBox, this.player.video,
                               { effect: effect.name, params: effect.params });
    await this.view.init();
  }

  get player() { return this.live ? this.live.player : this.playback; }

  get video() { return this.player ? this.player.video : null; }

  // Moves the tile to @stream ('main' or 'sub'; a recording without a sub
  // stream stays on main).
  setStream(stream) {
    this.stream = stream;
    this.live?.switchTo(stream);
    this.playback?.setQuality(stream, false);
  }

  check() {
    const v = this.video;
    if (!v) return;
    if (v.currentTime !== this.lastTime) {
      this.lastTime = v.currentTime;
      this.lastMove = performance.now();
      return;
    }
    if (document.visibilityState === 'visible' && performance.now() - this.lastMove > STALL_MS) {
      this.restarts++;
      this.lastMove = performance.now();
      this.stop();
      this.start();
    }
  }

  setEffect(name, params) {
    this.tile.effect = { name, params };
    this.container.dataset.effect = name;
    if (this.view) this.view.setEffect(name, params);
    else if (name !== 'none' && this.player && this.fxBox) this.startView(this.tile.effect);
  }

  stop() {
    clearInterval(this.watchdog);
    this.view?.destroy();
    this.view = null;
    this.fxBox = null;
    this.live?.stop();
    this.playback?.destroy();
    this.live = null;
    this.playback = null;
    this.container.replaceChildren();
  }
}
