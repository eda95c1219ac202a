/* Basic authentication with a cache keyed by a SHA-256 of the credentials
 * (never the credentials themselves), so a memory dump shows no passwords. */
#define G_LOG_DOMAIN "vigil-auth"

#include "auth/basic.h"

#include <string.h>

#include "auth/password.h"

typedef struct {
  gchar *user;
  gint64 expires_us;
} CacheEntry;

static GHashTable *cache; /* sha256 hex → CacheEntry */

static void cache_entry_free(CacheEntry *e)
{
  g_free(e->user);
  g_free(e);
}

void vigil_auth_basic_forget(void)
{
  if (cache)
    g_hash_table_remove_all(cache);
}

/* Splits "user:password"; the user name may not contain ':' (RFC 7617). */
static gboolean split_credentials(const char *authorization, gchar **user, gchar **password)
{
  if (!authorization || g_ascii_strncasecmp(authorization, "Basic ", 6) != 0)
    return FALSE;
  const char *encoded = authorization + 6;
  while (*encoded == ' ')
    encoded++;
  gsize encoded_len = strlen(encoded);
  if (encoded_len == 0 || encoded_len > 1024)
    return FALSE;
  for (const char *p = encoded; *p; p++) {
    if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' && *p != '=')
      return FALSE;
  }
  gsize len = 0;
  g_autofree guchar *decoded = g_base64_decode(encoded, &len);
  if (!decoded || len == 0 || memchr(decoded, '\0', len))
    return FALSE;
  g_autofree gchar *text = g_strndup((const char *)decoded, len);
  if (!g_utf8_validate(text, -1, NULL))
    return FALSE;
  const char *colon = strchr(text, ':');
  if (!colon || colon == text)
    return FALSE;
  *user = g_strndup(text, colon - text);
  *password = g_strdup(colon + 1);
  memset(text, 0, len);
  return TRUE;
}

gchar *vigil_auth_basic_name(const char *authorization)
{
  g_autofree gchar *name = NULL;
  g_autofree gchar *password = NULL;
  if (!split_credentials(authorization, &name, &password))
    return NULL;
  memset(password, 0, strlen(password));
  return g_steal_pointer(&name);
}

VigilUser *vigil_auth_basic(VigilStore *store, const char *authorization)
{
  g_autofree gchar *name = NULL;
  g_autofree gchar *password = NULL;
  if (!split_credentials(authorization, &name, &password))
    return NULL;

  if (!cache)
    cache =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)cache_entry_free);
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, (const guchar *)name, strlen(name));
  g_checksum_update(sum, (const guchar *)"", 1);
  g_checksum_update(sum, (const guchar *)password, strlen(password));
  const char *key = g_checksum_get_string(sum);
  gint64 now = g_get_monotonic_time();

  VigilUser *user = vigil_store_get_user(store, name);
  if (!user) {
    /* Spend the same time as for a real user, so that timing does not tell
     * which names exist. */
    static gchar *dummy_hash;
    if (!dummy_hash)
      dummy_hash = vigil_password_hash("vigil-dummy-password", NULL);
    if (dummy_hash)
      vigil_password_verify(dummy_hash, password);
    memset(password, 0, strlen(password));
    return NULL;
  }
  CacheEntry *hit = g_hash_table_lookup(cache, key);
  gboolean ok;
  if (hit && hit->expires_us > now && g_str_equal(hit->user, name)) {
    ok = TRUE;
  } else {
    ok = vigil_password_verify(user->password_hash, password);
    if (ok) {
      CacheEntry *e = g_new0(CacheEntry, 1);
      e->user = g_strdup(name);
      e->expires_us = now + VIGIL_AUTH_CACHE_US;
      g_hash_table_replace(cache, g_strdup(key), e);
    }
  }
  memset(password, 0, strlen(password));
  if (!ok) {
    vigil_user_free(user);
    return NULL;
  }
  return user;
}
