/* Sliding-window failure counter per key. */
#include "auth/ratelimit.h"

/* A key's failure times, oldest first, at most max_failures of them: older
 * ones no longer matter once the limit is reached. */
typedef struct {
  GQueue times; /* gint64* */
} Entry;

struct _VigilRateLimiter {
  guint max_failures;
  gint64 window_us;
  GHashTable *keys; /* gchar* -> Entry* */
  guint fails_since_prune;
};

static void entry_free(Entry *e)
{
  g_queue_clear_full(&e->times, g_free);
  g_free(e);
}

VigilRateLimiter *vigil_rate_limiter_new(guint max_failures, gint64 window_us)
{
  VigilRateLimiter *l = g_new0(VigilRateLimiter, 1);
  l->max_failures = MAX(max_failures, 1);
  l->window_us = window_us;
  l->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)entry_free);
  return l;
}

void vigil_rate_limiter_free(VigilRateLimiter *l)
{
  if (!l)
    return;
  g_hash_table_unref(l->keys);
  g_free(l);
}

/* Drops the failures of @e that left the window. */
static void expire(VigilRateLimiter *l, Entry *e, gint64 now_us)
{
  gint64 *oldest;
  while ((oldest = g_queue_peek_head(&e->times)) && *oldest <= now_us - l->window_us)
    g_free(g_queue_pop_head(&e->times));
}

gint64 vigil_rate_limiter_retry_after_pending(VigilRateLimiter *l, const char *key, guint pending,
                                              gint64 now_us)
{
  if (!key)
    return 0;
  Entry *e = g_hash_table_lookup(l->keys, key);
  guint failures = 0;
  if (e) {
    expire(l, e, now_us);
    failures = g_queue_get_length(&e->times);
  }
  if (failures + pending < l->max_failures)
    return 0;
  if (failures < l->max_failures)
    return 1; /* blocked by checks still running: ask again soon */
  gint64 *oldest = g_queue_peek_head(&e->times);
  gint64 wait_us = *oldest + l->window_us - now_us;
  return MAX((wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC, 1);
}

gint64 vigil_rate_limiter_retry_after(VigilRateLimiter *l, const char *key, gint64 now_us)
{
  return vigil_rate_limiter_retry_after_pending(l, key, 0, now_us);
}

void vigil_rate_limiter_fail(VigilRateLimiter *l, const char *key, gint64 now_us)
{
  if (!key)
    return;
  Entry *e = g_hash_table_lookup(l->keys, key);
  if (!e) {
    e = g_new0(Entry, 1);
    g_queue_init(&e->times);
    g_hash_table_insert(l->keys, g_strdup(key), e);
  }
  expire(l, e, now_us);
  gint64 *t = g_new(gint64, 1);
  *t = now_us;
  g_queue_push_tail(&e->times, t);
  while (g_queue_get_length(&e->times) > l->max_failures)
    g_free(g_queue_pop_head(&e->times));
  if (++l->fails_since_prune >= 1000) {
    l->fails_since_prune = 0;
    vigil_rate_limiter_prune(l, now_us);
  }
}

void vigil_rate_limiter_prune(VigilRateLimiter *l, gint64 now_us)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, l->keys);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    expire(l, value, now_us);
    if (g_queue_is_empty(&((Entry *)value)->times))
      g_hash_table_iter_remove(&it);
  }
}

guint vigil_rate_limiter_size(VigilRateLimiter *l)
{
  return g_hash_table_size(l->keys);
}

/* --- the daemon's login limiter --- */

static VigilRateLimiter *limiter(void)
{
  static VigilRateLimiter *l;
  if (!l)
    l = vigil_rate_limiter_new(VIGIL_LOGIN_MAX_FAILURES, VIGIL_LOGIN_WINDOW_US);
  return l;
}

/* Names and addresses share one limiter under distinct prefixes. */
static gchar *key_for(const char *kind, const char *value)
{
  return value ? g_strconcat(kind, ":", value, NULL) : NULL;
}

/* Password checks running, per key: each may turn into a failure. */
static GHashTable *pending; /* key → count */

static guint pending_of(const char *key)
{
  return key && pending ? GPOINTER_TO_UINT(g_hash_table_lookup(pending, key)) : 0;
}

static void pending_add(const char *key, int delta)
{
  if (!key)
    return;
  if (!pending)
    pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  /* An end without its start (a caller's bug) must not wrap the count
   * around and lock the key out. */
  gint64 n = (gint64)pending_of(key) + delta;
  g_warn_if_fail(n >= 0);
  if (n > 0)
    g_hash_table_replace(pending, g_strdup(key), GUINT_TO_POINTER((guint)n));
  else
    g_hash_table_remove(pending, key);
}

static void login_check_count(const char *name, const char *address, int delta)
{
  g_autofree gchar *name_key = key_for("user", name);
  g_autofree gchar *addr_key = key_for("addr", address);
  pending_add(name_key, delta);
  pending_add(addr_key, delta);
}

void vigil_login_check_started(const char *name, const char *address)
{
  login_check_count(name, address, +1);
}

void vigil_login_check_ended(const char *name, const char *address)
{
  login_check_count(name, address, -1);
}

void vigil_login_failed(const char *name, const char *address)
{
  g_autofree gchar *name_key = key_for("user", name);
  g_autofree gchar *addr_key = key_for("addr", address);
  gint64 now = g_get_monotonic_time();
  vigil_rate_limiter_fail(limiter(), name_key, now);
  vigil_rate_limiter_fail(limiter(), addr_key, now);
}

gint64 vigil_login_retry_after(const char *name, const char *address)
{
  g_autofree gchar *name_key = key_for("user", name);
  g_autofree gchar *addr_key = key_for("addr", address);
  gint64 now = g_get_monotonic_time();
  return MAX(
      vigil_rate_limiter_retry_after_pending(limiter(), name_key, pending_of(name_key), now),
      vigil_rate_limiter_retry_after_pending(limiter(), addr_key, pending_of(addr_key), now));
}
