/* Tests for store/accounts.c: listing, changing and deleting users (never the
 * last admin), per-camera rights rows, sessions (idle and absolute expiry,
 * purge) and API tokens (owner-only revocation, cascades). */
#include <glib/gstdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "store/store.h"

typedef struct {
  gchar *dir;
  VigilStore *store;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("vigil-test-accounts-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree gchar *path = g_build_filename(f->dir, "vigil.db", NULL);
  f->store = vigil_store_open(path, &error);
  g_assert_no_error(error);
  g_assert_true(vigil_store_insert_user(f->store, "admin", "admin", "$h0", &error));
  g_assert_true(vigil_store_insert_user(f->store, "bob", "operator", "$h1", &error));
}

static void teardown(Fixture *f, gconstpointer data)
{
  vigil_store_close(f->store);
  g_autofree gchar *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
  g_assert_cmpint(system(cmd), ==, 0);
  g_free(f->dir);
}

static void test_last_admin(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_store_delete_user(f->store, "admin", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT);
  g_clear_error(&error);
  g_assert_false(vigil_store_update_user(f->store, "admin", "viewer", NULL, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT);
  g_clear_error(&error);
  /* Promote bob: now admin may go. */
  g_assert_true(vigil_store_update_user(f->store, "bob", "admin", NULL, &error));
  g_assert_true(vigil_store_update_user(f->store, "admin", "viewer", NULL, &error));
  g_assert_no_error(error);
  g_assert_false(vigil_store_delete_user(f->store, "bob", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT);
  g_clear_error(&error);
  g_assert_true(vigil_store_delete_user(f->store, "admin", &error));
  g_assert_false(vigil_store_delete_user(f->store, "admin", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(vigil_store_update_user(f->store, "nobody", "viewer", NULL, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(vigil_store_update_user(f->store, "bob", "root", NULL, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_autoptr(GPtrArray) users = vigil_store_list_users(f->store, NULL);
  g_assert_cmpuint(users->len, ==, 1);
}

static void test_rights_rows(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) rows = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(rows, "front", "view,playback");
  g_hash_table_insert(rows, "*", "view");
  g_hash_table_insert(rows, "skipped", "");
  g_assert_true(vigil_store_set_user_cameras(f->store, "bob", rows, &error));
  g_autoptr(GHashTable) got = vigil_store_get_user_cameras(f->store, "bob");
  g_assert_cmpuint(g_hash_table_size(got), ==, 2);
  g_assert_cmpstr(g_hash_table_lookup(got, "front"), ==, "view,playback");
  g_assert_cmpstr(g_hash_table_lookup(got, "*"), ==, "view");
  /* Replacing, and rows go with the camera and with the user. */
  g_hash_table_remove(rows, "*");
  g_assert_true(vigil_store_set_user_cameras(f->store, "bob", rows, &error));
  g_autoptr(GHashTable) replaced = vigil_store_get_user_cameras(f->store, "bob");
  g_assert_cmpuint(g_hash_table_size(replaced), ==, 1);
  g_assert_true(vigil_store_delete_user(f->store, "bob", &error));
  g_autoptr(GHashTable) gone = vigil_store_get_user_cameras(f->store, "bob");
  g_assert_cmpuint(g_hash_table_size(gone), ==, 0);
}

#define S ((gint64)G_USEC_PER_SEC)

static void test_sessions(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 t0 = 1000000 * S;
  g_assert_true(vigil_store_insert_session(f->store, "hash-a", "bob", t0, &error));
  g_assert_true(vigil_store_insert_session(f->store, "hash-b", "bob", t0, &error));
  g_assert_false(vigil_store_insert_session(f->store, "hash-c", "nobody", t0, &error));
  g_clear_error(&error);
  /* Used within the idle window: found, and touched. */
  g_autofree gchar *u1 = vigil_store_lookup_session(f->store, "hash-a", t0 + 50 * S - 100 * S, 0,
                                                    t0 + 50 * S, t0 + 50 * S);
  g_assert_cmpstr(u1, ==, "bob");
  /* 120 s later with a 100 s idle limit: a was touched at t0+50, b was not. */
  gint64 now = t0 + 120 * S;
  g_autofree gchar *a = vigil_store_lookup_session(f->store, "hash-a", now - 100 * S, 0, 0, now);
  g_autofree gchar *b = vigil_store_lookup_session(f->store, "hash-b", now - 100 * S, 0, 0, now);
  g_assert_cmpstr(a, ==, "bob");
  g_assert_null(b);
  /* Absolute limit: created at t0, refused when it must be newer. */
  g_autofree gchar *old = vigil_store_lookup_session(f->store, "hash-a", 0, t0, 0, now);
  g_assert_null(old);
  g_autofree gchar *unknown = vigil_store_lookup_session(f->store, "nope", 0, 0, 0, now);
  g_assert_null(unknown);
  /* A new password ends sessions; purge and delete work. */
  g_assert_true(vigil_store_insert_session(f->store, "hash-d", "admin", now, &error));
  g_assert_true(vigil_store_update_user(f->store, "bob", NULL, "$new", &error));
  g_autofree gchar *after = vigil_store_lookup_session(f->store, "hash-a", 0, 0, 0, now);
  g_assert_null(after);
  g_autofree gchar *d = vigil_store_lookup_session(f->store, "hash-d", 0, 0, 0, now);
  g_assert_cmpstr(d, ==, "admin");
  vigil_store_purge_sessions(f->store, now + 1, 0);
  g_autofree gchar *purged = vigil_store_lookup_session(f->store, "hash-d", 0, 0, 0, now);
  g_assert_null(purged);
}

static void test_tokens(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 id = vigil_store_insert_token(f->store, "bob", "th1", "script", 5 * S, &error);
  g_assert_no_error(error);
  g_assert_cmpint(id, >, 0);
  gint64 id2 = vigil_store_insert_token(f->store, "admin", "th2", NULL, 5 * S, &error);
  g_assert_cmpint(id2, >, id);
  /* Same hash twice: refused (UNIQUE). */
  g_assert_cmpint(vigil_store_insert_token(f->store, "bob", "th1", NULL, 5 * S, &error), ==, -1);
  g_clear_error(&error);
  g_autofree gchar *owner = vigil_store_lookup_token(f->store, "th1", 1000 * S);
  g_assert_cmpstr(owner, ==, "bob");
  g_autoptr(GPtrArray) list = vigil_store_list_tokens(f->store, "bob", &error);
  g_assert_cmpuint(list->len, ==, 1);
  VigilApiToken *t = list->pdata[0];
  g_assert_cmpstr(t->name, ==, "script");
  g_assert_cmpint(t->last_used_us, ==, 1000 * S);
  /* Only the owner revokes. */
  g_assert_false(vigil_store_delete_token(f->store, "admin", id, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_true(vigil_store_delete_token(f->store, "bob", id, &error));
  g_autofree gchar *revoked = vigil_store_lookup_token(f->store, "th1", 1000 * S);
  g_assert_null(revoked);
  /* Deleting a user takes their tokens. */
  g_assert_true(vigil_store_update_user(f->store, "bob", "admin", NULL, &error));
  g_assert_true(vigil_store_delete_user(f->store, "admin", &error));
  g_autofree gchar *cascaded = vigil_store_lookup_token(f->store, "th2", 1000 * S);
  g_assert_null(cascaded);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/accounts/last-admin", Fixture, NULL, setup, test_last_admin, teardown);
  g_test_add("/accounts/rights-rows", Fixture, NULL, setup, test_rights_rows, teardown);
  g_test_add("/accounts/sessions", Fixture, NULL, setup, test_sessions, teardown);
  g_test_add("/accounts/tokens", Fixture, NULL, setup, test_tokens, teardown);
  return g_test_run();
}
