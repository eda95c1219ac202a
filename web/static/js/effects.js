// Video effects with pixi.js (WebGL): an EffectView draws a <video> (live from
// live-player.js or recorded from playback-player.js) into a canvas through
// one filter, fitted (letterboxed) to its container, every video frame.
//
// The effects and their parameters are listed in effect-list.js. Each filter
// is a small GLSL fragment shader on pixi's default filter vertex shader,
// except blur (pixi's own).
// Coordinates: pixi hands filters a texture that may be larger than the
// sprite; toUv()/fromUv() map to 0..1 over the sprite and back, clamped to the
// input so nothing outside is sampled.
//
// Without WebGL (some headless or locked-down browsers) the plain video shows
// with a CSS filter where one comes close (blur, sepia), and view.fallback is
// true.
import {
  Application, BlurFilter, Filter, GlProgram, Sprite, Texture, UniformGroup, VideoSource,
} from '../vendor/pixi.mjs';
import { EFFECTS, effectParams } from './effect-list.js';

export { EFFECTS, effectParams };

const VERTEX = `in vec2 aPosition;
out vec2 vTextureCoord;
uniform vec4 uInputSize;
uniform vec4 uOutputFrame;
uniform vec4 uOutputTexture;
void main(void) {
  vec2 position = aPosition * uOutputFrame.zw + uOutputFrame.xy;
  position.x = position.x * (2.0 / uOutputTexture.x) - 1.0;
  position.y = position.y * (2.0 * uOutputTexture.z / uOutputTexture.y) - uOutputTexture.z;
  gl_Position = vec4(position, 0.0, 1.0);
  vTextureCoord = aPosition * (uOutputFrame.zw * uInputSize.zw);
}`;

// highp: the vertex shader's uniforms are highp, and a uniform shared by
// both stages must have the same precision (pixi makes fragments mediump).
const HEAD = `in vec2 vTextureCoord;
out vec4 finalColor;
uniform sampler2D uTexture;
uniform highp vec4 uInputSize;
uniform highp vec4 uOutputFrame;
uniform highp vec4 uInputClamp;
uniform float uA;
uniform float uB;
uniform float uTime;
vec2 toUv(vec2 c) { return c * uInputSize.xy / uOutputFrame.zw; }
vec2 fromUv(vec2 uv) {
  return clamp(uv * uOutputFrame.zw * uInputSize.zw, uInputClamp.xy, uInputClamp.zw);
}
vec4 px(vec2 uv) { return texture(uTexture, fromUv(uv)); }
float luma(vec3 c) { return dot(c, vec3(0.299, 0.587, 0.114)); }
float rand(vec2 co) { return fract(sin(dot(co, vec2(12.9898, 78.233))) * 43758.5453); }
`;

// uA, uB: the effect's first and second parameter.
const SHADERS = {
  crt: `void main() {
    vec2 uv = toUv(vTextureCoord);
    vec2 cc = uv - 0.5;
    float d = dot(cc, cc);
    uv = 0.5 + cc * (1.0 + uB * 0.45 * d) / (1.0 + uB * 0.45 * 0.25);
    if (uv.x < 0.0 || uv.x > 1.0 || uv.y < 0.0 || uv.y > 1.0) {
      finalColor = vec4(0.0, 0.0, 0.0, 1.0);
      return;
    }
    vec3 c;
    float off = 0.0015 + uB * 0.002;
    c.r = px(uv + vec2(off, 0.0)).r;
    c.g = px(uv).g;
    c.b = px(uv - vec2(off, 0.0)).b;
    float lines = 0.5 + 0.5 * sin(uv.y * uOutputFrame.w * 3.14159 / 1.5);
    c *= 1.0 - uA * 0.6 * (1.0 - lines);
    c *= 1.0 + uA * 0.25;
    float vig = smoothstep(0.85, 0.25, length(cc) * (1.0 + uB * 0.3));
    c *= mix(1.0, vig, 0.6);
    c *= 0.97 + 0.03 * sin(uTime * 60.0);
    finalColor = vec4(c, 1.0);
  }`,
  grain: `void main() {
    vec2 uv = toUv(vTextureCoord);
    vec4 c = px(uv);
    float n = rand(uv * uOutputFrame.zw + fract(uTime * 7.13) * 100.0) - 0.5;
    float flicker = 1.0 + (rand(vec2(floor(uTime * 24.0), 1.0)) - 0.5) * 0.08 * uA;
    vec3 g = c.rgb * flicker + n * uA * 0.45;
    float scratch = step(0.998 - uA * 0.002, rand(vec2(floor(uv.x * 400.0), floor(uTime * 12.0))));
    g = mix(g, vec3(0.9), scratch * 0.35 * uA);
    finalColor = vec4(clamp(g, 0.0, 1.0), 1.0);
  }`,
  water: `void main() {
    vec2 uv = toUv(vTextureCoord);
    float level = uA;
    if (uv.y < level) {
      // The picture squeezed above the water line.
      finalColor = px(vec2(uv.x, uv.y / level));
      return;
    }
    float depth = (uv.y - level) / (1.0 - level);
    float wave = sin(depth * 60.0 / (depth + 0.2) - uTime * 3.0) * 0.012 * uB * (0.3 + depth);
    float y = 1.0 - depth * (1.0 - level) / level;
    vec4 c = px(vec2(uv.x + wave, clamp(y + wave * 0.5, 0.0, 1.0)));
    vec3 water = mix(c.rgb, vec3(0.05, 0.2, 0.35), 0.35 + depth * 0.3);
    finalColor = vec4(water * (1.0 - depth * 0.35), 1.0);
  }`,
  sepia: `void main() {
    vec4 c = px(toUv(vTextureCoord));
    vec3 s = vec3(dot(c.rgb, vec3(0.393, 0.769, 0.189)),
                  dot(c.rgb, vec3(0.349, 0.686, 0.168)),
                  dot(c.rgb, vec3(0.272, 0.534, 0.131)));
    finalColor = vec4(mix(c.rgb, min(s, 1.0), uA), 1.0);
  }`,
  posterize: `void main() {
    vec4 c = px(toUv(vTextureCoord));
    float n = max(2.0, floor(uA + 0.5)) - 1.0;
    finalColor = vec4(floor(c.rgb * n + 0.5) / n, 1.0);
  }`,
  thermal: `vec3 palette(float t) {
    vec3 c0 = vec3(0.0, 0.0, 0.1), c1 = vec3(0.3, 0.0, 0.6), c2 = vec3(0.9, 0.1, 0.3);
    vec3 c3 = vec3(1.0, 0.6, 0.0), c4 = vec3(1.0, 1.0, 0.7);
    if (t < 0.25) return mix(c0, c1, t / 0.25);
    if (t < 0.5) return mix(c1, c2, (t - 0.25) / 0.25);
    if (t < 0.75) return mix(c2, c3, (t - 0.5) / 0.25);
    return mix(c3, c4, (t - 0.75) / 0.25);
  }
  void main() {
    vec4 c = px(toUv(vTextureCoord));
    float l = clamp((luma(c.rgb) - 0.5) * uA + 0.5, 0.0, 1.0);
    finalColor = vec4(palette(l), 1.0);
  }`,
  pixelate: `void main() {
    vec2 uv = toUv(vTextureCoord);
    vec2 cell = vec2(uA) / uOutputFrame.zw;
    finalColor = vec4(px((floor(uv / cell) + 0.5) * cell).rgb, 1.0);
  }`,
  edge: `void main() {
    vec2 uv = toUv(vTextureCoord);
    vec2 t = 1.5 / uOutputFrame.zw;
    float tl = luma(px(uv + t * vec2(-1, -1)).rgb), tc = luma(px(uv + t * vec2(0, -1)).rgb);
    float tr = luma(px(uv + t * vec2(1, -1)).rgb), ml = luma(px(uv + t * vec2(-1, 0)).rgb);
    float mr = luma(px(uv + t * vec2(1, 0)).rgb), bl = luma(px(uv + t * vec2(-1, 1)).rgb);
    float bc = luma(px(uv + t * vec2(0, 1)).rgb), br = luma(px(uv + t * vec2(1, 1)).rgb);
    float gx = -tl - 2.0 * ml - bl + tr + 2.0 * mr + br;
    float gy = -tl - 2.0 * tc - tr + bl + 2.0 * bc + br;
    float e = clamp(sqrt(gx * gx + gy * gy) * uA, 0.0, 1.0);
    vec3 neon = mix(vec3(0.1, 0.9, 1.0), vec3(1.0, 0.2, 0.9), uv.y);
    vec3 base = px(uv).rgb * uB * 0.5;
    finalColor = vec4(clamp(base + neon * e * 1.3, 0.0, 1.0), 1.0);
  }`,
};

// The effect's two parameters in uA, uB order.
function uniformValues(name, params) {
  const p = effectParams(name, params);
  const keys = Object.keys((EFFECTS[name] || EFFECTS.none).params);
  return [p[keys[0]] ?? 0, p[keys[1]] ?? 0];
}

function makeFilter(name, params) {
  if (name === 'blur') {
    const [radius] = uniformValues(name, params);
    return new BlurFilter({ strength: radius, quality: 3 });
  }
  const body = SHADERS[name];
  if (!body) return null;
  const [a, b] = uniformValues(name, params);
  return new Filter({
    glProgram: GlProgram.from({ vertex: VERTEX, fragment: HEAD + body, name: `vigil-${name}` }),
    resources: {
      fx: new UniformGroup({
        uA: { value: a, type: 'f32' },
        uB: { value: b, type: 'f32' },
        uTime: { value: 0, type: 'f32' },
      }),
    },
    padding: 0,
  });
}

function webglAvailable() {
  try {
    const c = document.createElement('canvas');
    return !!(c.getContext('webgl2') || c.getContext('webgl'));
  } catch { return false; }
}

export class EffectView {
  // @container: the element to fill; @video: a <video> that plays (it is
  // moved out of sight, not removed: players keep feeding it).
  constructor(container, video, { effect = 'none', params = {} } = {}) {
    this.container = container;
    this.video = video;
    this.effect = EFFECTS[effect] ? effect : 'none';
    this.params = effectParams(this.effect, params);
    this.app = null;
    this.sprite = null;
    this.filter = null;
    this.fallback = false;
    this.destroyed = false;
    this.frames = 0;           // frames drawn (tests watch it advance)
    this.start = performance.now();
  }

  async init() {
    this.container.classList.add('fx-view');
    if (!webglAvailable()) return this.useFallback();
    const app = new Application();
    try {
      await app.init({ resizeTo: this.container, background: '#000000', antialias: false,
                       preference: 'webgl', autoDensity: true,
                       resolution: Math.min(window.devicePixelRatio || 1, 2) });
    } catch (e) {
      console.warn('effects: no WebGL renderer', e);
      return this.useFallback();
    }
    if (this.destroyed) { app.destroy(true); return this; }
    this.app = app;
    app.canvas.classList.add('fx-canvas');
    app.canvas.setAttribute('role', 'img');
    app.canvas.setAttribute('aria-label', `video with the ${EFFECTS[this.effect].label} effect`);
    this.container.append(app.canvas);
    this.video.classList.add('fx-source');
    await this.whenVideoReady();
    if (this.destroyed) return this;
    // The players feed and play the element themselves: pixi must not.
    const texture = new Texture({ source: new VideoSource({ resource: this.video,
                                                            autoPlay: false }) });
    this.texture = texture;
    this.sprite = new Sprite(texture);
    app.stage.addChild(this.sprite);
    this.setEffect(this.effect, this.params);
    app.ticker.add(() => this.tick());
    return this;
  }

  // Draws @video from now on (a live tile moved to another stream: the new
  // element already paints, so the picture does not go black). The old
  // element's texture goes; the element itself is its player's to drop.
  setVideo(video) {
    if (video === this.video) return this;
    const old = this.video;
    old.classList.remove('fx-source');
    old.style.filter = '';
    this.video = video;
    if (this.fallback) return this.useFallback();
    if (!this.app) return this;
    video.classList.add('fx-source');
    // init() still waits for the old element: let it go on with this one.
    if (!this.sprite) {
      this.readyCancel?.();
      return this;
    }
    const texture = new Texture({ source: new VideoSource({ resource: video, autoPlay: false }) });
    const previous = this.texture;
    this.texture = texture;
    this.sprite.texture = texture;
    if (previous) {
      // Not VideoSource.destroy(): it would pause the element and clear its
      // src under the player. unload() frees the GPU texture.
      previous.source.autoUpdate = false;
      previous.source.unload();
      previous.destroy(false);
    }
    return this;
  }

  whenVideoReady() {
    if (this.video.readyState >= 2 && this.video.videoWidth) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.video.removeEventListener('loadeddata', done);
        resolve();
      };
      this.video.addEventListener('loadeddata', done);
      this.readyCancel = done;
    });
  }

  useFallback() {
    this.fallback = true;
    this.container.classList.add('fx-fallback');
    const css = { blur: `blur(${this.params.radius / 2}px)`, sepia: `sepia(${this.params.amount})`,
                  grain: 'contrast(1.1)', thermal: 'invert(1) hue-rotate(180deg) saturate(3)' };
    this.video.style.filter = css[this.effect] || '';
    return this;
  }

  setEffect(name, params = {}) {
    this.effect = EFFECTS[name] ? name : 'none';
    this.params = effectParams(this.effect, params);
    if (this.fallback) return this.useFallback();
    if (!this.sprite) return this;
    if (this.filter) {
      this.sprite.filters = [];
      this.filter.destroy();
    }
    this.filter = makeFilter(this.effect, this.params);
    this.sprite.filters = this.filter ? [this.filter] : [];
    if (this.app) this.app.canvas.setAttribute('aria-label',
      `video with the ${EFFECTS[this.effect].label} effect`);
    return this;
  }

  setParams(params) {
    this.params = effectParams(this.effect, { ...this.params, ...params });
    if (!this.filter) return this;
    if (this.effect === 'blur') {
      this.filter.strength = this.params.radius;
      return this;
    }
    const [a, b] = uniformValues(this.effect, this.params);
    const u = this.filter.resources.fx.uniforms;
    u.uA = a;
    u.uB = b;
    return this;
  }

  // Mean brightness (0..255) and its spread over the drawn picture, read
  // back from the GPU: tests use it to tell a working filter from a black or
  // broken one.
  sample() {
    if (!this.app || !this.sprite) return null;
    const { pixels } = this.app.renderer.extract.pixels({ target: this.app.stage });
    let sum = 0, sq = 0, count = 0;
    for (let i = 0; i < pixels.length; i += 4 * 7) {
      const l = (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
      sum += l; sq += l * l; count++;
    }
    const mean = sum / Math.max(1, count);
    return { mean, spread: Math.sqrt(Math.max(0, sq / Math.max(1, count) - mean * mean)) };
  }

  tick() {
    if (!this.sprite || !this.app) return;
    const vw = this.video.videoWidth, vh = this.video.videoHeight;
    const sw = this.app.screen.width, sh = this.app.screen.height;
    if (vw && vh && sw && sh) {
      const scale = Math.min(sw / vw, sh / vh);
      this.sprite.width = vw * scale;
      this.sprite.height = vh * scale;
      this.sprite.x = (sw - this.sprite.width) / 2;
      this.sprite.y = (sh - this.sprite.height) / 2;
    }
    if (this.filter && this.filter.resources && this.filter.resources.fx) {
      this.filter.resources.fx.uniforms.uTime = (performance.now() - this.start) / 1000;
    }
    this.frames++;
  }

  destroy() {
    this.destroyed = true;
    if (this.readyCancel) this.readyCancel();
    if (this.app) {
      this.app.ticker.stop();
      if (this.sprite) this.sprite.filters = [];
      this.filter?.destroy();
      // The video element belongs to its player: VideoSource.destroy()
      // would pause it and clear its src, so the source is left alone.
      if (this.texture) this.texture.source.autoUpdate = false;
      this.texture?.destroy(false);
      this.app.destroy(true, { children: true, texture: false, textureSource: false });
      this.app = null;
    }
    this.video.classList.remove('fx-source');
    this.video.style.filter = '';
    this.container.classList.remove('fx-view', 'fx-fallback');
    this.sprite = null;
    this.filter = null;
  }
}
