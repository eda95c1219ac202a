/* One camera's keyframe analysis: worker side (decode, motion, zbar) and main
 * side (state machine, events, triggers, snapshots). See analyzer.h. */
#define G_LOG_DOMAIN "vigil-analysis"

#include "analysis/analyzer.h"

#include <math.h>
#include <time.h>
#include <zbar.h>

#include "analysis/decoder.h"
#include "analysis/motion.h"
#include "analysis/state.h"
#include "analysis/tracker.h"
#include "core/error.h"
#include "detect/detect.h"
#include "detect/service.h"

/* Zones beyond this are ignored (the config validates far fewer in practice). */
#define MAX_ZONES (VIGIL_STATE_MAX_REGIONS - 1)

/* Detection while motion lasts: about once a second (keyframes arrive about
 * that often; the slack keeps a 1 s GOP from skipping every other one). */
#define DETECT_MOTION_US (G_USEC_PER_SEC * 8 / 10)
/* When nothing but the dark and frozen alarms looks at the analysis stream,
 * one keyframe this often feeds them. */
#define ALARM_SAMPLE_US (10 * G_USEC_PER_SEC)
/* Main keyframes read for barcodes (the sub stream analysed): scaled to at
 * most this width; small codes need the resolution. */
#define BARCODE_WIDTH 1920

/* Event thumbnails of motion and barcodes: this wide (aspect kept). */
#define EVENT_THUMBNAIL_WIDTH 320
/* Object thumbnails, with the boxes drawn: this wide. */
#define OBJECT_THUMBNAIL_WIDTH 640

/* Where every analyzer reports (main thread): vigil_analyzer_set_report_funcs. */
static VigilAnalyzerReportFuncs reports;
static gpointer reports_data;

void vigil_analyzer_set_report_funcs(const VigilAnalyzerReportFuncs *funcs, gpointer data)
{
  reports = funcs ? *funcs : (VigilAnalyzerReportFuncs){0};
  reports_data = data;
}

static gint64 event_begin(const char *camera, const char *type, gint64 start_us, double score,
                          const char *label, const VigilDetection *box)
{
  return reports.event_begin
             ? reports.event_begin(camera, type, start_us, score, label, box, reports_data)
             : 0;
}

static void event_score(gint64 id, double score)
{
  if (reports.event_score)
    reports.event_score(id, score, reports_data);
}

static void event_end(gint64 id, gint64 end_us)
{
  if (reports.event_end)
    reports.event_end(id, end_us, reports_data);
}

struct _VigilAnalyzer {
  gint refs;
  gchar *camera_id;

  /* Guards everything up to the worker part. */
  GMutex lock;
  gboolean closed;
  gboolean busy;       /* a pool job owns the worker part */
  gboolean reset;      /* forget the previous frame (reconnect) */
  GstBuffer *pending;  /* next keyframe to analyse */
  VigilCodec pending_codec;
  gint64 pending_time;
  VigilStreamChoice pending_stream;
  GstBuffer *pending_codes; /* next main keyframe to read barcodes from */
  VigilCodec pending_codes_codec;
  gint64 pending_codes_time;
  gint64 last_codes_us;     /* wallclock of the last one queued */
  gboolean has_sub;         /* the camera has a sub stream configured */
  gboolean sub_streaming;   /* ... and it streams now */
  VigilStreamChoice barcode_stream;
  gint64 barcode_interval_us;
  int n_zones;
  VigilMotionRect zones[MAX_ZONES];
  double thresholds[1 + MAX_ZONES];
  gchar *zone_names[MAX_ZONES];
  gboolean motion_enabled;
  gboolean barcodes;
  gboolean detect_enabled;
  gint64 last_sample_us; /* wallclock of the last keyframe queued */
  gchar **detect_classes; /* classes ∪ record_on: what the detector reports */
  double min_score;
  int interval_s;
  gboolean motion_active; /* main thread's view: a motion event is open */
  GArray *boxes;          /* latest detections (VigilDetection), for snapshots */
  GstBuffer *latest; /* the main stream's, for snapshots */
  VigilCodec latest_codec;
  GstBuffer *latest_sub; /* the sub stream's, until the main one has one */
  VigilCodec latest_sub_codec;
  guint64 latest_seq;
  GBytes *jpeg;
  guint64 jpeg_seq;
  VigilAnalyzerStats stats;

  /* Worker part: used by one pool job at a time. */
  VigilDecoder *decoder;
  VigilDecoder *codes_decoder; /* main keyframes for barcodes only */
  VigilStreamChoice analysed_stream; /* of the last frame motion saw */
  VigilMotion *motion;
  zbar_image_scanner_t *scanner;
  gint64 last_detect_us;

  /* Main thread part. */
  VigilTracker *tracker; /* objects in view, each an open event */
  GHashTable *track_events; /* tracker id (guint64*) -> event id (gint64*) */
  gchar **record_on;   /* record only when one of these is seen during motion */
  gchar *record_on_hit; /* "object:LABEL" once seen during the current motion */
  VigilAnalysisState *state;
  gint64 motion_ids[VIGIL_STATE_MAX_REGIONS];
  gchar *result_zone_names[MAX_ZONES]; /* names of the frame being applied */
  gboolean has_level;
  double level;
  gboolean trigger_on_motion; /* record mode "events" */
  VigilAnalyzerTriggerFunc trigger_func;
  gpointer trigger_data;
  guint tick;
};

static VigilAnalyzer *analyzer_ref(VigilAnalyzer *self)
{
  g_atomic_int_inc(&self->refs);
  return self;
}

static void analyzer_unref(VigilAnalyzer *self)
{
  if (!g_atomic_int_dec_and_test(&self->refs))
    return;
  gst_clear_buffer(&self->pending);
  gst_clear_buffer(&self->pending_codes);
  gst_clear_buffer(&self->latest);
  gst_clear_buffer(&self->latest_sub);
  g_clear_pointer(&self->jpeg, g_bytes_unref);
  g_clear_pointer(&self->boxes, g_array_unref);
  g_strfreev(self->detect_classes);
  g_strfreev(self->record_on);
  g_free(self->record_on_hit);
  g_clear_pointer(&self->tracker, vigil_tracker_free);
  g_clear_pointer(&self->track_events, g_hash_table_unref);
  for (int i = 0; i < MAX_ZONES; i++)
    g_free(self->zone_names[i]);
  g_clear_pointer(&self->decoder, vigil_decoder_free);
  g_clear_pointer(&self->codes_decoder, vigil_decoder_free);
  g_clear_pointer(&self->motion, vigil_motion_free);
  if (self->scanner)
    zbar_image_scanner_destroy(self->scanner);
  g_mutex_clear(&self->lock);
  g_free(self->camera_id);
  g_free(self);
}

/* --- worker --- */

typedef struct {
  VigilAnalyzer *analyzer; /* ref */
  gint64 time_us;
  gboolean has_levels;
  double levels[1 + MAX_ZONES];
  double thresholds[1 + MAX_ZONES];
  gchar *zone_names[MAX_ZONES];
  int n_zones;
  double mean_luma;
  gboolean identical;
  gboolean barcodes;
  gboolean codes_skipped; /* barcodes on, read from the other stream */
  gboolean codes_only;    /* a main keyframe read for barcodes only */
  GPtrArray *formats, *texts; /* gchar* */
} Result;

static void result_free(gpointer data)
{
  Result *r = data;
  analyzer_unref(r->analyzer);
  for (int i = 0; i < r->n_zones; i++)
    g_free(r->zone_names[i]);
  g_ptr_array_unref(r->formats);
  g_ptr_array_unref(r->texts);
  g_free(r);
}

static gboolean apply_result(gpointer data);
static void detect_step(VigilAnalyzer *self, GstBuffer *keyframe, VigilCodec codec,
                        gint64 time_us, gboolean moving);

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
 * packed GRAY8 at most @max_width wide; NULL (logged, as @what) when it
 * cannot. */
static guint8 *decode_gray(VigilAnalyzer *self, VigilDecoder **decoder, GstBuffer *buffer,
                           VigilCodec codec, int max_width, int *w, int *h, const char *what)
{
  if (*decoder && vigil_decoder_get_codec(*decoder) != codec)
    g_clear_pointer(decoder, vigil_decoder_free);
  g_autoptr(GError) error = NULL;
  if (!*decoder)
    *decoder = vigil_decoder_new(codec, &error);
  guint8 *gray = NULL;
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

static Result *result_new(VigilAnalyzer *self, gint64 time_us)
{
  Result *r = g_new0(Result, 1);
  r->analyzer = analyzer_ref(self);
  r->time_us = time_us;
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
  g_autofree guint8 *gray = decode_gray(self, &self->codes_decoder, buffer, codec, BARCODE_WIDTH,
                                        &w, &h, "main keyframe for barcodes");
  if (!gray)
    return;
  gint64 t1 = g_get_monotonic_time();
  Result *r = result_new(self, time_us);
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
          self->camera_id, time_us, w, h, r->texts->len, (t1 - t0) / 1000.0,
          (t2 - t1) / 1000.0, cpu);
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, apply_result, r, result_free);
}

static void analyse(VigilAnalyzer *self, GstBuffer *buffer, VigilCodec codec, gint64 time_us,
                    VigilStreamChoice stream)
{
  double cpu0 = thread_cpu_ms();
  Result *r = result_new(self, time_us);

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
  g_mutex_unlock(&self->lock);

  if (!self->motion)
    self->motion = vigil_motion_new();
  if (reset)
    vigil_motion_reset(self->motion);

  gint64 t0 = g_get_monotonic_time();
  int w = 0, h = 0;
  g_autofree guint8 *gray = decode_gray(self, &self->decoder, buffer, codec,
                                        VIGIL_ANALYSIS_WIDTH, &w, &h, "keyframe");
  if (!gray) {
    result_free(r);
    return;
  }
  gint64 t1 = g_get_monotonic_time();
  bool identical = false;
  r->has_levels = vigil_motion_process(self->motion, gray, w, h, zones, r->n_zones, r->levels,
                                       &identical);
  r->identical = identical;
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
          self->camera_id, vigil_stream_choice_to_string(stream), time_us, w, h, r->has_levels ? r->levels[0] : -1.0, r->mean_luma,
          r->texts->len, (t1 - t0) / 1000.0, (t2 - t1) / 1000.0, (t3 - t2) / 1000.0, cpu);
  gboolean moving = FALSE;
  for (int i = 0; r->has_levels && i <= r->n_zones; i++)
    moving = moving || r->levels[i] > r->thresholds[i];
  /* Motion first, so a slow detector never delays motion events. */
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, apply_result, r, result_free);
  detect_step(self, buffer, codec, time_us, moving);
}

/* --- detection (worker) --- */

typedef struct {
  VigilAnalyzer *analyzer; /* ref */
  gint64 time_us;
  GArray *dets;       /* VigilDetection, filtered */
  GstBuffer *keyframe; /* what they were found in, for event thumbnails */
  VigilCodec codec;
} DetectResult;

static void detect_result_free(gpointer data)
{
  DetectResult *r = data;
  analyzer_unref(r->analyzer);
  g_array_unref(r->dets);
  gst_clear_buffer(&r->keyframe);
  g_free(r);
}

static gboolean apply_detections(gpointer data);

/* Runs the detector on the picture just decoded when one is due: every
 * interval_s while idle, about every second while there is motion (this
 * frame's or an open motion event). */
static void detect_step(VigilAnalyzer *self, GstBuffer *keyframe, VigilCodec codec,
                        gint64 time_us, gboolean moving)
{
  g_mutex_lock(&self->lock);
  gboolean enabled = self->detect_enabled;
  moving = moving || self->motion_active;
  gint64 period = moving ? DETECT_MOTION_US : (gint64)self->interval_s * G_USEC_PER_SEC;
  g_auto(GStrv) classes = g_strdupv(self->detect_classes);
  double min_score = self->min_score;
  g_mutex_unlock(&self->lock);
  if (!enabled || (self->last_detect_us && time_us - self->last_detect_us < period &&
                   time_us >= self->last_detect_us))
    return;
  g_autoptr(VigilDetector) det = vigil_detect_service_get();
  if (!det)
    return;
  self->last_detect_us = time_us;

  double cpu0 = thread_cpu_ms();
  gint64 t0 = g_get_monotonic_time();
  int mw, mh, w, h;
  vigil_detector_input_size(det, &mw, &mh);
  g_autofree guint8 *rgb = vigil_decoder_scale_rgb(self->decoder, mw > 0 ? mw : 640,
                                                   mh > 0 ? mh : 640, &w, &h);
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
  double ms = (g_get_monotonic_time() - t0) / 1000.0;
  double cpu = thread_cpu_ms() - cpu0;
  g_mutex_lock(&self->lock);
  self->stats.detected++;
  self->stats.detect_ms += ms;
  self->stats.cpu_ms += cpu;
  g_mutex_unlock(&self->lock);
  g_debug("camera %s: detection %dx%d: %u objects (%.1f ms, cpu %.1f ms)", self->camera_id, w,
          h, dets->len, ms, cpu);

  DetectResult *r = g_new0(DetectResult, 1);
  r->analyzer = analyzer_ref(self);
  r->time_us = time_us;
  r->dets = dets;
  if (dets->len > 0) {
    r->keyframe = gst_buffer_ref(keyframe);
    r->codec = codec;
  }
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, apply_detections, r,
                             detect_result_free);
}

static void worker(gpointer data, gpointer pool_data)
{
  VigilAnalyzer *self = data;
  for (;;) {
    g_mutex_lock(&self->lock);
    /* Motion first; a main keyframe for barcodes when none waits. */
    gboolean codes_only = self->pending == NULL;
    GstBuffer *buffer = codes_only ? g_steal_pointer(&self->pending_codes)
                                   : g_steal_pointer(&self->pending);
    VigilCodec codec = codes_only ? self->pending_codes_codec : self->pending_codec;
    gint64 time_us = codes_only ? self->pending_codes_time : self->pending_time;
    VigilStreamChoice stream = self->pending_stream;
    if (!buffer || self->closed) {
      gst_clear_buffer(&buffer);
      self->busy = FALSE;
      g_mutex_unlock(&self->lock);
      break;
    }
    g_mutex_unlock(&self->lock);
    if (codes_only)
      read_codes(self, buffer, codec, time_us);
    else
      analyse(self, buffer, codec, time_us, stream);
    gst_buffer_unref(buffer);
  }
  analyzer_unref(self);
}

static GThreadPool *get_pool(void)
{
  static GThreadPool *pool;
  if (g_once_init_enter(&pool)) {
    /* As many workers as cores: each camera has at most one job in flight,
     * so cameras share the cores and none waits behind another for long. */
    GThreadPool *p = g_thread_pool_new(worker, NULL, (gint)g_get_num_processors(), FALSE, NULL);
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
  if (stream == VIGIL_STREAM_MAIN) {
    gst_buffer_replace(&self->latest, buffer);
    self->latest_codec = codec;
  } else {
    gst_buffer_replace(&self->latest_sub, buffer);
    self->latest_sub_codec = codec;
  }
  self->latest_seq++;

  gboolean start = FALSE;
  VigilStreamChoice analysis = analysis_stream_locked(self);
  if (stream == analysis) {
    /* When only the dark and frozen alarms look, a picture every few
     * seconds tells them as much as every keyframe, at a fraction of the
     * decoding (passthrough should cost what copying costs). */
    gboolean every = self->motion_enabled || self->detect_enabled ||
                     codes_on_analysis_stream_locked(self);
    if (every || wallclock_us - self->last_sample_us >= ALARM_SAMPLE_US ||
        wallclock_us < self->last_sample_us) {
      self->last_sample_us = wallclock_us;
      if (self->pending)
        self->stats.dropped++;
      gst_buffer_replace(&self->pending, buffer);
      self->pending_codec = codec;
      self->pending_time = wallclock_us;
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
    g_thread_pool_push(get_pool(), analyzer_ref(self), NULL);
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

/* --- main thread --- */

/* Whether recording on motion waits for a record_on class: only when the
 * camera detects and a detector is loaded (else motion records as before). */
static gboolean gated(VigilAnalyzer *self)
{
  if (!self->record_on || !self->record_on[0])
    return FALSE;
  g_mutex_lock(&self->lock);
  gboolean enabled = self->detect_enabled;
  g_mutex_unlock(&self->lock);
  return enabled && vigil_detect_service_available(NULL);
}

static void motion_trigger(VigilAnalyzer *self)
{
  if (!self->trigger_on_motion || !self->trigger_func)
    return;
  if (!gated(self))
    self->trigger_func("motion", self->trigger_data);
  else if (self->record_on_hit)
    self->trigger_func(self->record_on_hit, self->trigger_data);
}

static void update_motion_active(VigilAnalyzer *self)
{
  gboolean active = FALSE;
  for (int i = 0; i < VIGIL_STATE_MAX_REGIONS; i++)
    active = active || self->motion_ids[i] != 0;
  if (!active)
    g_clear_pointer(&self->record_on_hit, g_free);
  g_mutex_lock(&self->lock);
  self->motion_active = active;
  g_mutex_unlock(&self->lock);
}

/* Under the lock: the keyframe pictures come from (a new ref, NULL if none):
 * the main stream's, the sub stream's while the main one has none. */
static GstBuffer *picture_locked(VigilAnalyzer *self, VigilCodec *codec)
{
  if (self->latest) {
    *codec = self->latest_codec;
    return gst_buffer_ref(self->latest);
  }
  *codec = self->latest_sub_codec;
  return self->latest_sub ? gst_buffer_ref(self->latest_sub) : NULL;
}

static void make_thumbnails(VigilAnalyzer *self, GstBuffer *keyframe, VigilCodec codec,
                            GArray *dets, int max_width, GArray *ids);

/* A new motion or barcode event's thumbnail: the latest keyframe. */
static void capture_thumbnail(VigilAnalyzer *self, gint64 event_id)
{
  VigilCodec codec;
  g_mutex_lock(&self->lock);
  g_autoptr(GstBuffer) keyframe = picture_locked(self, &codec);
  g_mutex_unlock(&self->lock);
  if (!keyframe || event_id <= 0)
    return;
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_array_append_val(ids, event_id);
  make_thumbnails(self, keyframe, codec, NULL, EVENT_THUMBNAIL_WIDTH, ids);
}

static void on_action(const VigilAction *a, void *user_data)
{
  VigilAnalyzer *self = user_data;
  const char *cam = self->camera_id;
  switch (a->kind) {
  case VIGIL_ACTION_MOTION_START: {
    const char *label = a->region > 0 ? self->result_zone_names[a->region - 1] : NULL;
    self->motion_ids[a->region] = event_begin(cam, "motion", a->time_us, a->score, label, NULL);
    update_motion_active(self);
    capture_thumbnail(self, self->motion_ids[a->region]);
    motion_trigger(self);
    break;
  }
  case VIGIL_ACTION_MOTION_ON:
    event_score(self->motion_ids[a->region], a->score);
    motion_trigger(self);
    break;
  case VIGIL_ACTION_MOTION_END:
    event_score(self->motion_ids[a->region], a->score);
    event_end(self->motion_ids[a->region], a->time_us);
    self->motion_ids[a->region] = 0;
    update_motion_active(self);
    break;
  case VIGIL_ACTION_BARCODE: {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, a->format);
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, a->text);
    json_builder_end_object(b);
    g_autoptr(JsonNode) node = json_builder_get_root(b);
    g_autofree gchar *data = json_to_string(node, FALSE);
    gint64 id = reports.event_add
                    ? reports.event_add(cam, "barcode", a->time_us, a->format, data, reports_data)
                    : 0;
    capture_thumbnail(self, id);
    if (self->trigger_on_motion && self->trigger_func)
      self->trigger_func("barcode", self->trigger_data);
    break;
  }
  case VIGIL_ACTION_ALARM_RAISE:
  case VIGIL_ACTION_ALARM_CLEAR:
    if (reports.alarm)
      reports.alarm(cam, a->label, a->kind == VIGIL_ACTION_ALARM_RAISE, reports_data);
    break;
  }
}

static gboolean apply_result(gpointer data)
{
  Result *r = data;
  VigilAnalyzer *self = r->analyzer;
  g_mutex_lock(&self->lock);
  gboolean closed = self->closed;
  g_mutex_unlock(&self->lock);
  if (closed || !self->state)
    return G_SOURCE_REMOVE;

  if (r->has_levels && !r->codes_only) {
    self->has_level = TRUE;
    self->level = r->levels[0];
  }
  for (int i = 0; i < MAX_ZONES; i++)
    self->result_zone_names[i] = i < r->n_zones ? r->zone_names[i] : NULL;
  VigilCode codes[64];
  int n_codes = MIN((int)r->texts->len, (int)G_N_ELEMENTS(codes));
  for (int i = 0; i < n_codes; i++)
    codes[i] = (VigilCode){.format = r->formats->pdata[i], .text = r->texts->pdata[i]};
  VigilObservation obs = {
      .time_us = r->time_us,
      .has_levels = r->has_levels,
      .levels = r->levels,
      .n_zones = r->n_zones,
      .thresholds = r->thresholds,
      .mean_luma = r->mean_luma,
      .identical = r->identical,
      .barcodes = r->barcodes,
      .codes = codes,
      .n_codes = n_codes,
      .codes_skipped = r->codes_skipped,
      .codes_only = r->codes_only,
  };
  vigil_analysis_state_keyframe(self->state, &obs);
  memset(self->result_zone_names, 0, sizeof(self->result_zone_names));
  return G_SOURCE_REMOVE;
}

/* --- snapshots and thumbnails (GTask threads) --- */

typedef struct {
  VigilAnalyzer *analyzer; /* ref */
  GstBuffer *buffer;
  VigilCodec codec;
  guint64 seq;
  float *boxes; /* x, y, w, h each; NULL for the plain (cached) snapshot */
  int n_boxes;
  int max_width;      /* 0 = full size */
  GArray *event_ids;  /* gint64: events that get this picture as thumbnail */
} SnapshotJob;

static void snapshot_job_free(gpointer data)
{
  SnapshotJob *job = data;
  analyzer_unref(job->analyzer);
  gst_buffer_unref(job->buffer);
  g_free(job->boxes);
  if (job->event_ids)
    g_array_unref(job->event_ids);
  g_free(job);
}

static float *boxes_of(GArray *dets, int *n)
{
  *n = dets ? (int)dets->len : 0;
  float *boxes = g_new0(float, (gsize)*n * 4 + 1);
  for (int i = 0; i < *n; i++) {
    const VigilDetection *d = &g_array_index(dets, VigilDetection, i);
    boxes[i * 4] = d->x;
    boxes[i * 4 + 1] = d->y;
    boxes[i * 4 + 2] = d->w;
    boxes[i * 4 + 3] = d->h;
  }
  return boxes;
}

static void snapshot_boxes_thread(GTask *task, gpointer source, gpointer data,
                                  GCancellable *cancel)
{
  SnapshotJob *job = data;
  GError *error = NULL;
  GstMapInfo map;
  if (!gst_buffer_map(job->buffer, &map, GST_MAP_READ)) {
    g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_FAILED, "unreadable keyframe");
    return;
  }
  GBytes *jpeg = vigil_decode_jpeg_boxes(job->codec, map.data, map.size, job->boxes,
                                         job->n_boxes, job->max_width, &error);
  gst_buffer_unmap(job->buffer, &map);
  if (!jpeg)
    g_task_return_error(task, error);
  else
    g_task_return_pointer(task, jpeg, (GDestroyNotify)g_bytes_unref);
}

/* The event of the tracker's object @id (0 when it has none), forgotten
 * with @forget. */
static gint64 track_event(VigilAnalyzer *self, guint64 id, gboolean forget)
{
  gint64 *event_id = g_hash_table_lookup(self->track_events, &id);
  gint64 event = event_id ? *event_id : 0;
  if (forget)
    g_hash_table_remove(self->track_events, &id);
  return event;
}

static void end_tracks(VigilAnalyzer *self, gint64 now_us)
{
  g_autoptr(GArray) lost = vigil_tracker_clear(self->tracker);
  for (guint i = 0; i < lost->len; i++) {
    const VigilTrackEvent *e = &g_array_index(lost, VigilTrackEvent, i);
    event_end(track_event(self, e->id, TRUE), MAX(e->last_seen_us, now_us));
  }
  g_mutex_lock(&self->lock);
  g_clear_pointer(&self->boxes, g_array_unref);
  g_mutex_unlock(&self->lock);
}

static void on_thumbnail(GObject *source, GAsyncResult *result, gpointer user_data)
{
  SnapshotJob *job = g_task_get_task_data(G_TASK(result));
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) jpeg = g_task_propagate_pointer(G_TASK(result), &error);
  if (!jpeg) {
    g_warning("camera %s: event thumbnail: %s", job->analyzer->camera_id, error->message);
    return;
  }
  for (guint i = 0; reports.event_thumbnail && i < job->event_ids->len; i++)
    reports.event_thumbnail(g_array_index(job->event_ids, gint64, i), jpeg, reports_data);
}

/* Events @ids get @keyframe, with the boxes of @dets drawn (NULL: none), at
 * most @max_width wide, as thumbnail (made on a GTask thread). */
static void make_thumbnails(VigilAnalyzer *self, GstBuffer *keyframe, VigilCodec codec,
                            GArray *dets, int max_width, GArray *ids)
{
  g_autoptr(GTask) task = g_task_new(NULL, NULL, on_thumbnail, NULL);
  SnapshotJob *job = g_new0(SnapshotJob, 1);
  job->analyzer = analyzer_ref(self);
  job->buffer = gst_buffer_ref(keyframe);
  job->codec = codec;
  if (dets)
    job->boxes = boxes_of(dets, &job->n_boxes);
  job->max_width = max_width;
  job->event_ids = g_array_ref(ids);
  g_task_set_task_data(task, job, snapshot_job_free);
  g_task_run_in_thread(task, snapshot_boxes_thread);
}

static gboolean apply_detections(gpointer data)
{
  DetectResult *r = data;
  VigilAnalyzer *self = r->analyzer;
  g_mutex_lock(&self->lock);
  gboolean closed = self->closed;
  if (!closed) {
    g_clear_pointer(&self->boxes, g_array_unref);
    self->boxes = g_array_ref(r->dets);
  }
  g_mutex_unlock(&self->lock);
  if (closed || !self->state)
    return G_SOURCE_REMOVE;

  /* Each detection continues an object in view (its event goes on) or is a
   * new object (a new event); objects out of view end theirs below. */
  g_autoptr(GArray) changes = vigil_tracker_update(self->tracker, (VigilDetection *)r->dets->data,
                                                   r->dets->len, r->time_us);
  g_autoptr(GArray) new_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  for (guint i = 0; i < changes->len; i++) {
    const VigilTrackEvent *e = &g_array_index(changes, VigilTrackEvent, i);
    const VigilDetection *d = &e->det;
    if (e->change == VIGIL_TRACK_SEEN) {
      event_score(track_event(self, e->id, FALSE), d->score);
    } else if (e->change == VIGIL_TRACK_NEW) {
      gint64 event_id = event_begin(self->camera_id, "object", r->time_us, d->score, d->label, d);
      g_hash_table_insert(self->track_events, g_memdup2(&e->id, sizeof(e->id)),
                          g_memdup2(&event_id, sizeof(event_id)));
      if (event_id)
        g_array_append_val(new_ids, event_id);
    }
  }
  /* Recording (mode events): objects start and extend it, "object:LABEL" for
   * the best one. With record_on, only those classes do, and the motion
   * during which one was seen goes on extending it under that reason. */
  const char *const *want = self->record_on && self->record_on[0]
                                ? (const char *const *)self->record_on
                                : NULL;
  for (guint i = 0; self->trigger_on_motion && self->trigger_func && i < r->dets->len; i++) {
    const VigilDetection *d = &g_array_index(r->dets, VigilDetection, i);
    if (want && !g_strv_contains(want, d->label))
      continue;
    g_autofree gchar *reason = g_strconcat("object:", d->label, NULL);
    if (want && self->motion_active && !self->record_on_hit)
      self->record_on_hit = g_strdup(reason);
    self->trigger_func(reason, self->trigger_data);
    break;
  }
  if (new_ids->len > 0 && r->keyframe)
    make_thumbnails(self, r->keyframe, r->codec, r->dets, OBJECT_THUMBNAIL_WIDTH, new_ids);
  for (guint i = 0; i < changes->len; i++) {
    const VigilTrackEvent *e = &g_array_index(changes, VigilTrackEvent, i);
    if (e->change == VIGIL_TRACK_LOST)
      event_end(track_event(self, e->id, TRUE), e->last_seen_us);
  }
  return G_SOURCE_REMOVE;
}

static gboolean on_tick(gpointer user_data)
{
  VigilAnalyzer *self = user_data;
  vigil_analysis_state_tick(self->state, g_get_real_time());
  return G_SOURCE_CONTINUE;
}

VigilAnalyzer *vigil_analyzer_new(const VigilCameraConfig *cfg)
{
  VigilAnalyzer *self = g_new0(VigilAnalyzer, 1);
  self->refs = 1;
  self->camera_id = g_strdup(cfg->id);
  g_mutex_init(&self->lock);
  self->state = vigil_analysis_state_new(on_action, self);
  self->tracker = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  self->track_events = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  self->tick = g_timeout_add_seconds(1, on_tick, self);
  vigil_analyzer_set_config(self, cfg);
  return self;
}

void vigil_analyzer_free(VigilAnalyzer *self)
{
  if (!self)
    return;
  g_mutex_lock(&self->lock);
  VigilAnalyzerStats *st = &self->stats;
  if (st->analysed)
    g_info("camera %s: %" G_GUINT64_FORMAT " keyframes analysed, %" G_GUINT64_FORMAT
           " dropped; per keyframe: decode %.2f ms, motion %.2f ms, zbar %.2f ms",
           self->camera_id, st->analysed, st->dropped, st->decode_ms / st->analysed,
           st->motion_ms / st->analysed, st->zbar_ms / st->analysed);
  self->closed = TRUE;
  gst_clear_buffer(&self->pending);
  gst_clear_buffer(&self->pending_codes);
  g_mutex_unlock(&self->lock);
  vigil_analysis_state_finish(self->state, g_get_real_time());
  end_tracks(self, g_get_real_time());
  g_clear_pointer(&self->state, vigil_analysis_state_free);
  g_clear_handle_id(&self->tick, g_source_remove);
  analyzer_unref(self);
}

void vigil_analyzer_set_config(VigilAnalyzer *self, const VigilCameraConfig *cfg)
{
  g_mutex_lock(&self->lock);
  guint n = cfg->motion.zones ? MIN(cfg->motion.zones->len, (guint)MAX_ZONES) : 0;
  self->n_zones = (int)n;
  self->thresholds[0] = cfg->motion.threshold;
  for (guint i = 0; i < MAX_ZONES; i++)
    g_clear_pointer(&self->zone_names[i], g_free);
  for (guint i = 0; i < n; i++) {
    const VigilZone *z = g_ptr_array_index(cfg->motion.zones, i);
    self->zones[i] = (VigilMotionRect){z->x, z->y, z->w, z->h};
    self->thresholds[1 + i] = z->threshold;
    self->zone_names[i] = g_strdup(z->name);
  }
  self->motion_enabled = cfg->motion.enabled;
  self->barcodes = cfg->barcodes;
  self->has_sub = cfg->sub_source != NULL;
  self->barcode_stream = cfg->barcode_stream;
  self->barcode_interval_us = (gint64)(cfg->barcode_interval_s * G_USEC_PER_SEC);
  self->detect_enabled = cfg->detect.enabled;
  g_strfreev(self->detect_classes);
  GStrvBuilder *classes = g_strv_builder_new();
  if (cfg->detect.classes)
    g_strv_builder_addv(classes, (const char **)cfg->detect.classes);
  if (cfg->detect.record_on)
    g_strv_builder_addv(classes, (const char **)cfg->detect.record_on);
  self->detect_classes = g_strv_builder_end(classes);
  g_strv_builder_unref(classes);
  self->min_score = cfg->detect.min_score;
  self->interval_s = MAX(cfg->detect.interval_s, 1);
  gboolean detect_off = !self->detect_enabled;
  g_mutex_unlock(&self->lock);
  g_strfreev(self->record_on);
  self->record_on = g_strdupv(cfg->detect.record_on);
  if (detect_off && self->state)
    end_tracks(self, g_get_real_time());
  self->trigger_on_motion = cfg->record == VIGIL_RECORD_EVENTS;
}

void vigil_analyzer_set_trigger_func(VigilAnalyzer *self, VigilAnalyzerTriggerFunc func,
                                     gpointer user_data)
{
  self->trigger_func = func;
  self->trigger_data = user_data;
}

void vigil_analyzer_camera_state(VigilAnalyzer *self, const char *state, const char *error)
{
  gint64 now = g_get_real_time();
  if (g_str_equal(state, "streaming")) {
    vigil_analysis_state_online(self->state, TRUE, now);
  } else if (g_str_equal(state, "offline") || g_str_equal(state, "error")) {
    vigil_analysis_state_online(self->state, FALSE, now);
  } else if (g_str_equal(state, "disabled")) {
    vigil_analysis_state_finish(self->state, now);
    end_tracks(self, now);
  } else {
    return; /* connecting: the offline clock keeps running */
  }
  if (!g_str_equal(state, "streaming")) {
    /* A reconnect starts over: its first frame has nothing to compare with. */
    self->has_level = FALSE;
    end_tracks(self, now);
    g_mutex_lock(&self->lock);
    self->reset = TRUE;
    g_mutex_unlock(&self->lock);
  }
}

gboolean vigil_analyzer_get_motion_level(VigilAnalyzer *self, double *level)
{
  *level = self->level;
  return self->has_level;
}

gboolean vigil_analyzer_has_keyframe(VigilAnalyzer *self)
{
  g_mutex_lock(&self->lock);
  gboolean has = self->latest != NULL || self->latest_sub != NULL;
  g_mutex_unlock(&self->lock);
  return has;
}

/* Runs @thread on a job for the latest keyframe; with @boxes, the latest
 * detection's boxes go with it, else a JPEG of the same keyframe made before
 * answers at once. */
static void snapshot_start(VigilAnalyzer *self, gboolean boxes, GTaskThreadFunc thread,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
  g_mutex_lock(&self->lock);
  VigilCodec codec;
  GstBuffer *picture = picture_locked(self, &codec);
  if (!picture) {
    g_mutex_unlock(&self->lock);
    g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no keyframe yet");
    return;
  }
  if (!boxes && self->jpeg && self->jpeg_seq == self->latest_seq) {
    GBytes *cached = g_bytes_ref(self->jpeg);
    g_mutex_unlock(&self->lock);
    gst_buffer_unref(picture);
    g_task_return_pointer(task, cached, (GDestroyNotify)g_bytes_unref);
    return;
  }
  SnapshotJob *job = g_new0(SnapshotJob, 1);
  job->analyzer = analyzer_ref(self);
  job->buffer = picture;
  job->codec = codec;
  job->seq = self->latest_seq;
  if (boxes)
    job->boxes = boxes_of(self->boxes, &job->n_boxes);
  g_mutex_unlock(&self->lock);
  g_task_set_task_data(task, job, snapshot_job_free);
  g_task_run_in_thread(task, thread);
}

void vigil_analyzer_snapshot_boxes_async(VigilAnalyzer *self, GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  snapshot_start(self, TRUE, snapshot_boxes_thread, callback, user_data);
}

static void snapshot_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  SnapshotJob *job = data;
  GError *error = NULL;
  GstMapInfo map;
  if (!gst_buffer_map(job->buffer, &map, GST_MAP_READ)) {
    g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_FAILED, "unreadable keyframe");
    return;
  }
  GBytes *jpeg = vigil_decode_jpeg(job->codec, map.data, map.size, &error);
  gst_buffer_unmap(job->buffer, &map);
  if (!jpeg) {
    g_task_return_error(task, error);
    return;
  }
  VigilAnalyzer *self = job->analyzer;
  g_mutex_lock(&self->lock);
  if (job->seq >= self->jpeg_seq) {
    g_clear_pointer(&self->jpeg, g_bytes_unref);
    self->jpeg = g_bytes_ref(jpeg);
    self->jpeg_seq = job->seq;
  }
  g_mutex_unlock(&self->lock);
  g_task_return_pointer(task, jpeg, (GDestroyNotify)g_bytes_unref);
}

void vigil_analyzer_snapshot_async(VigilAnalyzer *self, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  snapshot_start(self, FALSE, snapshot_thread, callback, user_data);
}

GBytes *vigil_analyzer_snapshot_finish(GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer(G_TASK(result), error);
}

void vigil_analyzer_get_stats(VigilAnalyzer *self, VigilAnalyzerStats *stats)
{
  g_mutex_lock(&self->lock);
  *stats = self->stats;
  g_mutex_unlock(&self->lock);
}
