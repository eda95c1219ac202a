/* libFuzzer target: vigil_path_resolve_under on arbitrary relative paths
 * against a small tree with symlinks pointing out. Invariant: whatever
 * resolves lies strictly inside the root. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core/path.h"

static gchar *root;
static gchar *root_real;

static void cleanup(void)
{
  gchar *cmd = g_strdup_printf("rm -rf '%s'", root);
  if (system(cmd) != 0)
    g_printerr("could not remove %s\n", root);
  g_free(cmd);
}

static void setup(void)
{
  root = g_dir_make_tmp("vigil-fuzz-path-XXXXXX", NULL);
  if (!root)
    abort();
  root_real = realpath(root, NULL);
  atexit(cleanup);
  gchar *dir = g_build_filename(root, "rec", "cam", NULL);
  g_mkdir_with_parents(dir, 0700);
  gchar *file = g_build_filename(dir, "000001.ts", NULL);
  g_file_set_contents(file, "x", 1, NULL);
  gchar *out = g_build_filename(root, "rec", "out", NULL);
  gchar *up = g_build_filename(root, "rec", "up", NULL);
  if (symlink("/etc", out) != 0 || symlink("..", up) != 0)
    abort();
  g_free(dir);
  g_free(file);
  g_free(out);
  g_free(up);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!root)
    setup();
  gchar *relative = g_strndup((const char *)data, size);
  gchar *resolved = vigil_path_resolve_under(root, relative, NULL);
  if (resolved) {
    size_t n = strlen(root_real);
    if (strncmp(resolved, root_real, n) != 0 || resolved[n] != '/')
      __builtin_trap();
  }
  g_free(resolved);
  g_free(relative);
  return 0;
}
