/* Random tokens, their storage hash and constant-time comparison. */
#define G_LOG_DOMAIN "vigil-auth"

#include "auth/secret.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

gchar *vigil_secret_random_hex(const char *prefix, gsize nbytes)
{
  g_autofree guint8 *bytes = g_malloc(nbytes);
  gsize done = 0;
  while (done < nbytes) {
    ssize_t n = getrandom(bytes + done, nbytes - done, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      g_error("cannot read random bytes from the system: %s", g_strerror(errno));
    done += (gsize)n;
  }
  GString *s = g_string_new(prefix);
  for (gsize i = 0; i < nbytes; i++)
    g_string_append_printf(s, "%02x", bytes[i]);
  memset(bytes, 0, nbytes);
  return g_string_free(s, FALSE);
}

gchar *vigil_secret_sha256(const char *text)
{
  return g_compute_checksum_for_string(G_CHECKSUM_SHA256, text ? text : "", -1);
}

gboolean vigil_secret_equal(const char *a, const char *b)
{
  if (!a || !b)
    return FALSE;
  gsize la = strlen(a), lb = strlen(b);
  /* Compare over the longer length, reading 0 past either end, so a prefix
   * never matches and the time depends on the lengths only. */
  gsize n = MAX(la, lb);
  volatile guint8 diff = la != lb;
  for (gsize i = 0; i < n; i++) {
    guint8 x = i < la ? (guint8)a[i] : 0;
    guint8 y = i < lb ? (guint8)b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

gchar *vigil_secret_csrf_token(const char *session_token)
{
  g_return_val_if_fail(session_token != NULL, NULL);
  /* HMAC, keyed by the session token: a page that knows neither cannot forge
   * it, and it reveals nothing about the session token. */
  return g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)session_token,
                                   strlen(session_token), "vigil-csrf", -1);
}
