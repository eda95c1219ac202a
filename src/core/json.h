/* JSON output for the API. json-glib prints doubles with 17 significant
 * digits (0.08 becomes 0.080000000000000002); this writer prints the shortest
 * form that reads back as the same double. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gchar *vigil_json_to_string(JsonNode *node);

G_END_DECLS
