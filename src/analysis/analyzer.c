/* One camera's keyframe analysis, main thread side (see analyzer.h): the
 * worker's numbers through state.c into events, alarms and recording
 * triggers; detections through the tracker into object events; event
 * thumbnails; configuration and the object's life. The worker side is
 * worker.c, the snapshots snapshot.c. */
#define G_LOG_DOMAIN "vigil-analysis"

#include "analysis/analyzer-private.h"

#include <math.h>

#include "core/json.h"
#include "detect/detect.h"
#include "detect/service.h"

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

VigilAnalyzer *vigil_analyzer_ref(VigilAnalyzer *self)
{
  g_atomic_int_inc(&self->refs);
  return self;
}

void vigil_analyzer_unref(VigilAnalyzer *self)
{
  if (!g_atomic_int_dec_and_test(&self->refs))
    return;
  gst_clear_buffer(&self->pending);
  gst_clear_buffer(&self->pending_codes);
  g_clear_pointer(&self->snapshots, vigil_snapshots_unref);
  g_strfreev(self->detect_classes);
  g_strfreev(self->record_on);
  g_free(self->record_on_hit);
  g_clear_pointer(&self->tracker, vigil_tracker_free);
  g_clear_pointer(&self->track_events, g_hash_table_unref);
  g_clear_pointer(&self->external_events, g_hash_table_unref);
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

/* --- results from the worker --- */

void vigil_analyzer_result_free(gpointer data)
{
  Result *r = data;
  vigil_analyzer_unref(r->analyzer);
  for (int i = 0; i < r->n_zones; i++)
    g_free(r->zone_names[i]);
  g_ptr_array_unref(r->formats);
  g_ptr_array_unref(r->texts);
  g_free(r);
}

void vigil_analyzer_detect_result_free(gpointer data)
{
  DetectResult *r = data;
  vigil_analyzer_unref(r->analyzer);
  g_array_unref(r->dets);
  gst_clear_buffer(&r->keyframe);
  g_free(r);
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
  gboolean active = self->external_motion_id != 0;
  for (int i = 0; i < VIGIL_STATE_MAX_REGIONS; i++)
    active = active || self->motion_ids[i] != 0;
  if (!active)
    g_clear_pointer(&self->record_on_hit, g_free);
  g_mutex_lock(&self->lock);
  self->motion_active = active;
  g_mutex_unlock(&self->lock);
}

/* --- event thumbnails --- */

typedef struct {
  gchar *camera;
  GArray *event_ids; /* gint64 */
} Thumbnail;

static void thumbnail_free(Thumbnail *t)
{
  g_free(t->camera);
  g_array_unref(t->event_ids);
  g_free(t);
}

static void on_thumbnail(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Thumbnail *t = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) jpeg = vigil_snapshots_take_finish(result, &error);
  if (!jpeg)
    g_warning("camera %s: event thumbnail: %s", t->camera, error->message);
  for (guint i = 0; jpeg && reports.event_thumbnail && i < t->event_ids->len; i++)
    reports.event_thumbnail(g_array_index(t->event_ids, gint64, i), jpeg, reports_data);
  thumbnail_free(t);
}

/* Events @ids get @keyframe, with the boxes of @dets drawn (NULL: none), at
 * most @max_width wide, as thumbnail (made on a GTask thread). */
static void make_thumbnails(VigilAnalyzer *self, GstBuffer *keyframe, VigilCodec codec,
                            GArray *dets, int max_width, GArray *ids)
{
  Thumbnail *t = g_new0(Thumbnail, 1);
  t->camera = g_strdup(self->camera_id);
  t->event_ids = g_array_ref(ids);
  vigil_snapshot_jpeg_async(keyframe, codec, dets, max_width, on_thumbnail, t);
}

/* A new motion or barcode event's thumbnail: the latest keyframe. */
static void capture_thumbnail(VigilAnalyzer *self, gint64 event_id)
{
  VigilCodec codec;
  g_autoptr(GstBuffer) keyframe = vigil_snapshots_get_keyframe(self->snapshots, &codec);
  if (!keyframe || event_id <= 0)
    return;
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_array_append_val(ids, event_id);
  make_thumbnails(self, keyframe, codec, NULL, EVENT_THUMBNAIL_WIDTH, ids);
}

/* --- state actions --- */

static void on_action(const VigilAction *a, void *user_data)
{
  VigilAnalyzer *self = user_data;
  const char *cam = self->camera_id;
  switch (a->kind) {
  case VIGIL_ACTION_MOTION_START: {
    const char *label = a->region > 0 ? self->result_zone_names[a->region - 1] : NULL;
    self->motion_ids[a->region] = event_begin(cam, "motion", a->time_us, a->score, label, NULL);
    update_motion_active(self);
    if (self->event_func)
      self->event_func("motion", label, self->event_data);
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
    vigil_json_add_string(b, "format", a->format);
    vigil_json_add_string(b, "text", a->text);
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

gboolean vigil_analyzer_apply_result(gpointer data)
{
  Result *r = data;
  VigilAnalyzer *self = r->analyzer;
  g_mutex_lock(&self->lock);
  gboolean closed = self->closed;
  gboolean motion_on = self->motion_enabled;
  g_mutex_unlock(&self->lock);
  if (closed || !self->state)
    return G_SOURCE_REMOVE;
  /* A keyframe seen while the camera was steered (or settling) is quiet:
   * a moving picture is no motion in the scene. */
  if (self->ptz_moving || r->time_us < self->ptz_paused_until)
    motion_on = FALSE;
  /* A result computed before motion was switched off starts no motion. */
  for (int i = 0; !motion_on && r->has_levels && i <= r->n_zones; i++)
    r->thresholds[i] = INFINITY;

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
      .mono_us = r->mono_us,
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

/* --- objects --- */

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
  vigil_snapshots_set_boxes(self->snapshots, NULL);
}

gboolean vigil_analyzer_apply_detections(gpointer data)
{
  DetectResult *r = data;
  VigilAnalyzer *self = r->analyzer;
  g_mutex_lock(&self->lock);
  gboolean closed = self->closed;
  g_mutex_unlock(&self->lock);
  if (!closed)
    vigil_snapshots_set_boxes(self->snapshots, r->dets);
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
      if (self->event_func)
        self->event_func("object", d->label, self->event_data);
      g_hash_table_insert(self->track_events, g_memdup2(&e->id, sizeof(e->id)),
                          g_memdup2(&event_id, sizeof(event_id)));
      if (event_id)
        g_array_append_val(new_ids, event_id);
    }
  }
  /* Recording (mode events): objects start and extend it, "object:LABEL" for
   * the best one. With record_on, only those classes do, and the motion
   * during which one was seen goes on extending it under that reason. */
  const char *const *want =
      self->record_on && self->record_on[0] ? (const char *const *)self->record_on : NULL;
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
  vigil_analysis_state_tick(self->state, g_get_real_time(), g_get_monotonic_time());
  /* The camera's own motion has no keyframes to renew the trigger with. */
  if (self->external_motion_id)
    motion_trigger(self);
  if (self->trigger_on_motion && self->trigger_func && self->external_events) {
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init(&iter, self->external_events);
    if (g_hash_table_iter_next(&iter, &key, NULL)) {
      g_autofree gchar *reason = g_strconcat("object:", (const char *)key, NULL);
      self->trigger_func(reason, self->trigger_data);
    }
  }
  return G_SOURCE_CONTINUE;
}

/* --- motion and objects the camera reports itself --- */

void vigil_analyzer_external_motion(VigilAnalyzer *self, gboolean on, gint64 time_us)
{
  if (!self->state)
    return;
  if (on && !self->external_motion_id) {
    self->external_motion_id = event_begin(self->camera_id, "motion", time_us, 1.0, NULL, NULL);
    /* Stored or not (tests without a bus): motion is on. */
    if (!self->external_motion_id)
      self->external_motion_id = -1;
    update_motion_active(self);
    if (self->event_func)
      self->event_func("motion", NULL, self->event_data);
    capture_thumbnail(self, self->external_motion_id);
    motion_trigger(self);
  } else if (!on && self->external_motion_id) {
    if (self->external_motion_id > 0)
      event_end(self->external_motion_id, time_us);
    self->external_motion_id = 0;
    update_motion_active(self);
  }
}

void vigil_analyzer_external_object(VigilAnalyzer *self, const char *label, gboolean on,
                                    gboolean instant, gint64 time_us)
{
  if (!self->state || !label)
    return;
  if (!self->external_events)
    self->external_events = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autofree gchar *reason = g_strconcat("object:", label, NULL);
  gint64 *open = g_hash_table_lookup(self->external_events, label);
  if (on && (instant || !open) && self->event_func)
    self->event_func("object", label, self->event_data);
  if (instant) {
    if (!on)
      return;
    gint64 id = reports.event_add ? reports.event_add(self->camera_id, "object", time_us, label,
                                                      NULL, reports_data)
                                  : 0;
    capture_thumbnail(self, id);
    if (self->trigger_on_motion && self->trigger_func)
      self->trigger_func(reason, self->trigger_data);
    return;
  }
  if (on && !open) {
    gint64 id = event_begin(self->camera_id, "object", time_us, 1.0, label, NULL);
    g_hash_table_insert(self->external_events, g_strdup(label), g_memdup2(&id, sizeof id));
    capture_thumbnail(self, id);
    if (self->trigger_on_motion && self->trigger_func)
      self->trigger_func(reason, self->trigger_data);
  } else if (!on && open) {
    if (*open > 0)
      event_end(*open, time_us);
    g_hash_table_remove(self->external_events, label);
  }
}

void vigil_analyzer_pause_motion(VigilAnalyzer *self, gboolean moving, gint64 settle_us)
{
  self->ptz_moving = moving;
  if (!moving)
    self->ptz_paused_until = MAX(self->ptz_paused_until, g_get_real_time() + settle_us);
}

void vigil_analyzer_set_event_func(VigilAnalyzer *self, VigilAnalyzerEventFunc func,
                                   gpointer user_data)
{
  self->event_func = func;
  self->event_data = user_data;
}

void vigil_analyzer_external_end(VigilAnalyzer *self, gint64 time_us)
{
  vigil_analyzer_external_motion(self, FALSE, time_us);
  if (!self->external_events)
    return;
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init(&iter, self->external_events);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    if (*(gint64 *)value > 0)
      event_end(*(gint64 *)value, time_us);
    g_hash_table_iter_remove(&iter);
  }
}

VigilAnalyzer *vigil_analyzer_new(const VigilCameraConfig *cfg)
{
  VigilAnalyzer *self = g_new0(VigilAnalyzer, 1);
  self->refs = 1;
  self->camera_id = g_strdup(cfg->id);
  self->snapshots = vigil_snapshots_new();
  g_mutex_init(&self->lock);
  self->state = vigil_analysis_state_new(on_action, self);
  self->tracker = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  vigil_tracker_set_max_step(self->tracker, VIGIL_TRACK_STEP);
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
  vigil_analyzer_external_end(self, g_get_real_time());
  vigil_analysis_state_finish(self->state, g_get_real_time());
  end_tracks(self, g_get_real_time());
  g_clear_pointer(&self->state, vigil_analysis_state_free);
  g_clear_handle_id(&self->tick, g_source_remove);
  vigil_analyzer_unref(self);
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
  self->external_motion = cfg->onvif.address != NULL && cfg->onvif.motion_events;
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
  self->main_crop = cfg->detect.main_crop;
  gboolean detect_off = !self->detect_enabled;
  gboolean motion_off = !self->motion_enabled;
  g_mutex_unlock(&self->lock);
  g_strfreev(self->record_on);
  self->record_on = g_strdupv(cfg->detect.record_on);
  if (detect_off && self->state)
    end_tracks(self, g_get_real_time());
  /* Motion switched off: what was running ends now, not when it is back. */
  if (motion_off && self->state)
    vigil_analysis_state_end_motion(self->state, g_get_real_time());
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
  gint64 now = g_get_real_time(), mono = g_get_monotonic_time();
  if (g_str_equal(state, "streaming")) {
    vigil_analysis_state_online(self->state, TRUE, now, mono);
  } else if (g_str_equal(state, "offline") || g_str_equal(state, "error")) {
    vigil_analysis_state_online(self->state, FALSE, now, mono);
  } else if (g_str_equal(state, "disabled")) {
    vigil_analyzer_external_end(self, now);
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
  VigilCodec codec;
  g_autoptr(GstBuffer) keyframe = vigil_snapshots_get_keyframe(self->snapshots, &codec);
  return keyframe != NULL;
}

void vigil_analyzer_snapshot_async(VigilAnalyzer *self, VigilStreamChoice stream, gboolean boxes,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  vigil_snapshots_take_async(self->snapshots, stream, boxes, callback, user_data);
}

GBytes *vigil_analyzer_snapshot_finish(GAsyncResult *result, GError **error)
{
  return vigil_snapshots_take_finish(result, error);
}

void vigil_analyzer_get_stats(VigilAnalyzer *self, VigilAnalyzerStats *stats)
{
  g_mutex_lock(&self->lock);
  *stats = self->stats;
  g_mutex_unlock(&self->lock);
}
