/* Saved video walls: name + JSON body rows (see walls.h). */
#define G_LOG_DOMAIN "vigil-store"

#include "store/walls.h"

#include "core/error.h"
#include "store/store-private.h"

void vigil_wall_free(VigilWall *wall)
{
  if (!wall)
    return;
  g_free(wall->name);
  g_free(wall->body);
  g_free(wall);
}

static VigilWall *wall_from_row(sqlite3_stmt *stmt)
{
  VigilWall *wall = g_new0(VigilWall, 1);
  wall->name = vigil_store_column_dup(stmt, 0);
  wall->body = vigil_store_column_dup(stmt, 1);
  wall->created_us = sqlite3_column_int64(stmt, 2);
  wall->updated_us = sqlite3_column_int64(stmt, 3);
  return wall;
}

GPtrArray *vigil_store_list_walls(VigilStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "SELECT name, body, created_us, updated_us FROM walls ORDER BY name", error);
  if (!stmt)
    return NULL;
  g_autoptr(GPtrArray) walls = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_wall_free);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    g_ptr_array_add(walls, wall_from_row(stmt));
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "listing walls");
    return NULL;
  }
  return g_steal_pointer(&walls);
}

VigilWall *vigil_store_get_wall(VigilStore *store, const char *name, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "SELECT name, body, created_us, updated_us FROM walls WHERE name = ?", error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, name, error))
    return NULL;
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    return wall_from_row(stmt);
  if (rc == SQLITE_DONE)
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such wall");
  else
    vigil_store_set_error(store, error, "reading a wall");
  return NULL;
}

/* Steps a write; a duplicate primary key becomes VIGIL_ERROR_CONFLICT. */
static gboolean step_write(VigilStore *store, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT, "a wall with that name exists");
  else
    vigil_store_set_error(store, error, what);
  return FALSE;
}

gboolean vigil_store_insert_wall(VigilStore *store, const char *name, const char *body,
                                 gint64 now_us, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "INSERT INTO walls (name, body, created_us, updated_us) VALUES (?, ?, ?, ?)", error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, name, error) ||
      !vigil_store_bind_text(store, stmt, 2, body, error))
    return FALSE;
  sqlite3_bind_int64(stmt, 3, now_us);
  sqlite3_bind_int64(stmt, 4, now_us);
  return step_write(store, stmt, "saving a wall", error);
}

gboolean vigil_store_update_wall(VigilStore *store, const char *name, const char *new_name,
                                 const char *body, gint64 now_us, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "UPDATE walls SET name = ?, body = ?, updated_us = ? WHERE name = ?", error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, new_name, error) ||
      !vigil_store_bind_text(store, stmt, 2, body, error) ||
      !vigil_store_bind_text(store, stmt, 4, name, error))
    return FALSE;
  sqlite3_bind_int64(stmt, 3, now_us);
  if (!step_write(store, stmt, "saving a wall", error))
    return FALSE;
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such wall");
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_store_delete_wall(VigilStore *store, const char *name, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt =
      vigil_store_prepare(store, "DELETE FROM walls WHERE name = ?", error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, name, error))
    return FALSE;
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "deleting a wall");
    return FALSE;
  }
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such wall");
    return FALSE;
  }
  return TRUE;
}
