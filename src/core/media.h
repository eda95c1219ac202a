/* Plain media vocabulary shared by every layer that handles video: which
 * codec a stream carries. No GStreamer, no libav. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_CODEC_NONE,
  VIGIL_CODEC_H264,
  VIGIL_CODEC_H265,
} VigilCodec;

const char *vigil_codec_to_string(VigilCodec codec); /* "h264", "h265", NULL */

G_END_DECLS
