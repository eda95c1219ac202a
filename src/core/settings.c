/* Global settings: defaults, validation and JSON. */
#include "core/settings.h"

#include "core/json.h"

#include <string.h>

#define MAX_MODEL_NAME 128
#define MAX_TLS_PATH   4096

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

static gboolean apply_storage(VigilSettings *s, JsonObject *o, GError **error)
{
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *v = json_object_get_member(o, name);
    if (g_str_equal(name, "max_bytes")) {
      if (JSON_NODE_HOLDS_NULL(v)) {
        s->max_bytes = -1;
      } else if (!vigil_json_get_int(v, 0, G_MAXINT64, &s->max_bytes)) {
        return vigil_json_field_invalid(error, "storage.max_bytes",
                                        "must be null or a whole number of bytes (0 or more)");
      }
    } else if (g_str_equal(name, "min_free_percent")) {
      if (!vigil_json_get_double(v, 0, 90, &s->min_free_percent))
        return vigil_json_field_invalid(error, "storage.min_free_percent",
                                        "must be a number from 0 to 90");
    } else {
      return vigil_json_invalid(error, "unknown field \"storage.%s\"", name);
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
      const char *model = NULL;
      gboolean ok = vigil_json_get_string(v, &model) && *model && strlen(model) <= MAX_MODEL_NAME;
      for (const char *p = model; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.';
      if (!ok || model[0] == '.')
        return vigil_json_field_invalid(error, "detect.model",
                                        "must be null or a model name "
                                        "(letters, digits, '-', '_', '.')");
      g_free(s->detect_model);
      s->detect_model = g_strdup(model);
    } else if (g_str_equal(name, "available") || g_str_equal(name, "error")) {
      return vigil_json_invalid(error, "field \"detect.%s\" is read-only", name);
    } else {
      return vigil_json_invalid(error, "unknown field \"detect.%s\"", name);
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
    gchar **slot = g_str_equal(name, "cert")  ? &s->tls_cert
                   : g_str_equal(name, "key") ? &s->tls_key
                                              : NULL;
    if (g_str_equal(name, "active")) {
      return vigil_json_field_invalid(error, "tls.active", "is read-only");
    } else if (!slot) {
      return vigil_json_invalid(error, "unknown field \"tls.%s\"", name);
    }
    if (JSON_NODE_HOLDS_NULL(v)) {
      g_clear_pointer(slot, g_free);
      continue;
    }
    const char *path = NULL;
    gboolean ok =
        vigil_json_get_string(v, &path) && g_path_is_absolute(path) && strlen(path) <= MAX_TLS_PATH;
    for (const char *p = path; ok && *p; p++)
      ok = (guchar)*p >= 0x20 && *p != 0x7f;
    if (!ok)
      return vigil_json_invalid(error, "field \"tls.%s\" must be null or an absolute file path",
                                name);
    g_free(*slot);
    *slot = g_strdup(path);
  }
  return TRUE;
}

gboolean vigil_settings_apply_json(VigilSettings *settings, JsonNode *node, GError **error)
{
  if (!node || !JSON_NODE_HOLDS_OBJECT(node))
    return vigil_json_invalid(error, "settings must be a JSON object");
  g_autoptr(VigilSettings) s = vigil_settings_copy(settings);
  JsonObject *o = json_node_get_object(node);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *v = json_object_get_member(o, name);
    gboolean known =
        g_str_equal(name, "storage") || g_str_equal(name, "detect") || g_str_equal(name, "tls");
    if (!known)
      return vigil_json_invalid(error, "unknown field \"%s\"", name);
    if (!JSON_NODE_HOLDS_OBJECT(v))
      return vigil_json_field_invalid(error, name, "must be an object");
    gboolean ok = g_str_equal(name, "storage") ? apply_storage(s, json_node_get_object(v), error)
                  : g_str_equal(name, "tls")   ? apply_tls(s, json_node_get_object(v), error)
                                               : apply_detect(s, json_node_get_object(v), error);
    if (!ok)
      return FALSE;
  }
  if (!s->tls_cert != !s->tls_key)
    return vigil_json_invalid(error,
                              "fields \"tls.cert\" and \"tls.key\" must be set (or null) together");
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
  vigil_json_begin_object(b, "storage");
  if (s->max_bytes < 0)
    vigil_json_add_null(b, "max_bytes");
  else
    vigil_json_add_int(b, "max_bytes", s->max_bytes);
  vigil_json_add_double(b, "min_free_percent", s->min_free_percent);
  json_builder_end_object(b);

  vigil_json_begin_object(b, "detect");
  vigil_json_add_string_or_null(b, "model", s->detect_model);
  if (with_runtime) {
    vigil_json_add_bool(b, "available", available);
    vigil_json_add_string_or_null(b, "error", detect_error);
  }
  json_builder_end_object(b);

  vigil_json_begin_object(b, "tls");
  vigil_json_add_string_or_null(b, "cert", s->tls_cert);
  vigil_json_add_string_or_null(b, "key", s->tls_key);
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
