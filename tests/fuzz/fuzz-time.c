/* libFuzzer target: the text a query string carries: ISO 8601 times
 * (vigil_time_parse, ?from=&to=), camera id slugs, role and rights names.
 * Invariant: a parsed time formats to text that parses again. */
#include <stdint.h>

#include "auth/permissions.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  gchar *text = g_strndup((const char *)data, size);
  gint64 t = 0;
  if (vigil_time_parse(text, &t)) {
    gchar *formatted = vigil_time_format(t);
    gint64 again = 0;
    if (!formatted || !vigil_time_parse(formatted, &again))
      __builtin_trap();
    g_free(formatted);
  }
  if (vigil_slug_is_valid(text) && strlen(text) > 32)
    __builtin_trap();
  gchar *slug = vigil_slug_from_name(text);
  if (slug && !vigil_slug_is_valid(slug))
    __builtin_trap();
  g_free(slug);
  VigilRights rights = vigil_rights_from_string(text);
  gchar *back = vigil_rights_to_string(rights);
  if (vigil_rights_from_string(back) != rights)
    __builtin_trap();
  g_free(back);
  (void)vigil_role_from_string(text);
  g_free(text);
  return 0;
}
