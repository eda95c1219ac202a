/* Names of the codecs in core/media.h. */
#include "core/media.h"

const char *vigil_codec_to_string(VigilCodec codec)
{
  switch (codec) {
  case VIGIL_CODEC_H264:
    return "h264";
  case VIGIL_CODEC_H265:
    return "h265";
  case VIGIL_CODEC_NONE:
  default:
    return NULL;
  }
}
