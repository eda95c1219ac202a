/* Compact JSON writer with round-trip-shortest doubles. */
#include "core/json.h"

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
    g_ascii_formatd(buf, sizeof buf, precision == 15 ? "%.15g" : precision == 16 ? "%.16g" : "%.17g",
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

void vigil_json_add_string_or_null(JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name(b, member);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}
