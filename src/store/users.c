/* Users: name, role and Argon2id password hash. Their per-camera rights,
 * API tokens and sessions are in accounts.c. */
#define G_LOG_DOMAIN "vigil-store"

#include "core/error.h"
#include "store/store-private.h"

void vigil_user_free(VigilUser *user)
{
  if (!user)
    return;
  g_free(user->name);
  g_free(user->role);
  g_free(user->password_hash);
  g_free(user);
}

int vigil_store_count_users(VigilStore *store)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail(store != NULL, -1);

  stmt = vigil_store_prepare(store, "SELECT COUNT(*) FROM users", &error);
  if (!stmt) {
    g_warning("counting users: %s", error->message);
    return -1;
  }
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_warning("counting users: %s", sqlite3_errmsg(store->db));
    return -1;
  }
  return sqlite3_column_int(stmt, 0);
}

static gboolean role_is_valid(const char *role)
{
  return g_str_equal(role, "admin") || g_str_equal(role, "operator") || g_str_equal(role, "viewer");
}

gboolean vigil_store_insert_user(VigilStore *store, const char *name, const char *role,
                                 const char *password_hash, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(name != NULL, FALSE);
  g_return_val_if_fail(role != NULL, FALSE);
  g_return_val_if_fail(password_hash != NULL, FALSE);

  /* The table's CHECK would refuse it too, with a less useful message. */
  if (!role_is_valid(role)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "role must be admin, operator or viewer");
    return FALSE;
  }

  stmt = vigil_store_prepare(store,
                             "INSERT INTO users (name, role, password_hash, created_us)"
                             " VALUES (?1, ?2, ?3, ?4)",
                             error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, name, error) ||
      !vigil_store_bind_text(store, stmt, 2, role, error) ||
      !vigil_store_bind_text(store, stmt, 3, password_hash, error))
    return FALSE;
  if (sqlite3_bind_int64(stmt, 4, g_get_real_time()) != SQLITE_OK) {
    vigil_store_set_error(store, error, "saving a user");
    return FALSE;
  }
  rc = sqlite3_step(stmt);
  /* The constraint decides, not a SELECT beforehand: no race with another
   * writer. */
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT, "user \"%s\" already exists", name);
    return FALSE;
  }
  if (rc != SQLITE_DONE) {
    vigil_store_set_error(store, error, "saving a user");
    return FALSE;
  }
  return TRUE;
}

VigilUser *vigil_store_get_user(VigilStore *store, const char *name)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GError) error = NULL;
  VigilUser *user;
  int rc;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(name != NULL, NULL);

  stmt = vigil_store_prepare(store,
                             "SELECT name, role, password_hash, created_us FROM users"
                             " WHERE name = ?1",
                             &error);
  if (!stmt || !vigil_store_bind_text(store, stmt, 1, name, &error)) {
    g_warning("reading a user: %s", error->message);
    return NULL;
  }
  rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW) {
    if (rc != SQLITE_DONE)
      g_warning("reading a user: %s", sqlite3_errmsg(store->db));
    return NULL;
  }
  user = g_new0(VigilUser, 1);
  user->name = vigil_store_column_dup(stmt, 0);
  user->role = vigil_store_column_dup(stmt, 1);
  user->password_hash = vigil_store_column_dup(stmt, 2);
  user->created_us = sqlite3_column_int64(stmt, 3);
  return user;
}
