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

/* Walks the NAL units up to the first slice: whether a parameter set came
 * before it, and the slice's type (-1 when there is none). */
static int first_slice(const guint8 *data, gsize size, VigilCodec codec, gboolean *params)
{
  *params = FALSE;
  for (gsize pos = vigil_annexb_next_nal(data, size, 0); pos < size;
       pos = vigil_annexb_next_nal(data, size, pos)) {
    if (codec == VIGIL_CODEC_H265) {
      guint type = (data[pos] >> 1) & 0x3F;
      if (type == 32 || type == 33) /* VPS, SPS */
        *params = TRUE;
      else if (type < 32) /* a slice: parameter sets come before it or not at all */
        return (int)type;
    } else {
      guint type = data[pos] & 0x1F;
      if (type == 7) /* SPS */
        *params = TRUE;
      else if (type >= 1 && type <= 5)
        return (int)type;
    }
  }
  return -1;
}

gsize vigil_annexb_parameter_sets(const guint8 *data, gsize size, VigilCodec codec, GByteArray *out)
{
  static const guint8 start_code[4] = {0, 0, 0, 1};
  g_return_val_if_fail((data != NULL || size == 0) && out != NULL, size);
  gsize pos = vigil_annexb_next_nal(data, size, 0);
  while (pos < size) {
    gsize next = vigil_annexb_next_nal(data, size, pos);
    gsize start = pos >= 4 && data[pos - 4] == 0 ? pos - 4 : pos - 3; /* this unit's start code */
    gboolean slice, param;
    if (codec == VIGIL_CODEC_H265) {
      guint type = (data[pos] >> 1) & 0x3F;
      slice = type < 32;
      param = type >= 32 && type <= 34;
    } else {
      guint type = data[pos] & 0x1F;
      slice = type >= 1 && type <= 5;
      param = type == 7 || type == 8;
    }
    if (slice)
      return start;
    if (param) {
      gsize end = next < size ? next - 3 : size;
      while (end > pos && data[end - 1] == 0)
        end--; /* the next start code's leading zero, trailing_zero_8bits */
      g_byte_array_append(out, start_code, sizeof start_code);
      g_byte_array_append(out, data + pos, (guint)(end - pos));
    }
    pos = next;
  }
  return size;
}

gboolean vigil_annexb_has_parameter_sets(const guint8 *data, gsize size, VigilCodec codec)
{
  g_return_val_if_fail(data != NULL || size == 0, FALSE);
  gboolean params;
  first_slice(data, size, codec, &params);
  return params;
}

gboolean vigil_annexb_is_keyframe(const guint8 *data, gsize size, VigilCodec codec)
{
  g_return_val_if_fail(data != NULL || size == 0, FALSE);
  gboolean params;
  int type = first_slice(data, size, codec, &params);
  if (codec == VIGIL_CODEC_H265)
    return type >= 16 && type <= 23;
  return type == 5;
}

gboolean vigil_annexb_is_idr(const guint8 *data, gsize size, VigilCodec codec)
{
  g_return_val_if_fail(data != NULL || size == 0, FALSE);
  gboolean params;
  int type = first_slice(data, size, codec, &params);
  if (codec == VIGIL_CODEC_H265)
    return type == 19 || type == 20;
  return type == 5;
}

gboolean vigil_annexb_is_valid(const guint8 *data, gsize size, VigilCodec codec)
{
  g_return_val_if_fail(data != NULL || size == 0, FALSE);
  gboolean any = FALSE;
  for (gsize pos = vigil_annexb_next_nal(data, size, 0); pos < size;
       pos = vigil_annexb_next_nal(data, size, pos)) {
    any = TRUE;
    if (data[pos] & 0x80)
      return FALSE;
    if (codec == VIGIL_CODEC_H265) {
      guint type = (data[pos] >> 1) & 0x3F;
      if (type >= 41 || pos + 1 >= size || (data[pos + 1] & 7) == 0)
        return FALSE;
    } else {
      guint type = data[pos] & 0x1F;
      if (type == 0 || type >= 24)
        return FALSE;
    }
  }
  return any;
}

void vigil_annexb_classify_piece(const guint8 *data, gsize size, VigilCodec codec, gboolean *begins,
                                 gboolean *has_slice)
{
  *begins = FALSE;
  *has_slice = FALSE;
  gsize pos = vigil_annexb_next_nal(data, size, 0);
  /* A piece that does not open with a start code continues a NAL unit. */
  if (pos >= size || pos > 4)
    return;
  for (gboolean first = TRUE; pos < size; pos = vigil_annexb_next_nal(data, size, pos)) {
    gboolean slice, starts;
    if (codec == VIGIL_CODEC_H265) {
      guint type = (data[pos] >> 1) & 0x3F;
      slice = type < 32;
      /* AUD, VPS, SPS, PPS, prefix SEI, reserved 41-44 and 48-55 */
      starts = slice ? pos + 2 < size && (data[pos + 2] & 0x80)
                     : (type >= 32 && type <= 35) || type == 39 || (type >= 41 && type <= 44) ||
                           (type >= 48 && type <= 55);
    } else {
      guint type = data[pos] & 0x1F;
      slice = type >= 1 && type <= 5;
      /* first_mb_in_slice is ue(v): 0 is the single bit 1 */
      starts = slice
                   ? pos + 1 < size && (data[pos + 1] & 0x80)
                   : type == 6 || type == 7 || type == 8 || type == 9 || (type >= 14 && type <= 18);
    }
    if (first)
      *begins = starts;
    first = FALSE;
    *has_slice = *has_slice || slice;
  }
}
