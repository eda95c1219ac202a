/* The JSON vocabulary of the API: reading members of request bodies and
 * settings (typed getters, and readers that word the 400 error), and writing
 * answers. json-glib prints doubles with 17 significant digits (0.08 becomes
 * 0.080000000000000002); this writer prints the shortest form that reads
 * back as the same double. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gchar *vigil_json_to_string(JsonNode *node);

/* --- reading ---
 * Getters: TRUE and *@out set when @node (a member value; NULL when absent)
 * holds the type, within range; FALSE otherwise, *@out untouched. */

gboolean vigil_json_get_string(JsonNode *node, const char **out);
gboolean vigil_json_get_bool(JsonNode *node, gboolean *out);
/* A JSON integer in [@min, @max]: 1.5, 5.0, "5" and 1e1 are not. */
gboolean vigil_json_get_int(JsonNode *node, gint64 min, gint64 max, gint64 *out);
/* A finite JSON number (integer or not) in [@min, @max]. */
gboolean vigil_json_get_double(JsonNode *node, double min, double max, double *out);
/* The index in @names (@n_names of them) of @node's string. */
gboolean vigil_json_get_enum(JsonNode *node, const char *const *names, guint n_names, int *out);
/* The first member of @o not in the NULL-terminated @allowed, or NULL. */
const char *vigil_json_unknown_member(JsonObject *o, const char *const *allowed);

/* Sets a VIGIL_ERROR_INVALID error (the API's 400) and returns FALSE. */
gboolean vigil_json_invalid(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* The same, worded for a field: "field \"@field\" <format>". */
gboolean vigil_json_field_invalid(GError **error, const char *field, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* Readers: a getter, or FALSE with the field's 400 error. */
gboolean vigil_json_read_string(JsonNode *node, const char *field, const char **out,
                                GError **error);
gboolean vigil_json_read_bool(JsonNode *node, const char *field, gboolean *out, GError **error);
gboolean vigil_json_read_int(JsonNode *node, const char *field, int min, int max, int *out,
                             GError **error);
gboolean vigil_json_read_enum(JsonNode *node, const char *field, const char *const *names,
                              guint n_names, int *out, GError **error);

/* --- writing: members of the object @b is building --- */

void vigil_json_add_string(JsonBuilder *b, const char *member, const char *value);
/* The string @value, or null when @value is NULL. */
void vigil_json_add_string_or_null(JsonBuilder *b, const char *member, const char *value);
void vigil_json_add_int(JsonBuilder *b, const char *member, gint64 value);
void vigil_json_add_bool(JsonBuilder *b, const char *member, gboolean value);
void vigil_json_add_double(JsonBuilder *b, const char *member, double value);
void vigil_json_add_null(JsonBuilder *b, const char *member);
/* Member @member takes @value (the builder takes it). */
void vigil_json_add_node(JsonBuilder *b, const char *member, JsonNode *value);
/* Opens member @member as an object or array: close it with
 * json_builder_end_object() or json_builder_end_array(). */
void vigil_json_begin_object(JsonBuilder *b, const char *member);
void vigil_json_begin_array(JsonBuilder *b, const char *member);

G_END_DECLS
