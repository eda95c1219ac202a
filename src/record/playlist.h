/* HLS VOD playlists of recordings: built from segment lists (for the file on
 * disk and for the API) and parsed back (crash repair reads the file on disk
 * to learn which segments were complete). Pure: no I/O. */
#pragma once

#include <glib.h>

#include "store/recordings.h"

G_BEGIN_DECLS

/* A playlist for @segments (VigilSegment*, in order): one
 * EXT-X-PROGRAM-DATE-TIME per segment, EXT-X-DISCONTINUITY before a segment
 * after a gap, EXT-X-ENDLIST when @closed. Each URI is @uri_prefix followed
 * by "%06d.ts". @reason, if set, goes into a comment line that crash repair
 * reads back. */
gchar *vigil_playlist_build(GPtrArray *segments, gboolean closed, const char *uri_prefix,
                            const char *reason);
/* The same with @uri_suffix after each "%06d.ts" (the API's
 * "?stream=sub"). */
gchar *vigil_playlist_build_uris(GPtrArray *segments, gboolean closed, const char *uri_prefix,
                                 const char *uri_suffix, const char *reason);

/* The seconds EXT-X-TARGETDURATION needs for a segment of @duration_us. */
int vigil_playlist_target_s(gint64 duration_us);

/* The recording writer's playlist while the recording is open (no
 * EXT-X-ENDLIST, URIs "%06d.ts"), whose later segments are appended with
 * vigil_playlist_entry instead of writing it all again: its
 * EXT-X-TARGETDURATION, returned in @target_s, is twice the longest segment
 * so far, room for the segments to come; one longer than that needs the
 * playlist built again. */
gchar *vigil_playlist_build_growing(GPtrArray *segments, const char *reason, int *target_s);
/* The lines of @seg to append to such a playlist (@first: it is the
 * playlist's first segment). */
gchar *vigil_playlist_entry(const VigilSegment *seg, gboolean first);

/* Parses a playlist written by vigil_playlist_build. Returns the segments
 * (VigilSegment*, recording = 0; seq from the URI's file name) or NULL when
 * the text is not such a playlist. A last line without its newline (an
 * append cut short by a crash) is left out. @closed: whether it has EXT-X-ENDLIST;
 * @reason: the reason comment or NULL. */
GPtrArray *vigil_playlist_parse(const char *text, gboolean *closed, gchar **reason);

G_END_DECLS
