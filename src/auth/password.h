/* Password hashing (Argon2id) and random secrets. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* An Argon2id encoded hash ("$argon2id$v=19$m=...") with a random salt. */
gchar *vigil_password_hash(const char *password, GError **error);

/* Constant-time check of @password against an encoded hash; FALSE on a
 * malformed hash, a hash that is not Argon2id, or a NULL argument. */
gboolean vigil_password_verify(const char *encoded_hash, const char *password);

/* The same check on vigil's one password thread, so the caller's main loop
 * never waits for Argon2id (~145 ms and 64 MiB each) and two checks never
 * run at once. A NULL @encoded_hash checks against a dummy hash and answers
 * FALSE in the same time (unknown user names). Call from the main thread;
 * @callback runs in the caller's thread-default main context. When
 * VIGIL_PASSWORD_QUEUE_MAX checks are already waiting it fails at once with
 * VIGIL_ERROR_BUSY, "too many password checks waiting". */
#define VIGIL_PASSWORD_QUEUE_MAX 32
void vigil_password_verify_async(const char *encoded_hash, const char *password,
                                 GAsyncReadyCallback callback, gpointer user_data);
/* TRUE when the password matched; FALSE (and @error unset) when not. */
gboolean vigil_password_verify_finish(GAsyncResult *result, GError **error);

/* vigil_password_hash() on the same thread and queue (setting a password:
 * a new user, a changed password), with the same limit. */
void vigil_password_hash_async(const char *password, GAsyncReadyCallback callback,
                               gpointer user_data);
/* The encoded hash, or NULL with @error set. */
gchar *vigil_password_hash_finish(GAsyncResult *result, GError **error);

/* A random password of @length characters from an unambiguous alphabet (no
 * 0/O/1/l/I), read from the system's CSPRNG; aborts if the kernel cannot give
 * random bytes rather than return a weak secret. */
gchar *vigil_password_generate(guint length);

G_END_DECLS
