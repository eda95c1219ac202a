/* Camera supervisor: keeps one ingest running per enabled camera, watches it,
 * and rebuilds it with capped exponential backoff. The state machine:
 *
 *   disabled            (enabled = false)
 *   connecting ──data──► streaming ──error / EOS / 10 s silence──► offline|error
 *        ▲                                                          │
 *        └──────────────────── backoff 1, 2, 4 … 30 s ◄─────────────┘
 *
 * "offline" is a camera that could not be reached or went quiet; "error" is
 * one that answered with a problem (credentials, path, codec). Both retry. */
#define G_LOG_DOMAIN "vigil-camera"

#include "camera/camera.h"

#include <math.h>

#include "analysis/analyzer.h"
#include "camera/ingest.h"
#include "camera/source.h"
#include "core/util.h"
#include "record/recorder.h"

/* A connection that streamed this long resets the backoff. */
#define STABLE_US (10 * G_USEC_PER_SEC)

struct _VigilCamera {
  VigilCameraConfig *cfg;
  gchar *masked_source;
  VigilStream *stream;
  VigilIngest *ingest;

  VigilCameraState state;
  gchar *error;          /* user-facing, no secrets; NULL when fine */
  gint64 since_us;       /* wall clock of the last state change */
  gint64 ingest_started; /* monotonic */
  guint64 chunks_at_start;
  guint attempts;        /* failures since the last stable connection */
  guint reconnects;
  gint64 next_pts;

  guint retry_source;
  guint tick_source;
  VigilCameraStateFunc state_func;
  gpointer state_data;
  VigilRecorder *recorder; /* owned, NULL when nothing records */

  VigilAnalyzer *analyzer;
  VigilTriggerFunc trigger_func;
  gpointer trigger_data;
};

const char *vigil_camera_state_to_string(VigilCameraState state)
{
  switch (state) {
  case VIGIL_CAMERA_DISABLED:
    return "disabled";
  case VIGIL_CAMERA_CONNECTING:
    return "connecting";
  case VIGIL_CAMERA_STREAMING:
    return "streaming";
  case VIGIL_CAMERA_OFFLINE:
    return "offline";
  case VIGIL_CAMERA_ERROR:
    return "error";
  }
  return "error";
}

static void set_state(VigilCamera *self, VigilCameraState state, const char *error)
{
  gboolean changed = state != self->state || g_strcmp0(error, self->error) != 0;
  if (!changed)
    return;
  VigilCameraState old = self->state;
  self->state = state;
  g_free(self->error);
  self->error = g_strdup(error);
  if (old != state)
    self->since_us = g_get_real_time();

  if (error)
    g_warning("camera %s: %s: %s", self->cfg->id, vigil_camera_state_to_string(state), error);
  else
    g_info("camera %s: %s", self->cfg->id, vigil_camera_state_to_string(state));
  if (self->analyzer && old != state)
    vigil_analyzer_camera_state(self->analyzer, vigil_camera_state_to_string(state), error);
  if (self->state_func && old != state)
    self->state_func(self, state, self->state_data);
}

static void start_ingest(VigilCamera *self);

static gboolean on_retry(gpointer user_data)
{
  VigilCamera *self = user_data;
  self->retry_source = 0;
  self->reconnects++;
  start_ingest(self);
  return G_SOURCE_REMOVE;
}

static void stop_ingest(VigilCamera *self)
{
  if (!self->ingest)
    return;
  self->next_pts = vigil_ingest_next_pts(self->ingest);
  g_clear_pointer(&self->ingest, vigil_ingest_stop);
  vigil_stream_reset(self->stream);
}

static guint backoff_ms(guint attempts)
{
  guint ms = VIGIL_CAMERA_BACKOFF_FIRST_MS;
  for (guint i = 1; i < attempts && ms < VIGIL_CAMERA_BACKOFF_MAX_MS; i++)
    ms *= 2;
  return MIN(ms, VIGIL_CAMERA_BACKOFF_MAX_MS);
}

/* The ingest failed (or we declared it dead): tear it down and retry later. */
static void handle_failure(VigilCamera *self, const char *message, gboolean offline)
{
  stop_ingest(self);
  self->attempts++;
  set_state(self, offline ? VIGIL_CAMERA_OFFLINE : VIGIL_CAMERA_ERROR, message);
  guint delay = backoff_ms(self->attempts);
  g_debug("camera %s: retry in %u ms", self->cfg->id, delay);
  g_clear_handle_id(&self->retry_source, g_source_remove);
  self->retry_source = g_timeout_add(delay, on_retry, self);
}

static void on_ingest_failed(VigilIngest *ingest, const char *message, gboolean offline,
                             gpointer user_data)
{
  VigilCamera *self = user_data;
  if (ingest != self->ingest)
    return;
  handle_failure(self, message, offline);
}

/* Streaming thread: hand the keyframe to the analysis, which queues it. */
static void on_keyframe(GstBuffer *buffer, VigilCodec codec, gint64 wallclock_us,
                        gpointer user_data)
{
  vigil_analyzer_push_keyframe(user_data, buffer, codec, wallclock_us);
}

static void on_trigger(const char *reason, gpointer user_data)
{
  VigilCamera *self = user_data;
  /* Motion and barcodes start (or extend) an events-mode recording; the
   * recorder ignores triggers in the other modes. */
  if (self->recorder)
    vigil_recorder_trigger(self->recorder, reason);
  if (self->trigger_func)
    self->trigger_func(self, reason, self->trigger_data);
}

static void start_ingest(VigilCamera *self)
{
  g_autoptr(GError) error = NULL;
  VigilStreamStats stats;
  vigil_stream_get_stats(self->stream, &stats);
  self->chunks_at_start = stats.chunks;
  self->ingest_started = g_get_monotonic_time();
  self->ingest = vigil_ingest_start(self->cfg, self->stream, self->next_pts, on_ingest_failed,
                                    self, &error);
  if (!self->ingest) {
    handle_failure(self, error->message, FALSE);
    return;
  }
  vigil_ingest_set_keyframe_func(self->ingest, on_keyframe, self->analyzer);
  /* Keep the last error visible while reconnecting: it says why. */
  g_autofree gchar *last_error = g_strdup(self->error);
  set_state(self, VIGIL_CAMERA_CONNECTING, last_error);
}

/* Once a second: promote connecting → streaming when data flows, and declare
 * a silent camera dropped. */
static gboolean on_tick(gpointer user_data)
{
  VigilCamera *self = user_data;
  if (!self->ingest)
    return G_SOURCE_CONTINUE;

  VigilStreamStats stats;
  vigil_stream_get_stats(self->stream, &stats);
  gint64 now = g_get_monotonic_time();
  gboolean fresh = stats.chunks > self->chunks_at_start;

  if (self->state == VIGIL_CAMERA_CONNECTING || self->state == VIGIL_CAMERA_OFFLINE ||
      self->state == VIGIL_CAMERA_ERROR) {
    if (fresh) {
      set_state(self, VIGIL_CAMERA_STREAMING, NULL);
    } else if (now - self->ingest_started > VIGIL_CAMERA_SILENCE_US) {
      handle_failure(self, "the camera sent no video for 10 s", TRUE);
    }
  } else if (self->state == VIGIL_CAMERA_STREAMING) {
    if (now - stats.last_chunk_us > VIGIL_CAMERA_SILENCE_US) {
      handle_failure(self, "no data from the camera for 10 s", TRUE);
    } else if (self->attempts && now - self->ingest_started > STABLE_US) {
      self->attempts = 0;
    }
  }
  return G_SOURCE_CONTINUE;
}

static void apply_enabled(VigilCamera *self)
{
  if (self->cfg->enabled) {
    if (!self->ingest && !self->retry_source)
      start_ingest(self);
  } else {
    stop_ingest(self);
    g_clear_handle_id(&self->retry_source, g_source_remove);
    self->attempts = 0;
    set_state(self, VIGIL_CAMERA_DISABLED, NULL);
  }
}

VigilCamera *vigil_camera_new(const VigilCameraConfig *cfg)
{
  VigilCamera *self = g_new0(VigilCamera, 1);
  self->cfg = vigil_camera_config_copy(cfg);
  self->masked_source = vigil_source_mask(cfg->source);
  self->stream = vigil_stream_new(cfg->id);
  self->state = VIGIL_CAMERA_DISABLED;
  self->since_us = g_get_real_time();
  self->next_pts = 90000; /* start the timeline at 1 s, clear of zero */
  self->tick_source = g_timeout_add_seconds(1, on_tick, self);
  self->analyzer = vigil_analyzer_new(cfg);
  vigil_analyzer_set_trigger_func(self->analyzer, on_trigger, self);
  g_info("camera %s: source %s", cfg->id, self->masked_source);
  apply_enabled(self);
  return self;
}

void vigil_camera_free(VigilCamera *self)
{
  if (!self)
    return;
  stop_ingest(self);
  g_clear_pointer(&self->recorder, vigil_recorder_free);
  /* After the ingest: no keyframe can reach the analyzer any more. */
  g_clear_pointer(&self->analyzer, vigil_analyzer_free);
  g_clear_handle_id(&self->retry_source, g_source_remove);
  g_clear_handle_id(&self->tick_source, g_source_remove);
  g_clear_pointer(&self->stream, vigil_stream_unref);
  g_clear_pointer(&self->cfg, vigil_camera_config_free);
  g_free(self->masked_source);
  g_free(self->error);
  g_free(self);
}

void vigil_camera_set_state_func(VigilCamera *self, VigilCameraStateFunc func,
                                 gpointer user_data)
{
  self->state_func = func;
  self->state_data = user_data;
}

void vigil_camera_set_trigger_func(VigilCamera *self, VigilTriggerFunc func, gpointer user_data)
{
  self->trigger_func = func;
  self->trigger_data = user_data;
}

VigilAnalyzer *vigil_camera_get_analyzer(VigilCamera *self)
{
  return self->analyzer;
}

const char *vigil_camera_get_id(VigilCamera *self)
{
  return self->cfg->id;
}

const VigilCameraConfig *vigil_camera_get_config(VigilCamera *self)
{
  return self->cfg;
}

VigilStream *vigil_camera_get_stream(VigilCamera *self)
{
  return self->stream;
}

VigilCameraState vigil_camera_get_state(VigilCamera *self)
{
  return self->state;
}

void vigil_camera_update(VigilCamera *self, const VigilCameraConfig *cfg)
{
  gboolean restart = vigil_camera_config_source_changed(self->cfg, cfg);
  vigil_camera_config_free(self->cfg);
  self->cfg = vigil_camera_config_copy(cfg);
  if (self->recorder)
    vigil_recorder_set_config(self->recorder, self->cfg);
  vigil_analyzer_set_config(self->analyzer, cfg);
  if (!restart)
    return;

  g_free(self->masked_source);
  self->masked_source = vigil_source_mask(cfg->source);
  g_info("camera %s: source settings changed, reconnecting to %s", cfg->id,
         self->masked_source);
  stop_ingest(self);
  g_clear_handle_id(&self->retry_source, g_source_remove);
  self->attempts = 0;
  g_clear_pointer(&self->error, g_free);
  apply_enabled(self);
}

void vigil_camera_set_recorder(VigilCamera *self, VigilRecorder *recorder)
{
  g_clear_pointer(&self->recorder, vigil_recorder_free);
  self->recorder = recorder;
  if (recorder) {
    vigil_recorder_attach(recorder, self->stream);
    vigil_recorder_set_config(recorder, self->cfg);
  }
}

VigilRecorder *vigil_camera_get_recorder(VigilCamera *self)
{
  return self->recorder;
}

JsonNode *vigil_camera_status_to_json(VigilCamera *self)
{
  VigilStreamStats stats;
  vigil_stream_get_stats(self->stream, &stats);
  gboolean live = self->state == VIGIL_CAMERA_STREAMING;
  const char *codec = live ? vigil_codec_to_string(stats.codec) : NULL;

  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, vigil_camera_state_to_string(self->state));
  json_builder_set_member_name(b, "error");
  if (self->error)
    json_builder_add_string_value(b, self->error);
  else
    json_builder_add_null_value(b);

  json_builder_set_member_name(b, "codec");
  if (codec)
    json_builder_add_string_value(b, codec);
  else
    json_builder_add_null_value(b);

#define ADD_MEASURED_INT(name, value)                                                          \
  json_builder_set_member_name(b, name);                                                       \
  if (live && (value) > 0)                                                                     \
    json_builder_add_int_value(b, value);                                                      \
  else                                                                                         \
    json_builder_add_null_value(b);
#define ADD_MEASURED_DOUBLE(name, value, scale)                                                \
  json_builder_set_member_name(b, name);                                                       \
  if (live && (value) > 0)                                                                     \
    json_builder_add_double_value(b, round((value) * (scale)) / (scale));                      \
  else                                                                                         \
    json_builder_add_null_value(b);

  ADD_MEASURED_INT("width", stats.width);
  ADD_MEASURED_INT("height", stats.height);
  ADD_MEASURED_DOUBLE("fps", stats.fps, 10.0);
  ADD_MEASURED_INT("bitrate_kbps", (gint64)round(stats.bitrate_kbps));
  ADD_MEASURED_DOUBLE("keyframe_interval_s", stats.keyframe_interval_s, 100.0);
#undef ADD_MEASURED_INT
#undef ADD_MEASURED_DOUBLE

  json_builder_set_member_name(b, "audio");
  json_builder_add_boolean_value(b, live && stats.has_audio);
  json_builder_set_member_name(b, "recording");
  /* Recording means pictures reaching the disk: not while the camera is
   * away or the disk is full. */
  json_builder_add_boolean_value(b, live && self->recorder &&
                                        vigil_recorder_is_recording(self->recorder));
  json_builder_set_member_name(b, "viewers");
  json_builder_add_int_value(b, stats.viewers);
  json_builder_set_member_name(b, "reconnects");
  json_builder_add_int_value(b, self->reconnects);
  json_builder_set_member_name(b, "since");
  g_autofree gchar *since = vigil_time_format(self->since_us);
  json_builder_add_string_value(b, since);
  /* null until two keyframes of this connection were compared. */
  double level;
  json_builder_set_member_name(b, "motion_level");
  if (live && vigil_analyzer_get_motion_level(self->analyzer, &level))
    json_builder_add_double_value(b, round(level * 1000.0) / 1000.0);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *vigil_camera_to_json(VigilCamera *self)
{
  JsonNode *node = vigil_camera_config_to_json(self->cfg);
  json_object_set_member(json_node_get_object(node), "status",
                         vigil_camera_status_to_json(self));
  return node;
}
