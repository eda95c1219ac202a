/* VigilHls: short-segment live HLS cut from a camera's TS chunks, no
 * re-encoding and no copy: a segment is a list of references to the same
 * chunks every viewer shares. Segments start at a keyframe chunk (which
 * begins with PAT+PMT) and close at the first keyframe at least
 * VIGIL_HLS_MIN_SEGMENT_S after their start, so with the usual 1-2 s
 * keyframe interval a segment is one or two GOPs. The last
 * VIGIL_HLS_SEGMENTS segments are kept in RAM.
 *
 * Pure data structure, no threads: the caller pushes chunks in order. */
#pragma once

#include <glib.h>

#include "live/stream.h"

G_BEGIN_DECLS

#define VIGIL_HLS_SEGMENTS      6
#define VIGIL_HLS_MIN_SEGMENT_S 1.0
/* A segment that grows past this (a camera that stops sending keyframes) is
 * dropped; segmenting resumes at the next keyframe. */
#define VIGIL_HLS_MAX_SEGMENT_BYTES (32u * 1024 * 1024)

typedef struct _VigilHls VigilHls;

VigilHls *vigil_hls_new(void);
void vigil_hls_free(VigilHls *hls);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilHls, vigil_hls_free)

/* Feeds one chunk. Returns TRUE when it completed a segment. */
gboolean vigil_hls_push(VigilHls *hls, VigilChunk *chunk);

/* Number of complete segments held. */
guint vigil_hls_count(VigilHls *hls);

/* The media playlist, segment URIs being @prefix SEQ ".ts" (relative to the
 * playlist's URL). NULL when no segment is complete yet. */
gchar *vigil_hls_playlist(VigilHls *hls, const char *prefix);

/* The chunks of segment @seq (new references; free with g_ptr_array_unref),
 * NULL when it is not held (too old or not yet complete). */
GPtrArray *vigil_hls_get_segment(VigilHls *hls, guint64 seq, gsize *size);

G_END_DECLS
