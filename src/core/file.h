/* File helpers: replacing a file atomically, appending durably, making a directory's entries
 * durable, writing an iovec whole, creating a directory under a free name.
 * Blocking (some fsync): call them off the main loop. Any thread. */
#pragma once

#include <glib.h>
#include <sys/uio.h>

G_BEGIN_DECLS

/* fsync(2), counted (vigil_fsync_count); FALSE with errno set when it
 * fails. */
gboolean vigil_fsync(int fd);
/* fsyncs made through these helpers since the process started (recording
 * files, playlists, directories, settings files; not SQLite's own). */
guint64 vigil_fsync_count(void);

/* Writes @data to @path via a temporary file (@path.tmp), fsync and rename,
 * so a reader sees the old file or the new one, never half of it. Errors:
 * VIGIL_ERROR_STORAGE. */
gboolean vigil_file_replace(const char *path, const void *data, gsize size, GError **error);
/* Appends @data to the existing file @path and fsyncs it. A crash can leave
 * a part of @data at the file's end; so can a failure (FALSE,
 * VIGIL_ERROR_STORAGE), after which the caller must write the file whole
 * again before appending more. */
gboolean vigil_file_append_sync(const char *path, const void *data, gsize size, GError **error);
/* fsync of a directory: the files created, renamed or deleted in it stay so
 * after a crash. FALSE (errno set) when it fails. */
gboolean vigil_dir_sync(const char *dir);

/* writev(2) of all @n buffers, again after short writes and EINTR (@iov is
 * consumed). FALSE with errno set on an error. */
gboolean vigil_writev_all(int fd, struct iovec *iov, guint n);
/* Creates the directory @parent/@name, or when that exists @name-2, @name-3
 * ... up to @name-100, with @mode. Returns the name it got (g_free); NULL
 * with errno set when it cannot. */
gchar *vigil_dir_create_unique(const char *parent, const char *name, int mode);

G_END_DECLS
