/* Tests for auth/permissions.c (the rights matrix), auth/secret.c (tokens,
 * constant-time compare, CSRF derivation) and auth/ratelimit.c (with an
 * injected clock). */
#include <string.h>

#include "auth/permissions.h"
#include "auth/ratelimit.h"
#include "auth/secret.h"

static void test_roles_and_rights_strings(void)
{
  g_assert_cmpint(vigil_role_from_string("admin"), ==, VIGIL_ROLE_ADMIN);
  g_assert_cmpint(vigil_role_from_string("operator"), ==, VIGIL_ROLE_OPERATOR);
  g_assert_cmpint(vigil_role_from_string("viewer"), ==, VIGIL_ROLE_VIEWER);
  g_assert_cmpint(vigil_role_from_string("Admin"), ==, VIGIL_ROLE_INVALID);
  g_assert_cmpint(vigil_role_from_string(""), ==, VIGIL_ROLE_INVALID);
  g_assert_cmpint(vigil_role_from_string(NULL), ==, VIGIL_ROLE_INVALID);

  g_assert_cmpint(vigil_right_from_string("view"), ==, VIGIL_RIGHT_VIEW);
  g_assert_cmpint(vigil_right_from_string("playback"), ==, VIGIL_RIGHT_PLAYBACK);
  g_assert_cmpint(vigil_right_from_string("control"), ==, VIGIL_RIGHT_CONTROL);
  g_assert_cmpint(vigil_right_from_string("admin"), ==, 0);
  g_assert_cmpint(vigil_right_from_string(NULL), ==, 0);

  g_autofree gchar *all = vigil_rights_to_string(VIGIL_RIGHTS_ALL);
  g_assert_cmpstr(all, ==, "view,playback,control");
  g_autofree gchar *two = vigil_rights_to_string(VIGIL_RIGHT_CONTROL | VIGIL_RIGHT_VIEW);
  g_assert_cmpstr(two, ==, "view,control");
  g_autofree gchar *none = vigil_rights_to_string(0);
  g_assert_cmpstr(none, ==, "");
  g_assert_cmpuint(vigil_rights_from_string("control, view,bogus"), ==,
                   VIGIL_RIGHT_CONTROL | VIGIL_RIGHT_VIEW);
  g_assert_cmpuint(vigil_rights_from_string(""), ==, 0);
  g_assert_cmpuint(vigil_rights_from_string(NULL), ==, 0);
}

/* The whole matrix: role x rows x camera x right. */
static void test_matrix(void)
{
  const VigilRole roles[] = {VIGIL_ROLE_ADMIN, VIGIL_ROLE_OPERATOR, VIGIL_ROLE_VIEWER,
                             VIGIL_ROLE_INVALID};
  for (guint r = 0; r < G_N_ELEMENTS(roles); r++) {
    g_autoptr(VigilPermissions) p = vigil_permissions_new(roles[r]);
    vigil_permissions_set(p, "front", VIGIL_RIGHT_VIEW | VIGIL_RIGHT_PLAYBACK);
    vigil_permissions_set(p, "garage", VIGIL_RIGHT_CONTROL);
    gboolean admin = roles[r] == VIGIL_ROLE_ADMIN;
    gboolean viewer = roles[r] == VIGIL_ROLE_VIEWER;
    gboolean invalid = roles[r] == VIGIL_ROLE_INVALID;

    /* front: view + playback for non-admins; everything for admin. */
    g_assert_cmpuint(vigil_permissions_rights(p, "front"), ==,
                     admin     ? VIGIL_RIGHTS_ALL
                     : invalid ? 0
                               : (VIGIL_RIGHT_VIEW | VIGIL_RIGHT_PLAYBACK));
    /* garage: control only; a viewer cannot hold it, so sees nothing. */
    g_assert_cmpuint(vigil_permissions_rights(p, "garage"), ==,
                     admin               ? VIGIL_RIGHTS_ALL
                     : viewer || invalid ? 0
                                         : VIGIL_RIGHT_CONTROL);
    g_assert_cmpint(vigil_permissions_can_see(p, "garage"), ==, admin || (!viewer && !invalid));
    /* A camera without a row. */
    g_assert_cmpint(vigil_permissions_can_see(p, "back"), ==, admin);
    g_assert_cmpint(vigil_permissions_has(p, "back", VIGIL_RIGHT_VIEW), ==, admin);
    /* "*" is a key, never an id. */
    g_assert_false(vigil_permissions_can_see(p, "*"));
    g_assert_false(vigil_permissions_can_see(p, NULL));
    /* Creating cameras needs control on "*". */
    g_assert_cmpint(vigil_permissions_has_all_cameras(p, VIGIL_RIGHT_CONTROL), ==, admin);
    g_assert_cmpint(vigil_permissions_is_admin(p), ==, admin);
  }
}

static void test_wildcard_union(void)
{
  g_autoptr(VigilPermissions) p = vigil_permissions_new(VIGIL_ROLE_OPERATOR);
  vigil_permissions_set(p, "*", VIGIL_RIGHT_VIEW);
  vigil_permissions_set(p, "front", VIGIL_RIGHT_PLAYBACK);
  g_assert_cmpuint(vigil_permissions_rights(p, "front"), ==,
                   VIGIL_RIGHT_VIEW | VIGIL_RIGHT_PLAYBACK);
  g_assert_cmpuint(vigil_permissions_rights(p, "anything"), ==, VIGIL_RIGHT_VIEW);
  g_assert_true(vigil_permissions_has(p, "front", VIGIL_RIGHT_VIEW | VIGIL_RIGHT_PLAYBACK));
  g_assert_false(vigil_permissions_has(p, "anything", VIGIL_RIGHT_PLAYBACK));
  g_assert_false(vigil_permissions_has_all_cameras(p, VIGIL_RIGHT_CONTROL));
  g_assert_true(vigil_permissions_has_all_cameras(p, VIGIL_RIGHT_VIEW));
  g_assert_false(vigil_permissions_has_all_cameras(p, 0));

  /* Removing rows with 0; the copy is independent. */
  g_autoptr(VigilPermissions) copy = vigil_permissions_copy(p);
  vigil_permissions_set(p, "*", 0);
  g_assert_false(vigil_permissions_can_see(p, "anything"));
  g_assert_true(vigil_permissions_can_see(copy, "anything"));
  g_assert_cmpuint(g_hash_table_size(vigil_permissions_rows(p)), ==, 1);

  /* Viewer with a control row on "*": capped, cannot create cameras. */
  g_autoptr(VigilPermissions) v = vigil_permissions_new(VIGIL_ROLE_VIEWER);
  vigil_permissions_set(v, "*", VIGIL_RIGHTS_ALL);
  g_assert_cmpuint(vigil_permissions_rights(v, "x"), ==, VIGIL_RIGHT_VIEW | VIGIL_RIGHT_PLAYBACK);
  g_assert_false(vigil_permissions_has_all_cameras(v, VIGIL_RIGHT_CONTROL));
  g_assert_false(vigil_permissions_has(v, "x", VIGIL_RIGHT_CONTROL));
  /* NULL permissions see nothing. */
  g_assert_false(vigil_permissions_can_see(NULL, "x"));
  g_assert_false(vigil_permissions_has_all_cameras(NULL, VIGIL_RIGHT_VIEW));
}

static void test_role_defaults(void)
{
  g_assert_cmpuint(vigil_role_default_rights(VIGIL_ROLE_OPERATOR), ==, VIGIL_RIGHTS_ALL);
  g_assert_cmpuint(vigil_role_default_rights(VIGIL_ROLE_VIEWER), ==, VIGIL_RIGHT_VIEW);
  g_assert_cmpuint(vigil_role_max_rights(VIGIL_ROLE_VIEWER) & VIGIL_RIGHT_CONTROL, ==, 0);
  g_assert_cmpuint(vigil_role_max_rights(VIGIL_ROLE_INVALID), ==, 0);
}

static void test_secret_equal(void)
{
  g_assert_true(vigil_secret_equal("abc", "abc"));
  g_assert_true(vigil_secret_equal("", ""));
  g_assert_false(vigil_secret_equal("abc", "abd"));
  g_assert_false(vigil_secret_equal("abc", "ab"));
  g_assert_false(vigil_secret_equal("ab", "abc"));
  g_assert_false(vigil_secret_equal("", "a"));
  g_assert_false(vigil_secret_equal(NULL, "a"));
  g_assert_false(vigil_secret_equal("a", NULL));
  g_assert_false(vigil_secret_equal(NULL, NULL));
}

static void test_tokens(void)
{
  g_autofree gchar *a = vigil_secret_random_hex("vigil_", 32);
  g_autofree gchar *b = vigil_secret_random_hex("vigil_", 32);
  g_assert_cmpuint(strlen(a), ==, 6 + 64);
  g_assert_true(g_str_has_prefix(a, "vigil_"));
  g_assert_cmpstr(a, !=, b);
  for (const char *p = a + 6; *p; p++)
    g_assert_true(g_ascii_isxdigit(*p) && !g_ascii_isupper(*p));
  g_autofree gchar *h = vigil_secret_sha256("abc");
  g_assert_cmpstr(h, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* The CSRF token depends on the session token and is not the token. */
  g_autofree gchar *c1 = vigil_secret_csrf_token(a);
  g_autofree gchar *c1b = vigil_secret_csrf_token(a);
  g_autofree gchar *c2 = vigil_secret_csrf_token(b);
  g_assert_cmpstr(c1, ==, c1b);
  g_assert_cmpstr(c1, !=, c2);
  g_assert_null(strstr(c1, a + 6));
  g_assert_cmpuint(strlen(c1), ==, 64);
}

#define S ((gint64)G_USEC_PER_SEC)

static void test_rate_limiter(void)
{
  g_autoptr(VigilRateLimiter) l = vigil_rate_limiter_new(10, 600 * S);
  gint64 t0 = 1000 * S;
  /* Nine failures: still allowed. */
  for (int i = 0; i < 9; i++) {
    g_assert_cmpint(vigil_rate_limiter_retry_after(l, "user:bob", t0 + i * S), ==, 0);
    vigil_rate_limiter_fail(l, "user:bob", t0 + i * S);
  }
  g_assert_cmpint(vigil_rate_limiter_retry_after(l, "user:bob", t0 + 9 * S), ==, 0);
  /* The tenth blocks, until the first leaves the 10-minute window. */
  vigil_rate_limiter_fail(l, "user:bob", t0 + 9 * S);
  g_assert_cmpint(vigil_rate_limiter_retry_after(l, "user:bob", t0 + 10 * S), ==, 590);
  g_assert_cmpint(vigil_rate_limiter_retry_after(l, "user:bob", t0 + 599 * S + 1), ==, 1);
  g_assert_cmpint(vigil_rate_limiter_retry_after(l, "user:bob", t0 + 600 * S), ==, 0);
  /* Other keys and NULL are unaffected. */
  g_assert_cmpint(vigil_rate_limiter_retry_after(l, "user:alice", t0 + 10 * S), ==, 0);
  g_assert_cmpint(vigil_rate_limiter_retry_after(l, NULL, t0 + 10 * S), ==, 0);
  vigil_rate_limiter_fail(l, NULL, t0);
  /* Spread-out failures never block: the window slides. */
  for (int i = 0; i < 30; i++) {
    g_assert_cmpint(vigil_rate_limiter_retry_after(l, "addr:x", t0 + i * 61 * S), ==, 0);
    vigil_rate_limiter_fail(l, "addr:x", t0 + i * 61 * S);
  }
  /* Pruning forgets keys whose failures expired. */
  g_assert_cmpuint(vigil_rate_limiter_size(l), ==, 2);
  vigil_rate_limiter_prune(l, t0 + 10000 * S);
  g_assert_cmpuint(vigil_rate_limiter_size(l), ==, 0);
  /* Failures while blocked keep it blocked (the newest ten count). */
  for (int i = 0; i < 15; i++)
    vigil_rate_limiter_fail(l, "k", t0 + i * 60 * S);
  g_assert_cmpint(vigil_rate_limiter_retry_after(l, "k", t0 + 14 * 60 * S), >, 0);
}

/* The camera list that filters recordings and events in SQL. */
static void test_cameras_with(void)
{
  g_autoptr(VigilPermissions) admin = vigil_permissions_new(VIGIL_ROLE_ADMIN);
  g_assert_null(vigil_permissions_cameras_with(admin, VIGIL_RIGHT_PLAYBACK));

  g_autoptr(VigilPermissions) op = vigil_permissions_new(VIGIL_ROLE_OPERATOR);
  vigil_permissions_set(op, VIGIL_ALL_CAMERAS, VIGIL_RIGHT_VIEW | VIGIL_RIGHT_PLAYBACK);
  g_assert_null(vigil_permissions_cameras_with(op, VIGIL_RIGHT_PLAYBACK));

  g_autoptr(VigilPermissions) v = vigil_permissions_new(VIGIL_ROLE_VIEWER);
  g_auto(GStrv) none = vigil_permissions_cameras_with(v, VIGIL_RIGHT_PLAYBACK);
  g_assert_nonnull(none);
  g_assert_cmpuint(g_strv_length(none), ==, 0);
  /* "*" gives view only; b gets playback from its own row, c has view. */
  vigil_permissions_set(v, VIGIL_ALL_CAMERAS, VIGIL_RIGHT_VIEW);
  vigil_permissions_set(v, "b", VIGIL_RIGHT_PLAYBACK);
  vigil_permissions_set(v, "c", VIGIL_RIGHT_VIEW);
  g_auto(GStrv) pb = vigil_permissions_cameras_with(v, VIGIL_RIGHT_PLAYBACK);
  g_assert_cmpuint(g_strv_length(pb), ==, 1);
  g_assert_cmpstr(pb[0], ==, "b");
  g_assert_null(vigil_permissions_cameras_with(v, VIGIL_RIGHT_VIEW)); /* the "*" row */
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/permissions/strings", test_roles_and_rights_strings);
  g_test_add_func("/permissions/matrix", test_matrix);
  g_test_add_func("/permissions/wildcard", test_wildcard_union);
  g_test_add_func("/permissions/role-defaults", test_role_defaults);
  g_test_add_func("/secret/equal", test_secret_equal);
  g_test_add_func("/secret/tokens", test_tokens);
  g_test_add_func("/ratelimit/window", test_rate_limiter);
  g_test_add_func("/permissions/cameras-with", test_cameras_with);
  return g_test_run();
}
