/* Cameras: the API's camera object as JSON (without the passwords) plus the
 * passwords (main and sub stream) in their own columns, kept in the order they were added. */
#define G_LOG_DOMAIN "vigil-store"

#include <json-glib/json-glib.h>

#include "core/error.h"
#include "store/store-private.h"

/* The camera's JSON for the config column: everything to_json gives except
 * "password_set", which apply_json refuses as read-only and which the
 * password column already answers. Built as a new object so a sealed node
 * from to_json is never modified. */
static gchar *config_to_column(const VigilCameraConfig *cfg, GError **error)
{
  g_autoptr(JsonNode) api = vigil_camera_config_to_json(cfg);
  g_autoptr(JsonNode) stored = NULL;
  g_autoptr(JsonObject) object = NULL;
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;

  if (!api || !JSON_NODE_HOLDS_OBJECT(api)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED,
                "camera \"%s\": configuration has no JSON form", cfg->id);
    return NULL;
  }
  object = json_object_new();
  json_object_iter_init(&iter, json_node_get_object(api));
  while (json_object_iter_next(&iter, &member, &value)) {
    /* "password" never appears in to_json; dropping it here as well means a
     * change there could not put the secret into the JSON column. */
    if (g_str_equal(member, "password_set") || g_str_equal(member, "password") ||
        g_str_equal(member, "sub_password_set") || g_str_equal(member, "sub_password") ||
        g_str_equal(member, "status"))
      continue;
    json_object_set_member(object, member, json_node_copy(value));
  }
  stored = json_node_init_object(json_node_alloc(), object);
  return json_to_string(stored, FALSE);
}

/* Rebuilds a camera from its row; NULL with @error naming what is wrong. */
static VigilCameraConfig *config_from_row(const char *id, const char *json, const char *password,
                                          const char *sub_password, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();
  JsonNode *root;

  if (!json_parser_load_from_data(parser, json, -1, error))
    return NULL;
  root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "not a JSON object");
    return NULL;
  }
  if (!vigil_camera_config_apply_json(cfg, root, TRUE, error))
    return NULL;
  /* update and delete find the row by the id column, so both must agree. */
  if (g_strcmp0(cfg->id, id) != 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                "the id in the configuration does not match the row");
    return NULL;
  }
  g_free(cfg->password);
  cfg->password = g_strdup(password);
  g_free(cfg->sub_password);
  cfg->sub_password = g_strdup(sub_password);
  return g_steal_pointer(&cfg);
}

GPtrArray *vigil_store_list_cameras(VigilStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) cameras = NULL;
  int rc;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = vigil_store_prepare(store,
                             "SELECT id, config, password, sub_password FROM cameras"
                             " ORDER BY position, id",
                             error);
  if (!stmt)
    return NULL;

  cameras = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_camera_config_free);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(stmt, 0);
    const char *json = (const char *)sqlite3_column_text(stmt, 1);
    const char *password = (const char *)sqlite3_column_text(stmt, 2);
    const char *sub_password = (const char *)sqlite3_column_text(stmt, 3);
    g_autoptr(GError) row_error = NULL;
    VigilCameraConfig *cfg;

    if (!id || !json) {
      g_warning("skipping a camera row without id or configuration");
      continue;
    }
    /* One damaged row must not take every other camera down with it. The
     * message names the camera, never its password (nor does the config
     * JSON hold one). */
    cfg = config_from_row(id, json, password, sub_password, &row_error);
    if (!cfg) {
      g_warning("skipping camera \"%s\": stored configuration is unreadable: %s", id,
                row_error->message);
      continue;
    }
    g_ptr_array_add(cameras, cfg);
  }
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "reading cameras");
    return NULL;
  }
  return g_steal_pointer(&cameras);
}

gboolean vigil_store_insert_camera(VigilStore *store, const VigilCameraConfig *cfg, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *json = NULL;
  int rc;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(cfg != NULL && cfg->id != NULL, FALSE);

  json = config_to_column(cfg, error);
  if (!json)
    return FALSE;

  /* One statement, so the position cannot be computed from a stale MAX: in
   * WAL mode a concurrent writer makes this fail with SQLITE_BUSY instead. */
  stmt = vigil_store_prepare(
      store,
      "INSERT INTO cameras (id, position, config, password, created_us, updated_us,"
      " sub_password)"
      " VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM cameras), ?2, ?3, ?4, ?4, ?5)",
      error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, cfg->id, error) ||
      !vigil_store_bind_text(store, stmt, 2, json, error) ||
      !vigil_store_bind_text(store, stmt, 3, cfg->password, error) ||
      !vigil_store_bind_text(store, stmt, 5, cfg->sub_password, error))
    return FALSE;
  if (sqlite3_bind_int64(stmt, 4, g_get_real_time()) != SQLITE_OK) {
    vigil_store_set_error(store, error, "saving a camera");
    return FALSE;
  }
  rc = sqlite3_step(stmt);
  /* The key constraint decides, not a SELECT beforehand: no race. */
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT, "camera \"%s\" already exists", cfg->id);
    return FALSE;
  }
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "saving a camera");
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_store_update_camera(VigilStore *store, const VigilCameraConfig *cfg, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *json = NULL;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(cfg != NULL && cfg->id != NULL, FALSE);

  json = config_to_column(cfg, error);
  if (!json)
    return FALSE;

  stmt = vigil_store_prepare(store,
                             "UPDATE cameras SET config = ?2, password = ?3, updated_us = ?4,"
                             " sub_password = ?5 WHERE id = ?1",
                             error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, cfg->id, error) ||
      !vigil_store_bind_text(store, stmt, 2, json, error) ||
      !vigil_store_bind_text(store, stmt, 3, cfg->password, error) ||
      !vigil_store_bind_text(store, stmt, 5, cfg->sub_password, error))
    return FALSE;
  if (sqlite3_bind_int64(stmt, 4, g_get_real_time()) != SQLITE_OK ||
      sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "saving a camera");
    return FALSE;
  }
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no camera \"%s\"", cfg->id);
    return FALSE;
  }
  return TRUE;
}

/* Runs a one-parameter DELETE; the number of rows it removed, or -1. */
static int delete_by_text(VigilStore *store, const char *sql, const char *value, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(store, sql, error);

  if (!stmt || !vigil_store_bind_text(store, stmt, 1, value, error))
    return -1;
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "deleting a camera");
    return -1;
  }
  return sqlite3_changes(store->db);
}

gboolean vigil_store_delete_camera(VigilStore *store, const char *id, GError **error)
{
  int removed;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(id != NULL, FALSE);

  if (!vigil_store_begin(store, error))
    return FALSE;
  removed = delete_by_text(store, "DELETE FROM cameras WHERE id = ?1", id, error);
  if (removed == 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no camera \"%s\"", id);
    vigil_store_rollback(store);
    return FALSE;
  }
  /* Rights name cameras by id without a foreign key (they also accept '*'):
   * drop them, or a later camera reusing the id would inherit them. */
  if (removed < 0 ||
      delete_by_text(store, "DELETE FROM user_cameras WHERE camera = ?1", id, error) < 0 ||
      !vigil_store_commit(store, error)) {
    vigil_store_rollback(store);
    return FALSE;
  }
  return TRUE;
}
