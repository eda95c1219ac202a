/* Small helpers for secrets other than passwords: random tokens (sessions,
 * API tokens), their SHA-256 for storage, and constant-time comparison. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @nbytes random bytes from the kernel's CSPRNG, as lowercase hex (2 *
 * @nbytes characters) after @prefix (may be NULL). Aborts if the kernel
 * cannot give random bytes rather than return a weak secret. */
gchar *vigil_secret_random_hex(const char *prefix, gsize nbytes);

/* Lowercase hex SHA-256 of @text (what the store keeps of a token: tokens
 * are long random strings, so a fast hash is enough). */
gchar *vigil_secret_sha256(const char *text);

/* TRUE when @a and @b are equal strings, taking time that depends only on
 * their lengths (not on where they differ). NULL equals nothing. */
gboolean vigil_secret_equal(const char *a, const char *b);

/* The CSRF token of a session: derived from the session token, so it never
 * needs storing and can be recomputed on every cookie request. */
gchar *vigil_secret_csrf_token(const char *session_token);

G_END_DECLS
