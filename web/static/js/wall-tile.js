// One tile of a video wall: a live camera (live-player.js) or a recording
// played in a loop (playback-player.js), drawn through its effect
// (effects.js). The wall page and the builder's preview use it.
//
// Reconnecting: the live player reconnects by itself; on top of that a
// watchdog restarts a tile whose picture has not moved for 20 s (a player
// stuck after the server restarted, a tab woken from sleep).
import { LivePlayer } from './live-player.js';
import { PlaybackPlayer } from './playback-player.js';
import { EffectView, EFFECTS } from './effects.js';

const STALL_MS = 20000;

export class WallTile {
  // @tile: the API's tile object; @label: text for the corner label;
  // @stream: 'sub' for a camera with a sub stream (a tile is a small view).
  constructor(container, tile, { label = '', apiGet, stream = 'main' } = {}) {
    this.container = container;
    this.tile = tile;
    this.label = label;
    this.stream = stream;
    this.apiGet = apiGet;
    this.player = null;
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
    const srcBox = document.createElement('div');
    srcBox.className = 'fx-src vigil-player';
    fxBox.append(srcBox);
    this.container.append(fxBox);
    if (this.label) {
      this.container.append(Object.assign(document.createElement('div'),
        { className: 'wall-label', textContent: this.label }));
    }
    if (src.camera) {
      this.player = new LivePlayer(srcBox, { cameraId: src.camera, stats: false, stream: this.stream });
      this.player.start();
    } else if (src.recording) {
      let rec = null;
      try { rec = await this.apiGet(`/recordings/${src.recording}`); } catch { rec = null; }
      if (!rec) return this.note('recording not found');
      this.player = new PlaybackPlayer(srcBox, { controls: false, loop: true });
      this.player.load(rec);
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

  get video() { return this.player ? this.player.video : null; }

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
    if (this.player instanceof LivePlayer) this.player.stop();
    else this.player?.destroy();
    this.player = null;
    this.container.replaceChildren();
  }
}
