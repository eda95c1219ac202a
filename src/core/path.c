/* Path resolution under a root directory, refusing every escape. */
#define G_LOG_DOMAIN "vigil"

#include "core/path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define MAX_RELATIVE 4096

static gboolean refuse(GError **error, const char *why)
{
  g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "invalid path: %s", why);
  return FALSE;
}

static gboolean check_relative(const char *relative, GError **error)
{
  gsize len = strlen(relative);
  if (len == 0)
    return refuse(error, "empty");
  if (len > MAX_RELATIVE)
    return refuse(error, "too long");
  if (!g_utf8_validate(relative, (gssize)len, NULL))
    return refuse(error, "not UTF-8");
  if (relative[0] == '/')
    return refuse(error, "absolute");
  for (const char *p = relative; *p; p++) {
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return refuse(error, "control character");
    if (*p == '\\')
      return refuse(error, "backslash");
    if (*p == '%')
      return refuse(error, "encoded character");
  }
  g_auto(GStrv) parts = g_strsplit(relative, "/", -1);
  for (guint i = 0; parts[i]; i++) {
    /* A single trailing slash ("dir/") leaves one empty last part: allowed. */
    if (parts[i][0] == '\0' && !(parts[i + 1] == NULL && i > 0))
      return refuse(error, "empty component");
    if (g_str_equal(parts[i], ".") || g_str_equal(parts[i], ".."))
      return refuse(error, "dot component");
  }
  return TRUE;
}

gchar *vigil_path_resolve_under(const char *root, const char *relative, GError **error)
{
  g_return_val_if_fail(root != NULL, NULL);
  if (!relative) {
    refuse(error, "empty");
    return NULL;
  }
  if (!check_relative(relative, error))
    return NULL;

  g_autofree gchar *root_real = realpath(root, NULL);
  if (!root_real) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such directory");
    return NULL;
  }
  g_autofree gchar *joined = g_build_filename(root_real, relative, NULL);
  g_autofree gchar *real = realpath(joined, NULL);
  if (!real) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such file");
    return NULL;
  }
  /* Symlinks inside the tree may point anywhere: only the real path counts. */
  gsize root_len = strlen(root_real);
  gboolean inside = g_str_equal(root_real, "/")
                        ? TRUE
                        : strncmp(real, root_real, root_len) == 0 &&
                              (real[root_len] == '/' || real[root_len] == '\0');
  if (!inside || g_str_equal(real, root_real)) {
    /* Same answer as a missing file: says nothing about what is outside. */
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no such file");
    return NULL;
  }
  return g_steal_pointer(&real);
}
