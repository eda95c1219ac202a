/* Global settings: one JSON document per key in the settings table. */
#define G_LOG_DOMAIN "vigil-store"

#include <json-glib/json-glib.h>

#include "core/error.h"
#include "store/store-private.h"

gchar *vigil_store_get_setting(VigilStore *store, const char *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(key != NULL, NULL);

  stmt = vigil_store_prepare(store, "SELECT value FROM settings WHERE key = ?1", &error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, key, &error)) {
    g_warning("reading setting \"%s\": %s", key, error->message);
    return NULL;
  }
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    return vigil_store_column_dup(stmt, 0);
  if (rc != SQLITE_DONE)
    g_warning("reading setting \"%s\": %s", key, sqlite3_errmsg(store->db));
  return NULL;
}

gboolean vigil_store_set_setting(VigilStore *store, const char *key, const char *json,
                                 GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) parse_error = NULL;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(key != NULL, FALSE);
  g_return_val_if_fail(json != NULL, FALSE);

  /* Readers trust what get returns to be JSON, so check it on the way in. */
  parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, json, -1, &parse_error) ||
      json_parser_get_root(parser) == NULL) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "setting \"%s\" is not valid JSON%s%s",
                key, parse_error ? ": " : "", parse_error ? parse_error->message : "");
    return FALSE;
  }

  stmt = vigil_store_prepare(store,
                             "INSERT INTO settings (key, value) VALUES (?1, ?2)"
                             " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                             error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, key, error) ||
      !vigil_store_bind_text(store, stmt, 2, json, error))
    return FALSE;
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "saving a setting");
    return FALSE;
  }
  return TRUE;
}
