/* Tests for core/path.c: resolution under a root, refusing every escape. */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/path.h"

static gchar *root;

static void expect_refused(const char *relative, int code)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *p = vigil_path_resolve_under(root, relative, &error);
  if (p)
    g_error("\"%s\" resolved to %s", relative ? relative : "(null)", p);
  g_assert_error(error, VIGIL_ERROR, code);
}

static void test_resolves_inside(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *real_root = realpath(root, NULL);
  g_autofree gchar *p = vigil_path_resolve_under(root, "recordings/cam/000001.ts", &error);
  g_assert_no_error(error);
  g_autofree gchar *expected = g_build_filename(real_root, "recordings/cam/000001.ts", NULL);
  g_assert_cmpstr(p, ==, expected);
  g_autofree gchar *dir = vigil_path_resolve_under(root, "recordings/cam/", &error);
  g_assert_no_error(error);
  g_assert_true(g_str_has_suffix(dir, "/recordings/cam"));
  /* A symlink that stays inside is fine. */
  g_autofree gchar *inner = vigil_path_resolve_under(root, "recordings/inner-link", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(inner, ==, expected);
}

static void test_refuses(void)
{
  expect_refused(NULL, VIGIL_ERROR_INVALID);
  expect_refused("", VIGIL_ERROR_INVALID);
  expect_refused("/etc/passwd", VIGIL_ERROR_INVALID);
  expect_refused("..", VIGIL_ERROR_INVALID);
  expect_refused("../etc/passwd", VIGIL_ERROR_INVALID);
  expect_refused("recordings/../../etc/passwd", VIGIL_ERROR_INVALID);
  expect_refused("recordings/cam/..", VIGIL_ERROR_INVALID);
  expect_refused("./recordings", VIGIL_ERROR_INVALID);
  expect_refused("recordings//cam", VIGIL_ERROR_INVALID);
  expect_refused("recordings%2f..%2f..%2fetc", VIGIL_ERROR_INVALID);
  expect_refused("recordings%2Fcam", VIGIL_ERROR_INVALID);
  expect_refused("recordings\\..\\x", VIGIL_ERROR_INVALID);
  expect_refused("recordings/cam\n", VIGIL_ERROR_INVALID);
  expect_refused("rec\x7f", VIGIL_ERROR_INVALID);
  expect_refused("\xff\xfe", VIGIL_ERROR_INVALID);
  g_autofree gchar *long_path = g_strnfill(5000, 'a');
  expect_refused(long_path, VIGIL_ERROR_INVALID);
  /* Missing files and symlink escapes look the same. */
  expect_refused("recordings/missing.ts", VIGIL_ERROR_NOT_FOUND);
  expect_refused("recordings/escape", VIGIL_ERROR_NOT_FOUND);
  expect_refused("recordings/escape/passwd", VIGIL_ERROR_NOT_FOUND);
  expect_refused("recordings/root-link", VIGIL_ERROR_NOT_FOUND);
  /* A root that does not exist. */
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_path_resolve_under("/nonexistent-vigil-root", "x", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
}

/* A sibling directory whose name starts with the root's must not count. */
static void test_prefix_sibling(void)
{
  g_autofree gchar *sibling = g_strconcat(root, "-evil", NULL);
  g_assert_cmpint(g_mkdir_with_parents(sibling, 0700), ==, 0);
  g_autofree gchar *secret = g_build_filename(sibling, "secret", NULL);
  g_assert_true(g_file_set_contents(secret, "x", -1, NULL));
  g_autofree gchar *link = g_build_filename(root, "recordings", "sib", NULL);
  g_assert_cmpint(symlink(secret, link), ==, 0);
  expect_refused("recordings/sib", VIGIL_ERROR_NOT_FOUND);
  g_unlink(link);
  g_unlink(secret);
  g_rmdir(sibling);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_autoptr(GError) error = NULL;
  root = g_dir_make_tmp("vigil-path-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree gchar *cam = g_build_filename(root, "recordings", "cam", NULL);
  g_assert_cmpint(g_mkdir_with_parents(cam, 0700), ==, 0);
  g_autofree gchar *file = g_build_filename(cam, "000001.ts", NULL);
  g_assert_true(g_file_set_contents(file, "ts", -1, NULL));
  g_autofree gchar *escape = g_build_filename(root, "recordings", "escape", NULL);
  g_assert_cmpint(symlink("/etc", escape), ==, 0);
  g_autofree gchar *inner = g_build_filename(root, "recordings", "inner-link", NULL);
  g_assert_cmpint(symlink("cam/000001.ts", inner), ==, 0);
  g_autofree gchar *root_link = g_build_filename(root, "recordings", "root-link", NULL);
  g_assert_cmpint(symlink("..", root_link), ==, 0);

  g_test_add_func("/path/resolves-inside", test_resolves_inside);
  g_test_add_func("/path/refuses", test_refuses);
  g_test_add_func("/path/prefix-sibling", test_prefix_sibling);
  int rc = g_test_run();

  g_autofree gchar *cmd = g_strdup_printf("rm -rf '%s'", root);
  if (system(cmd) != 0)
    g_warning("could not remove %s", root);
  g_free(root);
  return rc;
}
