/* Password hashing (Argon2id) and random secrets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An Argon2id encoded hash ("$argon2id$v=19$m=...") with a random salt. */
gchar *vigil_password_hash(const char *password, GError **error);

/* Constant-time check of @password against an encoded hash; FALSE on a
 * malformed hash, a hash that is not Argon2id, or a NULL argument. */
gboolean vigil_password_verify(const char *encoded_hash, const char *password);

/* A random password of @length characters from an unambiguous alphabet (no
 * 0/O/1/l/I), read from the system's CSPRNG; aborts if the kernel cannot give
 * random bytes rather than return a weak secret. */
gchar *vigil_password_generate(guint length);

G_END_DECLS
