/* Camera supervisor: keeps one ingest running per enabled camera, watches it,
 * and rebuilds it with capped exponential backoff. The state machine:
 *
 *   disabled            (enabled = false)
 *   connecting ──data──► streaming ──error / EOS / 10 s silence──► offline|error
 *        ▲                                                          │
 *        └──────── backoff 1, 2, 4 s (offline), 1, 2, 4 … 30 s (error) ◄──┘
 *
 * "offline" is a camera that could not be reached or went quiet; "error" is
 * one that answered with a problem (credentials, path, codec). Both retry. */
#define G_LOG_DOMAIN "vigil-camera"

#include "camera/camera.h"

#include <math.h>

#include "analysis/analyzer.h"
#include "camera/ingest.h"
#include "config/source.h"
#include "core/error.h"
#include "core/json.h"
#include "core/util.h"
#include "events/events.h"
#include "onvif/onvif.h"
#include "record/recorder.h"

/* A connection that streamed this long resets the backoff. */
#define STABLE_US (10 * G_USEC_PER_SEC)

/* One of the camera's streams (main, sub) and the ingest that feeds it:
 * each has its own connection, state, backoff and error. */
typedef struct {
  VigilCamera *camera;
  VigilStreamChoice which;
  VigilStream *stream;
  VigilIngest *ingest;
  VigilCameraState state;
  gchar *error;          /* user-facing, no secrets; NULL when fine */
  gint64 since_us;       /* wall clock of the last state change */
  gint64 ingest_started; /* monotonic */
  guint64 chunks_at_start;
  guint attempts; /* failures since the last stable connection */
  guint reconnects;
  gint64 next_pts;
  guint retry_source;
} Feed;

struct _VigilCamera {
  VigilCameraConfig *cfg;
  gchar *masked_source;
  Feed main, sub; /* sub.ingest runs only with a sub_source */

  guint tick_source;
  VigilCameraStateFunc state_func;
  gpointer state_data;
  VigilRecorder *recorder; /* owned, NULL when nothing records */
  VigilStream *recorded;   /* the stream the recorder is attached to (borrowed) */

  VigilAnalyzer *analyzer;
  VigilOnvifEvents *onvif_events; /* with onvif.motion_events, while enabled */
  GPtrArray *ptz_calls;           /* PtzCall* in flight (their camera is cleared on free) */
  gboolean at_event_preset;       /* preset_on_event sent it there */
  guint preset_return_source;
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

/* The sub stream runs when the camera is enabled and has a sub_source. */
static gboolean feed_wanted(Feed *feed)
{
  const VigilCameraConfig *cfg = feed->camera->cfg;
  return cfg->enabled && (feed->which == VIGIL_STREAM_MAIN || cfg->sub_source != NULL);
}

static void attach_recorder(VigilCamera *self);

static void set_state(Feed *feed, VigilCameraState state, const char *error)
{
  VigilCamera *self = feed->camera;
  gboolean changed = state != feed->state || g_strcmp0(error, feed->error) != 0;
  if (!changed)
    return;
  VigilCameraState old = feed->state;
  feed->state = state;
  g_free(feed->error);
  feed->error = g_strdup(error);
  if (old != state)
    feed->since_us = g_get_real_time();

  const char *which = feed->which == VIGIL_STREAM_SUB ? " sub stream" : "";
  if (error)
    g_warning("camera %s%s: %s: %s", self->cfg->id, which, vigil_camera_state_to_string(state),
              error);
  else
    g_info("camera %s%s: %s", self->cfg->id, which, vigil_camera_state_to_string(state));
  if (old == state)
    return;
  if (feed->which == VIGIL_STREAM_SUB) {
    /* Analysis and a sub-stream recording follow the sub stream. */
    if (self->analyzer)
      vigil_analyzer_set_sub_streaming(self->analyzer, state == VIGIL_CAMERA_STREAMING);
    attach_recorder(self);
    return;
  }
  if (self->analyzer) {
    vigil_events_publish_camera_state(self->cfg->id, vigil_camera_state_to_string(state), error);
    vigil_analyzer_camera_state(self->analyzer, vigil_camera_state_to_string(state), error);
  }
  if (self->state_func)
    self->state_func(self, state, self->state_data);
}

static void start_ingest(Feed *feed);

static gboolean on_retry(gpointer user_data)
{
  Feed *feed = user_data;
  feed->retry_source = 0;
  feed->reconnects++;
  start_ingest(feed);
  return G_SOURCE_REMOVE;
}

static void stop_ingest(Feed *feed)
{
  if (!feed->ingest)
    return;
  feed->next_pts = vigil_ingest_next_pts(feed->ingest);
  g_clear_pointer(&feed->ingest, vigil_ingest_stop);
  vigil_stream_reset(feed->stream);
}

static guint backoff_ms(guint attempts, gboolean offline)
{
  guint max = offline ? VIGIL_CAMERA_BACKOFF_OFFLINE_MAX_MS : VIGIL_CAMERA_BACKOFF_MAX_MS;
  guint ms = VIGIL_CAMERA_BACKOFF_FIRST_MS;
  for (guint i = 1; i < attempts && ms < max; i++)
    ms *= 2;
  return MIN(ms, max);
}

/* The ingest failed (or we declared it dead): tear it down and retry later. */
static void handle_failure(Feed *feed, const char *message, gboolean offline)
{
  stop_ingest(feed);
  feed->attempts++;
  set_state(feed, offline ? VIGIL_CAMERA_OFFLINE : VIGIL_CAMERA_ERROR, message);
  guint delay = backoff_ms(feed->attempts, offline);
  g_debug("camera %s: %s stream: retry in %u ms", feed->camera->cfg->id,
          vigil_stream_choice_to_string(feed->which), delay);
  g_clear_handle_id(&feed->retry_source, g_source_remove);
  feed->retry_source = g_timeout_add(delay, on_retry, feed);
}

static void on_ingest_failed(VigilIngest *ingest, const char *message, gboolean offline,
                             gpointer user_data)
{
  Feed *feed = user_data;
  if (ingest != feed->ingest)
    return;
  handle_failure(feed, message, offline);
}

/* Streaming thread: hand the keyframe to the analysis, which queues it (or
 * drops it: analyzer.h says which keyframes it decodes). */
static void on_main_keyframe(GstBuffer *buffer, VigilCodec codec, gint64 wallclock_us,
                             gpointer user_data)
{
  vigil_analyzer_push_keyframe(user_data, buffer, codec, wallclock_us, VIGIL_STREAM_MAIN);
}

static void on_sub_keyframe(GstBuffer *buffer, VigilCodec codec, gint64 wallclock_us,
                            gpointer user_data)
{
  vigil_analyzer_push_keyframe(user_data, buffer, codec, wallclock_us, VIGIL_STREAM_SUB);
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

static void start_ingest(Feed *feed)
{
  VigilCamera *self = feed->camera;
  g_autoptr(GError) error = NULL;
  VigilStreamStats stats;
  vigil_stream_get_stats(feed->stream, &stats);
  feed->chunks_at_start = stats.chunks;
  feed->ingest_started = g_get_monotonic_time();
  g_autoptr(VigilCameraConfig) sub_cfg =
      feed->which == VIGIL_STREAM_SUB ? vigil_camera_config_for_sub(self->cfg) : NULL;
  feed->ingest = vigil_ingest_start(sub_cfg ? sub_cfg : self->cfg, feed->stream, feed->next_pts,
                                    on_ingest_failed, feed, &error);
  if (!feed->ingest) {
    handle_failure(feed, error->message, FALSE);
    return;
  }
  vigil_ingest_set_keyframe_func(
      feed->ingest, feed->which == VIGIL_STREAM_SUB ? on_sub_keyframe : on_main_keyframe,
      self->analyzer);
  /* Keep the last error visible while reconnecting: it says why. */
  g_autofree gchar *last_error = g_strdup(feed->error);
  set_state(feed, VIGIL_CAMERA_CONNECTING, last_error);
}

/* Once a second: promote connecting → streaming when data flows, and declare
 * a silent stream dropped. */
static void check_feed(Feed *feed)
{
  if (!feed->ingest)
    return;

  VigilStreamStats stats;
  vigil_stream_get_stats(feed->stream, &stats);
  gint64 now = g_get_monotonic_time();
  gboolean fresh = stats.chunks > feed->chunks_at_start;

  if (feed->state == VIGIL_CAMERA_CONNECTING || feed->state == VIGIL_CAMERA_OFFLINE ||
      feed->state == VIGIL_CAMERA_ERROR) {
    if (fresh) {
      set_state(feed, VIGIL_CAMERA_STREAMING, NULL);
    } else if (now - feed->ingest_started > VIGIL_CAMERA_SILENCE_US) {
      handle_failure(feed, "the camera sent no video for 10 s", TRUE);
    }
  } else if (feed->state == VIGIL_CAMERA_STREAMING) {
    if (now - stats.last_chunk_us > VIGIL_CAMERA_SILENCE_US) {
      handle_failure(feed, "no data from the camera for 10 s", TRUE);
    } else if (feed->attempts && now - feed->ingest_started > STABLE_US) {
      feed->attempts = 0;
    }
  }
}

static gboolean on_tick(gpointer user_data)
{
  VigilCamera *self = user_data;
  check_feed(&self->main);
  check_feed(&self->sub);
  return G_SOURCE_CONTINUE;
}

/* Starts or stops @feed after a configuration change; @restart: its source
 * settings changed, reconnect now. */
static void apply_feed(Feed *feed, gboolean restart)
{
  if (restart) {
    stop_ingest(feed);
    g_clear_handle_id(&feed->retry_source, g_source_remove);
    feed->attempts = 0;
    g_clear_pointer(&feed->error, g_free);
  }
  if (feed_wanted(feed)) {
    if (!feed->ingest && !feed->retry_source)
      start_ingest(feed);
  } else {
    stop_ingest(feed);
    g_clear_handle_id(&feed->retry_source, g_source_remove);
    feed->attempts = 0;
    set_state(feed, VIGIL_CAMERA_DISABLED, NULL);
  }
}

static void feed_init(Feed *feed, VigilCamera *camera, VigilStreamChoice which)
{
  feed->camera = camera;
  feed->which = which;
  feed->stream = vigil_stream_new(camera->cfg->id);
  feed->state = VIGIL_CAMERA_DISABLED;
  feed->since_us = g_get_real_time();
  feed->next_pts = 90000; /* start the timeline at 1 s, clear of zero */
}

static void feed_clear(Feed *feed)
{
  stop_ingest(feed);
  g_clear_handle_id(&feed->retry_source, g_source_remove);
  g_clear_pointer(&feed->stream, vigil_stream_unref);
  g_clear_pointer(&feed->error, g_free);
}

/* --- the camera's own events over ONVIF (docs/onvif.md) --- */

static void on_onvif_event(const VigilOnvifNotification *n, gpointer user_data)
{
  VigilCamera *self = user_data;
  /* Times are vigil's: the device's clock may be off, and a pull brings
   * what happened at most one poll ago. */
  gint64 now = g_get_real_time();
  gboolean on = n->has_state ? n->state : TRUE;
  if (n->operation && g_str_equal(n->operation, "Deleted"))
    on = FALSE;
  switch (n->kind) {
  case VIGIL_ONVIF_TOPIC_MOTION:
    if (n->has_state)
      vigil_analyzer_external_motion(self->analyzer, on, now);
    break;
  case VIGIL_ONVIF_TOPIC_LINE:
    /* A crossing is a moment; "Initialized" repeats an old one. */
    if (!n->operation || !g_str_equal(n->operation, "Initialized"))
      vigil_analyzer_external_object(self->analyzer, "line-crossing", on, TRUE, now);
    break;
  case VIGIL_ONVIF_TOPIC_FIELD:
    if (n->has_state)
      vigil_analyzer_external_object(self->analyzer, "field", on, FALSE, now);
    break;
  case VIGIL_ONVIF_TOPIC_PERSON:
  case VIGIL_ONVIF_TOPIC_VEHICLE: {
    const char *label = n->kind == VIGIL_ONVIF_TOPIC_PERSON ? "person" : "vehicle";
    if (n->has_state)
      vigil_analyzer_external_object(self->analyzer, label, on, FALSE, now);
    else
      vigil_analyzer_external_object(self->analyzer, label, on, TRUE, now);
    break;
  }
  case VIGIL_ONVIF_TOPIC_OTHER:
    break;
  }
}

static void on_onvif_status(const char *status, gboolean subscribed, gpointer user_data)
{
  VigilCamera *self = user_data;
  /* No news can come: what the camera said was on ends now. */
  if (!subscribed)
    vigil_analyzer_external_end(self->analyzer, g_get_real_time());
}

/* --- PTZ (the API, MQTT and preset_on_event) --- */

typedef struct {
  VigilCamera *camera; /* NULL once the camera is gone */
  VigilPtzAction action;
  GAsyncReadyCallback callback;
  gpointer user_data;
} PtzCall;

static void on_ptz_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  PtzCall *call = user_data;
  VigilCamera *self = call->camera;
  if (self) {
    g_ptr_array_remove_fast(self->ptz_calls, call);
    gboolean failed = g_task_had_error(G_TASK(result));
    switch (call->action) {
    case VIGIL_PTZ_MOVE:
      if (failed)
        vigil_analyzer_pause_motion(self->analyzer, FALSE, VIGIL_CAMERA_PTZ_SETTLE_US);
      break; /* it moves until its stop */
    case VIGIL_PTZ_STOP:
      vigil_analyzer_pause_motion(self->analyzer, FALSE, VIGIL_CAMERA_PTZ_SETTLE_US);
      break;
    case VIGIL_PTZ_GOTO_PRESET:
    case VIGIL_PTZ_HOME:
    case VIGIL_PTZ_RELATIVE:
      vigil_analyzer_pause_motion(self->analyzer, FALSE,
                                  failed ? VIGIL_CAMERA_PTZ_SETTLE_US : VIGIL_CAMERA_PTZ_TRAVEL_US);
      break;
    default:
      break;
    }
  }
  if (call->callback)
    call->callback(source, result, call->user_data);
  g_free(call);
}

void vigil_camera_ptz(VigilCamera *self, const VigilPtzCommand *cmd, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  const VigilCameraConfig *cfg = self->cfg;
  PtzCall *call = g_new0(PtzCall, 1);
  call->camera = self;
  call->action = cmd->action;
  call->callback = callback;
  call->user_data = user_data;
  g_ptr_array_add(self->ptz_calls, call);
  if (cmd->action == VIGIL_PTZ_MOVE || cmd->action == VIGIL_PTZ_GOTO_PRESET ||
      cmd->action == VIGIL_PTZ_HOME || cmd->action == VIGIL_PTZ_RELATIVE)
    vigil_analyzer_pause_motion(self->analyzer, TRUE, 0);
  if (!cfg->onvif.address) {
    GTask *task = g_task_new(NULL, cancellable, on_ptz_done, call);
    g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_CONFLICT, "camera has no PTZ");
    g_object_unref(task);
    return;
  }
  vigil_ptz_async(cfg->onvif.address, cfg->username, cfg->password, cfg->onvif.profile, cmd,
                  cancellable, on_ptz_done, call);
}

static void on_event_ptz_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree gchar *id = user_data;
  g_autoptr(GError) error = NULL;
  if (!vigil_ptz_finish(result, NULL, NULL, &error))
    g_warning("camera %s: preset_on_event: %s", id, error->message);
}

static gboolean on_preset_return(gpointer user_data)
{
  VigilCamera *self = user_data;
  self->preset_return_source = 0;
  self->at_event_preset = FALSE;
  g_info("camera %s: no event for %d s: back to the home position", self->cfg->id,
         self->cfg->onvif.preset_return_s);
  VigilPtzCommand cmd = {.action = VIGIL_PTZ_HOME};
  vigil_camera_ptz(self, &cmd, NULL, on_event_ptz_done, g_strdup(self->cfg->id));
  return G_SOURCE_REMOVE;
}

/* A motion or object event started: preset_on_event (docs/onvif.md). */
static void on_analyzer_event(const char *type, const char *label, gpointer user_data)
{
  VigilCamera *self = user_data;
  const VigilCameraConfig *cfg = self->cfg;
  if (!cfg->onvif.address || !cfg->onvif.preset_on_event)
    return;
  if (!self->at_event_preset) {
    g_info("camera %s: %s event: going to preset %s", cfg->id, type, cfg->onvif.preset_on_event);
    VigilPtzCommand cmd = {.action = VIGIL_PTZ_GOTO_PRESET, .preset = cfg->onvif.preset_on_event};
    vigil_camera_ptz(self, &cmd, NULL, on_event_ptz_done, g_strdup(cfg->id));
    self->at_event_preset = TRUE;
  }
  g_clear_handle_id(&self->preset_return_source, g_source_remove);
  if (cfg->onvif.preset_return_s > 0)
    self->preset_return_source =
        g_timeout_add_seconds((guint)cfg->onvif.preset_return_s, on_preset_return, self);
}

static gboolean onvif_events_wanted(const VigilCameraConfig *cfg)
{
  return cfg->enabled && cfg->onvif.address && cfg->onvif.motion_events;
}

/* Subscribes, unsubscribes or subscribes again after a change of @old
 * (NULL: a new camera). */
static void apply_onvif_events(VigilCamera *self, const VigilCameraConfig *old)
{
  const VigilCameraConfig *cfg = self->cfg;
  gboolean same = old && onvif_events_wanted(old) == onvif_events_wanted(cfg) &&
                  g_strcmp0(old->onvif.address, cfg->onvif.address) == 0 &&
                  g_strcmp0(old->username, cfg->username) == 0 &&
                  g_strcmp0(old->password, cfg->password) == 0;
  if (same && (self->onvif_events != NULL) == onvif_events_wanted(cfg))
    return;
  if (self->onvif_events) {
    g_clear_pointer(&self->onvif_events, vigil_onvif_events_free);
    vigil_analyzer_external_end(self->analyzer, g_get_real_time());
  }
  if (!onvif_events_wanted(cfg))
    return;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = vigil_onvif_device_url(cfg->onvif.address, &error);
  if (url)
    self->onvif_events = vigil_onvif_events_new(url, cfg->username, cfg->password, on_onvif_event,
                                                on_onvif_status, self);
}

VigilCamera *vigil_camera_new(const VigilCameraConfig *cfg)
{
  VigilCamera *self = g_new0(VigilCamera, 1);
  self->cfg = vigil_camera_config_copy(cfg);
  self->masked_source = vigil_source_mask(cfg->source);
  feed_init(&self->main, self, VIGIL_STREAM_MAIN);
  feed_init(&self->sub, self, VIGIL_STREAM_SUB);
  self->tick_source = g_timeout_add_seconds(1, on_tick, self);
  self->analyzer = vigil_analyzer_new(cfg);
  vigil_analyzer_set_trigger_func(self->analyzer, on_trigger, self);
  vigil_analyzer_set_event_func(self->analyzer, on_analyzer_event, self);
  self->ptz_calls = g_ptr_array_new();
  g_info("camera %s: source %s", cfg->id, self->masked_source);
  if (cfg->sub_source) {
    g_autofree gchar *masked = vigil_source_mask(cfg->sub_source);
    g_info("camera %s: sub stream %s", cfg->id, masked);
  }
  apply_feed(&self->main, FALSE);
  apply_feed(&self->sub, FALSE);
  apply_onvif_events(self, NULL);
  return self;
}

void vigil_camera_free(VigilCamera *self)
{
  if (!self)
    return;
  stop_ingest(&self->main);
  stop_ingest(&self->sub);
  g_clear_pointer(&self->onvif_events, vigil_onvif_events_free);
  g_clear_handle_id(&self->preset_return_source, g_source_remove);
  for (guint i = 0; i < self->ptz_calls->len; i++)
    ((PtzCall *)g_ptr_array_index(self->ptz_calls, i))->camera = NULL;
  g_ptr_array_unref(self->ptz_calls);
  g_clear_pointer(&self->recorder, vigil_recorder_free);
  /* After the ingests: no keyframe can reach the analyzer any more. */
  g_clear_pointer(&self->analyzer, vigil_analyzer_free);
  g_clear_handle_id(&self->tick_source, g_source_remove);
  feed_clear(&self->main);
  feed_clear(&self->sub);
  g_clear_pointer(&self->cfg, vigil_camera_config_free);
  g_free(self->masked_source);
  g_free(self);
}

void vigil_camera_set_state_func(VigilCamera *self, VigilCameraStateFunc func, gpointer user_data)
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
  return self->main.stream;
}

VigilStream *vigil_camera_get_sub_stream(VigilCamera *self)
{
  return self->cfg->sub_source != NULL ? self->sub.stream : NULL;
}

VigilStream *vigil_camera_pick_stream(VigilCamera *self, VigilStreamChoice which)
{
  /* A sub stream that does not stream shows nothing: the main one does. */
  gboolean sub = which == VIGIL_STREAM_SUB && self->cfg->sub_source != NULL &&
                 self->sub.state == VIGIL_CAMERA_STREAMING;
  return sub ? self->sub.stream : self->main.stream;
}

VigilCameraState vigil_camera_get_state(VigilCamera *self)
{
  return self->main.state;
}

VigilCameraState vigil_camera_get_sub_state(VigilCamera *self)
{
  return self->cfg->sub_source != NULL ? self->sub.state : VIGIL_CAMERA_DISABLED;
}

void vigil_camera_update(VigilCamera *self, const VigilCameraConfig *cfg)
{
  gboolean restart = vigil_camera_config_source_changed(self->cfg, cfg);
  gboolean restart_sub = vigil_camera_config_sub_changed(self->cfg, cfg);
  VigilCameraConfig *old = self->cfg;
  self->cfg = vigil_camera_config_copy(cfg);
  vigil_analyzer_set_config(self->analyzer, cfg);
  apply_onvif_events(self, old);
  vigil_camera_config_free(old);
  attach_recorder(self);

  if (restart) {
    g_free(self->masked_source);
    self->masked_source = vigil_source_mask(cfg->source);
    g_info("camera %s: source settings changed, reconnecting to %s", cfg->id, self->masked_source);
    apply_feed(&self->main, TRUE);
  }
  if (restart_sub) {
    if (cfg->sub_source) {
      g_autofree gchar *masked = vigil_source_mask(cfg->sub_source);
      g_info("camera %s: sub stream settings changed, connecting to %s", cfg->id, masked);
    }
    apply_feed(&self->sub, TRUE);
  }
}

/* The recorder takes the stream record_stream names (the main one while
 * "sub" has no sub stream streaming), and for "both" the sub stream too. */
static void attach_recorder(VigilCamera *self)
{
  if (!self->recorder)
    return;
  VigilStream *sub = vigil_camera_get_sub_stream(self);
  gboolean sub_up = sub != NULL && self->sub.state == VIGIL_CAMERA_STREAMING;
  VigilStreamChoice choice = self->cfg->record_stream;
  VigilStream *stream = choice == VIGIL_STREAM_SUB && sub_up ? sub : self->main.stream;
  /* Attaching again would feed the current GOP twice. */
  if (stream != self->recorded) {
    vigil_recorder_attach(self->recorder, stream);
    self->recorded = stream;
  }
  /* A repeat of the same stream is a no-op there. */
  vigil_recorder_attach_sub(self->recorder, choice == VIGIL_STREAM_BOTH && sub_up ? sub : NULL);
  vigil_recorder_set_config(self->recorder, self->cfg);
}

void vigil_camera_set_recorder(VigilCamera *self, VigilRecorder *recorder)
{
  g_clear_pointer(&self->recorder, vigil_recorder_free);
  self->recorder = recorder;
  self->recorded = NULL;
  attach_recorder(self);
}

VigilRecorder *vigil_camera_get_recorder(VigilCamera *self)
{
  return self->recorder;
}

/* A measured value: null until measured (and while not streaming). */
static void add_measured_int(JsonBuilder *b, const char *member, gboolean live, gint64 value)
{
  if (live && value > 0)
    vigil_json_add_int(b, member, value);
  else
    vigil_json_add_null(b, member);
}

/* The same, rounded to 1 / @scale. */
static void add_measured_double(JsonBuilder *b, const char *member, gboolean live, double value,
                                double scale)
{
  if (live && value > 0)
    vigil_json_add_double(b, member, round(value * scale) / scale);
  else
    vigil_json_add_null(b, member);
}

/* The measured members of a stream's status (codec ... keyframe_interval_s),
 * null while it does not stream. */
static void add_stream_status(JsonBuilder *b, const Feed *feed, const VigilStreamStats *stats)
{
  gboolean live = feed->state == VIGIL_CAMERA_STREAMING;
  vigil_json_add_string_or_null(b, "codec", live ? vigil_codec_to_string(stats->codec) : NULL);
  add_measured_int(b, "width", live, stats->width);
  add_measured_int(b, "height", live, stats->height);
  add_measured_double(b, "fps", live, stats->fps, 10.0);
  add_measured_int(b, "bitrate_kbps", live, (gint64)round(stats->bitrate_kbps));
  add_measured_double(b, "keyframe_interval_s", live, stats->keyframe_interval_s, 100.0);
}

static void add_state(JsonBuilder *b, const Feed *feed)
{
  vigil_json_add_string(b, "state", vigil_camera_state_to_string(feed->state));
  vigil_json_add_string_or_null(b, "error", feed->error);
}

static void add_connection(JsonBuilder *b, const Feed *feed, const VigilStreamStats *stats)
{
  vigil_json_add_int(b, "viewers", stats->viewers);
  vigil_json_add_int(b, "reconnects", feed->reconnects);
  g_autofree gchar *since = vigil_time_format(feed->since_us);
  vigil_json_add_string(b, "since", since);
}

JsonNode *vigil_camera_status_to_json(VigilCamera *self)
{
  VigilStreamStats stats;
  vigil_stream_get_stats(self->main.stream, &stats);
  gboolean live = self->main.state == VIGIL_CAMERA_STREAMING;

  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_state(b, &self->main);
  add_stream_status(b, &self->main, &stats);
  vigil_json_add_bool(b, "audio", live && stats.has_audio);
  /* Recording means pictures reaching the disk: not while the camera is
   * away or the disk is full. */
  vigil_json_add_bool(b, "recording",
                      live && self->recorder && vigil_recorder_is_recording(self->recorder));
  add_connection(b, &self->main, &stats);
  /* null until two keyframes of this connection were compared. */
  double level;
  if (live && vigil_analyzer_get_motion_level(self->analyzer, &level))
    vigil_json_add_double(b, "motion_level", round(level * 1000.0) / 1000.0);
  else
    vigil_json_add_null(b, "motion_level");

  /* docs/streams.md */
  if (self->cfg->sub_source) {
    VigilStreamStats sub_stats;
    vigil_stream_get_stats(self->sub.stream, &sub_stats);
    vigil_json_begin_object(b, "sub");
    add_state(b, &self->sub);
    add_stream_status(b, &self->sub, &sub_stats);
    add_connection(b, &self->sub, &sub_stats);
    json_builder_end_object(b);
  } else {
    vigil_json_add_null(b, "sub");
  }
  vigil_json_add_string_or_null(
      b, "analysis_stream",
      vigil_stream_choice_to_string(vigil_analyzer_get_analysis_stream(self->analyzer)));
  /* docs/onvif.md: null when the camera does not use its ONVIF events. */
  vigil_json_add_string_or_null(
      b, "onvif_events",
      self->onvif_events ? vigil_onvif_events_get_status(self->onvif_events) : NULL);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *vigil_camera_to_json(VigilCamera *self)
{
  JsonNode *node = vigil_camera_config_to_json(self->cfg);
  json_object_set_member(json_node_get_object(node), "status", vigil_camera_status_to_json(self));
  return node;
}
