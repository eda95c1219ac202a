/* The recordings index: one row per recording (a directory under
 * DATA/recordings) and one per segment file in it. Rows are only written
 * after their files are on disk and fsynced, so the index never points at a
 * file that is not there. Main thread only, like the rest of the store. */
#pragma once

#include <glib.h>

#include "store/store.h"

G_BEGIN_DECLS

typedef struct {
  gint64 id;
  gchar *camera;
  gint64 start_us, end_us; /* wall clock, µs since the epoch */
  gchar *reason;           /* "manual", "continuous", "motion", ... */
  gint64 size_bytes;       /* sum of its segments, the sub stream's included */
  gboolean keep;           /* spared by retention */
  gchar *path;             /* relative to DATA/recordings: camera/date/stamp */
  gboolean open;           /* still being written */
  gboolean has_sub;        /* has sub stream segments (record_stream "both") */
} VigilRecording;

typedef struct {
  gint64 recording;
  int seq;         /* 1, 2, ...: the file is %06d.ts */
  gint64 start_us; /* wall clock of its first picture */
  gint64 duration_us;
  gint64 size_bytes;
  gboolean discont; /* a gap (camera lost) lies before it */
  gboolean sub;     /* of the sub stream: sub/%06d.ts, table sub_segments */
} VigilSegment;

void vigil_recording_free(VigilRecording *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRecording, vigil_recording_free)

/* The daemon's segment batch (vigil_store_set_segment_batch). */
#define VIGIL_STORE_SEGMENT_BATCH_MS 1000

/* Inserts @rec (its id is ignored); returns the new id, 0 on error. */
gint64 vigil_store_insert_recording(VigilStore *store, const VigilRecording *rec, GError **error);
/* Adds a segment (to sub_segments when @seg->sub) and grows its recording's
 * size and, for a main stream segment, its end, in one transaction.
 * VIGIL_ERROR_CONFLICT if that (recording, seq) exists. */
gboolean vigil_store_add_segment(VigilStore *store, const VigilSegment *seg, GError **error);
/* With @ms > 0, vigil_store_add_segment only queues the row (and returns
 * TRUE); the queued rows are committed together in one transaction @ms later,
 * or before any other statement of the store runs, or at close. Their files
 * are already complete on disk and listed in their playlists, so a crash
 * before the commit loses no row that crash repair does not add back
 * (docs/recording.md, "Index"). Errors are then logged. 0 (the default):
 * one transaction per segment. */
void vigil_store_set_segment_batch(VigilStore *store, guint ms);
/* Marks a recording as finished (open = 0). */
gboolean vigil_store_close_recording(VigilStore *store, gint64 id, GError **error);
/* Marks every recording as finished (used by crash repair). */
gboolean vigil_store_close_all_recordings(VigilStore *store, GError **error);
/* VIGIL_ERROR_NOT_FOUND for an unknown id. */
VigilRecording *vigil_store_get_recording(VigilStore *store, gint64 id, GError **error);
VigilRecording *vigil_store_find_recording_by_path(VigilStore *store, const char *path);
/* Recordings that overlap [@from_us, @to_us] (either may be G_MININT64 /
 * G_MAXINT64), of @camera (NULL = all) and of a camera in @among (NULL = no
 * such filter), newest first, or oldest first with @oldest_first; @limit <= 0
 * = no limit. VigilRecording* */
GPtrArray *vigil_store_list_recordings(VigilStore *store, const char *camera,
                                       const char *const *among, gint64 from_us, gint64 to_us,
                                       int limit, gboolean oldest_first, GError **error);
/* The segments of a recording in order. VigilSegment* (g_free) */
GPtrArray *vigil_store_list_segments(VigilStore *store, gint64 recording, GError **error);
/* The sub stream's segments of a recording in order (sub set). */
GPtrArray *vigil_store_list_sub_segments(VigilStore *store, gint64 recording, GError **error);
gboolean vigil_store_set_recording_keep(VigilStore *store, gint64 id, gboolean keep,
                                        GError **error);
/* Deletes the recording and its segment rows. VIGIL_ERROR_NOT_FOUND if none. */
gboolean vigil_store_delete_recording(VigilStore *store, gint64 id, GError **error);
/* Deletes one segment row and recomputes its recording's size. */
gboolean vigil_store_delete_segment(VigilStore *store, gint64 recording, int seq, GError **error);
/* The same for a sub stream segment. */
gboolean vigil_store_delete_sub_segment(VigilStore *store, gint64 recording, int seq,
                                        GError **error);
/* Sum of size_bytes of every recording (-1 on error). */
gint64 vigil_store_recordings_bytes(VigilStore *store);
G_END_DECLS
