/* Basic authentication with a cache keyed by a SHA-256 of the credentials
 * (never the credentials themselves), so a memory dump shows no passwords.
 *
 * A cached success lasts while it is used: it ends after VIGIL_AUTH_CACHE_US
 * without a request, or as soon as the user's stored hash is not the one
 * the password was checked against (a new password, set by any process).
 * So a viewer or script that keeps polling pays one Argon2id check, not one
 * every few minutes. */
#define G_LOG_DOMAIN "vigil-auth"

#include "auth/basic.h"

#include <string.h>

#include "auth/password.h"
#include "auth/ratelimit.h"

/* More distinct credentials than this in the cache at once: start afresh. */
#define CACHE_MAX 1024

typedef struct {
  gchar *user;
  gchar *password_hash; /* the stored hash the password was checked against */
  gint64 used_us;
} CacheEntry;

static GHashTable *cache; /* sha256 hex → CacheEntry */

static void cache_entry_free(CacheEntry *e)
{
  g_free(e->user);
  g_free(e->password_hash);
  g_free(e);
}

void vigil_auth_basic_forget(void)
{
  if (cache)
    g_hash_table_remove_all(cache);
}

static gboolean entry_is_stale(gpointer key, gpointer value, gpointer now)
{
  return *(gint64 *)now - ((CacheEntry *)value)->used_us >= VIGIL_AUTH_CACHE_US;
}

static void cache_put(const char *key, const VigilUser *user)
{
  if (!cache)
    cache =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)cache_entry_free);
  gint64 now = g_get_monotonic_time();
  g_hash_table_foreach_remove(cache, entry_is_stale, &now);
  if (g_hash_table_size(cache) >= CACHE_MAX)
    g_hash_table_remove_all(cache);
  CacheEntry *e = g_new0(CacheEntry, 1);
  e->user = g_strdup(user->name);
  e->password_hash = g_strdup(user->password_hash);
  e->used_us = now;
  g_hash_table_replace(cache, g_strdup(key), e);
}

/* TRUE (and the entry's use time renewed) when @key is a live success for
 * @user as the store holds it now. */
static gboolean cache_hit(const char *key, const VigilUser *user)
{
  CacheEntry *e = cache ? g_hash_table_lookup(cache, key) : NULL;
  if (!e)
    return FALSE;
  gint64 now = g_get_monotonic_time();
  if (now - e->used_us >= VIGIL_AUTH_CACHE_US || !g_str_equal(e->user, user->name) ||
      g_strcmp0(e->password_hash, user->password_hash) != 0) {
    g_hash_table_remove(cache, key);
    return FALSE;
  }
  e->used_us = now;
  return TRUE;
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

/* The cache key of name and password. */
static gchar *credentials_key(const char *name, const char *password)
{
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, (const guchar *)name, strlen(name));
  g_checksum_update(sum, (const guchar *)"", 1);
  g_checksum_update(sum, (const guchar *)password, strlen(password));
  return g_strdup(g_checksum_get_string(sum));
}

/* Splits @authorization, looks the user up and the credentials up in the
 * cache. FALSE for a malformed header; otherwise *@user is the stored user
 * (NULL when there is none) and the result says whether it is cached. */
static gboolean lookup(VigilStore *store, const char *authorization, gchar **password, gchar **key,
                       VigilUser **user, gboolean *cached)
{
  g_autofree gchar *name = NULL;
  if (!split_credentials(authorization, &name, password))
    return FALSE;
  *key = credentials_key(name, *password);
  *user = vigil_store_get_user(store, name);
  *cached = *user && cache_hit(*key, *user);
  return TRUE;
}

static void forget_password(gchar *password)
{
  if (password)
    memset(password, 0, strlen(password));
  g_free(password);
}

gboolean vigil_auth_basic_is_cached(VigilStore *store, const char *authorization)
{
  gchar *password = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr(VigilUser) user = NULL;
  gboolean cached = FALSE;
  if (!lookup(store, authorization, &password, &key, &user, &cached))
    return TRUE; /* malformed: answered without a hash */
  forget_password(password);
  return cached;
}

VigilUser *vigil_auth_basic(VigilStore *store, const char *authorization)
{
  gchar *password = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr(VigilUser) user = NULL;
  gboolean cached = FALSE;
  if (!lookup(store, authorization, &password, &key, &user, &cached))
    return NULL;
  gboolean ok = cached;
  if (!user) {
    /* Spend the same time as for a real user, so that timing does not tell
     * which names exist. */
    static gchar *dummy_hash;
    if (!dummy_hash)
      dummy_hash = vigil_password_hash("vigil-dummy-password", NULL);
    if (dummy_hash)
      vigil_password_verify(dummy_hash, password);
  } else if (!cached && vigil_password_verify(user->password_hash, password)) {
    cache_put(key, user);
    ok = TRUE;
  }
  forget_password(password);
  return ok ? g_steal_pointer(&user) : NULL;
}

/* --- off the main loop --- */

/* One check in progress; callers with the same credentials wait for it. */
typedef struct {
  VigilStore *store;
  gchar *key;
  gchar *name;
  gchar *address;       /* the first asker's, for the rate limit */
  gchar *password_hash; /* NULL for an unknown name */
  GPtrArray *waiters;   /* GTask* */
} Check;

static GHashTable *checks; /* key → Check */

static void check_free(Check *c)
{
  g_free(c->key);
  g_free(c->name);
  g_free(c->address);
  g_free(c->password_hash);
  g_ptr_array_unref(c->waiters);
  g_free(c);
}

static VigilUser *user_copy(const VigilUser *u)
{
  VigilUser *copy = g_new0(VigilUser, 1);
  copy->name = g_strdup(u->name);
  copy->role = g_strdup(u->role);
  copy->password_hash = g_strdup(u->password_hash);
  copy->created_us = u->created_us;
  return copy;
}

static void on_verified(GObject *source, GAsyncResult *result, gpointer data)
{
  Check *c = data;
  g_hash_table_steal(checks, c->key);
  g_autoptr(GError) error = NULL;
  gboolean ok = vigil_password_verify_finish(result, &error);
  vigil_login_check_ended(c->name, c->address);
  /* The user as stored now: a password changed during the check makes the
   * answer stale, so it counts as wrong. */
  g_autoptr(VigilUser) user = ok ? vigil_store_get_user(c->store, c->name) : NULL;
  if (user && g_strcmp0(user->password_hash, c->password_hash) != 0)
    g_clear_pointer(&user, vigil_user_free);
  if (user)
    cache_put(c->key, user);
  else if (!error) /* one guess, however many asked */
    vigil_login_failed(c->name, c->address);
  for (guint i = 0; i < c->waiters->len; i++) {
    GTask *task = c->waiters->pdata[i];
    if (error)
      g_task_return_error(task, g_error_copy(error));
    else if (user)
      g_task_return_pointer(task, user_copy(user), (GDestroyNotify)vigil_user_free);
    else
      g_task_return_pointer(task, NULL, NULL);
  }
  check_free(c);
}

void vigil_auth_basic_async(VigilStore *store, const char *authorization, const char *address,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, NULL, callback, user_data);
  g_task_set_source_tag(task, vigil_auth_basic_async);
  gchar *password = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr(VigilUser) user = NULL;
  gboolean cached = FALSE;
  if (!lookup(store, authorization, &password, &key, &user, &cached) || cached) {
    forget_password(password);
    g_task_return_pointer(task, g_steal_pointer(&user), (GDestroyNotify)vigil_user_free);
    g_object_unref(task);
    return;
  }
  if (!checks)
    checks = g_hash_table_new(g_str_hash, g_str_equal);
  Check *c = g_hash_table_lookup(checks, key);
  if (c) {
    g_ptr_array_add(c->waiters, task);
    forget_password(password);
    return;
  }
  c = g_new0(Check, 1);
  c->store = store;
  c->key = g_steal_pointer(&key);
  c->waiters = g_ptr_array_new_with_free_func(g_object_unref);
  g_ptr_array_add(c->waiters, task);
  g_autofree gchar *name = vigil_auth_basic_name(authorization);
  c->name = g_steal_pointer(&name);
  c->address = g_strdup(address);
  c->password_hash = user ? g_strdup(user->password_hash) : NULL;
  g_hash_table_insert(checks, c->key, c);
  vigil_login_check_started(c->name, c->address);
  vigil_password_verify_async(c->password_hash, password, on_verified, c);
  forget_password(password);
}

VigilUser *vigil_auth_basic_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
