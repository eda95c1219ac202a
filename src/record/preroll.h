/* VigilPreroll: the last few seconds of a camera's stream held in RAM as whole
 * GOPs (references to the stream's shared chunks, never copies), so that a
 * recording can begin before the trigger that started it. Not thread-safe:
 * the recorder uses it from the main thread. */
#pragma once

#include <glib.h>

#include "live/stream.h"

G_BEGIN_DECLS

/* Memory bound whatever the window: whole GOPs are dropped past this. */
#define VIGIL_PREROLL_MAX_BYTES (32u * 1024 * 1024)

typedef struct _VigilPreroll VigilPreroll;

/* Holds at least @seconds of stream (0 = just the current GOP) when the
 * camera's GOPs allow: the ring begins at the latest keyframe that is at least
 * @seconds older than the newest chunk. */
VigilPreroll *vigil_preroll_new(int seconds);
void vigil_preroll_free(VigilPreroll *preroll);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPreroll, vigil_preroll_free)

void vigil_preroll_set_seconds(VigilPreroll *preroll, int seconds);
/* Adds @chunk (a reference is taken). Chunks before the first keyframe are
 * dropped, so the ring always begins with a keyframe. */
void vigil_preroll_push(VigilPreroll *preroll, VigilChunk *chunk);
/* Hands over every held chunk, oldest first (VigilChunk*, owned), and
 * empties the ring. */
GPtrArray *vigil_preroll_take(VigilPreroll *preroll);
void vigil_preroll_clear(VigilPreroll *preroll);
/* The held chunks from the latest keyframe that arrived (wall clock) at or
 * before @wallclock_us, or from the first keyframe if none did, oldest first
 * (VigilChunk*, new references); the ring keeps them. Aligns a second stream
 * of the same camera on a time the first one starts at. */
GPtrArray *vigil_preroll_get_since(VigilPreroll *preroll, gint64 wallclock_us);

guint vigil_preroll_get_length(VigilPreroll *preroll); /* chunks */
gsize vigil_preroll_get_bytes(VigilPreroll *preroll);
/* pts span from the first chunk to the newest (90 kHz), 0 when empty. */
gint64 vigil_preroll_get_span(VigilPreroll *preroll);

G_END_DECLS
