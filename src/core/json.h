/* JSON output for the API. json-glib prints doubles with 17 significant
 * digits (0.08 becomes 0.080000000000000002); this writer prints the shortest
 * form that reads back as the same double. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gchar *vigil_json_to_string(JsonNode *node);

/* Adds member @member: the string @value, or null when @value is NULL. */
void vigil_json_add_string_or_null(JsonBuilder *b, const char *member, const char *value);

G_END_DECLS
