/* Durable file writes: replacing a file atomically and making a directory's
 * entries durable. Blocking (they fsync): call them off the main loop. Any
 * thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes @data to @path via a temporary file (@path.tmp), fsync and rename,
 * so a reader sees the old file or the new one, never half of it. Errors:
 * VIGIL_ERROR_STORAGE. */
gboolean vigil_file_replace(const char *path, const void *data, gsize size, GError **error);
/* fsync of a directory: the files created, renamed or deleted in it stay so
 * after a crash. FALSE (errno set) when it fails. */
gboolean vigil_dir_sync(const char *dir);

G_END_DECLS
