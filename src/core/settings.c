/* Global settings: defaults, validation and JSON. */
#include "core/settings.h"

#include "core/error.h"

#include <string.h>

#define MAX_MODEL_NAME 128
#define MAX_TLS_PATH 4096

VigilSettings *vigil_settings_new(void)
{
  VigilSettings *s = g_new0(VigilSettings, 1);
  s->max_bytes = -1;
  s->min_free_percent = 10;
  return s;
}

VigilSettings *vigil_settings_copy(const VigilSettings *src)
{
  VigilSettings *s = g_new0(VigilSettings, 1);
  *s = *src;
  s->detect_model = g_strdup(src->detect_model);
  s->tls_cert = g_strdup(src->tls_cert);
  s->tls_key = g_strdup(src->tls_key);
  return s;
}

void vigil_settings_free(VigilSettings *s)
{
  if (!s)
    return;
  g_free(s->detect_model);
  g_free(s->tls_cert);
  g_free(s->tls_key);
  g_free(s);
}

static gboolean invalid(GError **error, const char *message)
{
  g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, message);
  return FALSE;
}

static gboolean apply_storage(VigilSettings *s, JsonObject *o, GError **error)
{
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *v = json_object_get_member(o, name);
    if (g_str_equal(name, "max_bytes")) {
      if (JSON_NODE_HOLDS_NULL(v)) {
        s->max_bytes = -1;
      } else if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_INT64 &&
                 json_node_get_int(v) >= 0) {
        s->max_bytes = json_node_get_int(v);
      } else {
        return invalid(error, "field \"storage.max_bytes\" must be null or a whole number of "
                              "bytes (0 or more)");
      }
    } else if (g_str_equal(name, "min_free_percent")) {
      GType t = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v) : G_TYPE_INVALID;
      double value = t == G_TYPE_INT64 ? (double)json_node_get_int(v)
                     : t == G_TYPE_DOUBLE ? json_node_get_double(v)
                                          : -1;
      if (value < 0 || value > 90)
        return invalid(error, "field \"storage.min_free_percent\" must be a number from 0 to 90");
      s->min_free_percent = value;
    } else {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "unknown field \"storage.%s\"", name);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean apply_detect(VigilSettings *s, JsonObject *o, GError **error)
{
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *v = json_object_get_member(o, name);
    if (g_str_equal(name, "model")) {
      if (JSON_NODE_HOLDS_NULL(v)) {
        g_clear_pointer(&s->detect_model, g_free);
        continue;
      }
      const char *model = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                              ? json_node_get_string(v)
                              : NULL;
      gboolean ok = model && *model && strlen(model) <= MAX_MODEL_NAME;
      for (const char *p = model; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.';
      if (!ok || model[0] == '.')
        return invalid(error, "field \"detect.model\" must be null or a model name "
                              "(letters, digits, '-', '_', '.')");
      g_free(s->detect_model);
      s->detect_model = g_strdup(model);
    } else if (g_str_equal(name, "available") || g_str_equal(name, "error")) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "field \"detect.%s\" is read-only",
                  name);
      return FALSE;
    } else {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "unknown field \"detect.%s\"", name);
      return FALSE;
    }
  }
  return TRUE;
}

/* "tls": {"cert": path|null, "key": path|null}; both set or both null, checked
 * by the caller after all members are applied. */
static gboolean apply_tls(VigilSettings *s, JsonObject *o, GError **error)
{
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *v = json_object_get_member(o, name);
    gchar **slot = g_str_equal(name, "cert") ? &s->tls_cert
                   : g_str_equal(name, "key") ? &s->tls_key
                                               : NULL;
    if (g_str_equal(name, "active")) {
      return invalid(error, "field \"tls.active\" is read-only");
    } else if (!slot) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "unknown field \"tls.%s\"", name);
      return FALSE;
    }
    if (JSON_NODE_HOLDS_NULL(v)) {
      g_clear_pointer(slot, g_free);
      continue;
    }
    const char *path = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                           ? json_node_get_string(v)
                           : NULL;
    gboolean ok = path && g_path_is_absolute(path) && strlen(path) <= MAX_TLS_PATH;
    for (const char *p = path; ok && *p; p++)
      ok = (guchar)*p >= 0x20 && *p != 0x7f;
    if (!ok) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                  "field \"tls.%s\" must be null or an absolute file path", name);
      return FALSE;
    }
    g_free(*slot);
    *slot = g_strdup(path);
  }
  return TRUE;
}

gboolean vigil_settings_apply_json(VigilSettings *settings, JsonNode *node, GError **error)
{
  if (!node || !JSON_NODE_HOLDS_OBJECT(node))
    return invalid(error, "settings must be a JSON object");
  g_autoptr(VigilSettings) s = vigil_settings_copy(settings);
  JsonObject *o = json_node_get_object(node);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *v = json_object_get_member(o, name);
    gboolean known = g_str_equal(name, "storage") || g_str_equal(name, "detect") ||
                     g_str_equal(name, "tls");
    if (!known) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "unknown field \"%s\"", name);
      return FALSE;
    }
    if (!JSON_NODE_HOLDS_OBJECT(v)) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "field \"%s\" must be an object",
                  name);
      return FALSE;
    }
    gboolean ok = g_str_equal(name, "storage") ? apply_storage(s, json_node_get_object(v), error)
                  : g_str_equal(name, "tls")   ? apply_tls(s, json_node_get_object(v), error)
                                               : apply_detect(s, json_node_get_object(v), error);
    if (!ok)
      return FALSE;
  }
  if (!s->tls_cert != !s->tls_key)
    return invalid(error, "fields \"tls.cert\" and \"tls.key\" must be set (or null) together");
  g_free(settings->detect_model);
  g_free(settings->tls_cert);
  g_free(settings->tls_key);
  *settings = *s;
  /* ownership moved to @settings */
  s->detect_model = NULL;
  s->tls_cert = NULL;
  s->tls_key = NULL;
  return TRUE;
}

static JsonNode *build(const VigilSettings *s, gboolean with_runtime, gboolean available,
                       const char *detect_error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "storage");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "max_bytes");
  if (s->max_bytes < 0)
    json_builder_add_null_value(b);
  else
    json_builder_add_int_value(b, s->max_bytes);
  json_builder_set_member_name(b, "min_free_percent");
  json_builder_add_double_value(b, s->min_free_percent);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "detect");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "model");
  if (s->detect_model)
    json_builder_add_string_value(b, s->detect_model);
  else
    json_builder_add_null_value(b);
  if (with_runtime) {
    json_builder_set_member_name(b, "available");
    json_builder_add_boolean_value(b, available);
    json_builder_set_member_name(b, "error");
    if (detect_error)
      json_builder_add_string_value(b, detect_error);
    else
      json_builder_add_null_value(b);
  }
  json_builder_end_object(b);

  json_builder_set_member_name(b, "tls");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "cert");
  if (s->tls_cert)
    json_builder_add_string_value(b, s->tls_cert);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "key");
  if (s->tls_key)
    json_builder_add_string_value(b, s->tls_key);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *vigil_settings_to_json(const VigilSettings *s, gboolean detect_available,
                                 const char *detect_error)
{
  return build(s, TRUE, detect_available, detect_error);
}

gchar *vigil_settings_serialize(const VigilSettings *s)
{
  g_autoptr(JsonNode) node = build(s, FALSE, FALSE, NULL);
  return json_to_string(node, FALSE);
}
