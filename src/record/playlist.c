/* Building and parsing recording playlists (HLS version 3, VOD). */
#define G_LOG_DOMAIN "vigil-record"

#include "record/playlist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define REASON_COMMENT "# vigil-reason: "
/* Segments are seconds long; a longer EXTINF is not one vigil wrote (and
 * "inf" or "1e999" would overflow the duration in microseconds). */
#define MAX_EXTINF_S 86400.0
/* 9999-12-31T23:59:59.999999Z, the last time vigil_time_format can write. */
#define MAX_TIME_US G_GINT64_CONSTANT(253402300799999999)

gchar *vigil_playlist_build(GPtrArray *segments, gboolean closed, const char *uri_prefix,
                            const char *reason)
{
  return vigil_playlist_build_uris(segments, closed, uri_prefix, "", reason);
}

int vigil_playlist_target_s(gint64 duration_us)
{
  return MAX(1, (int)ceil((double)duration_us / G_USEC_PER_SEC));
}

static void append_header(GString *s, int target_s, gboolean closed, const char *reason)
{
  g_string_append(s, "#EXTM3U\n#EXT-X-VERSION:3\n");
  g_string_append_printf(s, "#EXT-X-TARGETDURATION:%d\n", target_s);
  g_string_append(s, "#EXT-X-MEDIA-SEQUENCE:0\n");
  g_string_append_printf(s, "#EXT-X-PLAYLIST-TYPE:%s\n", closed ? "VOD" : "EVENT");
  if (reason)
    g_string_append_printf(s, REASON_COMMENT "%s\n", reason);
}

static void append_entry(GString *s, const VigilSegment *seg, gboolean first,
                         const char *uri_prefix, const char *uri_suffix)
{
  if (seg->discont && !first)
    g_string_append(s, "#EXT-X-DISCONTINUITY\n");
  g_autofree gchar *when = vigil_time_format(seg->start_us);
  g_string_append_printf(s, "#EXT-X-PROGRAM-DATE-TIME:%s\n", when);
  g_string_append_printf(s, "#EXTINF:%.3f,\n%s%06d.ts%s\n",
                         (double)seg->duration_us / G_USEC_PER_SEC, uri_prefix, seg->seq,
                         uri_suffix);
}

static int longest_s(GPtrArray *segments)
{
  gint64 max_us = 0;
  for (guint i = 0; i < segments->len; i++) {
    VigilSegment *seg = g_ptr_array_index(segments, i);
    max_us = MAX(max_us, seg->duration_us);
  }
  return vigil_playlist_target_s(max_us);
}

static gchar *build(GPtrArray *segments, int target_s, gboolean closed, const char *uri_prefix,
                    const char *uri_suffix, const char *reason)
{
  GString *s = g_string_new(NULL);
  append_header(s, target_s, closed, reason);
  for (guint i = 0; i < segments->len; i++)
    append_entry(s, g_ptr_array_index(segments, i), i == 0, uri_prefix, uri_suffix);
  if (closed)
    g_string_append(s, "#EXT-X-ENDLIST\n");
  return g_string_free(s, FALSE);
}

gchar *vigil_playlist_build_uris(GPtrArray *segments, gboolean closed, const char *uri_prefix,
                                 const char *uri_suffix, const char *reason)
{
  /* EXT-X-TARGETDURATION must be >= every EXTINF rounded to an integer. */
  return build(segments, longest_s(segments), closed, uri_prefix, uri_suffix, reason);
}

gchar *vigil_playlist_build_growing(GPtrArray *segments, const char *reason, int *target_s)
{
  *target_s = 2 * longest_s(segments);
  return build(segments, *target_s, FALSE, "", "", reason);
}

gchar *vigil_playlist_entry(const VigilSegment *seg, gboolean first)
{
  GString *s = g_string_new(NULL);
  append_entry(s, seg, first, "", "");
  return g_string_free(s, FALSE);
}

GPtrArray *vigil_playlist_parse(const char *text, gboolean *closed, gchar **reason)
{
  if (!g_str_has_prefix(text, "#EXTM3U"))
    return NULL;
  /* A line without its newline is the torn end of an append that a crash
   * cut short (vigil_playlist_entry): what it began is not there. */
  const char *last_nl = strrchr(text, '\n');
  g_autofree gchar *whole = g_strndup(text, last_nl ? (gsize)(last_nl - text) : 0);
  g_auto(GStrv) lines = g_strsplit(whole, "\n", -1);
  g_autoptr(GPtrArray) segs = g_ptr_array_new_with_free_func(g_free);
  gint64 when = -1;
  double extinf = -1;
  gboolean discont = FALSE;
  g_autofree gchar *found_reason = NULL;
  *closed = FALSE;
  if (reason)
    *reason = NULL;
  for (guint i = 0; lines[i]; i++) {
    const char *line = g_strstrip(lines[i]);
    if (!*line)
      continue;
    if (g_str_has_prefix(line, "#EXT-X-PROGRAM-DATE-TIME:")) {
      if (!vigil_time_parse(line + strlen("#EXT-X-PROGRAM-DATE-TIME:"), &when) ||
          when > MAX_TIME_US)
        return NULL;
    } else if (g_str_has_prefix(line, "#EXTINF:")) {
      char *end = NULL;
      extinf = g_ascii_strtod(line + strlen("#EXTINF:"), &end);
      if (end == line + strlen("#EXTINF:") || !(extinf >= 0 && extinf <= MAX_EXTINF_S))
        return NULL;
    } else if (g_str_equal(line, "#EXT-X-DISCONTINUITY")) {
      discont = TRUE;
    } else if (g_str_equal(line, "#EXT-X-ENDLIST")) {
      *closed = TRUE;
    } else if (g_str_has_prefix(line, REASON_COMMENT)) {
      if (!found_reason)
        found_reason = g_strdup(line + strlen(REASON_COMMENT));
    } else if (line[0] != '#') {
      /* A segment URI: the last path component must be NNNNNN.ts. */
      const char *base = strrchr(line, '/');
      base = base ? base + 1 : line;
      if (strlen(base) != 9 || !g_str_has_suffix(base, ".ts") || when < 0 || extinf < 0)
        return NULL;
      for (int k = 0; k < 6; k++)
        if (!g_ascii_isdigit(base[k]))
          return NULL;
      VigilSegment *seg = g_new0(VigilSegment, 1);
      seg->seq = atoi(base);
      seg->start_us = when;
      seg->duration_us = (gint64)llround(extinf * G_USEC_PER_SEC);
      seg->discont = discont;
      g_ptr_array_add(segs, seg);
      when = -1;
      extinf = -1;
      discont = FALSE;
    }
  }
  if (reason)
    *reason = g_steal_pointer(&found_reason);
  return g_steal_pointer(&segs);
}
