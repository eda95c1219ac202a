/* libFuzzer target: PATCH /api/v1/settings bodies (vigil_http_parse_json +
 * vigil_settings_apply_json). Invariant: accepted settings serialize to
 * text that is accepted again (what the daemon stores and reloads). */
#include <stdint.h>

#include "core/settings.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  JsonNode *node = vigil_http_parse_json((const char *)data, size, NULL);
  if (!node)
    return 0;
  VigilSettings *settings = vigil_settings_new();
  if (vigil_settings_apply_json(settings, node, NULL)) {
    gchar *stored = vigil_settings_serialize(settings);
    JsonNode *again = vigil_http_parse_json(stored, strlen(stored), NULL);
    VigilSettings *reloaded = vigil_settings_new();
    if (!again || !vigil_settings_apply_json(reloaded, again, NULL))
      __builtin_trap();
    vigil_settings_free(reloaded);
    json_node_unref(again);
    g_free(stored);
  }
  vigil_settings_free(settings);
  json_node_unref(node);
  return 0;
}
