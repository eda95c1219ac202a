/* libFuzzer target: camera source URLs (vigil_source_parse, _mask,
 * _local_path). Invariant: masking never leaves the password of a
 * well-formed "scheme://user:password@host" URL in the output's authority. */
#include <stdint.h>
#include <string.h>

#include "config/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  gchar *url = g_strndup((const char *)data, size);
  VigilSourceKind kind;
  GError *error = NULL;
  gboolean ok = vigil_source_parse(url, &kind, &error);
  if (!ok && !error)
    __builtin_trap();
  g_clear_error(&error);
  gchar *masked = vigil_source_mask(url);
  if (!masked)
    __builtin_trap();
  /* A well-formed userinfo with a long, distinctive password must vanish. */
  const char *scheme_end = strstr(url, "://");
  const char *at = scheme_end ? strchr(scheme_end + 3, '@') : NULL;
  const char *slash = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
  /* RFC 3986 userinfo only: no unencoded delimiters before the '@' (masking
   * such URLs is best effort, docs/security.md). */
  gboolean plain_userinfo = at && strcspn(scheme_end + 3, "/?#[") > (size_t)(at - scheme_end - 3);
  if (ok && at && plain_userinfo && (!slash || at < slash)) {
    const char *colon = memchr(scheme_end + 3, ':', (size_t)(at - scheme_end - 3));
    if (colon && at - colon > 1) {
      /* "scheme://user:password@" must become "scheme://user:***@". */
      gchar *expected = g_strdup_printf("%.*s:***@", (int)(colon - url), url);
      if (!g_str_has_prefix(masked, expected))
        __builtin_trap();
      g_free(expected);
    }
  }
  g_free(masked);
  g_free(vigil_source_local_path(url));
  g_free(url);
  return 0;
}
