// The wall effects and their parameters: names, ranges and defaults. The
// walls API checks tiles against its own copy (src/http/walls-body.c);
// tests/ui/test-api-tables.mjs fails when the two differ. No imports, so node
// can read it without a browser.

export const EFFECTS = {
  none: { label: 'None', params: {} },
  crt: { label: 'CRT', params: {
    scanlines: { label: 'Scanlines', min: 0, max: 1, step: 0.05, def: 0.5 },
    curvature: { label: 'Curvature', min: 0, max: 1, step: 0.05, def: 0.3 } } },
  grain: { label: 'Film grain', params: {
    amount: { label: 'Amount', min: 0, max: 1, step: 0.05, def: 0.3 } } },
  blur: { label: 'Blur', params: {
    radius: { label: 'Radius', min: 0, max: 20, step: 1, def: 4 } } },
  water: { label: 'Water reflection', params: {
    level: { label: 'Water line', min: 0.3, max: 0.9, step: 0.05, def: 0.65 },
    ripple: { label: 'Ripples', min: 0, max: 1, step: 0.05, def: 0.5 } } },
  sepia: { label: 'Sepia', params: {
    amount: { label: 'Amount', min: 0, max: 1, step: 0.05, def: 1 } } },
  posterize: { label: 'Posterize', params: {
    levels: { label: 'Levels', min: 2, max: 16, step: 1, def: 4 } } },
  thermal: { label: 'False-colour thermal', params: {
    contrast: { label: 'Contrast', min: 0.5, max: 3, step: 0.1, def: 1 } } },
  pixelate: { label: 'Pixelate', params: {
    size: { label: 'Block size', min: 2, max: 64, step: 1, def: 12 } } },
  edge: { label: 'Edge glow', params: {
    strength: { label: 'Strength', min: 0.5, max: 5, step: 0.1, def: 1.5 },
    glow: { label: 'Picture', min: 0, max: 1, step: 0.05, def: 0.5 } } },
};

// @params completed with defaults and clamped to the ranges.
export function effectParams(name, params = {}) {
  const spec = (EFFECTS[name] || EFFECTS.none).params;
  const out = {};
  for (const [k, p] of Object.entries(spec)) {
    const v = Number(params[k]);
    out[k] = Number.isFinite(v) ? Math.min(p.max, Math.max(p.min, v)) : p.def;
  }
  return out;
}
