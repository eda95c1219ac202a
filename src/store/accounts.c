/* Accounts beyond the users row itself: listing, changing and deleting users
 * (never the last admin), per-camera rights, login sessions and API tokens. */
#define G_LOG_DOMAIN "vigil-store"

#include "core/error.h"
#include "store/store-private.h"

/* Runs @sql with @text bound to ?1; returns the number of changed rows, or
 * -1 with @error. */
static int exec_text(VigilStore *store, const char *sql, const char *text, const char *what,
                     GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(store, sql, error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, text, error))
    return -1;
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, what);
    return -1;
  }
  return sqlite3_changes(store->db);
}

static void warn_on_error(int rc, GError *error)
{
  if (rc < 0 && error)
    g_warning("%s", error->message);
}

static int count_admins(VigilStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt =
      vigil_store_prepare(store, "SELECT COUNT(*) FROM users WHERE role = 'admin'", error);
  if (!stmt)
    return -1;
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    vigil_store_set_error(store, error, "counting admins");
    return -1;
  }
  return sqlite3_column_int(stmt, 0);
}

GPtrArray *vigil_store_list_users(VigilStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "SELECT name, role, password_hash, created_us FROM users ORDER BY name", error);
  if (!stmt)
    return NULL;
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_user_free);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    VigilUser *user = g_new0(VigilUser, 1);
    user->name = vigil_store_column_dup(stmt, 0);
    user->role = vigil_store_column_dup(stmt, 1);
    user->password_hash = vigil_store_column_dup(stmt, 2);
    user->created_us = sqlite3_column_int64(stmt, 3);
    g_ptr_array_add(users, user);
  }
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "listing users");
    return NULL;
  }
  return g_steal_pointer(&users);
}

/* Inside a transaction: is @name the only admin? -1 on error. */
static int is_last_admin(VigilStore *store, const char *name, GError **error)
{
  g_autoptr(VigilUser) user = vigil_store_get_user(store, name);
  if (!user || !g_str_equal(user->role, "admin"))
    return 0;
  int admins = count_admins(store, error);
  return admins < 0 ? -1 : admins <= 1;
}

gboolean vigil_store_update_user(VigilStore *store, const char *name, const char *role,
                                 const char *password_hash, GError **error)
{
  g_return_val_if_fail(store != NULL && name != NULL, FALSE);
  if (role && !g_str_equal(role, "admin") && !g_str_equal(role, "operator") &&
      !g_str_equal(role, "viewer")) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "role must be admin, operator or viewer");
    return FALSE;
  }
  if (!vigil_store_begin(store, error))
    return FALSE;
  g_autoptr(VigilUser) user = vigil_store_get_user(store, name);
  if (!user) {
    vigil_store_rollback(store);
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no user \"%s\"", name);
    return FALSE;
  }
  if (role && !g_str_equal(role, "admin")) {
    int last = is_last_admin(store, name, error);
    if (last != 0) {
      vigil_store_rollback(store);
      if (last > 0)
        g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT,
                            "the last admin cannot be demoted");
      return FALSE;
    }
  }
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store,
      "UPDATE users SET role = COALESCE(?2, role), password_hash = COALESCE(?3, password_hash)"
      " WHERE name = ?1",
      error);
  gboolean ok = stmt && vigil_store_bind_text(store, stmt, 1, name, error) &&
                vigil_store_bind_text(store, stmt, 2, role, error) &&
                vigil_store_bind_text(store, stmt, 3, password_hash, error);
  if (ok && sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "changing a user");
    ok = FALSE;
  }
  /* A new password ends every way in that the old one opened. */
  if (ok && password_hash)
    ok = exec_text(store, "DELETE FROM sessions WHERE user = ?1", name, "ending sessions", error) >=
             0 &&
         exec_text(store, "DELETE FROM api_tokens WHERE user = ?1", name, "revoking tokens",
                   error) >= 0;
  if (!ok || !vigil_store_commit(store, error)) {
    vigil_store_rollback(store);
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_store_delete_user(VigilStore *store, const char *name, GError **error)
{
  g_return_val_if_fail(store != NULL && name != NULL, FALSE);
  if (!vigil_store_begin(store, error))
    return FALSE;
  int last = is_last_admin(store, name, error);
  if (last != 0) {
    vigil_store_rollback(store);
    if (last > 0)
      g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT,
                          "the last admin cannot be deleted");
    return FALSE;
  }
  /* Foreign keys cascade to user_cameras, sessions and api_tokens. */
  int removed =
      exec_text(store, "DELETE FROM users WHERE name = ?1", name, "deleting a user", error);
  if (removed == 0)
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no user \"%s\"", name);
  if (removed <= 0 || !vigil_store_commit(store, error)) {
    vigil_store_rollback(store);
    return FALSE;
  }
  return TRUE;
}

GHashTable *vigil_store_get_user_cameras(VigilStore *store, const char *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt =
      vigil_store_prepare(store, "SELECT camera, rights FROM user_cameras WHERE user = ?1", &error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, user, &error)) {
    g_warning("reading rights: %s", error->message);
    return NULL;
  }
  GHashTable *rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    g_hash_table_replace(rows, vigil_store_column_dup(stmt, 0), vigil_store_column_dup(stmt, 1));
  if (rc != SQLITE_DONE) {
    g_warning("reading rights: %s", sqlite3_errmsg(store->db));
    g_hash_table_unref(rows);
    return NULL;
  }
  return rows;
}

gboolean vigil_store_set_user_cameras(VigilStore *store, const char *user, GHashTable *cameras,
                                      GError **error)
{
  if (!vigil_store_begin(store, error))
    return FALSE;
  gboolean ok = exec_text(store, "DELETE FROM user_cameras WHERE user = ?1", user,
                          "changing rights", error) >= 0;
  GHashTableIter it;
  gpointer key, value;
  if (ok && cameras)
    g_hash_table_iter_init(&it, cameras);
  while (ok && cameras && g_hash_table_iter_next(&it, &key, &value)) {
    if (!value || !*(const char *)value)
      continue;
    g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
        store, "INSERT INTO user_cameras (user, camera, rights) VALUES (?1, ?2, ?3)", error);
    ok = stmt && vigil_store_bind_text(store, stmt, 1, user, error) &&
         vigil_store_bind_text(store, stmt, 2, key, error) &&
         vigil_store_bind_text(store, stmt, 3, value, error);
    if (ok && sqlite3_step(stmt) != SQLITE_DONE) {
      vigil_store_set_error(store, error, "changing rights");
      ok = FALSE;
    }
  }
  if (!ok || !vigil_store_commit(store, error)) {
    vigil_store_rollback(store);
    return FALSE;
  }
  return TRUE;
}

/* --- sessions --- */

gboolean vigil_store_insert_session(VigilStore *store, const char *token_hash, const char *user,
                                    gint64 now_us, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store,
      "INSERT INTO sessions (token_hash, user, created_us, last_used_us) VALUES (?1, ?2, ?3, ?3)",
      error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, token_hash, error) ||
      !vigil_store_bind_text(store, stmt, 2, user, error))
    return FALSE;
  sqlite3_bind_int64(stmt, 3, now_us);
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "saving a session");
    return FALSE;
  }
  return TRUE;
}

gchar *vigil_store_lookup_session(VigilStore *store, const char *token_hash, gint64 idle_after_us,
                                  gint64 created_after_us, gint64 touch_before_us, gint64 now_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt =
      vigil_store_prepare(store,
                          "SELECT user, last_used_us FROM sessions WHERE token_hash = ?1"
                          " AND last_used_us > ?2 AND created_us > ?3",
                          &error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, token_hash, &error)) {
    g_warning("reading a session: %s", error->message);
    return NULL;
  }
  sqlite3_bind_int64(stmt, 2, idle_after_us);
  sqlite3_bind_int64(stmt, 3, created_after_us);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return NULL;
  gchar *user = vigil_store_column_dup(stmt, 0);
  gint64 last_used = sqlite3_column_int64(stmt, 1);
  if (last_used < touch_before_us) {
    /* Written at most once per touch interval: no write per request. */
    g_autoptr(sqlite3_stmt) touch = vigil_store_prepare(
        store, "UPDATE sessions SET last_used_us = ?2 WHERE token_hash = ?1", &error);
    if (touch && vigil_store_bind_text(store, touch, 1, token_hash, &error)) {
      sqlite3_bind_int64(touch, 2, now_us);
      if (sqlite3_step(touch) != SQLITE_DONE)
        g_warning("updating a session: %s", sqlite3_errmsg(store->db));
    }
  }
  return user;
}

void vigil_store_delete_session(VigilStore *store, const char *token_hash)
{
  g_autoptr(GError) error = NULL;
  warn_on_error(exec_text(store, "DELETE FROM sessions WHERE token_hash = ?1", token_hash,
                          "ending a session", &error),
                error);
}

void vigil_store_purge_sessions(VigilStore *store, gint64 idle_before_us, gint64 created_before_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "DELETE FROM sessions WHERE last_used_us <= ?1 OR created_us <= ?2", &error);
  if (!stmt) {
    g_warning("purging sessions: %s", error->message);
    return;
  }
  sqlite3_bind_int64(stmt, 1, idle_before_us);
  sqlite3_bind_int64(stmt, 2, created_before_us);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    g_warning("purging sessions: %s", sqlite3_errmsg(store->db));
}

void vigil_store_delete_user_sessions(VigilStore *store, const char *user)
{
  g_autoptr(GError) error = NULL;
  warn_on_error(
      exec_text(store, "DELETE FROM sessions WHERE user = ?1", user, "ending sessions", &error),
      error);
}

/* --- API tokens --- */

void vigil_api_token_free(VigilApiToken *t)
{
  if (!t)
    return;
  g_free(t->user);
  g_free(t->name);
  g_free(t);
}

gint64 vigil_store_insert_token(VigilStore *store, const char *user, const char *token_hash,
                                const char *name, gint64 now_us, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "INSERT INTO api_tokens (user, token_hash, name, created_us) VALUES (?1, ?2, ?3, ?4)",
      error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, user, error) ||
      !vigil_store_bind_text(store, stmt, 2, token_hash, error) ||
      !vigil_store_bind_text(store, stmt, 3, name, error))
    return -1;
  sqlite3_bind_int64(stmt, 4, now_us);
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "saving a token");
    return -1;
  }
  return sqlite3_last_insert_rowid(store->db);
}

GPtrArray *vigil_store_list_tokens(VigilStore *store, const char *user, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store,
      "SELECT id, user, name, created_us, COALESCE(last_used_us, 0) FROM api_tokens"
      " WHERE user = ?1 ORDER BY id",
      error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, user, error))
    return NULL;
  g_autoptr(GPtrArray) tokens =
      g_ptr_array_new_with_free_func((GDestroyNotify)vigil_api_token_free);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    VigilApiToken *t = g_new0(VigilApiToken, 1);
    t->id = sqlite3_column_int64(stmt, 0);
    t->user = vigil_store_column_dup(stmt, 1);
    t->name = vigil_store_column_dup(stmt, 2);
    t->created_us = sqlite3_column_int64(stmt, 3);
    t->last_used_us = sqlite3_column_int64(stmt, 4);
    g_ptr_array_add(tokens, t);
  }
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "listing tokens");
    return NULL;
  }
  return g_steal_pointer(&tokens);
}

gchar *vigil_store_lookup_token(VigilStore *store, const char *token_hash, gint64 now_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(
      store, "SELECT user, COALESCE(last_used_us, 0) FROM api_tokens WHERE token_hash = ?1",
      &error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, token_hash, &error)) {
    g_warning("reading a token: %s", error->message);
    return NULL;
  }
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return NULL;
  gchar *user = vigil_store_column_dup(stmt, 0);
  /* last_used to the minute: no write per request. */
  if (sqlite3_column_int64(stmt, 1) < now_us - 60 * G_USEC_PER_SEC) {
    g_autoptr(sqlite3_stmt) touch = vigil_store_prepare(
        store, "UPDATE api_tokens SET last_used_us = ?2 WHERE token_hash = ?1", &error);
    if (touch && vigil_store_bind_text(store, touch, 1, token_hash, &error)) {
      sqlite3_bind_int64(touch, 2, now_us);
      if (sqlite3_step(touch) != SQLITE_DONE)
        g_warning("updating a token: %s", sqlite3_errmsg(store->db));
    }
  }
  return user;
}

gboolean vigil_store_delete_token(VigilStore *store, const char *user, gint64 id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt =
      vigil_store_prepare(store, "DELETE FROM api_tokens WHERE id = ?1 AND user = ?2", error);
  if (!stmt)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, id);
  if (!vigil_store_bind_text(store, stmt, 2, user, error))
    return FALSE;
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    vigil_store_set_error(store, error, "revoking a token");
    return FALSE;
  }
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no token %" G_GINT64_FORMAT, id);
    return FALSE;
  }
  return TRUE;
}
