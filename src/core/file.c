/* Durable file writes (see file.h). */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "core/error.h"

gboolean vigil_dir_sync(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

static gboolean write_all(int fd, const guint8 *data, gsize size)
{
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    data += n;
    size -= (gsize)n;
  }
  return TRUE;
}

gboolean vigil_file_replace(const char *path, const void *data, gsize size, GError **error)
{
  g_autofree gchar *tmp = g_strconcat(path, ".tmp", NULL);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  gboolean ok = fd >= 0 && write_all(fd, data, size) && fsync(fd) == 0;
  int saved = errno;
  if (fd >= 0)
    close(fd);
  if (ok && rename(tmp, path) != 0) {
    saved = errno;
    ok = FALSE;
  }
  if (!ok) {
    g_unlink(tmp);
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE, "cannot write %s: %s", path,
                g_strerror(saved));
  }
  return ok;
}
