/* Crash repair, run once at start before any recorder: brings the
 * recordings directory and the index back in step after kill -9 or a power
 * cut.
 *
 * The rule for "complete": a segment is complete when the recording's
 * playlist.m3u8 lists it and its file holds whole 188-byte TS packets. The
 * writer fsyncs a segment before it rewrites the playlist (atomically) to
 * list it, so the playlist on disk is exactly the set of finished segments;
 * any other .ts file is the partial segment being written at the crash and is
 * deleted. Then:
 * - playlists left open get EXT-X-ENDLIST (and lose entries whose file is gone);
 * - index rows whose files are gone are dropped (a recording with no segment
 *   left goes entirely);
 * - complete segments (and whole recordings) that were written but not
 *   indexed get their rows, times taken from the playlist;
 * - directories with nothing complete are removed;
 * - every recording is marked closed.
 * The sub stream's folder of a recording (sub/, record_stream "both") is
 * repaired by the same rules with its own playlist, and goes with its
 * recording when that has nothing complete; a sub/ with nothing complete is
 * removed, the recording stays. The counts below include the sub stream's. */
#pragma once

#include <glib.h>

#include "store/store.h"

G_BEGIN_DECLS

typedef struct {
  guint playlists_closed;
  guint partial_deleted;
  guint rows_dropped;       /* segment rows whose file was gone */
  guint recordings_dropped; /* recording rows left with nothing */
  guint segments_added;
  guint recordings_added;
} VigilRepairStats;

gboolean vigil_record_repair(VigilStore *store, const char *recordings_dir, VigilRepairStats *stats,
                             GError **error);

/* Removes a recording directory's files (segments, playlist, thumbnail,
 * temporary files, the sub/ folder with the same) and the directory. FALSE
 * with errno set on failure. */
gboolean vigil_record_remove_dir(const char *dir);

G_END_DECLS
