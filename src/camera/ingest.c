/* Camera ingest: builds the GStreamer pipeline for one source URL and turns
 * its access units into TS chunks for the camera's VigilStream. See ingest.h. */
#define G_LOG_DOMAIN "vigil-camera"

#include "camera/ingest.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <string.h>

#include "camera/source.h"
#include "core/error.h"

#define VIGIL_INGEST_ERROR_MESSAGE "vigil-ingest-error"
/* A jump of the input clock forward by more than this is treated as a new
 * timeline (a file loop, a camera that reset its clock), not as real time. */
#define MAX_FORWARD_JUMP_NS (60 * GST_SECOND)
/* Small steps back (a frame without dts, reordering) are clamped by the
 * caller; a big one means the input started over. */
#define MAX_BACKWARD_JUMP_NS (GST_SECOND / 2)

typedef enum {
  BRANCH_H264,
  BRANCH_H265,
  BRANCH_AAC,
} BranchKind;

struct _VigilIngest {
  gchar *camera_id;
  gchar *password; /* scrubbed from any message that might echo it */
  VigilSourceKind kind;
  VigilStream *stream;
  GstElement *pipeline;
  guint bus_watch;
  VigilIngestFailFunc fail_func;
  gpointer user_data;
  gboolean failed; /* main thread: fail_func already called */
  gchar *source;   /* for the connection probe */
  GCancellable *probe;

  /* Guards everything below. Held while muxing and pushing, so that once
   * `stopped` is set no chunk can reach the stream. */
  GMutex lock;
  gboolean stopped;
  gboolean expect_audio;
  gboolean video_linked;
  gboolean audio_linked;
  VigilCodec codec;
  int width, height;
  VigilTsMux *mux;
  gboolean mux_has_audio;
  gboolean discont; /* next chunk is the first of this connection */

  /* Timeline: out (90 kHz) = in_ns * 90000 / 1e9 + offset. */
  gboolean anchored;
  gint64 offset;
  gint64 start_pts;
  gint64 last_in_ns;
  gint64 last_out_dts;
  gint64 frame_dur; /* 90 kHz, estimated from consecutive AUs */
  gint64 next_audio_pts; /* 90 kHz, where the next audio frame should start */
  VigilKeyframeFunc keyframe_func; /* keyframe analysis, optional */
  gpointer keyframe_data;
};

/* Signed: decode times run slightly negative at the start of B-frame streams. */
static gint64 ns_to_90k(gint64 ns)
{
  return ns >= 0 ? (ns * 9 + 50000) / 100000 : -((-ns * 9 + 50000) / 100000);
}

static void post_failure(VigilIngest *self, const char *message, gboolean offline)
{
  GstStructure *s = gst_structure_new(VIGIL_INGEST_ERROR_MESSAGE, "message", G_TYPE_STRING,
                                      message, "offline", G_TYPE_BOOLEAN, offline, NULL);
  gst_element_post_message(self->pipeline,
                           gst_message_new_application(GST_OBJECT(self->pipeline), s));
}

/* --- timeline and muxing (streaming threads, under self->lock) --- */

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

static GstClockTime running_time(GstSample *sample, GstClockTime ts)
{
  const GstSegment *segment = gst_sample_get_segment(sample);
  if (!GST_CLOCK_TIME_IS_VALID(ts) || !segment)
    return ts;
  return gst_segment_to_running_time(segment, GST_FORMAT_TIME, ts);
}

static void update_format(VigilIngest *self, GstSample *sample)
{
  GstCaps *caps = gst_sample_get_caps(sample);
  if (!caps)
    return;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  int width = 0, height = 0;
  gst_structure_get_int(s, "width", &width);
  gst_structure_get_int(s, "height", &height);
  VigilCodec codec =
      gst_structure_has_name(s, "video/x-h265") ? VIGIL_CODEC_H265 : VIGIL_CODEC_H264;
  if (width != self->width || height != self->height || codec != self->codec) {
    self->width = width;
    self->height = height;
    if (self->codec != codec && self->mux) {
      /* A camera that switched codec mid-stream: the PMT must change. */
      g_clear_pointer(&self->mux, vigil_ts_mux_free);
    }
    self->codec = codec;
    vigil_stream_set_format(self->stream, codec, width, height, self->expect_audio ||
                                                                     self->audio_linked);
  }
}

/* Muxes one access unit and pushes the chunk; under self->lock. */
static void mux_video(VigilIngest *self, const guint8 *data, gsize size, GstClockTime pts,
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
  gint64 dts_ns = (gint64)pts - pts_minus_dts * 100000 / 9;
  gint64 out_dts = map_time(self, dts_ns, TRUE);
  gint64 out_pts = out_dts + pts_minus_dts;
  if (self->last_out_dts > 0 && out_dts > self->last_out_dts) {
    gint64 step = out_dts - self->last_out_dts;
    if (step < 90000)
      self->frame_dur = (self->frame_dur * 7 + step) / 8;
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

static GstFlowReturn on_video_sample(GstAppSink *sink, gpointer user_data)
{
  VigilIngest *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
  if (!sample)
    return GST_FLOW_EOS;
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  if (!buffer)
    return GST_FLOW_OK;

  gint64 arrival = g_get_monotonic_time();
  gint64 wallclock = g_get_real_time();
  gboolean keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);

  GstClockTime pts = running_time(sample, GST_BUFFER_PTS(buffer));
  GstClockTime dts = GST_BUFFER_DTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) {
    /* No timestamp at all: use the pipeline's own running time. */
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(sink));
    pts = clock ? gst_clock_get_time(clock) - gst_element_get_base_time(GST_ELEMENT(sink)) : 0;
    g_clear_object(&clock);
  }
  gint64 pts_minus_dts = 0;
  if (GST_CLOCK_TIME_IS_VALID(dts) && GST_CLOCK_TIME_IS_VALID(GST_BUFFER_PTS(buffer)) &&
      GST_BUFFER_PTS(buffer) > dts)
    pts_minus_dts = ns_to_90k(GST_BUFFER_PTS(buffer) - dts);

  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;

  g_mutex_lock(&self->lock);
  gboolean stopped = self->stopped;
  if (!stopped) {
    update_format(self, sample);
    mux_video(self, map.data, map.size, pts, pts_minus_dts, keyframe, wallclock, arrival);
    if (keyframe && self->keyframe_func)
      self->keyframe_func(buffer, self->codec, wallclock, self->keyframe_data);
  }
  g_mutex_unlock(&self->lock);
  gst_buffer_unmap(buffer, &map);
  return stopped ? GST_FLOW_FLUSHING : GST_FLOW_OK;
}

/* Number of ADTS frames in @data (each holds 1024 samples). */
static guint count_adts_frames(const guint8 *data, gsize size)
{
  guint frames = 0;
  gsize pos = 0;
  while (pos + 7 <= size && data[pos] == 0xFF && (data[pos + 1] & 0xF0) == 0xF0) {
    gsize length = ((gsize)(data[pos + 3] & 0x03) << 11) | ((gsize)data[pos + 4] << 3) |
                   (data[pos + 5] >> 5);
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
static gint64 smooth_audio_pts(VigilIngest *self, gint64 pts, GstSample *sample,
                               const guint8 *data, gsize size)
{
  int rate = 0;
  GstCaps *caps = gst_sample_get_caps(sample);
  if (caps)
    gst_structure_get_int(gst_caps_get_structure(caps, 0), "rate", &rate);
  if (rate <= 0)
    rate = 48000;
  gint64 duration = (gint64)count_adts_frames(data, size) * 1024 * 90000 / rate;
  gint64 out = pts;
  if (self->next_audio_pts > 0 && ABS(pts - self->next_audio_pts) < 3600)
    out = self->next_audio_pts;
  self->next_audio_pts = out + duration;
  return out;
}

static GstFlowReturn on_audio_sample(GstAppSink *sink, gpointer user_data)
{
  VigilIngest *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
  if (!sample)
    return GST_FLOW_EOS;
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  GstClockTime pts = buffer ? running_time(sample, GST_BUFFER_PTS(buffer)) : GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID(pts))
    return GST_FLOW_OK;

  g_mutex_lock(&self->lock);
  /* Audio starts once video has (the muxer exists) and only if the PMT
   * announced it. */
  if (!self->stopped && self->mux && self->mux_has_audio && self->anchored) {
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      gint64 out_pts = smooth_audio_pts(self, map_time(self, pts, FALSE), sample, map.data,
                                        map.size);
      g_autoptr(GBytes) ts = vigil_ts_mux_audio(self->mux, map.data, map.size, out_pts);
      if (ts) {
        g_autoptr(VigilChunk) chunk = vigil_chunk_new(ts, VIGIL_CHUNK_AUDIO, out_pts,
                                                      g_get_real_time(), g_get_monotonic_time());
        vigil_stream_push(self->stream, chunk);
      }
      gst_buffer_unmap(buffer, &map);
    }
  }
  g_mutex_unlock(&self->lock);
  return GST_FLOW_OK;
}

/* --- pipeline construction --- */

static GstElement *make(const char *factory)
{
  GstElement *e = gst_element_factory_make(factory, NULL);
  if (!e)
    g_warning("GStreamer element \"%s\" is missing (check scripts/deps.sh)", factory);
  return e;
}

/* Adds parser ! capsfilter ! appsink for one elementary stream and links
 * @pad to it. Called from pad-added (streaming thread). */
static gboolean link_branch(VigilIngest *self, GstPad *pad, BranchKind kind)
{
  const char *parser_name = kind == BRANCH_H264   ? "h264parse"
                            : kind == BRANCH_H265 ? "h265parse"
                                                  : "aacparse";
  GstElement *parser = make(parser_name);
  GstElement *filter = make("capsfilter");
  GstElement *sink = make("appsink");
  if (!parser || !filter || !sink) {
    g_clear_object(&parser);
    g_clear_object(&filter);
    g_clear_object(&sink);
    return FALSE;
  }

  g_autoptr(GstCaps) caps = NULL;
  if (kind == BRANCH_AAC) {
    caps = gst_caps_from_string("audio/mpeg,mpegversion=4,stream-format=adts");
  } else {
    /* config-interval=-1: SPS/PPS(/VPS) in front of every keyframe, so every
     * keyframe chunk is decodable on its own. alignment=au: one whole picture
     * per buffer (see DESIGN.md's traps). */
    g_object_set(parser, "config-interval", -1, NULL);
    caps = gst_caps_from_string(kind == BRANCH_H264
                                    ? "video/x-h264,stream-format=byte-stream,alignment=au"
                                    : "video/x-h265,stream-format=byte-stream,alignment=au");
  }
  g_object_set(filter, "caps", caps, NULL);

  /* Files and HLS are not live: the sink paces them at real speed. */
  gboolean sync = self->kind == VIGIL_SOURCE_FILE || self->kind == VIGIL_SOURCE_HLS;
  g_object_set(sink, "sync", sync, "emit-signals", FALSE, "enable-last-sample", FALSE,
               "max-buffers", 64, "qos", FALSE, NULL);
  GstAppSinkCallbacks callbacks = {
      .new_sample = kind == BRANCH_AAC ? on_audio_sample : on_video_sample,
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, self, NULL);

  gst_bin_add_many(GST_BIN(self->pipeline), parser, filter, sink, NULL);
  if (!gst_element_link_many(parser, filter, sink, NULL))
    return FALSE;
  g_autoptr(GstPad) sinkpad = gst_element_get_static_pad(parser, "sink");
  if (GST_PAD_LINK_FAILED(gst_pad_link(pad, sinkpad)))
    return FALSE;
  gst_element_sync_state_with_parent(sink);
  gst_element_sync_state_with_parent(filter);
  gst_element_sync_state_with_parent(parser);
  return TRUE;
}

/* Streams vigil does not carry still need a sink, or the source fails with
 * not-linked. */
static void link_discard(VigilIngest *self, GstPad *pad)
{
  GstElement *sink = make("fakesink");
  if (!sink)
    return;
  g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add(GST_BIN(self->pipeline), sink);
  g_autoptr(GstPad) sinkpad = gst_element_get_static_pad(sink, "sink");
  gst_pad_link(pad, sinkpad);
  gst_element_sync_state_with_parent(sink);
}

static void link_video_or_audio(VigilIngest *self, GstPad *pad, BranchKind kind)
{
  g_mutex_lock(&self->lock);
  gboolean is_video = kind != BRANCH_AAC;
  gboolean already = is_video ? self->video_linked : self->audio_linked;
  /* Only the first video and first audio track are carried. */
  if (!already) {
    if (is_video)
      self->video_linked = TRUE;
    else
      self->audio_linked = TRUE;
  }
  g_mutex_unlock(&self->lock);

  if (already) {
    link_discard(self, pad);
  } else if (!link_branch(self, pad, kind)) {
    post_failure(self, "could not build the pipeline for this stream", FALSE);
  }
}

static void on_elementary_pad(GstElement *element, GstPad *pad, gpointer user_data)
{
  VigilIngest *self = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
  if (!caps)
    caps = gst_pad_query_caps(pad, NULL);
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const char *name = gst_structure_get_name(s);

  if (g_str_equal(name, "video/x-h264")) {
    link_video_or_audio(self, pad, BRANCH_H264);
  } else if (g_str_equal(name, "video/x-h265")) {
    link_video_or_audio(self, pad, BRANCH_H265);
  } else if (g_str_equal(name, "audio/mpeg") && gst_structure_has_field(s, "mpegversion")) {
    int version = 0;
    gst_structure_get_int(s, "mpegversion", &version);
    if (version == 4 || version == 2)
      link_video_or_audio(self, pad, BRANCH_AAC);
    else
      link_discard(self, pad);
  } else if (g_str_has_prefix(name, "video/")) {
    g_autofree gchar *message = g_strdup_printf(
        "unsupported video codec %s (vigil passes through H.264 and H.265)", name + 6);
    link_discard(self, pad);
    post_failure(self, message, FALSE);
  } else {
    link_discard(self, pad);
  }
}

static void on_no_more_pads(GstElement *element, gpointer user_data)
{
  VigilIngest *self = user_data;
  g_mutex_lock(&self->lock);
  gboolean video = self->video_linked;
  g_mutex_unlock(&self->lock);
  if (!video)
    post_failure(self, "no video track", FALSE);
}

/* rtspsrc: RTP pads get a depayloader, then the common branch. */
static void on_rtsp_pad(GstElement *src, GstPad *pad, gpointer user_data)
{
  VigilIngest *self = user_data;
  g_autoptr(GstCaps) caps = gst_pad_query_caps(pad, NULL);
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const char *media = gst_structure_get_string(s, "media");
  const char *encoding = gst_structure_get_string(s, "encoding-name");
  const char *depay_name = NULL;
  BranchKind kind = BRANCH_H264;

  if (!g_strcmp0(media, "video") && !g_ascii_strcasecmp(encoding ? encoding : "", "H264")) {
    depay_name = "rtph264depay";
  } else if (!g_strcmp0(media, "video") && !g_ascii_strcasecmp(encoding ? encoding : "", "H265")) {
    depay_name = "rtph265depay";
    kind = BRANCH_H265;
  } else if (!g_strcmp0(media, "audio") &&
             !g_ascii_strcasecmp(encoding ? encoding : "", "MPEG4-GENERIC")) {
    depay_name = "rtpmp4gdepay";
    kind = BRANCH_AAC;
  } else if (!g_strcmp0(media, "audio") &&
             !g_ascii_strcasecmp(encoding ? encoding : "", "MP4A-LATM")) {
    depay_name = "rtpmp4adepay";
    kind = BRANCH_AAC;
  }

  if (!depay_name) {
    if (!g_strcmp0(media, "video")) {
      g_autofree gchar *message = g_strdup_printf(
          "unsupported video codec %s (vigil passes through H.264 and H.265)",
          encoding ? encoding : "unknown");
      post_failure(self, message, FALSE);
    }
    link_discard(self, pad);
    return;
  }

  GstElement *depay = make(depay_name);
  if (!depay) {
    link_discard(self, pad);
    return;
  }
  gst_bin_add(GST_BIN(self->pipeline), depay);
  g_autoptr(GstPad) sinkpad = gst_element_get_static_pad(depay, "sink");
  g_autoptr(GstPad) srcpad = gst_element_get_static_pad(depay, "src");
  gst_element_sync_state_with_parent(depay);
  if (GST_PAD_LINK_FAILED(gst_pad_link(pad, sinkpad))) {
    post_failure(self, "could not link the camera's RTP stream", FALSE);
    return;
  }
  link_video_or_audio(self, srcpad, kind);
}

/* rtspsrc asks before setting up each stream: take video and AAC audio only
 * (not ONVIF metadata or back-channels), and learn early whether audio comes. */
static gboolean on_rtsp_select_stream(GstElement *src, guint num, GstCaps *caps,
                                      gpointer user_data)
{
  VigilIngest *self = user_data;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const char *media = gst_structure_get_string(s, "media");
  const char *encoding = gst_structure_get_string(s, "encoding-name");
  if (!g_strcmp0(media, "video"))
    return TRUE;
  if (!g_strcmp0(media, "audio") && encoding &&
      (!g_ascii_strcasecmp(encoding, "MPEG4-GENERIC") ||
       !g_ascii_strcasecmp(encoding, "MP4A-LATM"))) {
    g_mutex_lock(&self->lock);
    self->expect_audio = TRUE;
    g_mutex_unlock(&self->lock);
    return TRUE;
  }
  return FALSE;
}

static GstElement *build_rtsp(VigilIngest *self, const VigilCameraConfig *cfg)
{
  GstElement *src = make("rtspsrc");
  if (!src)
    return NULL;
  /* TCP by default: UDP loses packets over Wi-Fi. On TCP nothing arrives out
   * of order, so the jitterbuffer need not hold anything back. */
  const char *protocols = cfg->rtsp_transport == VIGIL_TRANSPORT_TCP   ? "tcp"
                          : cfg->rtsp_transport == VIGIL_TRANSPORT_UDP ? "udp"
                                                                       : "udp+tcp";
  gst_util_set_object_arg(G_OBJECT(src), "protocols", protocols);
  /* buffer-mode none: timestamps straight from the camera's RTP clock. The
   * default (slave) derives them from arrival times, which jitter under load
   * until two frames land on the same instant. vigil never syncs to the clock
   * for live or recording, so the camera's own timing is what it needs. */
  gst_util_set_object_arg(G_OBJECT(src), "buffer-mode", "none");
  g_object_set(src, "location", cfg->source, "latency",
               cfg->rtsp_transport == VIGIL_TRANSPORT_TCP ? 0 : 200, "do-rtsp-keep-alive", TRUE,
               "tcp-timeout", (guint64)10000000, /* us */
               NULL);
  if (cfg->username)
    g_object_set(src, "user-id", cfg->username, NULL);
  if (cfg->password)
    g_object_set(src, "user-pw", cfg->password, NULL);
  if (g_str_has_prefix(cfg->source, "rtsps:"))
    /* Cameras almost always present self-signed certificates: encrypt, but
     * do not insist on a CA-signed identity (see docs/architecture.md). */
    g_object_set(src, "tls-validation-flags", 0, NULL);
  g_signal_connect(src, "select-stream", G_CALLBACK(on_rtsp_select_stream), self);
  g_signal_connect(src, "pad-added", G_CALLBACK(on_rtsp_pad), self);
  g_signal_connect(src, "no-more-pads", G_CALLBACK(on_no_more_pads), self);
  return src;
}

static void on_source_pad(GstElement *src, GstPad *pad, gpointer user_data)
{
  GstElement *parse = user_data;
  g_autoptr(GstPad) sinkpad = gst_element_get_static_pad(parse, "sink");
  if (!gst_pad_is_linked(sinkpad))
    gst_pad_link(pad, sinkpad);
}

static gboolean build_uri(VigilIngest *self, const VigilCameraConfig *cfg)
{
  GstElement *src = make("urisourcebin");
  GstElement *parse = make("parsebin");
  if (!src || !parse) {
    g_clear_object(&src);
    g_clear_object(&parse);
    return FALSE;
  }
  g_object_set(src, "uri", cfg->source, NULL);
  /* urisourcebin's pad appears once the source is typed; parsebin then
   * demuxes and parses into elementary streams. */
  gst_bin_add_many(GST_BIN(self->pipeline), src, parse, NULL);
  g_signal_connect(src, "pad-added", G_CALLBACK(on_source_pad), parse);
  g_signal_connect(parse, "pad-added", G_CALLBACK(on_elementary_pad), self);
  g_signal_connect(parse, "no-more-pads", G_CALLBACK(on_no_more_pads), self);
  return TRUE;
}

/* test:// and v4l2:// have raw video: encode it once, cheaply. */
static gboolean build_encoded(VigilIngest *self, const VigilCameraConfig *cfg, GError **error)
{
  g_autofree gchar *description = NULL;
  const char *encoder = "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d "
                        "bitrate=%d ! capsfilter caps=video/x-h264,profile=main";
  if (self->kind == VIGIL_SOURCE_TEST) {
    g_autofree gchar *enc = g_strdup_printf(encoder, 15, 800);
    description = g_strdup_printf(
        "videotestsrc is-live=true pattern=smpte100 ! "
        "video/x-raw,width=640,height=360,framerate=15/1 ! "
        "clockoverlay halignment=right valignment=bottom font-desc=\"Sans 18\" "
        "time-format=\"%%Y-%%m-%%d %%H:%%M:%%S\" ! %s",
        enc);
  } else {
    g_autofree gchar *device = vigil_source_local_path(cfg->source);
    g_autofree gchar *quoted = g_shell_quote(device);
    g_autofree gchar *enc = g_strdup_printf(encoder, 30, 2000);
    description = g_strdup_printf(
        "v4l2src device=%s ! decodebin ! videoconvert ! video/x-raw,format=I420 ! %s", quoted,
        enc);
  }
  GstElement *bin = gst_parse_bin_from_description(description, TRUE, error);
  if (!bin)
    return FALSE;
  gst_bin_add(GST_BIN(self->pipeline), bin);
  g_autoptr(GstPad) pad = gst_element_get_static_pad(bin, "src");
  self->video_linked = TRUE;
  return link_branch(self, pad, BRANCH_H264);
}

/* --- errors --- */

gchar *vigil_ingest_describe_error(const GError *error, const char *debug, gboolean *offline)
{
  const char *d = debug ? debug : "";
  *offline = TRUE;
  if (error->domain == GST_RESOURCE_ERROR && error->code == GST_RESOURCE_ERROR_NOT_AUTHORIZED) {
    *offline = FALSE;
    return g_strdup("camera refused the credentials");
  }
  if (strstr(d, "Unauthorized") || strstr(d, "401")) {
    *offline = FALSE;
    return g_strdup("camera refused the credentials");
  }
  if (strstr(d, "Connection refused"))
    return g_strdup("connection refused (is the camera on, and the port right?)");
  if (strstr(d, "No route to host") || strstr(d, "unreachable") || strstr(d, "Unreachable") ||
      strstr(d, "timed out") || strstr(d, "Timeout") || strstr(d, "timeout"))
    return g_strdup("host unreachable");
  if (strstr(d, "resolv") || strstr(d, "Name or service not known"))
    return g_strdup("host name not found");
  if (error->domain == GST_RESOURCE_ERROR && error->code == GST_RESOURCE_ERROR_NOT_FOUND) {
    *offline = FALSE;
    if (strstr(d, "404") || strstr(d, "Not Found"))
      return g_strdup("the camera has no stream at this path (404)");
    return g_strdup("source not found");
  }
  if (strstr(d, "404") || strstr(d, "Not Found")) {
    *offline = FALSE;
    return g_strdup("the camera has no stream at this path (404)");
  }
  if (error->domain == GST_STREAM_ERROR) {
    *offline = FALSE;
    return g_strdup_printf("the camera's stream could not be read: %s", error->message);
  }
  if (error->domain == GST_CORE_ERROR && error->code == GST_CORE_ERROR_MISSING_PLUGIN) {
    *offline = FALSE;
    return g_strdup("this stream needs a GStreamer plugin that is not installed");
  }
  return g_strdup(error->message);
}

/* Removes the camera's password from text that came from outside vigil. */
static gchar *scrub(VigilIngest *self, const char *text)
{
  if (!self->password || !*self->password || !strstr(text, self->password))
    return g_strdup(text);
  g_auto(GStrv) parts = g_strsplit(text, self->password, -1);
  return g_strjoinv("***", parts);
}

static void fail(VigilIngest *self, const char *message, gboolean offline)
{
  if (self->failed)
    return;
  self->failed = TRUE;
  g_autofree gchar *clean = scrub(self, message);
  self->fail_func(self, clean, offline, self->user_data);
}

/* rtspsrc says only "Failed to connect" whatever the cause; a plain TCP
 * connect to the same host and port tells the user what is wrong. */
static void on_probe_done(GObject *client, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection =
      g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(client), result, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the ingest was stopped: user_data is gone */
  VigilIngest *self = user_data;
  g_clear_object(&self->probe);
  if (connection)
    fail(self, "the camera accepted the connection but its RTSP server did not answer", TRUE);
  else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    fail(self, "connection refused (is the camera on, and the port right?)", TRUE);
  else if (error->domain == G_RESOLVER_ERROR)
    fail(self, "host name not found", TRUE);
  else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    fail(self, "host unreachable (no answer)", TRUE);
  else
    fail(self, "host unreachable", TRUE);
}

static gboolean probe_connection(VigilIngest *self)
{
  g_autoptr(GUri) uri = g_uri_parse(self->source, G_URI_FLAGS_NONE, NULL);
  if (!uri || !g_uri_get_host(uri))
    return FALSE;
  int port = g_uri_get_port(uri);
  if (port <= 0)
    port = g_str_equal(g_uri_get_scheme(uri), "rtsps") ? 322 : 554;
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_timeout(client, 5);
  self->probe = g_cancellable_new();
  g_socket_client_connect_to_host_async(client, g_uri_get_host(uri), port, self->probe,
                                        on_probe_done, self);
  return TRUE;
}

static gboolean on_bus_message(GstBus *bus, GstMessage *message, gpointer user_data)
{
  VigilIngest *self = user_data;
  switch (GST_MESSAGE_TYPE(message)) {
  case GST_MESSAGE_ERROR: {
    g_autoptr(GError) error = NULL;
    g_autofree gchar *debug = NULL;
    gst_message_parse_error(message, &error, &debug);
    g_autofree gchar *clean_debug = scrub(self, debug ? debug : "");
    g_debug("camera %s: pipeline error: %s (%s)", self->camera_id, error->message, clean_debug);
    if (self->kind == VIGIL_SOURCE_RTSP && !self->failed && !self->probe &&
        strstr(debug ? debug : "", "Failed to connect") && probe_connection(self))
      break;
    gboolean offline;
    g_autofree gchar *text = vigil_ingest_describe_error(error, debug, &offline);
    fail(self, text, offline);
    break;
  }
  case GST_MESSAGE_EOS:
    g_mutex_lock(&self->lock);
    gboolean had_video = self->video_linked;
    g_mutex_unlock(&self->lock);
    if (!had_video) {
      fail(self, "no video track", FALSE);
      break;
    }
    if (self->kind == VIGIL_SOURCE_FILE) {
      /* Files loop: back to the start, the timeline re-anchors itself. */
      if (gst_element_seek_simple(self->pipeline, GST_FORMAT_TIME,
                                  GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0))
        break;
    }
    fail(self, "the camera ended the stream", TRUE);
    break;
  case GST_MESSAGE_APPLICATION: {
    const GstStructure *s = gst_message_get_structure(message);
    if (gst_structure_has_name(s, VIGIL_INGEST_ERROR_MESSAGE)) {
      gboolean offline = FALSE;
      gst_structure_get_boolean(s, "offline", &offline);
      fail(self, gst_structure_get_string(s, "message"), offline);
    }
    break;
  }
  case GST_MESSAGE_WARNING: {
    g_autoptr(GError) error = NULL;
    gst_message_parse_warning(message, &error, NULL);
    g_autofree gchar *clean = scrub(self, error->message);
    g_debug("camera %s: %s", self->camera_id, clean);
    break;
  }
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

/* --- lifetime --- */

static void ingest_free(VigilIngest *self)
{
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

VigilIngest *vigil_ingest_start(const VigilCameraConfig *cfg, VigilStream *stream,
                                gint64 start_pts, VigilIngestFailFunc fail_func,
                                gpointer user_data, GError **error)
{
  VigilSourceKind kind;
  if (!vigil_source_parse(cfg->source, &kind, error))
    return NULL;

  VigilIngest *self = g_new0(VigilIngest, 1);
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
  self->pipeline = gst_pipeline_new(cfg->id);

  gboolean ok = TRUE;
  switch (kind) {
  case VIGIL_SOURCE_RTSP: {
    GstElement *src = build_rtsp(self, cfg);
    ok = src != NULL;
    if (ok)
      gst_bin_add(GST_BIN(self->pipeline), src);
    break;
  }
  case VIGIL_SOURCE_SRT:
  case VIGIL_SOURCE_HLS:
  case VIGIL_SOURCE_FILE:
    ok = build_uri(self, cfg);
    break;
  case VIGIL_SOURCE_TEST:
  case VIGIL_SOURCE_V4L2:
    ok = build_encoded(self, cfg, error);
    if (!ok && error && *error) {
      gst_object_unref(self->pipeline);
      ingest_free(self);
      return NULL;
    }
    break;
  }
  if (!ok) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED,
                "GStreamer elements needed for this source are missing");
    gst_object_unref(self->pipeline);
    ingest_free(self);
    return NULL;
  }

  g_autoptr(GstBus) bus = gst_element_get_bus(self->pipeline);
  self->bus_watch = gst_bus_add_watch(bus, on_bus_message, self);

  if (gst_element_set_state(self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The reason is on the bus; the supervisor hears it there. */
    g_debug("camera %s: pipeline refused to start", cfg->id);
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
  gst_element_set_state(self->pipeline, GST_STATE_NULL);
  gst_object_unref(self->pipeline);
  ingest_free(self);
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
  if (self->probe)
    g_cancellable_cancel(self->probe);
  if (self->bus_watch)
    g_source_remove(self->bus_watch);
  self->bus_watch = 0;
  /* Setting a pipeline with a half-open TCP connection to NULL can block for
   * seconds; other cameras and the HTTP server must not wait for it. */
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
