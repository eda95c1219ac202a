/* Route pattern matching: see route.h. */
#include "http/route.h"

#include <string.h>

/* Length of the segment starting at @s (up to '/' or the end). */
static gsize segment_len(const char *s)
{
  const char *slash = strchr(s, '/');
  return slash ? (gsize)(slash - s) : strlen(s);
}

static gboolean is_param(const char *segment, gsize len)
{
  return len > 2 && segment[0] == '{' && segment[len - 1] == '}';
}

GHashTable *vigil_route_match(const char *pattern, const char *path)
{
  g_autoptr(GHashTable) params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  const char *p = pattern, *s = path;
  while (*p) {
    if (*p != '/' || *s != '/')
      return NULL;
    p++, s++;
    gsize plen = segment_len(p), slen = segment_len(s);
    if (is_param(p, plen)) {
      if (slen == 0)
        return NULL;
      g_hash_table_replace(params, g_strndup(p + 1, plen - 2), g_strndup(s, slen));
    } else if (plen != slen || strncmp(p, s, plen) != 0) {
      return NULL;
    }
    p += plen, s += slen;
  }
  if (*s && !g_str_equal(s, "/"))
    return NULL;
  return g_steal_pointer(&params);
}
