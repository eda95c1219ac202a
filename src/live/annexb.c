/* Annex B scanning (see annexb.h). */
#include "live/annexb.h"

#include <string.h>

gsize vigil_annexb_next_nal(const guint8 *data, gsize size, gsize from)
{
  gsize i = from;
  while (i + 3 <= size) {
    const guint8 *zero = memchr(data + i, 0, size - i);
    if (!zero)
      return size;
    i = (gsize)(zero - data);
    if (i + 3 > size)
      return size;
    if (data[i + 1] == 0 && data[i + 2] == 1)
      return i + 3;
    i++;
  }
  return size;
}

gboolean vigil_annexb_has_parameter_sets(const guint8 *data, gsize size, VigilCodec codec)
{
  g_return_val_if_fail(data != NULL || size == 0, FALSE);
  for (gsize pos = vigil_annexb_next_nal(data, size, 0); pos < size;
       pos = vigil_annexb_next_nal(data, size, pos)) {
    if (codec == VIGIL_CODEC_H265) {
      guint type = (data[pos] >> 1) & 0x3F;
      if (type == 32 || type == 33) /* VPS, SPS */
        return TRUE;
      if (type < 32) /* a slice: parameter sets come before it or not at all */
        return FALSE;
    } else {
      guint type = data[pos] & 0x1F;
      if (type == 7) /* SPS */
        return TRUE;
      if (type >= 1 && type <= 5)
        return FALSE;
    }
  }
  return FALSE;
}
