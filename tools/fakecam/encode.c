/* vigil-fakecam one-time encoding: run appsrc ! encoder ! parser ! appsink
 * once per distinct scene at startup and keep the access units in memory, so
 * serving never encodes (its CPU cost must not disturb benchmarks). */
#define G_LOG_DOMAIN "vigil-fakecam"

#include "encode.h"

#include <math.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#define AUDIO_RATE        48000
#define AAC_FRAME_SAMPLES 1024

/* Produces the raw frames on appsrc's streaming thread, one per need-data. */
typedef struct {
  VigilSceneRender *render;
  gboolean intro;
  guint warmup; /* frames before the part proper starts */
  guint count;  /* warmup included */
  guint next;
  int fps;
} Feeder;

/* Gathers what the encoder produced; only the appsink streaming thread
 * writes, and the main thread reads after EOS has come through the bus. */
typedef struct {
  GPtrArray *buffers;
  GstCaps *caps;
} Collector;

static void feeder_need_data(GstAppSrc *src, guint length, gpointer user_data)
{
  Feeder *fd = user_data;
  if (fd->next > fd->count)
    return;
  if (fd->next == fd->count) {
    fd->next++;
    gst_app_src_end_of_stream(src);
    return;
  }
  guint index = fd->next < fd->warmup ? 0 : fd->next - fd->warmup;
  GstBuffer *buf = vigil_scene_render_frame(fd->render, fd->intro, index, fd->count - fd->warmup);
  GST_BUFFER_PTS(buf) = gst_util_uint64_scale(fd->next, GST_SECOND, fd->fps);
  GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, fd->fps);
  fd->next++;
  gst_app_src_push_buffer(src, buf);
}

static GstFlowReturn collector_new_sample(GstAppSink *sink, gpointer user_data)
{
  Collector *c = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
  if (!sample)
    return GST_FLOW_EOS;
  if (!c->caps)
    c->caps = gst_caps_ref(gst_sample_get_caps(sample));
  g_ptr_array_add(c->buffers, gst_buffer_ref(gst_sample_get_buffer(sample)));
  return GST_FLOW_OK;
}

/* gst_parse_launch() may return a pipeline *and* an error (e.g. an unknown
 * property); our launch lines are fixed, so treat both as fatal. */
static GstElement *parse_pipeline(const char *launch, GError **error)
{
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch(launch, &parse_error);
  if (pipeline)
    gst_object_ref_sink(pipeline); /* own it, it was floating */
  if (!pipeline || parse_error) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                "cannot build the encoding pipeline: %s",
                parse_error ? parse_error->message : "unknown error");
    return NULL;
  }
  return g_steal_pointer(&pipeline);
}

/* Runs @pipeline to EOS, collecting what reaches the appsink "sink". */
static gboolean run_to_eos(GstElement *pipeline, Collector *c, GError **error)
{
  g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstAppSinkCallbacks cbs = {.new_sample = collector_new_sample};
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, c, NULL);

  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
                "the encoding pipeline does not start");
    gst_element_set_state(pipeline, GST_STATE_NULL);
    return FALSE;
  }
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  g_autoptr(GstMessage) msg =
      gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) gerr = NULL;
    gst_message_parse_error(msg, &gerr, NULL);
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "encoding failed: %s", gerr->message);
    return FALSE;
  }
  if (c->buffers->len == 0 || !c->caps) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "the encoder produced nothing");
    return FALSE;
  }
  return TRUE;
}

guint vigil_encode_gop_frames(const VigilEncodeParams *params)
{
  return MAX(1u, (guint)lround(params->gop_seconds * params->fps));
}

guint vigil_encode_loop_frames(const VigilEncodeParams *params)
{
  guint gop = vigil_encode_gop_frames(params);
  guint frames = MAX(1u, (guint)lround(params->loop_seconds * params->fps));
  return (frames + gop - 1) / gop * gop;
}

/* Sets up the encoder for @params: constant bitrate (with filler for H.264,
 * so even a still picture really uses the bitrate), no B-frames (PTS = DTS
 * makes looping trivial), no scene-cut keyframes so keyframes come exactly
 * every GOP. */
static void configure_encoder(GstElement *enc, const VigilEncodeParams *params)
{
  guint gop = vigil_encode_gop_frames(params);
  g_autofree char *options = NULL;
  if (params->codec == VIGIL_CODEC_H264) {
    options = g_strdup_printf("scenecut=0:min-keyint=%u:nal-hrd=cbr:filler=1", gop);
    gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "veryfast");
    gst_util_set_object_arg(G_OBJECT(enc), "pass", "cbr");
    g_object_set(enc, "bframes", 0, NULL);
  } else {
    options = g_strdup_printf("scenecut=0:min-keyint=%u:bframes=0:open-gop=0:repeat-headers=1:"
                              "vbv-maxrate=%d:vbv-bufsize=%d:strict-cbr=1",
                              gop, params->bitrate_kbps, params->bitrate_kbps);
    gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "superfast");
  }
  g_object_set(enc, "bitrate", (guint)params->bitrate_kbps, "key-int-max", gop, "option-string",
               options, NULL);
}

/* Writes the NAL unit types of @buf, one avc/hvc1 access unit (NAL units
 * with 4-byte big-endian lengths), to @types. */
static void unit_nal_types(GstBuffer *buf, gboolean h264, GString *types)
{
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ))
    return;
  gsize pos = 0;
  while (pos + 5 <= map.size) {
    guint32 len = GST_READ_UINT32_BE(map.data + pos);
    if (len == 0 || len > map.size - pos - 4)
      break;
    guint8 b = map.data[pos + 4];
    guint type = h264 ? b & 0x1f : (b >> 1) & 0x3f;
    g_string_append_printf(types, "%s%u", types->len ? " " : "", type);
    pos += 4 + (gsize)len;
  }
  gst_buffer_unmap(buf, &map);
}

/* Logs every unit's NAL types, when the unit count does not match the
 * frames given. */
static void describe_units(GPtrArray *units, gboolean h264)
{
  for (guint i = 0; i < units->len; i++) {
    g_autoptr(GString) types = g_string_new(NULL);
    GstBuffer *unit = g_ptr_array_index(units, i);
    unit_nal_types(unit, h264, types);
    g_message("unit %u: %zu bytes, pts %" GST_TIME_FORMAT ", NAL types %s", i,
              gst_buffer_get_size(unit), GST_TIME_ARGS(GST_BUFFER_PTS(unit)), types->str);
  }
}

/* One try of encode_part(); sets @miscounted when the units handed out do
 * not match the frames fed. */
static gboolean encode_part_once(VigilSceneRender *render, const VigilEncodeParams *params,
                                 gboolean intro, guint warmup, guint count, GstCaps **caps_out,
                                 GPtrArray *out, gboolean *miscounted, GError **error)
{
  gboolean h264 = params->codec == VIGIL_CODEC_H264;
  const char *encoder = h264 ? "x264enc" : "x265enc";
  g_autoptr(GstElementFactory) factory = gst_element_factory_find(encoder);
  if (!factory) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                "GStreamer element %s is missing (install gstreamer1.0-plugins-%s)", encoder,
                h264 ? "ugly" : "bad");
    return FALSE;
  }

  /* avc/hvc1 (length-prefixed, parameter sets in caps): the serving
   * payloader then needs no parser scanning every byte for start codes. */
  g_autofree char *launch = g_strdup_printf(
      "appsrc name=src format=time ! %s name=enc ! %s ! capsfilter caps=%s,alignment=au"
      " ! appsink name=sink sync=false",
      encoder, h264 ? "h264parse" : "h265parse",
      h264 ? "video/x-h264,stream-format=avc" : "video/x-h265,stream-format=hvc1");
  g_autoptr(GstElement) pipeline = parse_pipeline(launch, error);
  if (!pipeline)
    return FALSE;
  g_autoptr(GstElement) src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_autoptr(GstElement) enc = gst_bin_get_by_name(GST_BIN(pipeline), "enc");
  configure_encoder(enc, params);

  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, params->width, params->height);
  GST_VIDEO_INFO_FPS_N(&info) = params->fps;
  GST_VIDEO_INFO_FPS_D(&info) = 1;
  g_autoptr(GstCaps) raw_caps = gst_video_info_to_caps(&info);
  Feeder feeder = {
      .render = render,
      .intro = intro,
      .warmup = warmup,
      .count = warmup + count,
      .fps = params->fps,
  };
  GstAppSrcCallbacks src_cbs = {.need_data = feeder_need_data};
  gst_app_src_set_caps(GST_APP_SRC(src), raw_caps);
  gst_app_src_set_callbacks(GST_APP_SRC(src), &src_cbs, &feeder, NULL);

  Collector c = {.buffers = out, .caps = NULL};
  gboolean ok = run_to_eos(pipeline, &c, error);
  if (ok && out->len != warmup + count) {
    describe_units(out, h264);
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
                "the encoder returned %u frames for %u", out->len, warmup + count);
    *miscounted = TRUE;
    ok = FALSE;
  }
  if (ok)
    g_ptr_array_remove_range(out, 0, warmup);
  if (ok && GST_BUFFER_FLAG_IS_SET(g_ptr_array_index(out, 0), GST_BUFFER_FLAG_DELTA_UNIT)) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
                "the encoder did not start with a keyframe");
    ok = FALSE;
  }
  if (ok) {
    /* Without B-frames decode order is display order: give every unit exact,
     * gap-free timestamps so loops join seamlessly. */
    for (guint i = 0; i < out->len; i++) {
      GstBuffer **slot = (GstBuffer **)&g_ptr_array_index(out, i);
      *slot = gst_buffer_make_writable(*slot);
      GST_BUFFER_PTS(*slot) = GST_BUFFER_DTS(*slot) =
          gst_util_uint64_scale(i, GST_SECOND, params->fps);
      GST_BUFFER_DURATION(*slot) = gst_util_uint64_scale(1, GST_SECOND, params->fps);
    }
    *caps_out = g_steal_pointer(&c.caps);
  }
  gst_clear_caps(&c.caps);
  return ok;
}

/* Encodes @count frames of one part of the scene into @out, after
 * @warmup frames that are encoded and thrown away (the rate control needs a
 * GOP to settle on its bitrate).
 *
 * x265enc + h265parse now and then hand out the first picture of a part
 * as two units: the parameter sets and SEI that x265enc puts in front of it
 * (sometimes with a few bytes more that read as a NAL unit of type 0), then
 * the IDR picture without a timestamp (6 starts in about 100 with the
 * machine busy, always in the 640x360 sub stream's loop). The cause inside
 * the parser was not found (docs/soak.md). Such a clip would be
 * wrong, so a part whose units do not match its frames is encoded again, up
 * to three times in all, with its units logged each time. */
static gboolean encode_part(VigilSceneRender *render, const VigilEncodeParams *params,
                            gboolean intro, guint warmup, guint count, GstCaps **caps_out,
                            GPtrArray *out, GError **error)
{
  for (guint attempt = 1;; attempt++) {
    gboolean miscounted = FALSE;
    g_autoptr(GError) local = NULL;
    if (encode_part_once(render, params, intro, warmup, count, caps_out, out, &miscounted, &local))
      return TRUE;
    if (!miscounted || attempt == 3) {
      g_propagate_error(error, g_steal_pointer(&local));
      return FALSE;
    }
    g_warning("%s; encoding again (try %u of 3)", local->message, attempt + 1);
    g_ptr_array_set_size(out, 0);
  }
}

static void clip_clear(gpointer data)
{
  VigilClip *clip = data;
  gst_clear_caps(&clip->caps);
  g_clear_pointer(&clip->intro, g_ptr_array_unref);
  g_clear_pointer(&clip->loop, g_ptr_array_unref);
}

static VigilClip *clip_new(void)
{
  VigilClip *clip = g_atomic_rc_box_new0(VigilClip);
  clip->intro = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
  clip->loop = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
  return clip;
}

VigilClip *vigil_clip_ref(VigilClip *clip)
{
  return g_atomic_rc_box_acquire(clip);
}

void vigil_clip_unref(VigilClip *clip)
{
  if (clip)
    g_atomic_rc_box_release_full(clip, clip_clear);
}

VigilClip *vigil_clip_encode_video(const VigilScene *scene, const VigilEncodeParams *params,
                                   GError **error)
{
  g_return_val_if_fail(scene != NULL && params != NULL && params->fps > 0, NULL);

  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, params->width, params->height);
  GST_VIDEO_INFO_FPS_N(&info) = params->fps;
  GST_VIDEO_INFO_FPS_D(&info) = 1;
  g_autoptr(VigilSceneRender) render = vigil_scene_render_new(scene, &info, error);
  /* A scene with a loop of its own (demo) ignores --loop. */
  VigilEncodeParams scene_params = *params;
  if (scene->loop_seconds > 0)
    scene_params.loop_seconds = scene->loop_seconds;
  params = &scene_params;
  if (!render)
    return NULL;

  gint64 start = g_get_monotonic_time();
  g_autoptr(VigilClip) clip = clip_new();
  guint intro_frames = 0;
  if (scene->kind == VIGIL_SCENE_MOTION)
    intro_frames = (guint)lround(scene->still_seconds * params->fps);
  /* A still picture looks the same whatever the loop length, so loop a
   * single GOP: startup (seconds with x265) and memory shrink tenfold. */
  gboolean still = vigil_scene_render_is_still(render);
  guint loop_frames = still ? vigil_encode_gop_frames(params) : vigil_encode_loop_frames(params);

  g_autoptr(GstCaps) intro_caps = NULL;
  if (intro_frames > 0 &&
      !encode_part(render, params, TRUE, 0, intro_frames, &intro_caps, clip->intro, error))
    return NULL;
  if (!encode_part(render, params, FALSE, still ? loop_frames : 0, loop_frames, &clip->caps,
                   clip->loop, error))
    return NULL;
  /* The two parts come from two encoder runs with identical settings, so
   * their parameter sets match; they are also repeated in-band at every
   * keyframe, so a decoder would cope even if they did not. */
  if (intro_caps && !gst_caps_is_equal(intro_caps, clip->caps))
    g_warning("scene %s: the still part and the loop have different caps", scene->spec);

  clip->intro_duration = gst_util_uint64_scale(intro_frames, GST_SECOND, params->fps);
  clip->loop_duration = gst_util_uint64_scale(loop_frames, GST_SECOND, params->fps);
  for (guint i = 0; i < clip->loop->len; i++)
    clip->loop_bytes += gst_buffer_get_size(g_ptr_array_index(clip->loop, i));
  g_message("encoded scene %s at %dx%d: %u still + %u looping frames, %.0f kbit/s, in %.1f s",
            scene->spec, params->width, params->height, intro_frames, loop_frames,
            clip->loop_bytes * 8.0 / 1000.0 / (clip->loop_duration / (double)GST_SECOND),
            (g_get_monotonic_time() - start) / 1e6);
  return g_steal_pointer(&clip);
}

VigilClip *vigil_clip_encode_audio(double seconds, GError **error)
{
  const char *encoder = NULL;
  const char *candidates[] = {"avenc_aac", "voaacenc"};
  for (guint i = 0; i < G_N_ELEMENTS(candidates) && !encoder; i++) {
    g_autoptr(GstElementFactory) f = gst_element_factory_find(candidates[i]);
    if (f)
      encoder = candidates[i];
  }
  if (!encoder) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                "no AAC encoder: install gstreamer1.0-libav (avenc_aac) or "
                "gstreamer1.0-plugins-bad (voaacenc)");
    return NULL;
  }

  guint frames = MAX(1u, (guint)ceil(seconds * AUDIO_RATE / AAC_FRAME_SAMPLES));
  double duration = (double)frames * AAC_FRAME_SAMPLES / AUDIO_RATE;
  /* A whole number of periods per loop, so the tone has no click at the wrap. */
  double freq = MAX(1.0, round(440.0 * duration)) / duration;
  g_autofree char *launch = g_strdup_printf(
      "audiotestsrc wave=sine volume=0.3 freq=%f samplesperbuffer=%d num-buffers=%u"
      " ! audio/x-raw,rate=%d,channels=1 ! audioconvert ! %s bitrate=64000 ! aacparse"
      " ! audio/mpeg,mpegversion=4,stream-format=raw ! appsink name=sink sync=false",
      freq, AAC_FRAME_SAMPLES, frames, AUDIO_RATE, encoder);
  g_autoptr(GstElement) pipeline = parse_pipeline(launch, error);
  if (!pipeline)
    return NULL;

  g_autoptr(VigilClip) clip = clip_new();
  Collector c = {.buffers = clip->loop, .caps = NULL};
  if (!run_to_eos(pipeline, &c, error)) {
    gst_clear_caps(&c.caps);
    return NULL;
  }
  clip->caps = c.caps;
  GstClockTime frame_duration = gst_util_uint64_scale(AAC_FRAME_SAMPLES, GST_SECOND, AUDIO_RATE);
  for (guint i = 0; i < clip->loop->len; i++) {
    GstBuffer **slot = (GstBuffer **)&g_ptr_array_index(clip->loop, i);
    *slot = gst_buffer_make_writable(*slot);
    GST_BUFFER_PTS(*slot) = GST_BUFFER_DTS(*slot) =
        gst_util_uint64_scale(i * AAC_FRAME_SAMPLES, GST_SECOND, AUDIO_RATE);
    GST_BUFFER_DURATION(*slot) = frame_duration;
    clip->loop_bytes += gst_buffer_get_size(*slot);
  }
  clip->loop_duration =
      gst_util_uint64_scale(clip->loop->len * AAC_FRAME_SAMPLES, GST_SECOND, AUDIO_RATE);
  g_message("encoded audio: %u AAC frames (%.2f s) with %s", clip->loop->len,
            clip->loop_duration / (double)GST_SECOND, encoder);
  return g_steal_pointer(&clip);
}
