/* vigil-fakecam one-time encoding: turn a scene (or a tone) into a clip of
 * encoded access units kept in memory, which server.c then loops forever. */
#pragma once

#include <glib.h>
#include <gst/gst.h>

#include "scenes.h"

G_BEGIN_DECLS

typedef enum {
  VIGIL_CODEC_H264,
  VIGIL_CODEC_H265,
} VigilCodec;

/* Stream settings shared by every camera. */
typedef struct {
  int width, height;
  int fps;
  int bitrate_kbps; /* constant bitrate target */
  double gop_seconds;
  double loop_seconds;
  VigilCodec codec;
} VigilEncodeParams;

/* Pre-encoded media. Timestamps (PTS and DTS) of @intro start at 0 and those
 * of @loop start at 0 again; each part's first buffer is a keyframe. The
 * player sends @intro once, then @loop over and over. Reference-counted
 * (g_atomic_rc_box) because every media that serves it holds a ref. */
typedef struct {
  GstCaps *caps;    /* caps for the serving appsrc (with codec_data) */
  GPtrArray *intro; /* GstBuffer*, played once; may be empty */
  GPtrArray *loop;  /* GstBuffer*, played repeatedly; never empty */
  GstClockTime intro_duration;
  GstClockTime loop_duration;
  guint64 loop_bytes; /* payload bytes in @loop, for the bitrate log line */
} VigilClip;

/* Returns the frame count of a loop of @params: --loop seconds rounded up to
 * whole GOPs, so the keyframe interval stays regular across the wrap. */
guint vigil_encode_loop_frames(const VigilEncodeParams *params);

/* Returns the keyframe interval in frames. */
guint vigil_encode_gop_frames(const VigilEncodeParams *params);

/* Encodes @scene once (blocking, may take seconds). Moving scenes loop
 * vigil_encode_loop_frames() frames; still scenes (static, qr, image) loop a
 * single GOP, which looks the same. Returns NULL with @error set when the
 * scene cannot be drawn (G_OPTION_ERROR: a bad scene argument) or the encoder
 * fails. */
VigilClip *vigil_clip_encode_video(const VigilScene *scene, const VigilEncodeParams *params,
                                   GError **error);

/* Encodes about @seconds of a 440 Hz sine tone as AAC (48 kHz mono) with
 * avenc_aac or voaacenc. Returns NULL with @error set if neither exists. */
VigilClip *vigil_clip_encode_audio(double seconds, GError **error);

/* Takes a reference. */
VigilClip *vigil_clip_ref(VigilClip *clip);

/* Drops a reference; the last one frees the buffers. NULL is allowed. */
void vigil_clip_unref(VigilClip *clip);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilClip, vigil_clip_unref)

G_END_DECLS
