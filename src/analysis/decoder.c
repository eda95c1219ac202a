/* Keyframe decoding with libavcodec and libswscale (see decoder.h). */
#define G_LOG_DOMAIN "vigil-analysis"

#include "analysis/decoder.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "live/annexb.h"

struct _VigilDecoder {
  VigilCodec codec;
  AVCodecContext *ctx;
  AVPacket *packet;
  AVBufferRef *packet_data; /* the packets' bytes, kept for the next one */
  AVFrame *frame;
  struct SwsContext *sws;
  struct SwsContext *sws_rgb; /* for detection, only when asked */
  /* The parameter sets @ctx has (empty: none known), and scratch. */
  GByteArray *ps_known, *ps_now;
  /* Grey at the picture's own size: luma through @luma (see luma_map()). */
  int luma_format; /* the pixel format @luma is for; AV_PIX_FMT_NONE: none yet */
  gboolean luma_ok;
  guint8 luma[256];
  /* The grey picture handed out (valid until the next decode), kept. */
  guint8 *gray;
  gsize gray_size;
};

static AVCodecContext *open_context(VigilCodec codec, gboolean fast, GError **error)
{
  const AVCodec *dec =
      avcodec_find_decoder(codec == VIGIL_CODEC_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
  AVCodecContext *ctx = dec ? avcodec_alloc_context3(dec) : NULL;
  if (!ctx) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "no %s decoder",
                vigil_codec_to_string(codec));
    return NULL;
  }
  /* One thread: frame threads would add a frame of delay each, and a keyframe
   * every second does not need several cores. */
  ctx->thread_count = 1;
  ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
  if (fast) {
    /* Analysis looks at a 640 px grey picture: the deblocking filter's work
     * (a large share of decoding a detailed keyframe) changes nothing there. */
    ctx->skip_loop_filter = AVDISCARD_ALL;
    ctx->flags2 |= AV_CODEC_FLAG2_FAST;
  }
  if (avcodec_open2(ctx, dec, NULL) < 0) {
    avcodec_free_context(&ctx);
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "cannot open the %s decoder",
                vigil_codec_to_string(codec));
    return NULL;
  }
  return ctx;
}

VigilDecoder *vigil_decoder_new(VigilCodec codec, GError **error)
{
  AVCodecContext *ctx = open_context(codec, TRUE, error);
  if (!ctx)
    return NULL;
  VigilDecoder *self = g_new0(VigilDecoder, 1);
  self->codec = codec;
  self->ctx = ctx;
  self->packet = av_packet_alloc();
  self->frame = av_frame_alloc();
  self->luma_format = AV_PIX_FMT_NONE;
  self->ps_known = g_byte_array_new();
  self->ps_now = g_byte_array_new();
  return self;
}

void vigil_decoder_free(VigilDecoder *self)
{
  if (!self)
    return;
  avcodec_free_context(&self->ctx);
  av_packet_free(&self->packet);
  av_buffer_unref(&self->packet_data);
  av_frame_free(&self->frame);
  sws_freeContext(self->sws);
  sws_freeContext(self->sws_rgb);
  g_byte_array_unref(self->ps_known);
  g_byte_array_unref(self->ps_now);
  g_free(self->gray);
  g_free(self);
}

VigilCodec vigil_decoder_get_codec(VigilDecoder *self)
{
  return self->codec;
}

void vigil_decoder_get_size(VigilDecoder *self, int *width, int *height)
{
  gboolean any = self->frame && self->frame->data[0];
  *width = any ? self->frame->width : 0;
  *height = any ? self->frame->height : 0;
}

/* Points @packet at a copy of @data in *@reuse: the buffer of the last
 * packet when nothing else holds it any more and it is big enough, else a new
 * one with some room to spare. A keyframe is tens to hundreds of KB; a block
 * of that size allocated and freed per keyframe and camera fragmented the
 * heap (docs/soak.md). */
static gboolean fill_packet(AVPacket *packet, AVBufferRef **reuse, const guint8 *data, gsize size)
{
  av_packet_unref(packet);
  gsize need = size + AV_INPUT_BUFFER_PADDING_SIZE;
  if (!*reuse || (gsize)(*reuse)->size < need || !av_buffer_is_writable(*reuse)) {
    av_buffer_unref(reuse);
    *reuse = av_buffer_alloc(need + need / 4);
    if (!*reuse)
      return FALSE;
  }
  packet->buf = av_buffer_ref(*reuse);
  if (!packet->buf)
    return FALSE;
  packet->data = packet->buf->data;
  packet->size = (int)size;
  memcpy(packet->data, data, size);
  memset(packet->data + size, 0, AV_INPUT_BUFFER_PADDING_SIZE);
  return TRUE;
}

/* Sends one access unit (a keyframe of @codec) and leaves the picture in
 * @frame. The next keyframe must find the decoder clean. After an IDR it is:
 * the next IDR drops every earlier picture by itself, so a small picture (at
 * most VIGIL_ANALYSIS_WIDTH wide: a sub stream) leaves the decoder as it is
 * (a flush costs about a quarter of decoding a 640x360 keyframe). The
 * decoder then keeps that picture as a reference until the next keyframe,
 * so its pool holds two pictures instead of one: ~0.35 MiB more at 640x360,
 * but 3 MiB at 1080p and 12 MiB at 4K, where the flush is a small share of
 * the decode; a bigger picture is flushed. So is the decoder after any other
 * keyframe (an H.265 CRA, an H.264 I slice of an open GOP: the next one
 * would see a gap in frame numbers and conceal the missing pictures), after
 * a drain, and after a failure. */
static gboolean decode_one(AVCodecContext *ctx, VigilCodec codec, AVPacket *packet,
                           AVBufferRef **packet_data, AVFrame *frame, const guint8 *data,
                           gsize size, GError **error)
{
  if (size > G_MAXINT / 2) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "the keyframe is too large");
    return FALSE;
  }
  if (!fill_packet(packet, packet_data, data, size)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "out of memory");
    return FALSE;
  }
  packet->flags |= AV_PKT_FLAG_KEY;
  /* The previous picture goes back to the decoder's pool first, so the pool
   * holds one picture (~3 MiB at 1080p) rather than two. */
  av_frame_unref(frame);
  gboolean got = FALSE, drained = FALSE;
  if (avcodec_send_packet(ctx, packet) >= 0) {
    /* Low delay and one thread: the picture usually comes out at once. */
    int ret = avcodec_receive_frame(ctx, frame);
    if (ret == AVERROR(EAGAIN) && avcodec_send_packet(ctx, NULL) >= 0) {
      drained = TRUE;
      ret = avcodec_receive_frame(ctx, frame);
    }
    got = ret >= 0;
  }
  av_packet_unref(packet);
  if (drained || !got || frame->width > VIGIL_ANALYSIS_WIDTH ||
      !vigil_annexb_is_idr(data, size, codec))
    avcodec_flush_buffers(ctx);
  if (!got || frame->width <= 0 || frame->height <= 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "the keyframe did not decode");
    return FALSE;
  }
  return TRUE;
}

/* A grey picture at the decoded picture's own size is its luma plane, mapped
 * pixel by pixel (limited-range luma stretched to 0-255, or left as it is):
 * what swscale's pass gives, at a quarter of its cost (~0.3 ms for 640x360).
 * The map of @format is learnt once from swscale itself, on a ramp, so the
 * picture is the same as swscale's. FALSE for a format whose luma is not 8-bit
 * samples of their own in plane 0 (swscale is used then). */
static gboolean luma_map(VigilDecoder *self, enum AVPixelFormat format)
{
  if (self->luma_format == format)
    return self->luma_ok;
  self->luma_format = format;
  self->luma_ok = FALSE;
  const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(format);
  if (!d ||
      (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM |
                   AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BAYER)) ||
      d->comp[0].plane != 0 || d->comp[0].step != 1 || d->comp[0].depth != 8 ||
      d->comp[0].offset != 0)
    return FALSE;
  AVFrame *ramp = av_frame_alloc();
  struct SwsContext *sws = NULL;
  guint8 *out = av_malloc(256 * 2); /* aligned, as swscale likes */
  if (ramp) {
    ramp->format = format;
    ramp->width = 256;
    ramp->height = 2;
  }
  if (ramp && av_frame_get_buffer(ramp, 0) >= 0) {
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 256; x++)
        ramp->data[0][y * ramp->linesize[0] + x] = (guint8)x;
    for (int p = 1; p < 4 && ramp->data[p]; p++)
      memset(ramp->data[p], 128, (gsize)ramp->linesize[p] * AV_CEIL_RSHIFT(2, d->log2_chroma_h));
    sws = sws_getContext(256, 2, format, 256, 2, AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
  }
  if (sws && out) {
    uint8_t *dst[4] = {out, NULL, NULL, NULL};
    int dst_stride[4] = {256, 0, 0, 0};
    if (sws_scale(sws, (const uint8_t *const *)ramp->data, ramp->linesize, 0, 2, dst, dst_stride) ==
        2) {
      memcpy(self->luma, out, 256);
      self->luma_ok = TRUE;
    }
  }
  sws_freeContext(sws);
  av_frame_free(&ramp);
  av_free(out);
  return self->luma_ok;
}

/* decode_one() on the decoder's own context, without the parameter sets when
 * they are those it already has. Cameras repeat them before every keyframe,
 * and FFmpeg allocates and zeroes ~170 KB for each H.264 PPS it reads,
 * identical or not: per keyframe and camera, a block that fragmented the
 * heap (docs/soak.md). A flush keeps them; a failure forgets them. */
static gboolean decode_keyframe(VigilDecoder *self, const guint8 *data, gsize size, GError **error)
{
  g_byte_array_set_size(self->ps_now, 0);
  gsize slice = vigil_annexb_parameter_sets(data, size, self->codec, self->ps_now);
  const guint8 *send = data;
  gsize send_size = size;
  if (self->ps_now->len > 0 && slice < size && self->ps_now->len == self->ps_known->len &&
      memcmp(self->ps_now->data, self->ps_known->data, self->ps_now->len) == 0) {
    send = data + slice;
    send_size = size - slice;
  } else {
    GByteArray *known = self->ps_known;
    self->ps_known = self->ps_now;
    self->ps_now = known;
  }
  if (decode_one(self->ctx, self->codec, self->packet, &self->packet_data, self->frame, send,
                 send_size, error))
    return TRUE;
  g_byte_array_set_size(self->ps_known, 0);
  return FALSE;
}

/* The decoder's grey picture buffer, at least @size bytes. */
static guint8 *gray_buffer(VigilDecoder *self, gsize size)
{
  if (self->gray_size < size) {
    g_free(self->gray);
    self->gray = g_malloc(size);
    self->gray_size = size;
  }
  return self->gray;
}

const guint8 *vigil_decoder_decode_gray(VigilDecoder *self, const guint8 *data, gsize size,
                                        int max_width, int *width, int *height, GError **error)
{
  if (!decode_keyframe(self, data, size, error))
    return NULL;
  AVFrame *f = self->frame;
  int w = MIN(max_width, f->width) & ~1;
  int h = (int)((gint64)f->height * w / f->width) & ~1;
  if (w < 2 || h < 2) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "picture too small");
    return NULL;
  }
  if (w == f->width && h == f->height && luma_map(self, f->format)) {
    guint8 *gray = gray_buffer(self, (gsize)w * h);
    for (int y = 0; y < h; y++) {
      const guint8 *src = f->data[0] + (gsize)y * f->linesize[0];
      guint8 *dst = gray + (gsize)y * w;
      for (int x = 0; x < w; x++)
        dst[x] = self->luma[src[x]];
    }
    *width = w;
    *height = h;
    return gray;
  }
  /* Area averaging: every source pixel counts, so a scaled-down frame has
   * less noise rather than aliasing. */
  self->sws = sws_getCachedContext(self->sws, f->width, f->height, f->format, w, h,
                                   AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
  if (!self->sws) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "cannot scale the picture");
    return NULL;
  }
  /* swscale wants aligned rows; pack them afterwards, in place (row y moves
   * to y * w, never past where a later row still is). */
  int stride = (w + 63) & ~63;
  guint8 *gray = gray_buffer(self, (gsize)stride * (h + 1));
  uint8_t *dst[4] = {gray, NULL, NULL, NULL};
  int dst_stride[4] = {stride, 0, 0, 0};
  sws_scale(self->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
  for (int y = 1; y < h; y++)
    memmove(gray + (gsize)y * w, gray + (gsize)y * stride, w);
  *width = w;
  *height = h;
  return gray;
}

guint8 *vigil_decoder_scale_rgb(VigilDecoder *self, int max_width, int max_height, int *width,
                                int *height)
{
  return vigil_decoder_crop_rgb(self, NULL, max_width, max_height, width, height);
}

guint8 *vigil_decoder_crop_rgb(VigilDecoder *self, double crop[4], int max_width, int max_height,
                               int *width, int *height)
{
  AVFrame *whole = self->frame;
  if (!whole || whole->width <= 0 || whole->height <= 0 || !whole->data[0])
    return NULL;
  AVFrame *f = av_frame_clone(whole);
  if (!f)
    return NULL;
  if (crop) {
    /* Even pixel edges, so that 4:2:0 chroma is cut exactly where luma is. */
    int W = whole->width, H = whole->height;
    int x0 = CLAMP((int)(crop[0] * W), 0, W - 2) & ~1;
    int y0 = CLAMP((int)(crop[1] * H), 0, H - 2) & ~1;
    int x1 = CLAMP((int)ceil((crop[0] + crop[2]) * W + 1) & ~1, x0 + 2, W);
    int y1 = CLAMP((int)ceil((crop[1] + crop[3]) * H + 1) & ~1, y0 + 2, H);
    f->crop_left = x0;
    f->crop_top = y0;
    f->crop_right = W - x1;
    f->crop_bottom = H - y1;
    if (av_frame_apply_cropping(f, AV_FRAME_CROP_UNALIGNED) < 0) {
      av_frame_free(&f);
      return NULL;
    }
    crop[0] = (double)x0 / W;
    crop[1] = (double)y0 / H;
    crop[2] = (double)(x1 - x0) / W;
    crop[3] = (double)(y1 - y0) / H;
  }
  double scale = MIN(1.0, MIN((double)max_width / f->width, (double)max_height / f->height));
  int w = MAX(2, (int)(f->width * scale + 0.5));
  int h = MAX(2, (int)(f->height * scale + 0.5));
  guint8 *rgb = NULL;
  self->sws_rgb = sws_getCachedContext(self->sws_rgb, f->width, f->height, f->format, w, h,
                                       AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
  if (self->sws_rgb) {
    int stride = (w * 3 + 63) & ~63;
    guint8 *padded = g_malloc((gsize)stride * (h + 1));
    uint8_t *dst[4] = {padded, NULL, NULL, NULL};
    int dst_stride[4] = {stride, 0, 0, 0};
    sws_scale(self->sws_rgb, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst,
              dst_stride);
    rgb = g_malloc((gsize)w * 3 * h);
    for (int y = 0; y < h; y++)
      memcpy(rgb + (gsize)y * w * 3, padded + (gsize)y * stride, (gsize)w * 3);
    g_free(padded);
    *width = w;
    *height = h;
  }
  av_frame_free(&f);
  return rgb;
}

/* Draws the outline of each box (x, y, w, h fractions) in green into a
 * YUV 4:2:0 picture, about 3 px wide at 1080p. */
static void draw_boxes(AVFrame *f, const float *boxes, int n)
{
  int t = MAX(2, f->height / 360) & ~1;
  for (int i = 0; i < n; i++) {
    const float *b = boxes + i * 4;
    int x0 = CLAMP((int)(b[0] * f->width), 0, f->width - 1) & ~1;
    int y0 = CLAMP((int)(b[1] * f->height), 0, f->height - 1) & ~1;
    int x1 = CLAMP((int)((b[0] + b[2]) * f->width), x0 + 1, f->width) & ~1;
    int y1 = CLAMP((int)((b[1] + b[3]) * f->height), y0 + 1, f->height) & ~1;
    for (int y = y0; y < y1; y++) {
      gboolean edge_row = y < y0 + t || y >= y1 - t;
      for (int x = x0; x < x1; x++) {
        if (!edge_row && x >= x0 + t && x < x1 - t)
          continue;
        f->data[0][y * f->linesize[0] + x] = 150;
        if (!(x & 1) && !(y & 1)) {
          f->data[1][(y / 2) * f->linesize[1] + x / 2] = 44;
          f->data[2][(y / 2) * f->linesize[2] + x / 2] = 21;
        }
      }
    }
  }
}

GBytes *vigil_decode_jpeg(VigilCodec codec, const guint8 *data, gsize size, int max_width,
                          const float *boxes, int n_boxes, GError **error)
{
  AVCodecContext *ctx = open_context(codec, FALSE, error);
  if (!ctx)
    return NULL;
  AVPacket *packet = av_packet_alloc();
  AVFrame *frame = av_frame_alloc();
  AVFrame *yuv = av_frame_alloc();
  AVCodecContext *enc = NULL;
  struct SwsContext *sws = NULL;
  AVBufferRef *packet_data = NULL;
  GBytes *jpeg = NULL;

  if (!decode_one(ctx, codec, packet, &packet_data, frame, data, size, error))
    goto out;

  const AVCodec *mjpeg = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  enc = mjpeg ? avcodec_alloc_context3(mjpeg) : NULL;
  if (!enc) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "no JPEG encoder");
    goto out;
  }
  int w = frame->width, h = frame->height;
  if (max_width > 0 && w > max_width) {
    h = MAX(2, (int)((gint64)h * max_width / w) & ~1);
    w = max_width & ~1;
  }
  enc->width = w;
  enc->height = h;
  enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
  enc->time_base = (AVRational){1, 25};
  enc->flags |= AV_CODEC_FLAG_QSCALE;
  enc->global_quality = FF_QP2LAMBDA * 4; /* q=4: good quality, modest size */
  if (avcodec_open2(enc, mjpeg, NULL) < 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "cannot open the JPEG encoder");
    goto out;
  }
  yuv->format = AV_PIX_FMT_YUVJ420P;
  yuv->width = w;
  yuv->height = h;
  if (av_frame_get_buffer(yuv, 32) < 0)
    goto fail_convert;
  sws = sws_getContext(frame->width, frame->height, frame->format, w, h, AV_PIX_FMT_YUVJ420P,
                       w == frame->width ? SWS_BILINEAR : SWS_AREA, NULL, NULL, NULL);
  if (!sws)
    goto fail_convert;
  sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, yuv->data,
            yuv->linesize);
  if (n_boxes > 0)
    draw_boxes(yuv, boxes, n_boxes);
  yuv->quality = enc->global_quality;
  yuv->pts = 0;
  av_packet_unref(packet);
  if (avcodec_send_frame(enc, yuv) < 0 || avcodec_send_frame(enc, NULL) < 0 ||
      avcodec_receive_packet(enc, packet) < 0)
    goto fail_convert;
  jpeg = g_bytes_new(packet->data, packet->size);
  goto out;

fail_convert:
  g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "cannot encode the JPEG");
out:
  sws_freeContext(sws);
  avcodec_free_context(&enc);
  avcodec_free_context(&ctx);
  av_packet_free(&packet);
  av_buffer_unref(&packet_data);
  av_frame_free(&frame);
  av_frame_free(&yuv);
  return jpeg;
}
