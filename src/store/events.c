/* The events table: insert, update (end, score, recording), list with
 * filters, and closing what a previous run left open. */
#define G_LOG_DOMAIN "vigil-store"

#include "core/error.h"
#include "store/store-private.h"

#include "core/error.h"

VigilEvent *vigil_event_copy(const VigilEvent *event)
{
  VigilEvent *copy = g_new(VigilEvent, 1);
  *copy = *event;
  copy->camera = g_strdup(event->camera);
  copy->type = g_strdup(event->type);
  copy->label = g_strdup(event->label);
  copy->data = g_strdup(event->data);
  return copy;
}

void vigil_event_free(VigilEvent *event)
{
  if (!event)
    return;
  g_free(event->camera);
  g_free(event->type);
  g_free(event->label);
  g_free(event->data);
  g_free(event);
}

static void bind_optional_int(sqlite3_stmt *stmt, int index, gint64 value)
{
  if (value)
    sqlite3_bind_int64(stmt, index, value);
  else
    sqlite3_bind_null(stmt, index);
}

static void bind_optional_double(sqlite3_stmt *stmt, int index, gboolean set, double value)
{
  if (set)
    sqlite3_bind_double(stmt, index, value);
  else
    sqlite3_bind_null(stmt, index);
}

gboolean vigil_store_insert_event(VigilStore *store, VigilEvent *event, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store,
      "INSERT INTO events (camera, type, start_us, end_us, score, label, box_x, box_y, box_w,"
      " box_h, data, recording) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, event->camera, error) ||
      !vigil_store_bind_text(store, stmt, 2, event->type, error) ||
      !vigil_store_bind_text(store, stmt, 6, event->label, error) ||
      !vigil_store_bind_text(store, stmt, 11, event->data, error))
    return FALSE;
  sqlite3_bind_int64(stmt, 3, event->start_us);
  bind_optional_int(stmt, 4, event->end_us);
  bind_optional_double(stmt, 5, event->has_score, event->score);
  bind_optional_double(stmt, 7, event->has_box, event->box_x);
  bind_optional_double(stmt, 8, event->has_box, event->box_y);
  bind_optional_double(stmt, 9, event->has_box, event->box_w);
  bind_optional_double(stmt, 10, event->has_box, event->box_h);
  bind_optional_int(stmt, 12, event->recording);
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "saving an event");
    return FALSE;
  }
  event->id = sqlite3_last_insert_rowid(store->db);
  return TRUE;
}

gboolean vigil_store_update_event(VigilStore *store, const VigilEvent *event, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "UPDATE events SET end_us = ?, score = ?, data = ?, recording = ? WHERE id = ?",
      error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 3, event->data, error))
    return FALSE;
  bind_optional_int(stmt, 1, event->end_us);
  bind_optional_double(stmt, 2, event->has_score, event->score);
  bind_optional_int(stmt, 4, event->recording);
  sqlite3_bind_int64(stmt, 5, event->id);
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "updating an event");
    return FALSE;
  }
  return TRUE;
}

/* The recording an event (the row "e") belongs to, as an SQL expression with
 * ?6 = now (store.h says which one): a stored link to a recording that still
 * exists wins; else, among the recordings of its camera overlapping it, the
 * one holding its start (latest start first), else the earliest after it. An
 * open recording's row ends at its last indexed segment: it lasts until now. */
#define RECORDING_OF_EVENT                                                                         \
  "COALESCE((SELECT r.id FROM recordings r WHERE r.id = e.recording),"                             \
  " (SELECT r.id FROM recordings r WHERE r.camera = e.camera AND r.start_us <= e.start_us"         \
  "  AND (CASE WHEN r.open THEN MAX(r.end_us, ?6) ELSE r.end_us END) >= e.start_us"                \
  "  ORDER BY r.start_us DESC LIMIT 1),"                                                           \
  " (SELECT r.id FROM recordings r WHERE r.camera = e.camera AND r.start_us > e.start_us"          \
  "  AND r.start_us <= COALESCE(e.end_us, ?6) ORDER BY r.start_us ASC LIMIT 1))"

gint64 vigil_store_find_event_recording(VigilStore *store, const char *camera, gint64 start_us,
                                        gint64 end_us)
{
  if (!camera)
    return 0;
  g_autoptr(GError) error = NULL;
  /* The same expression over a one-row stand-in for the events table. */
  g_autoptr(sqlite3_stmt) stmt =
      vigil_store_prepare(store,
                          "SELECT " RECORDING_OF_EVENT " FROM (SELECT ?1 AS camera, ?2 AS start_us,"
                          " ?3 AS end_us, NULL AS recording) e",
                          &error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, camera, &error)) {
    g_warning("%s", error->message);
    return 0;
  }
  sqlite3_bind_int64(stmt, 2, start_us);
  bind_optional_int(stmt, 3, end_us);
  sqlite3_bind_int64(stmt, 6, g_get_real_time());
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return 0;
  return sqlite3_column_int64(stmt, 0);
}

GArray *vigil_store_list_recording_events(VigilStore *store, const char *camera, gint64 start_us,
                                          gint64 end_us, gboolean open, guint limit, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt =
      vigil_store_prepare(store,
                          "SELECT id FROM events WHERE camera = ?1 AND start_us <= ?3"
                          " AND COALESCE(end_us, ?4) >= ?2 ORDER BY start_us ASC, id ASC LIMIT ?5",
                          error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, camera, error))
    return NULL;
  gint64 now = g_get_real_time();
  sqlite3_bind_int64(stmt, 2, start_us);
  sqlite3_bind_int64(stmt, 3, open ? MAX(end_us, now) : end_us);
  sqlite3_bind_int64(stmt, 4, now);
  sqlite3_bind_int64(stmt, 5, limit);
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(stmt, 0);
    g_array_append_val(ids, id);
  }
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "reading a recording's events");
    return NULL;
  }
  return g_steal_pointer(&ids);
}

/* One row of the SELECT lists below (columns in that order). */
static VigilEvent *event_from_row(sqlite3_stmt *stmt)
{
  VigilEvent *e = g_new0(VigilEvent, 1);
  e->id = sqlite3_column_int64(stmt, 0);
  e->camera = vigil_store_column_dup(stmt, 1);
  e->type = vigil_store_column_dup(stmt, 2);
  e->start_us = sqlite3_column_int64(stmt, 3);
  e->end_us = sqlite3_column_int64(stmt, 4);
  e->has_score = sqlite3_column_type(stmt, 5) != SQLITE_NULL;
  e->score = sqlite3_column_double(stmt, 5);
  e->label = vigil_store_column_dup(stmt, 6);
  e->has_box = sqlite3_column_type(stmt, 7) != SQLITE_NULL;
  e->box_x = sqlite3_column_double(stmt, 7);
  e->box_y = sqlite3_column_double(stmt, 8);
  e->box_w = sqlite3_column_double(stmt, 9);
  e->box_h = sqlite3_column_double(stmt, 10);
  e->data = vigil_store_column_dup(stmt, 11);
  e->recording = sqlite3_column_int64(stmt, 12);
  return e;
}

GPtrArray *vigil_store_list_events(VigilStore *store, const char *camera, const char *const *among,
                                   const char *type, gint64 from_us, gint64 to_us, guint limit,
                                   GError **error)
{
  /* Unset filters bind NULL and match everything, so the SQL stays constant.
   * @among filters before LIMIT, so a page is full whenever it can be. */
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store,
      "SELECT id, camera, type, start_us, end_us, score, label, box_x, box_y, box_w, box_h,"
      " data, " RECORDING_OF_EVENT " FROM events e"
      " WHERE (?1 IS NULL OR camera = ?1) AND (?2 IS NULL OR type = ?2)"
      " AND (?3 IS NULL OR COALESCE(end_us, ?6) >= ?3)"
      " AND (?4 IS NULL OR start_us <= ?4)"
      " AND (?7 IS NULL OR camera IS NULL OR camera IN (SELECT value FROM json_each(?7)))"
      " ORDER BY start_us DESC, id DESC LIMIT ?5",
      error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, camera, error) ||
      !vigil_store_bind_text(store, stmt, 2, type, error) ||
      !vigil_store_bind_camera_list(store, stmt, 7, among, error))
    return NULL;
  bind_optional_int(stmt, 3, from_us);
  bind_optional_int(stmt, 4, to_us);
  sqlite3_bind_int64(stmt, 5, limit);
  /* An open event lasts until now. */
  sqlite3_bind_int64(stmt, 6, g_get_real_time());

  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_event_free);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    g_ptr_array_add(events, event_from_row(stmt));
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "reading events");
    return NULL;
  }
  return g_steal_pointer(&events);
}

VigilEvent *vigil_store_get_event(VigilStore *store, gint64 id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store,
      "SELECT id, camera, type, start_us, end_us, score, label, box_x, box_y, box_w, box_h,"
      " data, " RECORDING_OF_EVENT " FROM events e WHERE id = ?1",
      error);
  if (!stmt)
    return NULL;
  sqlite3_bind_int64(stmt, 1, id);
  /* An open event lasts until now (RECORDING_OF_EVENT uses ?6). */
  sqlite3_bind_int64(stmt, 6, g_get_real_time());
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    return event_from_row(stmt);
  if (rc == SQLITE_DONE)
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such event");
  else
    vigil_store_set_error(store, error, "reading an event");
  return NULL;
}

gboolean vigil_store_close_open_events(VigilStore *store, gint64 end_us, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "UPDATE events SET end_us = MAX(?, start_us) WHERE end_us IS NULL", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, end_us);
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "closing open events");
    return FALSE;
  }
  return TRUE;
}
