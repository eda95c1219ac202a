/* libFuzzer target: a recording's playlist.m3u8 as crash repair reads it from
 * disk (vigil_playlist_parse). Invariants: every segment has a start time, a
 * duration that is not negative and a seq from its 6-digit file name; what
 * was parsed, written back the way repair does (vigil_playlist_build), parses
 * again to the same segments, and from then on build and parse are a fixed
 * point. */
#include <stdint.h>

#include "record/playlist.h"

static void check_segments(GPtrArray *segs)
{
  for (guint i = 0; i < segs->len; i++) {
    VigilSegment *s = g_ptr_array_index(segs, i);
    if (s->duration_us < 0 || s->start_us < 0 || s->seq < 0 || s->seq > 999999 || s->recording != 0)
      __builtin_trap();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree gchar *text = g_strndup((const char *)data, size);
  gboolean closed = FALSE;
  g_autofree gchar *reason = NULL;
  g_autoptr(GPtrArray) segs = vigil_playlist_parse(text, &closed, &reason);
  if (!segs)
    return 0;
  check_segments(segs);

  g_autofree gchar *built = vigil_playlist_build(segs, closed, "", reason);
  gboolean closed2 = FALSE;
  g_autofree gchar *reason2 = NULL;
  g_autoptr(GPtrArray) again = vigil_playlist_parse(built, &closed2, &reason2);
  if (!again || again->len != segs->len || closed2 != closed || g_strcmp0(reason, reason2) != 0)
    __builtin_trap();
  check_segments(again);
  for (guint i = 0; i < segs->len; i++) {
    VigilSegment *a = g_ptr_array_index(segs, i), *b = g_ptr_array_index(again, i);
    /* Times are written to the millisecond; the first segment's
     * discontinuity flag is not written. */
    if (a->seq != b->seq || b->start_us > a->start_us || a->start_us - b->start_us >= 1000 ||
        ABS(a->duration_us - b->duration_us) > 500 || (i > 0 && a->discont != b->discont))
      __builtin_trap();
  }
  /* Once written (durations to the millisecond), the text is a fixed point.
   * Not the first text: its EXT-X-TARGETDURATION comes from the durations in
   * microseconds. */
  g_autofree gchar *built2 = vigil_playlist_build(again, closed2, "", reason2);
  g_autofree gchar *reason3 = NULL;
  g_autoptr(GPtrArray) third = vigil_playlist_parse(built2, &closed2, &reason3);
  g_autofree gchar *built3 = third ? vigil_playlist_build(third, closed2, "", reason3) : NULL;
  if (!built3 || !g_str_equal(built2, built3))
    __builtin_trap();
  return 0;
}
