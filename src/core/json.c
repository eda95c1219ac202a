/* The API's JSON vocabulary: member getters and readers, and a compact
 * writer with round-trip-shortest doubles. See json.h. */
#include "core/json.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void write_node(GString *out, JsonNode *node);

static void write_string(GString *out, const char *s)
{
  g_string_append_c(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"':
      g_string_append(out, "\\\"");
      break;
    case '\\':
      g_string_append(out, "\\\\");
      break;
    case '\n':
      g_string_append(out, "\\n");
      break;
    case '\r':
      g_string_append(out, "\\r");
      break;
    case '\t':
      g_string_append(out, "\\t");
      break;
    default:
      if (*p < 0x20)
        g_string_append_printf(out, "\\u%04x", *p);
      else
        g_string_append_c(out, (char)*p);
    }
  }
  g_string_append_c(out, '"');
}

static void write_double(GString *out, double v)
{
  if (!isfinite(v)) {
    g_string_append(out, "null"); /* JSON has no NaN or infinity */
    return;
  }
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (int precision = 15; precision <= 17; precision++) {
    g_ascii_formatd(buf, sizeof buf,
                    precision == 15   ? "%.15g"
                    : precision == 16 ? "%.16g"
                                      : "%.17g",
                    v);
    if (g_ascii_strtod(buf, NULL) == v)
      break;
  }
  g_string_append(out, buf);
  /* Keep it a JSON number that reads back as a double: 1 → 1.0. */
  if (!strpbrk(buf, ".eEn"))
    g_string_append(out, ".0");
}

static void write_value(GString *out, JsonNode *node)
{
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_STRING)
    write_string(out, json_node_get_string(node));
  else if (type == G_TYPE_INT64)
    g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
  else if (type == G_TYPE_DOUBLE)
    write_double(out, json_node_get_double(node));
  else if (type == G_TYPE_BOOLEAN)
    g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
  else
    g_string_append(out, "null");
}

static void write_node(GString *out, JsonNode *node)
{
  switch (node ? json_node_get_node_type(node) : JSON_NODE_NULL) {
  case JSON_NODE_OBJECT: {
    JsonObject *o = json_node_get_object(node);
    g_autoptr(GList) members = json_object_get_members(o);
    g_string_append_c(out, '{');
    for (GList *l = members; l; l = l->next) {
      if (l != members)
        g_string_append_c(out, ',');
      write_string(out, l->data);
      g_string_append_c(out, ':');
      write_node(out, json_object_get_member(o, l->data));
    }
    g_string_append_c(out, '}');
    break;
  }
  case JSON_NODE_ARRAY: {
    JsonArray *a = json_node_get_array(node);
    g_string_append_c(out, '[');
    for (guint i = 0; i < json_array_get_length(a); i++) {
      if (i)
        g_string_append_c(out, ',');
      write_node(out, json_array_get_element(a, i));
    }
    g_string_append_c(out, ']');
    break;
  }
  case JSON_NODE_VALUE:
    write_value(out, node);
    break;
  case JSON_NODE_NULL:
    g_string_append(out, "null");
    break;
  }
}

gchar *vigil_json_to_string(JsonNode *node)
{
  GString *out = g_string_sized_new(256);
  write_node(out, node);
  return g_string_free(out, FALSE);
}

/* --- writing --- */

void vigil_json_add_string(JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name(b, member);
  json_builder_add_string_value(b, value);
}

void vigil_json_add_string_or_null(JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name(b, member);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

void vigil_json_add_int(JsonBuilder *b, const char *member, gint64 value)
{
  json_builder_set_member_name(b, member);
  json_builder_add_int_value(b, value);
}

void vigil_json_add_bool(JsonBuilder *b, const char *member, gboolean value)
{
  json_builder_set_member_name(b, member);
  json_builder_add_boolean_value(b, value);
}

void vigil_json_add_double(JsonBuilder *b, const char *member, double value)
{
  json_builder_set_member_name(b, member);
  json_builder_add_double_value(b, value);
}

void vigil_json_add_null(JsonBuilder *b, const char *member)
{
  json_builder_set_member_name(b, member);
  json_builder_add_null_value(b);
}

void vigil_json_add_node(JsonBuilder *b, const char *member, JsonNode *value)
{
  json_builder_set_member_name(b, member);
  json_builder_add_value(b, value);
}

void vigil_json_begin_object(JsonBuilder *b, const char *member)
{
  json_builder_set_member_name(b, member);
  json_builder_begin_object(b);
}

void vigil_json_begin_array(JsonBuilder *b, const char *member)
{
  json_builder_set_member_name(b, member);
  json_builder_begin_array(b);
}

/* --- reading --- */

static gboolean holds(JsonNode *node, GType type)
{
  return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == type;
}

gboolean vigil_json_get_string(JsonNode *node, const char **out)
{
  if (!holds(node, G_TYPE_STRING))
    return FALSE;
  *out = json_node_get_string(node);
  return TRUE;
}

gboolean vigil_json_get_bool(JsonNode *node, gboolean *out)
{
  if (!holds(node, G_TYPE_BOOLEAN))
    return FALSE;
  *out = json_node_get_boolean(node);
  return TRUE;
}

gboolean vigil_json_get_int(JsonNode *node, gint64 min, gint64 max, gint64 *out)
{
  if (!holds(node, G_TYPE_INT64))
    return FALSE;
  gint64 v = json_node_get_int(node);
  if (v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean vigil_json_get_double(JsonNode *node, double min, double max, double *out)
{
  double v = NAN;
  if (holds(node, G_TYPE_INT64))
    v = (double)json_node_get_int(node);
  else if (holds(node, G_TYPE_DOUBLE))
    v = json_node_get_double(node);
  /* json-glib turns 1e400 into infinity; isfinite() also catches NaN. */
  if (!isfinite(v) || v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean vigil_json_get_enum(JsonNode *node, const char *const *names, guint n_names, int *out)
{
  const char *text;
  if (!vigil_json_get_string(node, &text))
    return FALSE;
  for (guint i = 0; i < n_names; i++) {
    if (strcmp(text, names[i]) == 0) {
      *out = (int)i;
      return TRUE;
    }
  }
  return FALSE;
}

const char *vigil_json_unknown_member(JsonObject *o, const char *const *allowed)
{
  /* In the body's order, so the message names the first one. */
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains(allowed, l->data))
      return l->data;
  return NULL;
}

gboolean vigil_json_invalid(GError **error, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree gchar *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, message);
  return FALSE;
}

gboolean vigil_json_field_invalid(GError **error, const char *field, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree gchar *what = g_strdup_vprintf(format, args);
  va_end(args);
  return vigil_json_invalid(error, "field \"%s\" %s", field, what);
}

gboolean vigil_json_read_string(JsonNode *node, const char *field, const char **out, GError **error)
{
  return vigil_json_get_string(node, out) ||
         vigil_json_field_invalid(error, field, "must be a string");
}

gboolean vigil_json_read_bool(JsonNode *node, const char *field, gboolean *out, GError **error)
{
  return vigil_json_get_bool(node, out) ||
         vigil_json_field_invalid(error, field, "must be true or false");
}

gboolean vigil_json_read_int(JsonNode *node, const char *field, int min, int max, int *out,
                             GError **error)
{
  gint64 v;
  if (!vigil_json_get_int(node, min, max, &v))
    return vigil_json_field_invalid(error, field, "must be an integer between %d and %d", min, max);
  *out = (int)v;
  return TRUE;
}

gboolean vigil_json_read_enum(JsonNode *node, const char *field, const char *const *names,
                              guint n_names, int *out, GError **error)
{
  if (vigil_json_get_enum(node, names, n_names, out))
    return TRUE;
  g_autoptr(GString) choices = g_string_new(NULL);
  for (guint i = 0; i < n_names; i++)
    g_string_append_printf(choices, "%s%s", i ? ", " : "", names[i]);
  return vigil_json_field_invalid(error, field, "must be one of %s", choices->str);
}
