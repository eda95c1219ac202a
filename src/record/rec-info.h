/* VigilRecInfo: one recording as the segment writer (pool thread) and the
 * recorder (main thread) share it; the comments say who writes which field.
 * Refcounted (atomically). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One recording as the writer and the recorder share it. The writer fills
 * rel_path and start_us before its first report; the recorder owns db_id.
 * Refcounted (atomically); both sides hold a reference. */
typedef struct {
  gchar *camera;
  gchar *reason;
  gchar *rel_path; /* camera/date/stamp, relative to the recordings dir */
  gint64 start_us; /* wall clock of the first picture */
  gint64 db_id;    /* main thread only: 0 until its first segment is indexed */
  /* main thread only: sub stream segments (VigilSegment*) reported before
   * the recording had a row, indexed with its first main segment */
  GPtrArray *sub_waiting;
  gint refcount;
} VigilRecInfo;

VigilRecInfo *vigil_rec_info_new(const char *camera, const char *reason);
VigilRecInfo *vigil_rec_info_ref(VigilRecInfo *info);
void vigil_rec_info_unref(VigilRecInfo *info);

G_END_DECLS
