/* GStreamer front end of the camera ingest: srt://, HLS, looped files,
 * v4l2:// and test:// (and rtsp:// with rtspsrc when VIGIL_RTSP_FRONTEND=gstreamer,
 * for side-by-side benchmarks). Builds the pipeline, hands whole access units
 * to the shared muxing in ingest.c, and words the pipeline's errors.
 *
 *   rtspsrc ─ depay ─┐
 *   urisourcebin ─ parsebin ─┼─ h264parse/h265parse ─ capsfilter(byte-stream,au) ─ appsink
 *   videotestsrc/v4l2src ─ x264enc ─┘   (aacparse ─ capsfilter(adts) ─ appsink)
 *
 * The appsink callbacks run on GStreamer's streaming threads: one access unit
 * in, one chunk out, no queue and no thread hop. */
#define G_LOG_DOMAIN "vigil-camera"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <string.h>

#include "camera/ingest-private.h"
#include "core/error.h"

typedef enum {
  BRANCH_H264,
  BRANCH_H265,
  BRANCH_AAC,
} BranchKind;

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
  vigil_ingest_set_format(self, codec, width, height);
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
    pts_minus_dts = ((gint64)(GST_BUFFER_PTS(buffer) - dts) * 9 + 50000) / 100000;

  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  update_format(self, sample);
  gboolean running = vigil_ingest_push_video(self, map.data, map.size, (gint64)pts, pts_minus_dts,
                                             keyframe, keyframe ? buffer : NULL);
  gst_buffer_unmap(buffer, &map);
  return running ? GST_FLOW_OK : GST_FLOW_FLUSHING;
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
  int rate = 0;
  GstCaps *caps = gst_sample_get_caps(sample);
  if (caps)
    gst_structure_get_int(gst_caps_get_structure(caps, 0), "rate", &rate);
  GstMapInfo map;
  if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    vigil_ingest_push_audio(self, map.data, map.size, (gint64)pts, rate);
    gst_buffer_unmap(buffer, &map);
  }
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
    vigil_ingest_report_failure(self, "could not build the pipeline for this stream", FALSE);
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
    vigil_ingest_report_failure(self, message, FALSE);
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
    vigil_ingest_report_failure(self, "no video track", FALSE);
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
      g_autofree gchar *message =
          g_strdup_printf("unsupported video codec %s (vigil passes through H.264 and H.265)",
                          encoding ? encoding : "unknown");
      vigil_ingest_report_failure(self, message, FALSE);
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
    vigil_ingest_report_failure(self, "could not link the camera's RTP stream", FALSE);
    return;
  }
  link_video_or_audio(self, srcpad, kind);
}

/* rtspsrc asks before setting up each stream: take video and AAC audio only
 * (not ONVIF metadata or back-channels), and learn early whether audio comes. */
static gboolean on_rtsp_select_stream(GstElement *src, guint num, GstCaps *caps, gpointer user_data)
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
    description =
        g_strdup_printf("videotestsrc is-live=true pattern=smpte100 ! "
                        "video/x-raw,width=640,height=360,framerate=15/1 ! "
                        "clockoverlay halignment=right valignment=bottom font-desc=\"Sans 18\" "
                        "time-format=\"%%Y-%%m-%%d %%H:%%M:%%S\" ! %s",
                        enc);
  } else {
    g_autofree gchar *device = vigil_source_local_path(cfg->source);
    g_autofree gchar *quoted = g_shell_quote(device);
    g_autofree gchar *enc = g_strdup_printf(encoder, 30, 2000);
    description = g_strdup_printf(
        "v4l2src device=%s ! decodebin ! videoconvert ! video/x-raw,format=I420 ! %s", quoted, enc);
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

/* rtspsrc says only "Failed to connect" whatever the cause; a plain TCP
 * connect to the same host and port tells the user what is wrong. */
static void on_probe_done(GObject *client, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection =
      g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(client), result, &error);
  g_clear_object(&connection); /* only the outcome counts */
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the ingest was stopped: user_data is gone */
  VigilIngest *self = user_data;
  g_clear_object(&self->probe);
  vigil_ingest_fail(self, vigil_ingest_word_connect_error(error), TRUE);
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
    g_autofree gchar *clean_debug = vigil_ingest_scrub(self, debug ? debug : "");
    g_debug("camera %s: pipeline error: %s (%s)", self->camera_id, error->message, clean_debug);
    if (self->kind == VIGIL_SOURCE_RTSP && !self->failed && !self->probe &&
        strstr(debug ? debug : "", "Failed to connect") && probe_connection(self))
      break;
    gboolean offline;
    g_autofree gchar *text = vigil_ingest_describe_error(error, debug, &offline);
    vigil_ingest_fail(self, text, offline);
    break;
  }
  case GST_MESSAGE_EOS:
    g_mutex_lock(&self->lock);
    gboolean had_video = self->video_linked;
    g_mutex_unlock(&self->lock);
    if (!had_video) {
      vigil_ingest_fail(self, "no video track", FALSE);
      break;
    }
    if (self->kind == VIGIL_SOURCE_FILE) {
      /* Files loop: back to the start, the timeline re-anchors itself. */
      if (gst_element_seek_simple(self->pipeline, GST_FORMAT_TIME,
                                  GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0))
        break;
    }
    vigil_ingest_fail(self, "the camera ended the stream", TRUE);
    break;
  case GST_MESSAGE_WARNING: {
    g_autoptr(GError) error = NULL;
    gst_message_parse_warning(message, &error, NULL);
    g_autofree gchar *clean = vigil_ingest_scrub(self, error->message);
    g_debug("camera %s: %s", self->camera_id, clean);
    break;
  }
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

/* --- lifetime --- */

gboolean vigil_ingest_gst_start(VigilIngest *self, const VigilCameraConfig *cfg, GError **error)
{
  self->pipeline = gst_pipeline_new(cfg->id);
  gboolean ok = TRUE;
  switch (self->kind) {
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
      gst_clear_object(&self->pipeline);
      return FALSE;
    }
    break;
  }
  if (!ok) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED,
                "GStreamer elements needed for this source are missing");
    gst_clear_object(&self->pipeline);
    return FALSE;
  }

  g_autoptr(GstBus) bus = gst_element_get_bus(self->pipeline);
  self->bus_watch = gst_bus_add_watch(bus, on_bus_message, self);
  if (gst_element_set_state(self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The reason is on the bus; the supervisor hears it there. */
    g_debug("camera %s: pipeline refused to start", cfg->id);
  }
  return TRUE;
}

void vigil_ingest_gst_stop(VigilIngest *self)
{
  if (self->probe)
    g_cancellable_cancel(self->probe);
  if (self->bus_watch)
    g_source_remove(self->bus_watch);
  self->bus_watch = 0;
}

void vigil_ingest_gst_teardown(VigilIngest *self)
{
  if (!self->pipeline)
    return;
  /* Setting a pipeline with a half-open TCP connection to NULL can block for
   * seconds: this runs on the teardown thread. */
  gst_element_set_state(self->pipeline, GST_STATE_NULL);
  gst_clear_object(&self->pipeline);
}
