/* File helpers (see file.h). */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "core/error.h"

static guint64 fsyncs; /* atomic */

gboolean vigil_fsync(int fd)
{
  __atomic_fetch_add(&fsyncs, 1, __ATOMIC_RELAXED);
  return fsync(fd) == 0;
}

guint64 vigil_fsync_count(void)
{
  return __atomic_load_n(&fsyncs, __ATOMIC_RELAXED);
}

gboolean vigil_dir_sync(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean ok = vigil_fsync(fd);
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
  gboolean ok = fd >= 0 && write_all(fd, data, size) && vigil_fsync(fd);
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

gboolean vigil_file_append_sync(const char *path, const void *data, gsize size, GError **error)
{
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  gboolean ok = fd >= 0 && write_all(fd, data, size) && vigil_fsync(fd);
  int saved = errno;
  if (fd >= 0)
    close(fd);
  if (!ok)
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE, "cannot append to %s: %s", path,
                g_strerror(saved));
  return ok;
}

gboolean vigil_writev_all(int fd, struct iovec *iov, guint n)
{
  while (n > 0) {
    ssize_t done = writev(fd, iov, (int)n);
    if (done < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    while (n > 0 && (gsize)done >= iov->iov_len) {
      done -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) { /* a short write: the rest of this buffer first */
      iov->iov_base = (guint8 *)iov->iov_base + done;
      iov->iov_len -= (gsize)done;
    }
  }
  return TRUE;
}

gchar *vigil_dir_create_unique(const char *parent, const char *name, int mode)
{
  g_autofree gchar *candidate = g_strdup(name);
  for (int n = 2;; n++) {
    g_autofree gchar *dir = g_build_filename(parent, candidate, NULL);
    if (g_mkdir(dir, mode) == 0)
      return g_steal_pointer(&candidate);
    if (errno != EEXIST || n > 100)
      return NULL;
    g_free(candidate);
    candidate = g_strdup_printf("%s-%d", name, n);
  }
}
