/* Camera ingest: picks the front end for a source (vigil's own RTSP client
 * for rtsp://, libavformat for rtsps://, GStreamer for the rest), and owns what both share: the output
 * timeline, TS muxing into the camera's VigilStream, failure reporting and
 * the ingest's lifetime. See ingest.h and ingest-private.h. */
#define G_LOG_DOMAIN "vigil-camera"

#include "camera/ingest.h"

#include <string.h>

#include "camera/ingest-private.h"
#include "core/error.h"

/* A jump of the input clock forward by more than this is treated as a new
 * timeline (a file loop, a camera that reset its clock), not as real time. */
#define MAX_FORWARD_JUMP_NS (60 * GST_SECOND)
/* Small steps back (a frame without dts, reordering) are clamped by the
 * caller; a big one means the input started over. */
#define MAX_BACKWARD_JUMP_NS (GST_SECOND / 2)

/* Signed: decode times run slightly negative at the start of B-frame streams. */
static gint64 ns_to_90k(gint64 ns)
{
  return ns >= 0 ? (ns * 9 + 50000) / 100000 : -((-ns * 9 + 50000) / 100000);
}

/* --- timeline and muxing (reading threads, under self->lock) --- */

/* Maps an input running time to the output timeline, re-anchoring when the
 * input goes backwards or leaps ahead. */
static gint64 map_time(VigilIngest *self, gint64 in_ns, gboolean is_video)
{
  if (!self->anchored) {
    self->offset = self->start_pts - ns_to_90k(in_ns);
    self->anchored = TRUE;
    self->last_in_ns = in_ns;
  } else if (is_video && (in_ns < self->last_in_ns - MAX_BACKWARD_JUMP_NS ||
                          in_ns - self->last_in_ns > MAX_FORWARD_JUMP_NS)) {
    self->offset = self->last_out_dts + self->frame_dur - ns_to_90k(in_ns);
    g_debug("camera %s: input timeline restarted, re-anchored", self->camera_id);
  }
  if (is_video)
    self->last_in_ns = in_ns;
  return ns_to_90k(in_ns) + self->offset;
}

void vigil_ingest_set_format(VigilIngest *self, VigilCodec codec, int width, int height)
{
  g_mutex_lock(&self->lock);
  if (width != self->width || height != self->height || codec != self->codec) {
    self->width = width;
    self->height = height;
    if (self->codec != codec && self->mux) {
      /* A camera that switched codec mid-stream: the PMT must change. */
      g_clear_pointer(&self->mux, vigil_ts_mux_free);
    }
    self->codec = codec;
    vigil_stream_set_format(self->stream, codec, width, height,
                            self->expect_audio || self->audio_linked);
  }
  g_mutex_unlock(&self->lock);
}

/* Muxes one access unit and pushes the chunk; under self->lock. */
static void mux_video(VigilIngest *self, const guint8 *data, gsize size, gint64 pts_ns,
                      gint64 pts_minus_dts, gboolean keyframe, gint64 wallclock, gint64 arrival)
{
  gboolean with_audio = self->audio_linked || self->expect_audio;
  if (self->mux && keyframe && with_audio && !self->mux_has_audio) {
    /* Audio showed up after video started: a new PMT at this keyframe. */
    g_clear_pointer(&self->mux, vigil_ts_mux_free);
  }
  if (!self->mux) {
    if (!keyframe)
      return; /* wait for a keyframe to start on */
    self->mux = vigil_ts_mux_new(self->codec, with_audio);
    self->mux_has_audio = with_audio;
    vigil_stream_set_format(self->stream, self->codec, self->width, self->height, with_audio);
  }

  /* The timeline follows decode order: with B-frames pts goes back and forth,
   * dts does not. */
  gint64 dts_ns = pts_ns - pts_minus_dts * 100000 / 9;
  gint64 out_dts = map_time(self, dts_ns, TRUE);
  gint64 out_pts = out_dts + pts_minus_dts;
  if (self->last_out_dts > 0) {
    gint64 step = out_dts - self->last_out_dts;
    gint64 expected = self->frame_dur;
    if (step > 0 && step < 90000)
      self->frame_dur = (self->frame_dur * 7 + step) / 8;
    if (step < expected * 3 / 4 && step > -ns_to_90k(MAX_BACKWARD_JUMP_NS)) {
      /* A picture much closer to the last than a frame is input jitter, or
       * the RTSP client re-basing its clock on an RTCP sender report: keep
       * the spacing, and the timeline follows the input from here. */
      gint64 fix = self->last_out_dts + expected - out_dts;
      self->offset += fix;
      out_dts += fix;
      out_pts += fix;
    }
  }
  if (out_dts <= self->last_out_dts && self->last_out_dts > 0) {
    /* Never let dts stall or go back: players reject it. */
    out_dts = self->last_out_dts + 1;
    out_pts = MAX(out_pts, out_dts);
  }
  self->last_out_dts = out_dts;

  g_autoptr(GBytes) ts = vigil_ts_mux_video(self->mux, data, size, out_pts, out_dts, keyframe);
  VigilChunkFlags flags = keyframe ? VIGIL_CHUNK_KEYFRAME : 0;
  if (self->discont && keyframe) {
    flags |= VIGIL_CHUNK_DISCONT;
    self->discont = FALSE;
  }
  g_autoptr(VigilChunk) chunk = vigil_chunk_new(ts, flags, out_pts, wallclock, arrival);
  vigil_stream_push(self->stream, chunk);
}

gboolean vigil_ingest_push_video(VigilIngest *self, const guint8 *data, gsize size, gint64 pts_ns,
                                 gint64 pts_minus_dts, gboolean keyframe,
                                 GstBuffer *keyframe_buffer)
{
  gint64 arrival = g_get_monotonic_time();
  gint64 wallclock = g_get_real_time();
  g_mutex_lock(&self->lock);
  gboolean stopped = self->stopped;
  if (!stopped) {
    mux_video(self, data, size, pts_ns, pts_minus_dts, keyframe, wallclock, arrival);
    if (keyframe && keyframe_buffer && self->keyframe_func)
      self->keyframe_func(keyframe_buffer, self->codec, wallclock, self->keyframe_data);
  }
  g_mutex_unlock(&self->lock);
  return !stopped;
}

/* Number of ADTS frames in @data (each holds 1024 samples). */
static guint count_adts_frames(const guint8 *data, gsize size)
{
  guint frames = 0;
  gsize pos = 0;
  while (pos + 7 <= size && data[pos] == 0xFF && (data[pos + 1] & 0xF0) == 0xF0) {
    gsize length =
        ((gsize)(data[pos + 3] & 0x03) << 11) | ((gsize)data[pos + 4] << 3) | (data[pos + 5] >> 5);
    if (length < 7)
      break;
    frames++;
    pos += length;
  }
  return MAX(frames, 1);
}

/* Audio timestamps from RTP jitter by a few milliseconds and can even step
 * back; players reject audio that does. Lock them to the sample clock (each
 * frame follows the previous one exactly) unless the input drifts away by
 * more than 40 ms, then follow the input. Under self->lock. */
static gint64 smooth_audio_pts(VigilIngest *self, gint64 pts, int rate, const guint8 *data,
                               gsize size)
{
  if (rate <= 0)
    rate = 48000;
  gint64 duration = (gint64)count_adts_frames(data, size) * 1024 * 90000 / rate;
  gint64 out = pts;
  if (self->next_audio_pts > 0 && ABS(pts - self->next_audio_pts) < 3600)
    out = self->next_audio_pts;
  self->next_audio_pts = out + duration;
  return out;
}

void vigil_ingest_push_audio(VigilIngest *self, const guint8 *data, gsize size, gint64 pts_ns,
                             int rate)
{
  g_mutex_lock(&self->lock);
  /* Audio starts once video has (the muxer exists) and only if the PMT
   * announced it. */
  if (!self->stopped && self->mux && self->mux_has_audio && self->anchored) {
    gint64 out_pts = smooth_audio_pts(self, map_time(self, pts_ns, FALSE), rate, data, size);
    g_autoptr(GBytes) ts = vigil_ts_mux_audio(self->mux, data, size, out_pts);
    if (ts) {
      g_autoptr(VigilChunk) chunk = vigil_chunk_new(ts, VIGIL_CHUNK_AUDIO, out_pts,
                                                    g_get_real_time(), g_get_monotonic_time());
      vigil_stream_push(self->stream, chunk);
    }
  }
  g_mutex_unlock(&self->lock);
}

/* --- failures --- */

gchar *vigil_ingest_scrub(VigilIngest *self, const char *text)
{
  if (!self->password || !*self->password || !strstr(text, self->password))
    return g_strdup(text);
  g_auto(GStrv) parts = g_strsplit(text, self->password, -1);
  return g_strjoinv("***", parts);
}

void vigil_ingest_fail(VigilIngest *self, const char *message, gboolean offline)
{
  if (self->failed)
    return;
  self->failed = TRUE;
  g_autofree gchar *clean = vigil_ingest_scrub(self, message);
  self->fail_func(self, clean, offline, self->user_data);
}

static void ingest_unref(VigilIngest *self);

typedef struct {
  VigilIngest *ingest; /* a ref */
  gchar *message;
  gboolean offline;
} FailureReport;

static gboolean deliver_failure(gpointer data)
{
  FailureReport *report = data;
  VigilIngest *self = report->ingest;
  /* stop() runs on this same context: once it has, the owner is gone. */
  g_mutex_lock(&self->lock);
  gboolean stopped = self->stopped;
  g_mutex_unlock(&self->lock);
  if (!stopped)
    vigil_ingest_fail(self, report->message, report->offline);
  return G_SOURCE_REMOVE;
}

static void free_failure(gpointer data)
{
  FailureReport *report = data;
  ingest_unref(report->ingest);
  g_free(report->message);
  g_free(report);
}

void vigil_ingest_report_failure(VigilIngest *self, const char *message, gboolean offline)
{
  FailureReport *report = g_new0(FailureReport, 1);
  g_atomic_ref_count_inc(&self->refs);
  report->ingest = self;
  report->message = g_strdup(message);
  report->offline = offline;
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, deliver_failure, report, free_failure);
}

const char *vigil_ingest_word_connect_error(const GError *error)
{
  if (!error)
    return "the camera accepted the connection but its RTSP server did not answer";
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return "connection refused (is the camera on, and the port right?)";
  if (error->domain == G_RESOLVER_ERROR)
    return "host name not found";
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return "host unreachable (no answer)";
  return "host unreachable";
}

/* --- lifetime --- */

static void ingest_unref(VigilIngest *self)
{
  if (!g_atomic_ref_count_dec(&self->refs))
    return;
  g_clear_pointer(&self->mux, vigil_ts_mux_free);
  g_clear_pointer(&self->stream, vigil_stream_unref);
  g_free(self->camera_id);
  g_free(self->source);
  g_clear_object(&self->probe);
  if (self->password)
    memset(self->password, 0, strlen(self->password));
  g_free(self->password);
  g_mutex_clear(&self->lock);
  g_free(self);
}

/* rtsp:// is read by vigil's own client, rtsps:// (TLS) by libavformat.
 * VIGIL_RTSP_FRONTEND=libav or =gstreamer (rtspsrc) picks one front end for
 * both, for side-by-side benchmarks and as a way back should a camera need it. */
static gboolean start_rtsp(VigilIngest *self, const VigilCameraConfig *cfg, GError **error)
{
  const char *frontend = g_getenv("VIGIL_RTSP_FRONTEND");
  if (g_strcmp0(frontend, "gstreamer") == 0)
    return vigil_ingest_gst_start(self, cfg, error);
  if (g_strcmp0(frontend, "libav") == 0 || g_ascii_strncasecmp(cfg->source, "rtsps:", 6) == 0)
    return vigil_ingest_av_start(self, cfg, error);
  return vigil_ingest_rtsp_start(self, cfg, error);
}

VigilIngest *vigil_ingest_start(const VigilCameraConfig *cfg, VigilStream *stream, gint64 start_pts,
                                VigilIngestFailFunc fail_func, gpointer user_data, GError **error)
{
  VigilSourceKind kind;
  if (!vigil_source_parse(cfg->source, &kind, error))
    return NULL;

  VigilIngest *self = g_new0(VigilIngest, 1);
  g_atomic_ref_count_init(&self->refs);
  g_mutex_init(&self->lock);
  self->camera_id = g_strdup(cfg->id);
  self->source = g_strdup(cfg->source);
  self->password = g_strdup(cfg->password);
  self->kind = kind;
  self->stream = vigil_stream_ref(stream);
  self->fail_func = fail_func;
  self->user_data = user_data;
  self->start_pts = start_pts;
  self->frame_dur = 3000; /* 30 fps until measured */
  self->discont = TRUE;

  gboolean ok = kind == VIGIL_SOURCE_RTSP ? start_rtsp(self, cfg, error)
                                          : vigil_ingest_gst_start(self, cfg, error);
  if (!ok) {
    ingest_unref(self);
    return NULL;
  }
  return self;
}

gint64 vigil_ingest_next_pts(VigilIngest *self)
{
  g_mutex_lock(&self->lock);
  gint64 next = self->last_out_dts > 0 ? self->last_out_dts + self->frame_dur : self->start_pts;
  g_mutex_unlock(&self->lock);
  return next;
}

/* Teardowns still running, so that shutdown can wait for them. */
static GMutex teardown_lock;
static GCond teardown_cond;
static guint teardowns;

static gpointer teardown_thread(gpointer data)
{
  VigilIngest *self = data;
  vigil_ingest_gst_teardown(self);
  if (self->reader)
    g_thread_join(g_steal_pointer(&self->reader));
  ingest_unref(self);
  g_mutex_lock(&teardown_lock);
  teardowns--;
  g_cond_broadcast(&teardown_cond);
  g_mutex_unlock(&teardown_lock);
  return NULL;
}

gboolean vigil_ingest_wait_stopped(gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time() + timeout_us;
  g_mutex_lock(&teardown_lock);
  while (teardowns > 0 && g_cond_wait_until(&teardown_cond, &teardown_lock, deadline))
    ;
  gboolean done = teardowns == 0;
  g_mutex_unlock(&teardown_lock);
  return done;
}

void vigil_ingest_stop(VigilIngest *self)
{
  g_mutex_lock(&self->lock);
  self->stopped = TRUE;
  g_mutex_unlock(&self->lock);
  g_atomic_int_set(&self->abort, 1);
  vigil_ingest_gst_stop(self);
  /* A pipeline or a reading thread on a half-open TCP connection can take
   * seconds to end; other cameras and the HTTP server must not wait for it. */
  g_mutex_lock(&teardown_lock);
  teardowns++;
  g_mutex_unlock(&teardown_lock);
  g_thread_unref(g_thread_new("vigil-teardown", teardown_thread, self));
}

void vigil_ingest_set_keyframe_func(VigilIngest *self, VigilKeyframeFunc func, gpointer user_data)
{
  g_mutex_lock(&self->lock);
  self->keyframe_func = func;
  self->keyframe_data = user_data;
  g_mutex_unlock(&self->lock);
}
