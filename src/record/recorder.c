/* The recorder state machine (main thread): pre-roll, triggers, post-roll,
 * manual start/stop, splitting, and indexing what the writer reports. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/recorder.h"

/* How long chunks may wait to reach the recorder (the main loop). Far below
 * the pre- and post-roll's one-second grain. */
#define VIGIL_RECORDER_BATCH_US (200 * 1000)

#include "core/error.h"
#include "record/preroll.h"
#include "store/recordings.h"

struct _VigilRecorder {
  gchar *camera;
  VigilStore *store;          /* borrowed, NULL with a test sink */
  VigilSegmentWriter *writer; /* owned, NULL with a test sink */
  VigilRecorderSink sink;
  gpointer sink_data;

  VigilStream *stream;
  VigilSubscriber *subscriber;
  VigilPreroll *preroll;
  guint tick;

  /* record_stream "both": the sub stream, stored in each recording's sub/ */
  VigilStream *sub_stream;
  VigilSubscriber *sub_subscriber;
  /* Its last GOPs, fed whether or not anything records: the pre-roll of a
   * start, and at a split the GOP the next recording's sub stream begins
   * with. */
  VigilPreroll *sub_preroll;
  gboolean sub_started;  /* the running recording takes sub stream chunks */
  gboolean sub_skipping; /* dropping sub chunks up to a keyframe: the disk is behind */

  VigilRecordMode mode;
  int pre_roll_s, post_roll_s;
  gint64 max_us;
  VigilClockFunc clock;
  gpointer clock_data;

  VigilRecInfo *rec;    /* the running recording */
  gint64 rec_first_pts; /* -1 until its first keyframe */
  gboolean manual;
  gboolean triggered;
  gint64 last_trigger_us;
  gchar *trigger_reason;
  gboolean skipping; /* dropping up to a keyframe: the disk is behind */
  gboolean disk_low;
  gint64 run_start_us;  /* when the running recording began, splits included */
  gint64 too_long_us;   /* a non-continuous recording this long raises an alarm */
  gboolean too_long;    /* "recording-too-long" raised */
  gboolean split_asked; /* split at the next keyframe (retention needs the space) */
};

static VigilRecordAlarmFunc alarm_func;
static gpointer alarm_data;

void vigil_recorder_set_alarm_func(VigilRecordAlarmFunc func, gpointer data)
{
  alarm_func = func;
  alarm_data = data;
}

static gint64 default_clock(gpointer data)
{
  return g_get_monotonic_time();
}

static gint64 now(VigilRecorder *self)
{
  return self->clock(self->clock_data);
}

/* --- the writer's reports become index rows --- */

static void index_segment(VigilRecorder *self, VigilRecInfo *rec, const VigilSegment *segment)
{
  g_autoptr(GError) error = NULL;
  VigilSegment seg = *segment;
  seg.recording = rec->db_id;
  if (!vigil_store_add_segment(self->store, &seg, &error))
    g_warning("camera %s: cannot index %ssegment %d of %s: %s", rec->camera,
              seg.sub ? "sub stream " : "", seg.seq, rec->rel_path, error->message);
}

static void on_writer(VigilWriterEvent event, VigilRecInfo *rec, const VigilSegment *segment,
                      const char *message, gpointer user_data)
{
  VigilRecorder *self = user_data;
  g_autoptr(GError) error = NULL;
  switch (event) {
  case VIGIL_WRITER_SEGMENT: {
    if (segment->sub && !rec->db_id) {
      /* The recording gets its row with its first main segment; a sub
       * segment may be done first (shorter GOPs). If the main stream never
       * writes one, the writer removes sub/ with the directory and these are
       * forgotten with @rec. */
      if (!rec->sub_waiting)
        rec->sub_waiting = g_ptr_array_new_with_free_func(g_free);
      g_ptr_array_add(rec->sub_waiting, g_memdup2(segment, sizeof *segment));
      break;
    }
    if (!rec->db_id) {
      VigilRecording row = {.camera = rec->camera,
                            .start_us = rec->start_us,
                            .end_us = segment->start_us + segment->duration_us,
                            .reason = rec->reason,
                            .path = rec->rel_path,
                            .open = TRUE};
      rec->db_id = vigil_store_insert_recording(self->store, &row, &error);
      if (!rec->db_id) {
        /* The files are complete on disk: crash repair indexes them later. */
        g_warning("camera %s: cannot index recording %s: %s", rec->camera, rec->rel_path,
                  error->message);
        return;
      }
      g_info("camera %s: recording %s (%s) started", rec->camera, rec->rel_path, rec->reason);
    }
    index_segment(self, rec, segment);
    for (guint i = 0; rec->sub_waiting && i < rec->sub_waiting->len; i++)
      index_segment(self, rec, g_ptr_array_index(rec->sub_waiting, i));
    g_clear_pointer(&rec->sub_waiting, g_ptr_array_unref);
    break;
  }
  case VIGIL_WRITER_CLOSED:
    if (rec && rec->db_id) {
      if (!vigil_store_close_recording(self->store, rec->db_id, &error))
        g_warning("camera %s: %s", rec->camera, error->message);
      g_info("camera %s: recording %s ended", rec->camera, rec->rel_path);
    }
    break;
  case VIGIL_WRITER_FAILED:
    if (!self->disk_low) {
      self->disk_low = TRUE;
      if (alarm_func)
        alarm_func(self->camera, "disk-low", TRUE, message, alarm_data);
    }
    break;
  case VIGIL_WRITER_RECOVERED:
    if (self->disk_low) {
      self->disk_low = FALSE;
      if (alarm_func)
        alarm_func(self->camera, "disk-low", FALSE, "recording works again", alarm_data);
    }
    break;
  }
}

static void writer_begin(VigilRecInfo *rec, gpointer data)
{
  vigil_segment_writer_begin(data, rec);
}

static void writer_write(VigilChunk *chunk, gpointer data)
{
  vigil_segment_writer_write(data, chunk);
}

static void writer_end(gpointer data)
{
  vigil_segment_writer_end(data);
}

static void writer_write_sub(VigilChunk *chunk, gpointer data)
{
  vigil_segment_writer_write_sub(data, chunk);
}

static void writer_sub_gap(gpointer data)
{
  vigil_segment_writer_sub_gap(data);
}

/* --- the state machine --- */

static gboolean wanted(VigilRecorder *self, const char **reason)
{
  if (self->mode == VIGIL_RECORD_CONTINUOUS) {
    *reason = "continuous";
    return TRUE;
  }
  if (self->manual) {
    *reason = "manual";
    return TRUE;
  }
  if (self->mode == VIGIL_RECORD_EVENTS && self->triggered &&
      now(self) - self->last_trigger_us < (gint64)self->post_roll_s * G_USEC_PER_SEC) {
    *reason = self->trigger_reason;
    return TRUE;
  }
  return FALSE;
}

/* Ends the running recording and goes on in a new one with the same reason,
 * which begins with the next chunk given to the sink. */
static void next_recording(VigilRecorder *self)
{
  g_autofree gchar *reason = g_strdup(self->rec->reason);
  self->sink.end(self->sink_data);
  vigil_rec_info_unref(self->rec);
  self->rec = vigil_rec_info_new(self->camera, reason);
  self->sink.begin(self->rec, self->sink_data);
  self->rec_first_pts = -1;
  self->sub_started = FALSE;
}

/* Drops chunks up to the next keyframe while too much waits for the disk;
 * TRUE if @chunk may go to the writer. */
static gboolean disk_keeps_up(VigilRecorder *self, VigilChunk *chunk, gboolean *skipping,
                              const char *what)
{
  if (!self->writer)
    return TRUE;
  if (*skipping && !vigil_chunk_is_keyframe(chunk))
    return FALSE;
  *skipping = FALSE;
  if (vigil_segment_writer_get_queued(self->writer) > VIGIL_RECORDER_MAX_QUEUED) {
    g_warning("camera %s: the disk cannot keep up; dropping a GOP%s", self->camera, what);
    *skipping = TRUE;
    return FALSE;
  }
  return TRUE;
}

static void feed_sub(VigilRecorder *self, VigilChunk *chunk)
{
  if (disk_keeps_up(self, chunk, &self->sub_skipping, " of the sub stream"))
    self->sink.write_sub(chunk, self->sink_data);
}

/* The running recording's main stream has begun at @main_start_us (wall
 * clock of its first keyframe): its sub stream begins at the latest sub
 * keyframe at or before that time, so that it covers the main stream's whole
 * span (it may begin up to one sub GOP earlier; at a split the two
 * recordings' sub streams overlap by as much, with no gap). Without such a
 * keyframe it begins at the first one held, or at the next one to come. */
static void start_sub(VigilRecorder *self, gint64 main_start_us)
{
  self->sub_started = TRUE;
  self->sub_skipping = FALSE;
  g_autoptr(GPtrArray) held = vigil_preroll_get_since(self->sub_preroll, main_start_us);
  for (guint i = 0; i < held->len; i++)
    feed_sub(self, g_ptr_array_index(held, i));
}

static void feed(VigilRecorder *self, VigilChunk *chunk)
{
  gboolean keyframe = vigil_chunk_is_keyframe(chunk);
  if (keyframe && self->rec_first_pts >= 0 &&
      (self->split_asked || (chunk->pts - self->rec_first_pts) * 100 / 9 >= self->max_us - 50000)) {
    /* (50 ms early counts as on time: camera clocks jitter.) */
    /* Split: the next recording starts with this very keyframe. */
    self->split_asked = FALSE;
    next_recording(self);
  }
  gboolean first = keyframe && self->rec_first_pts < 0;
  if (first)
    self->rec_first_pts = chunk->pts;
  if (disk_keeps_up(self, chunk, &self->skipping, ""))
    self->sink.write(chunk, self->sink_data);
  if (first && self->sink.write_sub)
    start_sub(self, chunk->wallclock_us);
}

static void start_recording(VigilRecorder *self, const char *reason)
{
  self->split_asked = FALSE;
  self->run_start_us = now(self);
  self->rec = vigil_rec_info_new(self->camera, reason);
  self->rec_first_pts = -1;
  self->skipping = FALSE;
  self->sub_started = FALSE;
  self->sink.begin(self->rec, self->sink_data);
  g_autoptr(GPtrArray) preroll = vigil_preroll_take(self->preroll);
  g_debug("camera %s: recording (%s) with %u chunks of pre-roll", self->camera, reason,
          preroll->len);
  for (guint i = 0; i < preroll->len; i++)
    feed(self, g_ptr_array_index(preroll, i));
}

static void stop_recording(VigilRecorder *self)
{
  if (self->too_long && alarm_func)
    alarm_func(self->camera, "recording-too-long", FALSE, "the recording ended", alarm_data);
  self->too_long = FALSE;
  self->sink.end(self->sink_data);
  g_clear_pointer(&self->rec, vigil_rec_info_unref);
  self->sub_started = FALSE;
  g_debug("camera %s: recording stops", self->camera);
}

void vigil_recorder_update(VigilRecorder *self)
{
  const char *reason = NULL;
  gboolean want = wanted(self, &reason);
  if (!want && self->triggered && self->mode == VIGIL_RECORD_EVENTS)
    self->triggered = FALSE; /* post-roll over */
  if (want && !self->rec)
    start_recording(self, reason);
  else if (!want && self->rec)
    stop_recording(self);

  /* An event or manual recording that never ends (a tree in the wind, a
   * forgotten manual start) fills the disk unnoticed: say so once. Continuous
   * recordings are meant to be endless. */
  if (self->rec && !self->too_long && self->mode != VIGIL_RECORD_CONTINUOUS &&
      now(self) - self->run_start_us >= self->too_long_us) {
    self->too_long = TRUE;
    g_autofree gchar *message = g_strdup_printf(
        "camera %s has been recording for over %" G_GINT64_FORMAT " min without a break",
        self->camera, self->too_long_us / (60 * G_USEC_PER_SEC));
    g_warning("%s", message);
    if (alarm_func)
      alarm_func(self->camera, "recording-too-long", TRUE, message, alarm_data);
  }
}

static gboolean on_tick(gpointer data)
{
  vigil_recorder_update(data);
  return G_SOURCE_CONTINUE;
}

void vigil_recorder_push(VigilRecorder *self, VigilChunk *chunk)
{
  vigil_recorder_update(self);
  if (self->rec)
    feed(self, chunk);
  else
    vigil_preroll_push(self->preroll, chunk);
}

static void on_chunk(VigilChunk *chunk, gpointer data)
{
  vigil_recorder_push(data, chunk);
}

void vigil_recorder_push_sub(VigilRecorder *self, VigilChunk *chunk)
{
  vigil_recorder_update(self);
  /* Always held, also while recording: a split begins the next recording's
   * sub stream with the GOP in progress. */
  vigil_preroll_push(self->sub_preroll, chunk);
  if (!self->rec || self->rec_first_pts < 0 || !self->sink.write_sub)
    return; /* the main stream has not begun the recording yet */
  if (!self->sub_started)
    start_sub(self, G_MININT64); /* attached during the recording: from now on */
  else
    feed_sub(self, chunk);
}

static void on_sub_chunk(VigilChunk *chunk, gpointer data)
{
  vigil_recorder_push_sub(data, chunk);
}

static void apply_preroll_window(VigilRecorder *self)
{
  /* Continuous recordings have no pre-roll: the current GOP suffices to
   * start at a keyframe. */
  int seconds = self->mode == VIGIL_RECORD_EVENTS ? self->pre_roll_s : 0;
  vigil_preroll_set_seconds(self->preroll, seconds);
  /* One second more for the sub stream: its chunks may reach the main loop
   * a little ahead of the main stream's (another connection, another
   * subscriber batch), and start_sub looks for the sub keyframe at or before
   * the main stream's first picture. */
  vigil_preroll_set_seconds(self->sub_preroll, seconds + 1);
}

static VigilRecorder *recorder_new(const char *camera_id)
{
  VigilRecorder *self = g_new0(VigilRecorder, 1);
  self->camera = g_strdup(camera_id);
  self->preroll = vigil_preroll_new(0);
  self->sub_preroll = vigil_preroll_new(0);
  self->mode = VIGIL_RECORD_OFF;
  self->max_us = VIGIL_RECORDER_MAX_US;
  self->too_long_us = VIGIL_RECORDER_TOO_LONG_US;
  self->clock = default_clock;
  self->rec_first_pts = -1;
  return self;
}

VigilRecorder *vigil_recorder_new(const char *camera_id, const char *recordings_dir,
                                  VigilStore *store)
{
  VigilRecorder *self = recorder_new(camera_id);
  /* Tests shorten the maximum length to see splits without waiting 15 min. */
  const char *max_s = g_getenv("VIGIL_RECORD_MAX_S");
  if (max_s && g_ascii_strtoll(max_s, NULL, 10) > 0)
    self->max_us = g_ascii_strtoll(max_s, NULL, 10) * G_USEC_PER_SEC;
  const char *too_long_s = g_getenv("VIGIL_RECORD_TOO_LONG_S");
  if (too_long_s && g_ascii_strtoll(too_long_s, NULL, 10) > 0)
    self->too_long_us = g_ascii_strtoll(too_long_s, NULL, 10) * G_USEC_PER_SEC;
  self->store = store;
  self->writer = vigil_segment_writer_new(recordings_dir, NULL, on_writer, self);
  self->sink =
      (VigilRecorderSink){writer_begin, writer_write, writer_end, writer_write_sub, writer_sub_gap};
  self->sink_data = self->writer;
  self->tick = g_timeout_add_seconds(1, on_tick, self);
  return self;
}

VigilRecorder *vigil_recorder_new_with_sink(const char *camera_id, const VigilRecorderSink *sink,
                                            gpointer sink_data)
{
  VigilRecorder *self = recorder_new(camera_id);
  self->sink = *sink;
  self->sink_data = sink_data;
  return self;
}

void vigil_recorder_free(VigilRecorder *self)
{
  if (!self)
    return;
  vigil_recorder_attach(self, NULL);
  vigil_recorder_attach_sub(self, NULL);
  g_clear_handle_id(&self->tick, g_source_remove);
  if (self->rec)
    stop_recording(self);
  g_clear_pointer(&self->writer, vigil_segment_writer_free);
  vigil_preroll_free(self->preroll);
  vigil_preroll_free(self->sub_preroll);
  g_free(self->trigger_reason);
  g_free(self->camera);
  g_free(self);
}

void vigil_recorder_set_clock(VigilRecorder *self, VigilClockFunc func, gpointer data)
{
  self->clock = func ? func : default_clock;
  self->clock_data = data;
}

void vigil_recorder_set_max_length(VigilRecorder *self, gint64 max_us)
{
  self->max_us = max_us > 0 ? max_us : VIGIL_RECORDER_MAX_US;
}

void vigil_recorder_attach(VigilRecorder *self, VigilStream *stream)
{
  if (stream && stream == self->stream)
    return;
  if (self->subscriber) {
    vigil_stream_unsubscribe(self->stream, g_steal_pointer(&self->subscriber));
    g_clear_pointer(&self->stream, vigil_stream_unref);
  }
  if (!stream)
    return;
  /* Another stream (record_stream "sub": the sub stream came or went):
   * what the ring holds is the old one's, and a recording that has begun
   * ends here, the next one begins with the new stream's GOP in progress:
   * one recording never mixes two streams (their sizes and clocks differ). */
  vigil_preroll_clear(self->preroll);
  if (self->rec && self->rec_first_pts >= 0)
    next_recording(self);
  self->stream = vigil_stream_ref(stream);
  self->subscriber =
      vigil_stream_subscribe(stream, TRUE, g_main_context_default(), on_chunk, self, NULL);
  /* Recording is not live view: a few chunks at a time cost the main loop
   * a wake-up per batch instead of one per chunk. */
  vigil_subscriber_set_delay(self->subscriber, VIGIL_RECORDER_BATCH_US);
}

void vigil_recorder_attach_sub(VigilRecorder *self, VigilStream *sub)
{
  if (sub == self->sub_stream)
    return;
  gboolean had_sub = self->sub_stream != NULL;
  if (self->sub_subscriber) {
    vigil_stream_unsubscribe(self->sub_stream, g_steal_pointer(&self->sub_subscriber));
    g_clear_pointer(&self->sub_stream, vigil_stream_unref);
  }
  vigil_preroll_clear(self->sub_preroll);
  if (self->sub_started) {
    /* The running recording's sub stream ends here; another one goes on in
     * the same sub/ folder after a gap. */
    self->sub_started = FALSE;
    if (had_sub && self->sink.sub_gap)
      self->sink.sub_gap(self->sink_data);
  }
  if (!sub)
    return;
  self->sub_stream = vigil_stream_ref(sub);
  self->sub_subscriber =
      vigil_stream_subscribe(sub, TRUE, g_main_context_default(), on_sub_chunk, self, NULL);
  vigil_subscriber_set_delay(self->sub_subscriber, VIGIL_RECORDER_BATCH_US);
  g_info("camera %s: recording the sub stream too", self->camera);
}

void vigil_recorder_set_mode(VigilRecorder *self, VigilRecordMode mode, int pre_roll_s,
                             int post_roll_s)
{
  gboolean changed = mode != self->mode;
  self->mode = mode;
  self->pre_roll_s = pre_roll_s;
  self->post_roll_s = post_roll_s;
  apply_preroll_window(self);
  if (changed && mode == VIGIL_RECORD_OFF) {
    /* "off" closes a running recording at once, manual ones included. */
    self->manual = FALSE;
    self->triggered = FALSE;
  }
  if (changed)
    g_info("camera %s: record mode %s", self->camera, vigil_record_mode_to_string(mode));
  vigil_recorder_update(self);
}

void vigil_recorder_set_config(VigilRecorder *self, const VigilCameraConfig *cfg)
{
  vigil_recorder_set_mode(self, cfg->record, cfg->pre_roll_s, cfg->post_roll_s);
}

void vigil_recorder_trigger(VigilRecorder *self, const char *reason)
{
  if (self->mode == VIGIL_RECORD_OFF)
    return;
  if (!self->triggered || !self->rec) {
    g_free(self->trigger_reason);
    self->trigger_reason = g_strdup(reason);
  }
  self->triggered = TRUE;
  self->last_trigger_us = now(self);
  vigil_recorder_update(self);
}

gboolean vigil_recorder_manual(VigilRecorder *self, gboolean start, GError **error)
{
  if (!start && self->mode == VIGIL_RECORD_CONTINUOUS) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT,
                "the camera records continuously; set \"record\" to \"events\" or \"off\" "
                "to stop");
    return FALSE;
  }
  self->manual = start;
  if (!start)
    self->triggered = FALSE; /* stop means stop, post-roll included */
  g_info("camera %s: manual recording %s", self->camera, start ? "on" : "off");
  vigil_recorder_update(self);
  return TRUE;
}

gboolean vigil_recorder_is_recording(VigilRecorder *self)
{
  return self->rec != NULL && !self->disk_low;
}

gboolean vigil_recorder_is_active(VigilRecorder *self)
{
  return self->rec != NULL;
}

gboolean vigil_recorder_is_disk_low(VigilRecorder *self)
{
  return self->disk_low;
}

const char *vigil_recorder_get_reason(VigilRecorder *self)
{
  return self->rec ? self->rec->reason : NULL;
}

double vigil_recorder_get_preroll_s(VigilRecorder *self)
{
  return vigil_preroll_get_span(self->preroll) / 90000.0;
}

void vigil_recorder_split(VigilRecorder *self)
{
  if (self->rec)
    self->split_asked = TRUE;
}

void vigil_recorder_flush(VigilRecorder *self)
{
  if (self->writer)
    vigil_segment_writer_flush(self->writer);
}
