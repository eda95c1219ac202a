/* The analyzer's worker side (see analyzer.h): the keyframe intake, from any
 * thread, and the pool job that decodes, measures motion, reads barcodes and
 * runs the detector, one job per camera at a time, then hands the numbers to
 * the main context (analyzer.c). Jobs of cameras with motion go first. The
 * worker part of VigilAnalyzer is touched by that job only; the rest under
 * the analyzer's lock. */
#define G_LOG_DOMAIN "vigil-analysis"

#include <math.h>
#include <time.h>

#include "analysis/analyzer-private.h"
#include "detect/detect.h"
#include "detect/service.h"

/* Detection while motion lasts: about once a second (keyframes arrive about
 * that often; the slack keeps a 1 s GOP from skipping every other one). */
#define DETECT_MOTION_US (G_USEC_PER_SEC * 8 / 10)
/* When nothing but the dark and frozen alarms looks at the analysis stream,
 * one keyframe about every 10 s feeds them (the slack keeps a 1 s GOP from
 * stretching that to 11 s when a keyframe comes in a little early). */
#define ALARM_SAMPLE_US (G_USEC_PER_SEC * 95 / 10)
/* Main keyframes read for barcodes (the sub stream analysed): scaled to at
 * most this width; small codes need the resolution. */
#define BARCODE_WIDTH 1920

static void detect_step(VigilAnalyzer *self, GstBuffer *keyframe, VigilCodec codec, gint64 time_us,
                        gboolean moving, gint64 arrival_us);

/* --- decode, motion, barcodes --- */

static void scan_codes(VigilAnalyzer *self, const guint8 *gray, int w, int h, Result *r)
{
  if (!self->scanner) {
    self->scanner = zbar_image_scanner_create();
    zbar_image_scanner_set_config(self->scanner, 0, ZBAR_CFG_ENABLE, 1);
  }
  zbar_image_t *image = zbar_image_create();
  zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
  zbar_image_set_size(image, w, h);
  zbar_image_set_data(image, gray, (unsigned long)w * h, NULL);
  if (zbar_scan_image(self->scanner, image) > 0) {
    for (const zbar_symbol_t *s = zbar_image_first_symbol(image); s; s = zbar_symbol_next(s)) {
      const char *text = zbar_symbol_get_data(s);
      if (!text || !g_utf8_validate(text, -1, NULL))
        continue; /* binary payloads are not text we can report */
      g_ptr_array_add(r->formats, g_strdup(zbar_get_symbol_name(zbar_symbol_get_type(s))));
      g_ptr_array_add(r->texts, g_strdup(text));
    }
  }
  zbar_image_destroy(image);
}

/* CPU time of the calling thread, in ms: what the analysis really costs,
 * whatever pool thread it ran on. */
static double thread_cpu_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The analysis stream under the lock: the sub stream while it streams. */
static VigilStreamChoice analysis_stream_locked(VigilAnalyzer *self)
{
  return self->has_sub && self->sub_streaming ? VIGIL_STREAM_SUB : VIGIL_STREAM_MAIN;
}

/* Whether barcodes are read from the analysis stream's frames (else from
 * main keyframes of their own, or not at all). Under the lock. */
static gboolean codes_on_analysis_stream_locked(VigilAnalyzer *self)
{
  return self->barcodes && (analysis_stream_locked(self) == VIGIL_STREAM_MAIN ||
                            self->barcode_stream == VIGIL_STREAM_SUB);
}

/* Decodes @buffer with *@decoder (made, or made again for another codec) to
 * packed GRAY8 at most @max_width wide (the decoder's: valid until its next
 * decode); NULL (logged, as @what) when it cannot. */
static const guint8 *decode_gray(VigilAnalyzer *self, VigilDecoder **decoder, GstBuffer *buffer,
                                 VigilCodec codec, int max_width, int *w, int *h, const char *what)
{
  if (*decoder && vigil_decoder_get_codec(*decoder) != codec)
    g_clear_pointer(decoder, vigil_decoder_free);
  g_autoptr(GError) error = NULL;
  if (!*decoder)
    *decoder = vigil_decoder_new(codec, &error);
  const guint8 *gray = NULL;
  GstMapInfo map;
  if (*decoder && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    gray = vigil_decoder_decode_gray(*decoder, map.data, map.size, max_width, w, h, &error);
    gst_buffer_unmap(buffer, &map);
  }
  if (!gray)
    g_debug("camera %s: %s skipped: %s", self->camera_id, what,
            error ? error->message : "unreadable buffer");
  return gray;
}

static Result *result_new(VigilAnalyzer *self, gint64 time_us, gint64 mono_us)
{
  Result *r = g_new0(Result, 1);
  r->analyzer = vigil_analyzer_ref(self);
  r->time_us = time_us;
  r->mono_us = mono_us;
  r->formats = g_ptr_array_new_with_free_func(g_free);
  r->texts = g_ptr_array_new_with_free_func(g_free);
  return r;
}

/* A main keyframe read only for its barcodes: decoded at up to
 * BARCODE_WIDTH, scanned, and handed over as a codes-only observation. */
static void read_codes(VigilAnalyzer *self, GstBuffer *buffer, VigilCodec codec, gint64 time_us)
{
  double cpu0 = thread_cpu_ms();
  int w = 0, h = 0;
  gint64 t0 = g_get_monotonic_time();
  const guint8 *gray = decode_gray(self, &self->codes_decoder, buffer, codec, BARCODE_WIDTH, &w, &h,
                                   "main keyframe for barcodes");
  if (!gray)
    return;
  gint64 t1 = g_get_monotonic_time();
  Result *r = result_new(self, time_us, g_get_monotonic_time());
  r->barcodes = TRUE;
  r->codes_only = TRUE;
  scan_codes(self, gray, w, h, r);
  gint64 t2 = g_get_monotonic_time();
  double cpu = thread_cpu_ms() - cpu0;
  g_mutex_lock(&self->lock);
  self->stats.cpu_ms += cpu;
  self->stats.barcode_scans++;
  self->stats.decode_ms += (t1 - t0) / 1000.0;
  self->stats.zbar_ms += (t2 - t1) / 1000.0;
  g_mutex_unlock(&self->lock);
  g_debug("camera %s: main keyframe %" G_GINT64_FORMAT " %dx%d for barcodes: codes %u"
          " (decode %.2f ms, zbar %.2f ms, cpu %.2f ms)",
          self->camera_id, time_us, w, h, r->texts->len, (t1 - t0) / 1000.0, (t2 - t1) / 1000.0,
          cpu);
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, vigil_analyzer_apply_result, r,
                             vigil_analyzer_result_free);
}

static void analyse(VigilAnalyzer *self, GstBuffer *buffer, VigilCodec codec, gint64 time_us,
                    VigilStreamChoice stream, gint64 arrival_us)
{
  double cpu0 = thread_cpu_ms();
  Result *r = result_new(self, time_us, arrival_us);

  g_mutex_lock(&self->lock);
  /* Frames of the other stream have another size and noise: start over. */
  gboolean reset = self->reset || stream != self->analysed_stream;
  self->reset = FALSE;
  self->analysed_stream = stream;
  VigilMotionRect zones[MAX_ZONES];
  r->n_zones = self->n_zones;
  memcpy(zones, self->zones, sizeof(zones));
  for (int i = 0; i <= r->n_zones; i++)
    r->thresholds[i] = self->motion_enabled ? self->thresholds[i] : INFINITY;
  for (int i = 0; i < r->n_zones; i++)
    r->zone_names[i] = g_strdup(self->zone_names[i]);
  r->barcodes = self->barcodes;
  r->codes_skipped = self->barcodes && (stream == VIGIL_STREAM_SUB
                                            ? self->barcode_stream != VIGIL_STREAM_SUB
                                            : analysis_stream_locked(self) != VIGIL_STREAM_MAIN);
  gboolean want_box = self->main_crop && self->detect_enabled && stream == VIGIL_STREAM_SUB;
  g_mutex_unlock(&self->lock);

  if (!self->motion)
    self->motion = vigil_motion_new();
  if (reset)
    vigil_motion_reset(self->motion);

  gint64 t0 = g_get_monotonic_time();
  int w = 0, h = 0;
  const guint8 *gray =
      decode_gray(self, &self->decoder, buffer, codec, VIGIL_ANALYSIS_WIDTH, &w, &h, "keyframe");
  if (!gray) {
    vigil_analyzer_result_free(r);
    return;
  }
  gint64 t1 = g_get_monotonic_time();
  bool identical = false;
  r->has_levels =
      vigil_motion_process(self->motion, gray, w, h, zones, r->n_zones, r->levels, &identical);
  r->identical = identical;
  self->has_motion_box =
      want_box && r->has_levels && vigil_motion_box(self->motion, &self->motion_box);
  r->mean_luma = vigil_motion_mean_luma(gray, w, h);
  gint64 t2 = g_get_monotonic_time();
  if (r->barcodes && !r->codes_skipped)
    scan_codes(self, gray, w, h, r);
  gint64 t3 = g_get_monotonic_time();
  double cpu = thread_cpu_ms() - cpu0;

  g_mutex_lock(&self->lock);
  self->stats.cpu_ms += cpu;
  self->stats.analysed++;
  self->stats.decode_ms += (t1 - t0) / 1000.0;
  self->stats.motion_ms += (t2 - t1) / 1000.0;
  self->stats.zbar_ms += (t3 - t2) / 1000.0;
  g_mutex_unlock(&self->lock);

  g_debug("camera %s: %s keyframe %" G_GINT64_FORMAT " %dx%d level %.4f luma %.3f codes %u"
          " (decode %.2f ms, motion %.2f ms, zbar %.2f ms, cpu %.2f ms)",
          self->camera_id, vigil_stream_choice_to_string(stream), time_us, w, h,
          r->has_levels ? r->levels[0] : -1.0, r->mean_luma, r->texts->len, (t1 - t0) / 1000.0,
          (t2 - t1) / 1000.0, (t3 - t2) / 1000.0, cpu);
  gboolean moving = FALSE;
  for (int i = 0; r->has_levels && i <= r->n_zones; i++)
    moving = moving || r->levels[i] > r->thresholds[i];
  g_mutex_lock(&self->lock);
  self->moving = moving;
  g_mutex_unlock(&self->lock);
  /* Motion first, so a slow detector never delays motion events. */
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, vigil_analyzer_apply_result, r,
                             vigil_analyzer_result_free);
  detect_step(self, buffer, codec, time_us, moving, arrival_us);
}

/* --- detection --- */

/* A crop of the main picture is worth it while the square around the
 * motion box, with a margin (the box already spans where the object was and
 * is; the main keyframe may be a little later), is smaller than this part
 * of the picture's height; else the whole sub picture shows it as well. */
#define CROP_MAX_SIDE 0.75
#define CROP_MARGIN   1.25
/* The main keyframe must be this close in time to the sub one that moved. */
#define CROP_MAX_SKEW_US (G_USEC_PER_SEC * 3 / 2)

/* With detect.main_crop, on a moving sub keyframe: decodes the main
 * stream's keyframe of about the same time into the main decoder and sets
 * @crop (fractions) to the square around the motion box, at least the
 * model's input side @side_px in main pixels. Returns that keyframe (a
 * ref; *codec set), or NULL when there is none to use: the whole sub
 * picture is detected as usual. */
static GstBuffer *main_crop(VigilAnalyzer *self, gint64 time_us, int side_px, double crop[4],
                            VigilCodec *codec)
{
  gint64 arrived = 0;
  GstBuffer *keyframe = vigil_snapshots_get_main_keyframe(self->snapshots, codec, &arrived);
  if (!keyframe)
    return NULL;
  if (ABS(arrived - time_us) > CROP_MAX_SKEW_US) {
    gst_buffer_unref(keyframe);
    return NULL;
  }
  int gw, gh, W, H;
  const guint8 *gray = decode_gray(self, &self->codes_decoder, keyframe, *codec, 64, &gw, &gh,
                                   "main keyframe for detection");
  vigil_decoder_get_size(self->codes_decoder, &W, &H);
  const VigilMotionRect *b = &self->motion_box;
  double side = MAX(MAX(b->w * W, b->h * H) * CROP_MARGIN, side_px);
  if (!gray || side > CROP_MAX_SIDE * H) {
    gst_buffer_unref(keyframe);
    return NULL;
  }
  double cx = (b->x + b->w / 2) * W, cy = (b->y + b->h / 2) * H;
  double x0 = CLAMP(cx - side / 2, 0, W - side), y0 = CLAMP(cy - side / 2, 0, H - side);
  crop[0] = x0 / W;
  crop[1] = y0 / H;
  crop[2] = side / W;
  crop[3] = side / H;
  return keyframe;
}

/* Under the lock: whether a detection is due for the keyframe of @time_us:
 * every interval_s while idle, about every second while there is motion
 * (@moving: that frame's, or an open motion event). */
static gboolean detect_due_locked(VigilAnalyzer *self, gint64 time_us, gboolean moving)
{
  if (!self->detect_enabled)
    return FALSE;
  moving = moving || self->motion_active;
  gint64 period = moving ? DETECT_MOTION_US : (gint64)self->interval_s * G_USEC_PER_SEC;
  return !self->last_detect_us || time_us - self->last_detect_us >= period ||
         time_us < self->last_detect_us;
}

/* Runs the detector on the picture just decoded when one is due. The
 * keyframe came in at @arrival_us (monotonic): the queue wait starts there. */
static void detect_step(VigilAnalyzer *self, GstBuffer *keyframe, VigilCodec codec, gint64 time_us,
                        gboolean moving, gint64 arrival_us)
{
  g_mutex_lock(&self->lock);
  gboolean due = detect_due_locked(self, time_us, moving);
  gboolean crop_wanted = moving && self->has_motion_box && self->main_crop;
  g_auto(GStrv) classes = g_strdupv(self->detect_classes);
  double min_score = self->min_score;
  g_mutex_unlock(&self->lock);
  if (!due)
    return;
  g_autoptr(VigilDetector) det = vigil_detect_service_get();
  if (!det)
    return;
  g_mutex_lock(&self->lock);
  self->last_detect_us = time_us;
  g_mutex_unlock(&self->lock);

  double cpu0 = thread_cpu_ms();
  gint64 t0 = g_get_monotonic_time();
  int mw, mh, w, h;
  vigil_detector_input_size(det, &mw, &mh);
  mw = mw > 0 ? mw : 640;
  mh = mh > 0 ? mh : 640;
  double crop[4];
  VigilCodec main_codec = codec;
  g_autoptr(GstBuffer) main_keyframe =
      crop_wanted ? main_crop(self, time_us, MIN(mw, mh), crop, &main_codec) : NULL;
  g_autofree guint8 *rgb = main_keyframe
                               ? vigil_decoder_crop_rgb(self->codes_decoder, crop, mw, mh, &w, &h)
                               : vigil_decoder_scale_rgb(self->decoder, mw, mh, &w, &h);
  if (!rgb)
    return;
  VigilRgbImage img = {rgb, w, h};
  g_autoptr(GError) error = NULL;
  GArray *dets = vigil_detector_detect(det, &img, &error);
  if (!dets) {
    g_warning("camera %s: detection failed: %s", self->camera_id, error->message);
    return;
  }
  vigil_detections_filter(dets, (const char *const *)classes, min_score);
  /* Boxes on the crop are boxes on the main picture. */
  for (guint i = 0; main_keyframe && i < dets->len; i++) {
    VigilDetection *d = &g_array_index(dets, VigilDetection, i);
    d->x = (float)(crop[0] + d->x * crop[2]);
    d->y = (float)(crop[1] + d->y * crop[3]);
    d->w = (float)(d->w * crop[2]);
    d->h = (float)(d->h * crop[3]);
  }
  gint64 t1 = g_get_monotonic_time();
  double ms = (t1 - t0) / 1000.0;
  double cpu = thread_cpu_ms() - cpu0;
  vigil_detect_service_record(t0 - arrival_us, t1 - t0);
  g_mutex_lock(&self->lock);
  self->stats.detected++;
  self->stats.detected_on_crops += main_keyframe != NULL;
  self->stats.detect_ms += ms;
  self->stats.cpu_ms += cpu;
  g_mutex_unlock(&self->lock);
  if (main_keyframe)
    g_debug("camera %s: detection on the main picture's %.3f,%.3f %.3fx%.3f: %u objects (waited "
            "%.1f ms, %.1f ms, cpu %.1f ms)",
            self->camera_id, crop[0], crop[1], crop[2], crop[3], dets->len,
            (t0 - arrival_us) / 1000.0, ms, cpu);
  else
    g_debug("camera %s: detection %dx%d: %u objects (waited %.1f ms, %.1f ms, cpu %.1f ms)",
            self->camera_id, w, h, dets->len, (t0 - arrival_us) / 1000.0, ms, cpu);

  DetectResult *r = g_new0(DetectResult, 1);
  r->analyzer = vigil_analyzer_ref(self);
  r->time_us = time_us;
  r->dets = dets;
  if (dets->len > 0) {
    r->keyframe = gst_buffer_ref(main_keyframe ? main_keyframe : keyframe);
    r->codec = main_keyframe ? main_codec : codec;
  }
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, vigil_analyzer_apply_detections, r,
                             vigil_analyzer_detect_result_free);
}

/* --- the pool --- */

/* One pool job: a camera's next keyframe, analysed by whichever thread is
 * free. */
typedef struct {
  VigilAnalyzer *analyzer; /* ref */
  gboolean urgent;         /* the camera sees motion: it goes first */
  gint64 queued_us;        /* monotonic; first come, first served otherwise */
} Job;

/* The pool's order: cameras with motion first, so a quiet camera's periodic
 * detection never delays a moving camera's; then first in, first out. */
static gint job_order(gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Job *x = a, *y = b;
  if (x->urgent != y->urgent)
    return x->urgent ? -1 : 1;
  return (x->queued_us > y->queued_us) - (x->queued_us < y->queued_us);
}

static GThreadPool *get_pool(void);

/* Under the lock: whether the camera's next job is urgent. */
static gboolean urgent_locked(VigilAnalyzer *self)
{
  return self->moving || self->motion_active;
}

/* Queues a job for the camera (whose busy flag the caller set). */
static void push_job(VigilAnalyzer *self, gboolean urgent)
{
  Job *job = g_new(Job, 1);
  *job = (Job){vigil_analyzer_ref(self), urgent, g_get_monotonic_time()};
  g_thread_pool_push(get_pool(), job, NULL);
}

static void worker(gpointer data, gpointer pool_data)
{
  Job *job = data;
  VigilAnalyzer *self = job->analyzer;
  g_free(job);
  g_mutex_lock(&self->lock);
  /* Motion first; a main keyframe for barcodes when none waits. */
  gboolean codes_only = self->pending == NULL;
  GstBuffer *buffer =
      codes_only ? g_steal_pointer(&self->pending_codes) : g_steal_pointer(&self->pending);
  VigilCodec codec = codes_only ? self->pending_codes_codec : self->pending_codec;
  gint64 time_us = codes_only ? self->pending_codes_time : self->pending_time;
  gint64 arrival_us = self->pending_arrival_us;
  VigilStreamChoice stream = self->pending_stream;
  gboolean work = buffer && !self->closed;
  if (!work)
    self->busy = FALSE;
  g_mutex_unlock(&self->lock);
  if (work) {
    if (codes_only)
      read_codes(self, buffer, codec, time_us);
    else
      analyse(self, buffer, codec, time_us, stream, arrival_us);
    /* One keyframe per job: a camera with another one waiting queues
     * again, behind the cameras with motion, rather than keep the thread. */
    g_mutex_lock(&self->lock);
    gboolean again = (self->pending || self->pending_codes) && !self->closed;
    gboolean urgent = urgent_locked(self);
    if (!again)
      self->busy = FALSE;
    g_mutex_unlock(&self->lock);
    if (again)
      push_job(self, urgent);
  }
  gst_clear_buffer(&buffer);
  vigil_analyzer_unref(self);
}

static GThreadPool *get_pool(void)
{
  static GThreadPool *pool;
  if (g_once_init_enter(&pool)) {
    /* As many workers as cores: each camera has at most one job in flight,
     * so cameras share the cores and none waits behind another for long. */
    GThreadPool *p = g_thread_pool_new(worker, NULL, (gint)g_get_num_processors(), FALSE, NULL);
    g_thread_pool_set_sort_function(p, job_order, NULL);
    g_once_init_leave(&pool, p);
  }
  return pool;
}

/* Under the lock: starts the worker job unless one runs; TRUE when the
 * caller must push it to the pool. */
static gboolean start_job_locked(VigilAnalyzer *self)
{
  gboolean start = !self->busy;
  self->busy = TRUE;
  return start;
}

void vigil_analyzer_push_keyframe(VigilAnalyzer *self, GstBuffer *buffer, VigilCodec codec,
                                  gint64 wallclock_us, VigilStreamChoice stream)
{
  g_mutex_lock(&self->lock);
  if (self->closed) {
    g_mutex_unlock(&self->lock);
    return;
  }
  vigil_snapshots_set_keyframe(self->snapshots, buffer, codec, stream);

  gboolean start = FALSE, urgent = urgent_locked(self);
  VigilStreamChoice analysis = analysis_stream_locked(self);
  if (stream == analysis) {
    /* When only the dark and frozen alarms look, a picture every few
     * seconds tells them as much as every keyframe, at a fraction of the
     * decoding (passthrough should cost what copying costs). */
    gboolean every =
        self->motion_enabled || self->detect_enabled || codes_on_analysis_stream_locked(self);
    /* A camera whose motion is its own (ONVIF events) and that nothing else
     * looks at decodes nothing: no dark and frozen alarms for it. */
    gboolean sample =
        !self->external_motion && (wallclock_us - self->last_sample_us >= ALARM_SAMPLE_US ||
                                   wallclock_us < self->last_sample_us);
    if (every || sample) {
      self->last_sample_us = wallclock_us;
      if (self->pending) {
        self->stats.dropped++;
        /* A detection the camera will not get (the next one may be due
         * later, or not at all while idle). */
        if (detect_due_locked(self, self->pending_time, self->moving) &&
            vigil_detect_service_available(NULL))
          self->stats.detect_dropped++;
      }
      gst_buffer_replace(&self->pending, buffer);
      self->pending_codec = codec;
      self->pending_time = wallclock_us;
      self->pending_arrival_us = g_get_monotonic_time();
      self->pending_stream = stream;
      start = start_job_locked(self);
    }
  } else if (stream == VIGIL_STREAM_MAIN && self->barcodes &&
             !codes_on_analysis_stream_locked(self) &&
             (wallclock_us - self->last_codes_us >= self->barcode_interval_us ||
              wallclock_us < self->last_codes_us)) {
    self->last_codes_us = wallclock_us;
    gst_buffer_replace(&self->pending_codes, buffer);
    self->pending_codes_codec = codec;
    self->pending_codes_time = wallclock_us;
    start = start_job_locked(self);
  }
  g_mutex_unlock(&self->lock);
  if (start)
    push_job(self, urgent);
}

void vigil_analyzer_set_sub_streaming(VigilAnalyzer *self, gboolean streaming)
{
  g_mutex_lock(&self->lock);
  VigilStreamChoice before = analysis_stream_locked(self);
  self->sub_streaming = streaming;
  gboolean moved = analysis_stream_locked(self) != before;
  g_mutex_unlock(&self->lock);
  if (moved) {
    /* Levels of the other stream are not comparable: wait for a fresh one. */
    self->has_level = FALSE;
    g_info("camera %s: analysis now on the %s stream", self->camera_id,
           vigil_stream_choice_to_string(before == VIGIL_STREAM_MAIN ? VIGIL_STREAM_SUB
                                                                     : VIGIL_STREAM_MAIN));
  }
}

VigilStreamChoice vigil_analyzer_get_analysis_stream(VigilAnalyzer *self)
{
  g_mutex_lock(&self->lock);
  VigilStreamChoice stream = analysis_stream_locked(self);
  g_mutex_unlock(&self->lock);
  return stream;
}
