// A camera's defaults, numeric ranges, choices and text lengths as the
// cameras API has them (src/config/config-private.h, config-read.c), for the
// camera form. The API's own copy decides; tests/ui/test-api-tables.mjs fails
// when the two differ. No imports, so node can read it without a browser.

// A new camera: what POST /api/v1/cameras stores for the members it is not
// given (name and source are required).
export const CAMERA_DEFAULTS = {
  name: '', enabled: true, source: '', username: null, password_set: false, rtsp_transport: 'tcp',
  sub_source: null, sub_username: null, sub_password_set: false,
  record_stream: 'main', barcode_stream: 'main', barcode_interval_s: 2,
  record: 'events', pre_roll_s: 5, post_roll_s: 30, retain_days: 30,
  motion: { enabled: true, threshold: 0.08, zones: [] },
  detect: { enabled: false, classes: ['person', 'dog', 'cat'], min_score: 0.5, interval_s: 15, record_on: [], main_crop: false },
  barcodes: false, onvif: null,
};

// Numeric members by the API's field name ("motion.zones[].x" for every
// zone): the accepted range and the form's step. Zone w and h must be above
// 0, which an <input min> cannot say: their min is 0.
export const CAMERA_RANGES = {
  barcode_interval_s: { min: 0.5, max: 60, step: 0.5 },
  pre_roll_s: { min: 0, max: 60, step: 1 },
  post_roll_s: { min: 0, max: 3600, step: 1 },
  retain_days: { min: 1, max: 3650, step: 1 },
  'motion.threshold': { min: 0, max: 1, step: 0.005 },
  'detect.min_score': { min: 0, max: 1, step: 0.05 },
  'detect.interval_s': { min: 1, max: 3600, step: 1 },
  'motion.zones[].x': { min: 0, max: 1, step: 0.01 },
  'motion.zones[].y': { min: 0, max: 1, step: 0.01 },
  'motion.zones[].w': { min: 0, max: 1, step: 0.01 },
  'motion.zones[].h': { min: 0, max: 1, step: 0.01 },
  'motion.zones[].threshold': { min: 0, max: 1, step: 0.005 },
};

// Members with a fixed set of values: [value, label] in the API's order.
export const CAMERA_CHOICES = {
  rtsp_transport: [['tcp', 'TCP (default)'], ['udp', 'UDP'], ['auto', 'Auto']],
  record: [['off', 'Off'], ['events', 'On events'], ['continuous', 'Continuous']],
  record_stream: [['main', 'Main stream'], ['sub', 'Sub stream'], ['both', 'Both']],
  barcode_stream: [['main', 'Main stream'], ['sub', 'Sub stream']],
};

// The longest names the API takes, in characters.
export const CAMERA_TEXT_MAX = {
  name: 64,
  'motion.zones[].name': 32,
};
