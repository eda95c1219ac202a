/* Tests for auth/basic.c and the password thread of auth/password.c: the
 * cache of Basic successes (bound to the stored hash), checks off the main
 * loop, requests with the same credentials sharing one check, and the login
 * rate limit counting checks while they run. */
#include <argon2.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/basic.h"
#include "auth/password.h"
#include "auth/ratelimit.h"
#include "core/error.h"
#include "store/store.h"

/* An Argon2id hash with the smallest costs (verifying uses the costs stored
 * in the hash), so that dozens of checks take milliseconds, not seconds. */
static gchar *cheap_hash(const char *password)
{
  static const guint8 salt[16] = "vigil-test-salt";
  gchar encoded[128];
  g_assert_cmpint(argon2id_hash_encoded(1, 8, 1, password, strlen(password), salt, sizeof salt, 32,
                                        encoded, sizeof encoded),
                  ==, ARGON2_OK);
  return g_strdup(encoded);
}

typedef struct {
  gchar *dir;
  VigilStore *store;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("vigil-test-auth-basic-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree gchar *path = g_build_filename(f->dir, "vigil.db", NULL);
  f->store = vigil_store_open(path, &error);
  g_assert_no_error(error);
  g_autofree gchar *hash = cheap_hash("right");
  g_assert_true(vigil_store_insert_user(f->store, "alice", "admin", hash, &error));
  vigil_auth_basic_forget();
}

static void teardown(Fixture *f, gconstpointer data)
{
  vigil_store_close(f->store);
  g_autofree gchar *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
  g_assert_cmpint(system(cmd), ==, 0);
  g_free(f->dir);
}

static gchar *basic(const char *user, const char *password)
{
  g_autofree gchar *plain = g_strdup_printf("%s:%s", user, password);
  g_autofree gchar *b64 = g_base64_encode((const guchar *)plain, strlen(plain));
  return g_strconcat("Basic ", b64, NULL);
}

/* --- vigil_password_verify_async --- */

typedef struct {
  guint done;
  gboolean ok[16];
  GError *error[16];
} Verified;

typedef struct {
  Verified *v;
  guint i;
} Slot;

static void on_verified(GObject *source, GAsyncResult *result, gpointer data)
{
  Slot *s = data;
  s->v->ok[s->i] = vigil_password_verify_finish(result, &s->v->error[s->i]);
  s->v->done++;
  g_free(s);
}

static void verify(Verified *v, guint i, const char *hash, const char *password)
{
  Slot *s = g_new0(Slot, 1);
  s->v = v;
  s->i = i;
  vigil_password_verify_async(hash, password, on_verified, s);
}

static void test_verify_async(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *hash = vigil_password_hash("secret", &error);
  g_assert_no_error(error);
  Verified v = {0};
  verify(&v, 0, hash, "secret");
  verify(&v, 1, hash, "Secret");
  verify(&v, 2, NULL, "secret"); /* unknown user: the dummy, always FALSE */
  verify(&v, 3, "not a hash", "secret");
  /* Nothing answers before the main loop runs. */
  g_assert_cmpuint(v.done, ==, 0);
  while (v.done < 4)
    g_main_context_iteration(NULL, TRUE);
  g_assert_true(v.ok[0]);
  g_assert_false(v.ok[1]);
  g_assert_false(v.ok[2]);
  g_assert_false(v.ok[3]);
  for (guint i = 0; i < 4; i++)
    g_assert_no_error(v.error[i]);
}

/* Past VIGIL_PASSWORD_QUEUE_MAX waiting checks, the next fails at once with
 * an error instead of queueing (each would hold 64 MiB for ~145 ms). */
static void test_verify_queue_is_bounded(void)
{
  /* Full cost (~145 ms a check): the queue fills while the thread works. */
  g_autoptr(GError) error = NULL;
  g_autofree gchar *hash = vigil_password_hash("secret", &error);
  g_assert_no_error(error);
  guint n = VIGIL_PASSWORD_QUEUE_MAX + 4;
  Verified *v = g_new0(Verified, (n + 15) / 16);
  /* Slots by index modulo 16 in consecutive Verified records. */
  for (guint i = 0; i < n; i++)
    verify(&v[i / 16], i % 16, hash, "wrong");
  guint refused = 0;
  for (;;) {
    guint done = 0;
    for (guint k = 0; k < (n + 15) / 16; k++)
      done += v[k].done;
    if (done == n)
      break;
    g_main_context_iteration(NULL, TRUE);
  }
  for (guint i = 0; i < n; i++) {
    GError *e = v[i / 16].error[i % 16];
    g_assert_false(v[i / 16].ok[i % 16]);
    if (e) {
      g_assert_cmpstr(e->message, ==, "too many password checks waiting");
      g_assert_true(g_error_matches(e, VIGIL_ERROR, VIGIL_ERROR_BUSY));
      refused++;
      g_error_free(e);
    }
  }
  /* The thread may have taken one or more before the queue filled: at most
   * 4 refused, and at least one unless it finished 4 checks (~0.6 s) while
   * the loop above pushed 36. */
  g_assert_cmpuint(refused, >=, 1);
  g_assert_cmpuint(refused, <=, 4);
  g_free(v);
}

/* --- the cache --- */

static void test_cache_bound_to_stored_hash(Fixture *f, gconstpointer data)
{
  g_autofree gchar *right = basic("alice", "right");
  g_autofree gchar *wrong = basic("alice", "wrong");
  g_assert_false(vigil_auth_basic_is_cached(f->store, right));
  g_autoptr(VigilUser) user = vigil_auth_basic(f->store, right);
  g_assert_nonnull(user);
  g_assert_cmpstr(user->name, ==, "alice");
  g_assert_true(vigil_auth_basic_is_cached(f->store, right));
  g_assert_false(vigil_auth_basic_is_cached(f->store, wrong));
  g_assert_null(vigil_auth_basic(f->store, wrong));
  g_assert_false(vigil_auth_basic_is_cached(f->store, wrong)); /* failures are not cached */

  /* Another process (or a path that forgot vigil_auth_basic_forget) changes
   * the password: the cached success ends with the stored hash. */
  g_autoptr(GError) error = NULL;
  g_autofree gchar *hash = cheap_hash("new");
  g_assert_true(vigil_store_update_user(f->store, "alice", NULL, hash, &error));
  g_assert_no_error(error);
  g_assert_false(vigil_auth_basic_is_cached(f->store, right));
  g_assert_null(vigil_auth_basic(f->store, right));
  g_autofree gchar *renewed = basic("alice", "new");
  g_autoptr(VigilUser) again = vigil_auth_basic(f->store, renewed);
  g_assert_nonnull(again);

  /* A deleted user's success ends too. */
  g_assert_true(vigil_store_insert_user(f->store, "root", "admin", hash, &error));
  g_assert_true(vigil_store_delete_user(f->store, "alice", &error));
  g_assert_no_error(error);
  g_assert_null(vigil_auth_basic(f->store, renewed));

  /* Malformed headers are answered without a hash, as "cached". */
  g_assert_true(vigil_auth_basic_is_cached(f->store, "Bearer x"));
  g_assert_true(vigil_auth_basic_is_cached(f->store, "Basic !!!"));
  g_assert_null(vigil_auth_basic(f->store, "Basic !!!"));
}

/* --- vigil_auth_basic_async --- */

typedef struct {
  guint done;
  guint users;
  guint errors;
} Answers;

static void on_basic(GObject *source, GAsyncResult *result, gpointer data)
{
  Answers *a = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilUser) user = vigil_auth_basic_finish(result, &error);
  a->done++;
  a->users += user != NULL;
  a->errors += error != NULL;
}

static void wait_for(Answers *a, guint n)
{
  while (a->done < n)
    g_main_context_iteration(NULL, TRUE);
}

static void test_async_shares_one_check(Fixture *f, gconstpointer data)
{
  const char *addr = "192.0.2.1";
  g_autofree gchar *right = basic("alice", "right");
  Answers a = {0};
  for (guint i = 0; i < 12; i++)
    vigil_auth_basic_async(f->store, right, addr, on_basic, &a);
  wait_for(&a, 12);
  g_assert_cmpuint(a.users, ==, 12);
  g_assert_cmpuint(a.errors, ==, 0);
  g_assert_true(vigil_auth_basic_is_cached(f->store, right));

  /* 12 requests with the same wrong password at once are one guess: the
   * limit (10 failures) is not reached. */
  g_autofree gchar *wrong = basic("alice", "guess");
  Answers b = {0};
  for (guint i = 0; i < 12; i++)
    vigil_auth_basic_async(f->store, wrong, addr, on_basic, &b);
  wait_for(&b, 12);
  g_assert_cmpuint(b.users, ==, 0);
  g_assert_cmpuint(b.errors, ==, 0);
  g_assert_cmpint(vigil_login_retry_after("alice", addr), ==, 0);
}

static void test_async_checks_count_while_running(Fixture *f, gconstpointer data)
{
  const char *addr = "192.0.2.2";
  Answers a = {0};
  /* 10 different guesses for an unknown name sent at once: while they run
   * they already block an 11th, and once they are answered the name and the
   * address are blocked for the window. */
  for (guint i = 0; i < VIGIL_LOGIN_MAX_FAILURES; i++) {
    g_autofree gchar *password = g_strdup_printf("guess-%u", i);
    g_autofree gchar *h = basic("mallory", password);
    vigil_auth_basic_async(f->store, h, addr, on_basic, &a);
  }
  g_assert_cmpint(vigil_login_retry_after("mallory", NULL), ==, 1);
  g_assert_cmpint(vigil_login_retry_after(NULL, addr), ==, 1);
  wait_for(&a, VIGIL_LOGIN_MAX_FAILURES);
  g_assert_cmpuint(a.users, ==, 0);
  g_assert_cmpint(vigil_login_retry_after("mallory", NULL), >, 500);
  g_assert_cmpint(vigil_login_retry_after(NULL, addr), >, 500);
  g_assert_cmpint(vigil_login_retry_after("someone-else", "192.0.2.3"), ==, 0);
}

/* A cached success answers without waiting for the password thread. */
static void test_async_cached_answers_at_once(Fixture *f, gconstpointer data)
{
  g_autofree gchar *right = basic("alice", "right");
  g_autoptr(VigilUser) user = vigil_auth_basic(f->store, right);
  g_assert_nonnull(user);
  Answers a = {0};
  vigil_auth_basic_async(f->store, right, "192.0.2.4", on_basic, &a);
  wait_for(&a, 1);
  g_assert_cmpuint(a.users, ==, 1);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/password/verify-async", test_verify_async);
  g_test_add_func("/password/verify-queue-is-bounded", test_verify_queue_is_bounded);
  g_test_add("/auth-basic/cache-bound-to-stored-hash", Fixture, NULL, setup,
             test_cache_bound_to_stored_hash, teardown);
  g_test_add("/auth-basic/async-shares-one-check", Fixture, NULL, setup,
             test_async_shares_one_check, teardown);
  g_test_add("/auth-basic/async-checks-count-while-running", Fixture, NULL, setup,
             test_async_checks_count_while_running, teardown);
  g_test_add("/auth-basic/async-cached-answers-at-once", Fixture, NULL, setup,
             test_async_cached_answers_at_once, teardown);
  return g_test_run();
}
