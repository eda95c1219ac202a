/* Recordings and segments: the index of what lies under DATA/recordings. */
#define G_LOG_DOMAIN "vigil-store"

#include "store/recordings.h"

#include "core/error.h"
#include "store/store-private.h"

void vigil_recording_free(VigilRecording *rec)
{
  if (!rec)
    return;
  g_free(rec->camera);
  g_free(rec->reason);
  g_free(rec->path);
  g_free(rec);
}

static gboolean step_done(VigilStore *store, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_CONSTRAINT) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT, "%s: already indexed", what);
    return FALSE;
  }
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, what);
    return FALSE;
  }
  return TRUE;
}

gint64 vigil_store_insert_recording(VigilStore *store, const VigilRecording *rec, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store,
      /* The next id never given (migration 9), not the largest + 1. */
      "INSERT INTO recordings (id, camera, start_us, end_us, reason, size_bytes, keep, path, open)"
      " VALUES ((SELECT last + 1 FROM recording_ids), ?, ?, ?, ?, ?, ?, ?, ?)",
      error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, rec->camera, error) ||
      !vigil_store_bind_text(store, stmt, 4, rec->reason, error) ||
      !vigil_store_bind_text(store, stmt, 7, rec->path, error))
    return 0;
  sqlite3_bind_int64(stmt, 2, rec->start_us);
  sqlite3_bind_int64(stmt, 3, rec->end_us);
  sqlite3_bind_int64(stmt, 5, rec->size_bytes);
  sqlite3_bind_int(stmt, 6, rec->keep ? 1 : 0);
  sqlite3_bind_int(stmt, 8, rec->open ? 1 : 0);
  if (!step_done(store, stmt, "indexing a recording", error))
    return 0;
  return sqlite3_last_insert_rowid(store->db);
}

static gboolean exec_bound(VigilStore *store, const char *sql, gint64 a, gint64 b, const char *what,
                           GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(store, sql, error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, a);
  if (sqlite3_bind_parameter_count(stmt) >= 2)
    sqlite3_bind_int64(stmt, 2, b);
  return step_done(store, stmt, what, error);
}

static const char *segment_table(gboolean sub)
{
  return sub ? "sub_segments" : "segments";
}

static gboolean add_segment_rows(VigilStore *store, const VigilSegment *seg, GError **error)
{
  g_autofree gchar *sql =
      g_strdup_printf("INSERT INTO %s (recording, seq, start_us, duration_us, size_bytes, discont)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      segment_table(seg->sub));
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(store, sql, error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, seg->recording);
  sqlite3_bind_int(stmt, 2, seg->seq);
  sqlite3_bind_int64(stmt, 3, seg->start_us);
  sqlite3_bind_int64(stmt, 4, seg->duration_us);
  sqlite3_bind_int64(stmt, 5, seg->size_bytes);
  sqlite3_bind_int(stmt, 6, seg->discont ? 1 : 0);
  if (!step_done(store, stmt, "indexing a segment", error))
    return FALSE;
  /* The recording's time span is the main stream's; its size is every file
   * it holds, the sub stream's included (retention's quota counts them). */
  g_autoptr(sqlite3_stmt) up = vigil_store_prepare(
      store,
      seg->sub ? "UPDATE recordings SET size_bytes = size_bytes + ?1 WHERE id = ?3"
               : "UPDATE recordings SET size_bytes = size_bytes + ?1, end_us = MAX(end_us, ?2)"
                 " WHERE id = ?3",
      error);
  if (!up)
    return FALSE;
  sqlite3_bind_int64(up, 1, seg->size_bytes);
  if (!seg->sub)
    sqlite3_bind_int64(up, 2, seg->start_us + seg->duration_us);
  sqlite3_bind_int64(up, 3, seg->recording);
  return step_done(store, up, "updating a recording", error);
}

/* One transaction for every queued row: the WAL gets the pages they share
 * (segments, recordings) once per batch instead of once per segment. */
void vigil_store_flush_segments(VigilStore *store)
{
  if (store->flushing || !store->pending_segments || store->pending_segments->len == 0)
    return;
  store->flushing = TRUE;
  g_autoptr(GArray) batch = g_steal_pointer(&store->pending_segments);
  store->pending_segments = g_array_new(FALSE, FALSE, sizeof(VigilSegment));
  g_autoptr(GError) error = NULL;
  guint failed = 0;
  if (!vigil_store_begin(store, &error)) {
    failed = batch->len;
  } else {
    for (guint i = 0; i < batch->len; i++) {
      g_autoptr(GError) row_error = NULL;
      /* A row that fails (a duplicate) is left out, not the batch. */
      if (!add_segment_rows(store, &g_array_index(batch, VigilSegment, i), &row_error)) {
        failed++;
        if (!error)
          error = g_steal_pointer(&row_error);
      }
    }
    g_autoptr(GError) commit_error = NULL;
    if (!vigil_store_commit(store, &commit_error)) {
      vigil_store_rollback(store);
      failed = batch->len;
      g_clear_error(&error);
      error = g_steal_pointer(&commit_error);
    }
  }
  /* The files are complete on disk: crash repair indexes them at the next
   * start, as when a single insert failed. */
  if (failed)
    g_warning("cannot index %u of %u segment(s): %s", failed, batch->len,
              error ? error->message : "unknown error");
  store->flushing = FALSE;
}

static gboolean on_flush(gpointer data)
{
  VigilStore *store = data;
  store->flush_source = 0;
  vigil_store_flush_segments(store);
  return G_SOURCE_REMOVE;
}

void vigil_store_set_segment_batch(VigilStore *store, guint ms)
{
  vigil_store_flush_segments(store);
  store->batch_ms = ms;
}

gboolean vigil_store_add_segment(VigilStore *store, const VigilSegment *seg, GError **error)
{
  if (store->batch_ms > 0) {
    if (!store->pending_segments)
      store->pending_segments = g_array_new(FALSE, FALSE, sizeof(VigilSegment));
    g_array_append_val(store->pending_segments, *seg);
    if (!store->flush_source)
      store->flush_source = g_timeout_add(store->batch_ms, on_flush, store);
    return TRUE;
  }
  if (!vigil_store_begin(store, error))
    return FALSE;
  if (!add_segment_rows(store, seg, error) || !vigil_store_commit(store, error)) {
    vigil_store_rollback(store);
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_store_close_recording(VigilStore *store, gint64 id, GError **error)
{
  return exec_bound(store, "UPDATE recordings SET open = 0 WHERE id = ?", id, 0,
                    "closing a recording", error);
}

gboolean vigil_store_close_all_recordings(VigilStore *store, GError **error)
{
  return exec_bound(store, "UPDATE recordings SET open = 0 WHERE open <> ?", 0, 0,
                    "closing recordings", error);
}

#define RECORDING_COLUMNS                                                                          \
  "id, camera, start_us, end_us, reason, size_bytes, keep, path, open,"                            \
  " EXISTS (SELECT 1 FROM sub_segments WHERE sub_segments.recording = recordings.id)"

static VigilRecording *recording_from_row(sqlite3_stmt *stmt)
{
  VigilRecording *rec = g_new0(VigilRecording, 1);
  rec->id = sqlite3_column_int64(stmt, 0);
  rec->camera = vigil_store_column_dup(stmt, 1);
  rec->start_us = sqlite3_column_int64(stmt, 2);
  rec->end_us = sqlite3_column_int64(stmt, 3);
  rec->reason = vigil_store_column_dup(stmt, 4);
  rec->size_bytes = sqlite3_column_int64(stmt, 5);
  rec->keep = sqlite3_column_int(stmt, 6) != 0;
  rec->path = vigil_store_column_dup(stmt, 7);
  rec->open = sqlite3_column_int(stmt, 8) != 0;
  rec->has_sub = sqlite3_column_int(stmt, 9) != 0;
  return rec;
}

VigilRecording *vigil_store_get_recording(VigilStore *store, gint64 id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "SELECT " RECORDING_COLUMNS " FROM recordings WHERE id = ?", error);
  if (!stmt)
    return NULL;
  sqlite3_bind_int64(stmt, 1, id);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    return recording_from_row(stmt);
  if (rc == SQLITE_DONE)
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such recording");
  else
    vigil_store_set_error(store, error, "reading a recording");
  return NULL;
}

VigilRecording *vigil_store_find_recording_by_path(VigilStore *store, const char *path)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "SELECT " RECORDING_COLUMNS " FROM recordings WHERE path = ?", NULL);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, path, NULL))
    return NULL;
  return sqlite3_step(stmt) == SQLITE_ROW ? recording_from_row(stmt) : NULL;
}

GPtrArray *vigil_store_list_recordings(VigilStore *store, const char *camera,
                                       const char *const *among, gint64 from_us, gint64 to_us,
                                       int limit, gboolean oldest_first, GError **error)
{
  /* @among filters in SQL, before LIMIT: a page holds @limit rows the caller
   * may see whenever that many exist. */
  const char *sql =
      oldest_first
          ? "SELECT " RECORDING_COLUMNS " FROM recordings WHERE (?1 IS NULL OR camera = ?1)"
            " AND (?5 IS NULL OR camera IN (SELECT value FROM json_each(?5)))"
            " AND end_us >= ?2 AND start_us <= ?3 ORDER BY start_us ASC, id ASC LIMIT ?4"
          : "SELECT " RECORDING_COLUMNS " FROM recordings WHERE (?1 IS NULL OR camera = ?1)"
            " AND (?5 IS NULL OR camera IN (SELECT value FROM json_each(?5)))"
            " AND end_us >= ?2 AND start_us <= ?3 ORDER BY start_us DESC, id DESC LIMIT ?4";
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(store, sql, error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, camera, error) ||
      !vigil_store_bind_camera_list(store, stmt, 5, among, error))
    return NULL;
  sqlite3_bind_int64(stmt, 2, from_us);
  sqlite3_bind_int64(stmt, 3, to_us);
  sqlite3_bind_int64(stmt, 4, limit > 0 ? limit : -1);
  GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_recording_free);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    g_ptr_array_add(list, recording_from_row(stmt));
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "listing recordings");
    g_ptr_array_unref(list);
    return NULL;
  }
  return list;
}

static GPtrArray *list_segments(VigilStore *store, gint64 recording, gboolean sub, GError **error)
{
  g_autofree gchar *sql =
      g_strdup_printf("SELECT recording, seq, start_us, duration_us, size_bytes, discont FROM %s"
                      " WHERE recording = ? ORDER BY seq",
                      segment_table(sub));
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(store, sql, error);
  if (!stmt)
    return NULL;
  sqlite3_bind_int64(stmt, 1, recording);
  GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    VigilSegment *seg = g_new0(VigilSegment, 1);
    seg->recording = sqlite3_column_int64(stmt, 0);
    seg->seq = sqlite3_column_int(stmt, 1);
    seg->start_us = sqlite3_column_int64(stmt, 2);
    seg->duration_us = sqlite3_column_int64(stmt, 3);
    seg->size_bytes = sqlite3_column_int64(stmt, 4);
    seg->discont = sqlite3_column_int(stmt, 5) != 0;
    seg->sub = sub;
    g_ptr_array_add(list, seg);
  }
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "listing segments");
    g_ptr_array_unref(list);
    return NULL;
  }
  return list;
}

GPtrArray *vigil_store_list_segments(VigilStore *store, gint64 recording, GError **error)
{
  return list_segments(store, recording, FALSE, error);
}

GPtrArray *vigil_store_list_sub_segments(VigilStore *store, gint64 recording, GError **error)
{
  return list_segments(store, recording, TRUE, error);
}

static gboolean require_change(VigilStore *store, GError **error)
{
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such recording");
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_store_set_recording_keep(VigilStore *store, gint64 id, gboolean keep, GError **error)
{
  return exec_bound(store, "UPDATE recordings SET keep = ?2 WHERE id = ?1", id, keep ? 1 : 0,
                    "updating a recording", error) &&
         require_change(store, error);
}

gboolean vigil_store_delete_recording(VigilStore *store, gint64 id, GError **error)
{
  /* segments go with it (ON DELETE CASCADE). */
  return exec_bound(store, "DELETE FROM recordings WHERE id = ?", id, 0, "deleting a recording",
                    error) &&
         require_change(store, error);
}

static gboolean delete_segment(VigilStore *store, gint64 recording, gboolean sub, int seq,
                               GError **error)
{
  g_autofree gchar *sql =
      g_strdup_printf("DELETE FROM %s WHERE recording = ?1 AND seq = ?2", segment_table(sub));
  if (!vigil_store_begin(store, error))
    return FALSE;
  if (!exec_bound(store, sql, recording, seq, "deleting a segment", error) ||
      !exec_bound(store,
                  "UPDATE recordings SET size_bytes ="
                  " (SELECT COALESCE(SUM(size_bytes), 0) FROM segments WHERE recording = ?1) +"
                  " (SELECT COALESCE(SUM(size_bytes), 0) FROM sub_segments WHERE recording = ?1)"
                  " WHERE id = ?1",
                  recording, 0, "updating a recording", error) ||
      !vigil_store_commit(store, error)) {
    vigil_store_rollback(store);
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_store_delete_segment(VigilStore *store, gint64 recording, int seq, GError **error)
{
  return delete_segment(store, recording, FALSE, seq, error);
}

gboolean vigil_store_delete_sub_segment(VigilStore *store, gint64 recording, int seq,
                                        GError **error)
{
  return delete_segment(store, recording, TRUE, seq, error);
}

gint64 vigil_store_recordings_bytes(VigilStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt =
      vigil_store_prepare(store, "SELECT COALESCE(SUM(size_bytes), 0) FROM recordings", &error);
  if (!stmt || sqlite3_step(stmt) != SQLITE_ROW) {
    g_warning("summing recording sizes: %s", error ? error->message : sqlite3_errmsg(store->db));
    return -1;
  }
  return sqlite3_column_int64(stmt, 0);
}
