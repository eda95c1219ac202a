/* What the two RTSP front ends (ingest-rtsp.c, ingest-av.c) share between
 * depacketising and muxing: whole access units made decodable on their own
 * and measured, and raw AAC frames wrapped in ADTS. */
#define G_LOG_DOMAIN "vigil-camera"

#include <libavcodec/avcodec.h>
#include <string.h>

#include "camera/ingest-private.h"
#include "live/annexb.h"

struct _VigilVideoFeed {
  VigilIngest *ingest;
  VigilCodec codec;
  GBytes *parameter_sets;       /* out-of-band (SDP), Annex B, or NULL */
  GByteArray *scratch;          /* a keyframe with them in front */
  AVCodecParserContext *parser; /* reads the picture size off parameter sets */
  AVCodecContext *parser_codec;
  GByteArray *ps_last, *ps_now; /* the parameter sets the size was read off, and scratch */
  int width, height;
  guint units, bad_units; /* in the current window of WINDOW_UNITS */
};

/* A camera whose pictures are garbage (a broken encoder, a corrupted link):
 * this many access units with invalid NAL headers (vigil_annexb_is_valid)
 * among WINDOW_UNITS end the connection as an error. Random payloads fail
 * two pictures in three; a real stream none. */
#define WINDOW_UNITS  50
#define MAX_BAD_UNITS 10

VigilVideoFeed *vigil_video_feed_new(VigilIngest *ingest, VigilCodec codec, GBytes *parameter_sets)
{
  VigilVideoFeed *feed = g_new0(VigilVideoFeed, 1);
  feed->ingest = ingest;
  feed->codec = codec;
  feed->parameter_sets = parameter_sets ? g_bytes_ref(parameter_sets) : NULL;
  feed->scratch = g_byte_array_new();
  feed->ps_last = g_byte_array_new();
  feed->ps_now = g_byte_array_new();
  feed->parser = av_parser_init(codec == VIGIL_CODEC_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
  feed->parser_codec = avcodec_alloc_context3(NULL);
  if (feed->parser)
    feed->parser->flags |= PARSER_FLAG_COMPLETE_FRAMES;
  return feed;
}

void vigil_video_feed_free(VigilVideoFeed *feed)
{
  if (!feed)
    return;
  g_clear_pointer(&feed->parameter_sets, g_bytes_unref);
  g_byte_array_unref(feed->scratch);
  g_byte_array_unref(feed->ps_last);
  g_byte_array_unref(feed->ps_now);
  if (feed->parser)
    av_parser_close(feed->parser);
  avcodec_free_context(&feed->parser_codec);
  g_free(feed);
}

/* The picture size, read off the parameter sets of a keyframe (the parser
 * stops at the first slice). */
static void update_size(VigilVideoFeed *feed, const guint8 *data, gsize size)
{
  if (!feed->parser || !feed->parser_codec)
    return;
  uint8_t *out = NULL;
  int out_size = 0;
  av_parser_parse2(feed->parser, feed->parser_codec, &out, &out_size, data, (int)size,
                   AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
  int width = feed->parser->width, height = feed->parser->height;
  if (width > 0 && height > 0 && (width != feed->width || height != feed->height)) {
    feed->width = width;
    feed->height = height;
    g_debug("camera %s: %s %dx%d", feed->ingest->camera_id, vigil_codec_to_string(feed->codec),
            width, height);
    vigil_ingest_set_format(feed->ingest, feed->codec, width, height);
  }
}

/* Whether the keyframe's parameter sets differ from those the size was last
 * read off: only then can there be a new size. Cameras repeat them before
 * every keyframe, and FFmpeg's parser allocates and zeroes ~170 KB for each
 * H.264 PPS it reads, identical or not: per keyframe and camera, the largest
 * block vigil allocated and freed, which fragmented the heap (docs/soak.md). */
static gboolean parameter_sets_changed(VigilVideoFeed *feed, const guint8 *data, gsize size)
{
  g_byte_array_set_size(feed->ps_now, 0);
  vigil_annexb_parameter_sets(data, size, feed->codec, feed->ps_now);
  if (feed->width > 0 && feed->ps_now->len == feed->ps_last->len &&
      memcmp(feed->ps_now->data, feed->ps_last->data, feed->ps_now->len) == 0)
    return FALSE;
  GByteArray *last = feed->ps_last;
  feed->ps_last = feed->ps_now;
  feed->ps_now = last;
  return TRUE;
}

/* Counts an access unit; FALSE (the failure reported) when too many of the
 * window's are invalid. */
static gboolean count_unit(VigilVideoFeed *feed, gboolean bad)
{
  feed->units++;
  feed->bad_units += bad;
  if (feed->bad_units >= MAX_BAD_UNITS) {
    g_autofree gchar *message = g_strdup_printf(
        "the camera sends video that cannot be decoded: %u of its last %u pictures are not valid "
        "%s",
        feed->bad_units, feed->units, feed->codec == VIGIL_CODEC_H265 ? "H.265" : "H.264");
    vigil_ingest_report_failure(feed->ingest, message, FALSE);
    return FALSE;
  }
  if (feed->units >= WINDOW_UNITS)
    feed->units = feed->bad_units = 0;
  return TRUE;
}

gboolean vigil_video_feed_push(VigilVideoFeed *feed, const guint8 *data, gsize size, gint64 pts_ns)
{
  /* An invalid picture goes nowhere: no decoder could use it, and a
   * recording of it is noise. */
  gboolean valid = vigil_annexb_is_valid(data, size, feed->codec);
  if (!count_unit(feed, !valid))
    return FALSE;
  if (!valid)
    return TRUE;
  gboolean keyframe = vigil_annexb_is_keyframe(data, size, feed->codec);
  g_autoptr(GstBuffer) keyframe_buffer = NULL;
  if (keyframe) {
    if (feed->parameter_sets && !vigil_annexb_has_parameter_sets(data, size, feed->codec)) {
      /* A camera that sends its parameter sets only in the SDP: every
       * keyframe vigil passes on must be decodable on its own. */
      gsize ps_size;
      const guint8 *ps = g_bytes_get_data(feed->parameter_sets, &ps_size);
      g_byte_array_set_size(feed->scratch, 0);
      g_byte_array_append(feed->scratch, ps, (guint)ps_size);
      g_byte_array_append(feed->scratch, data, (guint)size);
      data = feed->scratch->data;
      size = feed->scratch->len;
    }
    if (parameter_sets_changed(feed, data, size))
      update_size(feed, data, size);
    if (feed->width <= 0)
      return TRUE; /* not one picture yet whose size is known */
    if (feed->ingest->keyframe_func)
      keyframe_buffer = gst_buffer_new_memdup(data, size);
  } else if (feed->width <= 0) {
    return TRUE;
  }
  /* RTP carries presentation times only: decode order is taken to be
   * presentation order (B-frames are rare in cameras; docs/architecture.md). */
  return vigil_ingest_push_video(feed->ingest, data, size, pts_ns, 0, keyframe, keyframe_buffer);
}

static const int adts_rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                 22050, 16000, 12000, 11025, 8000,  7350};

gboolean vigil_adts_init(VigilAdts *adts, const guint8 *config, gsize config_size, int sample_rate,
                         int channels)
{
  int object = 2, rate_index = -1;
  if (config && config_size >= 2) {
    object = config[0] >> 3;
    rate_index = ((config[0] & 7) << 1) | (config[1] >> 7);
    channels = (config[1] >> 3) & 0xF;
  }
  if (rate_index < 0 || rate_index >= (int)G_N_ELEMENTS(adts_rates)) {
    rate_index = -1;
    for (guint i = 0; i < G_N_ELEMENTS(adts_rates); i++)
      if (adts_rates[i] == sample_rate)
        rate_index = (int)i;
  }
  if (object < 1 || object > 4 || rate_index < 0 || channels < 1 || channels > 7)
    return FALSE;
  adts->rate = adts_rates[rate_index];
  adts->header[0] = 0xFF;
  adts->header[1] = 0xF1; /* MPEG-4, no CRC */
  adts->header[2] = (guint8)(((object - 1) << 6) | (rate_index << 2) | (channels >> 2));
  adts->header[3] = (guint8)((channels & 3) << 6);
  adts->header[4] = 0;
  adts->header[5] = 0x1F;
  adts->header[6] = 0xFC;
  return TRUE;
}

void vigil_adts_push(const VigilAdts *adts, VigilIngest *ingest, const guint8 *data, gsize size,
                     gint64 pts_ns)
{
  if (size == 0)
    return;
  if (size >= 7 && data[0] == 0xFF && (data[1] & 0xF0) == 0xF0) {
    vigil_ingest_push_audio(ingest, data, size, pts_ns, adts->rate);
    return;
  }
  gsize length = 7 + size;
  if (length > 0x1FFF)
    return; /* not one AAC frame */
  guint8 frame[0x1FFF];
  memcpy(frame, adts->header, 7);
  frame[3] |= (guint8)(length >> 11);
  frame[4] = (guint8)(length >> 3);
  frame[5] = (guint8)(((length & 7) << 5) | 0x1F);
  memcpy(frame + 7, data, size);
  vigil_ingest_push_audio(ingest, frame, length, pts_ns, adts->rate);
}
