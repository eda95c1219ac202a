/* Serving files safely: every path vigil serves from disk is resolved under
 * the data directory with this helper. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Resolves @relative (a path below @root, as taken from a URL after
 * decoding, or built from ids) to the canonical absolute path of an existing
 * file or directory inside @root.
 *
 * Refused with VIGIL_ERROR_INVALID: empty, absolute, longer than 4096 bytes,
 * a ".", ".." or empty component ("a//b"), a backslash, a control character,
 * a '%' (an encoded slash or anything still encoded: callers decode exactly
 * once), invalid UTF-8. Refused with VIGIL_ERROR_NOT_FOUND: a path that does
 * not exist, or whose real path (symlinks followed by realpath(3)) lies
 * outside @root's real path. Returns a newly allocated canonical path. */
gchar *vigil_path_resolve_under(const char *root, const char *relative, GError **error);

G_END_DECLS
