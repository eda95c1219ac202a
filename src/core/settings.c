/* Global settings: defaults, validation and JSON. */
#include "core/settings.h"

#include "core/settings-private.h"

#include "core/json.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MODEL_NAME 128
#define MAX_TLS_PATH   4096
#define MAX_MQTT_FIELD 256
#define MAX_PUBLIC_URL 512

/* "vigil-" and this host's name: stable across restarts, distinct between
 * hosts that share a broker. */
static gchar *default_client_id(void)
{
  GString *id = g_string_new("vigil-");
  for (const char *p = g_get_host_name(); *p && id->len < 64; p++)
    g_string_append_c(id, g_ascii_isalnum(*p) || *p == '-' ? *p : '-');
  return g_string_free(id, FALSE);
}

void vigil_mqtt_settings_copy(VigilMqttSettings *dst, const VigilMqttSettings *src)
{
  *dst = *src;
  dst->host = g_strdup(src->host);
  dst->username = g_strdup(src->username);
  dst->password = g_strdup(src->password);
  dst->client_id = g_strdup(src->client_id);
  dst->topic_prefix = g_strdup(src->topic_prefix);
  dst->discovery_prefix = g_strdup(src->discovery_prefix);
  dst->user = g_strdup(src->user);
  dst->ca_file = g_strdup(src->ca_file);
}

void vigil_mqtt_settings_clear(VigilMqttSettings *m)
{
  g_free(m->host);
  g_free(m->username);
  g_free(m->password);
  g_free(m->client_id);
  g_free(m->topic_prefix);
  g_free(m->discovery_prefix);
  g_free(m->user);
  g_free(m->ca_file);
  memset(m, 0, sizeof *m);
}

gboolean vigil_mqtt_settings_equal(const VigilMqttSettings *a, const VigilMqttSettings *b)
{
  return a->enabled == b->enabled && a->port == b->port && a->tls == b->tls &&
         g_strcmp0(a->host, b->host) == 0 && g_strcmp0(a->username, b->username) == 0 &&
         g_strcmp0(a->password, b->password) == 0 && g_strcmp0(a->client_id, b->client_id) == 0 &&
         g_strcmp0(a->topic_prefix, b->topic_prefix) == 0 &&
         g_strcmp0(a->discovery_prefix, b->discovery_prefix) == 0 &&
         g_strcmp0(a->user, b->user) == 0 && g_strcmp0(a->ca_file, b->ca_file) == 0;
}

VigilSettings *vigil_settings_new(void)
{
  VigilSettings *s = g_new0(VigilSettings, 1);
  s->max_bytes = -1;
  s->min_free_percent = 10;
  s->mqtt.host = g_strdup("");
  s->mqtt.port = 1883;
  s->mqtt.username = g_strdup("");
  s->mqtt.client_id = default_client_id();
  s->mqtt.topic_prefix = g_strdup("vigil");
  s->mqtt.discovery_prefix = g_strdup("homeassistant");
  s->rtsp_server.listen = g_strdup("0.0.0.0:8554");
  s->notify = vigil_webhooks_copy(NULL);
  return s;
}

VigilSettings *vigil_settings_copy(const VigilSettings *src)
{
  VigilSettings *s = g_new0(VigilSettings, 1);
  *s = *src;
  s->detect_model = g_strdup(src->detect_model);
  s->tls_cert = g_strdup(src->tls_cert);
  s->tls_key = g_strdup(src->tls_key);
  s->public_url = g_strdup(src->public_url);
  vigil_mqtt_settings_copy(&s->mqtt, &src->mqtt);
  s->rtsp_server.listen = g_strdup(src->rtsp_server.listen);
  s->notify = vigil_webhooks_copy(src->notify);
  return s;
}

void vigil_settings_free(VigilSettings *s)
{
  if (!s)
    return;
  g_free(s->detect_model);
  g_free(s->tls_cert);
  g_free(s->tls_key);
  g_free(s->public_url);
  vigil_mqtt_settings_clear(&s->mqtt);
  g_free(s->rtsp_server.listen);
  g_clear_pointer(&s->notify, g_ptr_array_unref);
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
    } else if (g_str_equal(name, "input_size")) {
      gint64 size = 0;
      if (!JSON_NODE_HOLDS_NULL(v) &&
          (!vigil_json_get_int(v, VIGIL_DETECT_INPUT_MIN, VIGIL_DETECT_INPUT_MAX, &size) ||
           size % VIGIL_DETECT_INPUT_STEP != 0))
        return vigil_json_field_invalid(error, "detect.input_size",
                                        "must be null (the model's default) or a number of "
                                        "pixels, a multiple of %d from %d to %d",
                                        VIGIL_DETECT_INPUT_STEP, VIGIL_DETECT_INPUT_MIN,
                                        VIGIL_DETECT_INPUT_MAX);
      s->detect_input_size = (int)size;
    } else if (g_str_equal(name, "available") || g_str_equal(name, "error") ||
               g_str_equal(name, "input_size_effective")) {
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

/* Printable ASCII, 1 to MAX_MQTT_FIELD long, none of @forbidden. */
static gboolean mqtt_text_ok(const char *text, const char *forbidden)
{
  gsize len = strlen(text);
  if (len == 0 || len > MAX_MQTT_FIELD)
    return FALSE;
  for (const char *p = text; *p; p++)
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f || strchr(forbidden, *p))
      return FALSE;
  return TRUE;
}

/* A topic prefix: topic levels without wildcards, no empty level. */
static gboolean topic_prefix_ok(const char *prefix)
{
  return mqtt_text_ok(prefix, "+#") && prefix[0] != '/' && !g_str_has_suffix(prefix, "/") &&
         !strstr(prefix, "//");
}

static gboolean host_ok(const char *host)
{
  return mqtt_text_ok(host, "/");
}

static gboolean username_ok(const char *username)
{
  return !*username || mqtt_text_ok(username, "");
}

static gboolean client_id_ok(const char *client_id)
{
  return mqtt_text_ok(client_id, "+#/");
}

/* Sets *@slot to the string @v when @check accepts it (null stands for ""
 * when @nullable), else fails with the field's 400 worded @wording. */
static gboolean set_mqtt_string(gchar **slot, JsonNode *v, gboolean nullable,
                                gboolean (*check)(const char *), const char *field,
                                const char *wording, GError **error)
{
  const char *text = NULL;
  if (nullable && JSON_NODE_HOLDS_NULL(v))
    text = "";
  else if (!vigil_json_get_string(v, &text) || !check(text))
    return vigil_json_field_invalid(error, field, "%s", wording);
  g_free(*slot);
  *slot = g_strdup(text);
  return TRUE;
}

static gboolean apply_mqtt(VigilMqttSettings *m, JsonObject *o, GError **error)
{
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *v = json_object_get_member(o, name);
    gboolean ok = TRUE;
    if (g_str_equal(name, "enabled")) {
      ok = vigil_json_read_bool(v, "mqtt.enabled", &m->enabled, error);
    } else if (g_str_equal(name, "tls")) {
      ok = vigil_json_read_bool(v, "mqtt.tls", &m->tls, error);
    } else if (g_str_equal(name, "port")) {
      ok = vigil_json_read_int(v, "mqtt.port", 1, 65535, &m->port, error);
    } else if (g_str_equal(name, "host")) {
      ok = set_mqtt_string(&m->host, v, TRUE, host_ok, "mqtt.host",
                           "must be null or a host name or address", error);
    } else if (g_str_equal(name, "username")) {
      ok = set_mqtt_string(&m->username, v, TRUE, username_ok, "mqtt.username",
                           "must be null or a user name (printable, no spaces)", error);
    } else if (g_str_equal(name, "password")) {
      const char *password = NULL;
      if (JSON_NODE_HOLDS_NULL(v)) {
        g_clear_pointer(&m->password, g_free);
      } else if (!vigil_json_get_string(v, &password) || strlen(password) > MAX_MQTT_FIELD) {
        return vigil_json_field_invalid(
            error, "mqtt.password", "must be null or a string of at most %d bytes", MAX_MQTT_FIELD);
      } else {
        g_free(m->password);
        m->password = g_strdup(password);
      }
    } else if (g_str_equal(name, "client_id")) {
      ok = set_mqtt_string(&m->client_id, v, FALSE, client_id_ok, "mqtt.client_id",
                           "must be printable ASCII without spaces, '+', '#' or '/'", error);
    } else if (g_str_equal(name, "topic_prefix") || g_str_equal(name, "discovery_prefix")) {
      g_autofree gchar *field = g_strdup_printf("mqtt.%s", name);
      ok = set_mqtt_string(g_str_equal(name, "topic_prefix") ? &m->topic_prefix
                                                             : &m->discovery_prefix,
                           v, FALSE, topic_prefix_ok, field,
                           "must be topic levels without '+', '#', spaces or empty levels", error);
    } else if (g_str_equal(name, "ca_file")) {
      const char *path = NULL;
      if (JSON_NODE_HOLDS_NULL(v)) {
        g_clear_pointer(&m->ca_file, g_free);
      } else if (!vigil_json_get_string(v, &path) || !g_path_is_absolute(path) ||
                 !mqtt_text_ok(path, "")) {
        return vigil_json_field_invalid(error, "mqtt.ca_file",
                                        "must be null or an absolute file path");
      } else {
        g_free(m->ca_file);
        m->ca_file = g_strdup(path);
      }
    } else if (g_str_equal(name, "user")) {
      const char *user = NULL;
      if (JSON_NODE_HOLDS_NULL(v)) {
        g_clear_pointer(&m->user, g_free);
      } else if (!vigil_json_get_string(v, &user) || !mqtt_text_ok(user, "")) {
        return vigil_json_field_invalid(error, "mqtt.user", "must be null or a vigil user name");
      } else {
        g_free(m->user);
        m->user = g_strdup(user);
      }
    } else if (g_str_equal(name, "password_set")) {
      return vigil_json_field_invalid(error, "mqtt.password_set", "is read-only");
    } else {
      return vigil_json_invalid(error, "unknown field \"mqtt.%s\"", name);
    }
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* "public_url": how browsers reach vigil, for links sent out (Home Assistant's
 * configuration_url, notifications): http(s)://host[:port][/path], no
 * credentials, query or fragment; a trailing '/' is dropped. */
static gboolean apply_public_url(VigilSettings *s, JsonNode *v, GError **error)
{
  if (JSON_NODE_HOLDS_NULL(v)) {
    g_clear_pointer(&s->public_url, g_free);
    return TRUE;
  }
  const char *text = NULL;
  g_autoptr(GUri) uri = NULL;
  if (vigil_json_get_string(v, &text) && strlen(text) <= MAX_PUBLIC_URL)
    uri = g_uri_parse(text, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
  gboolean ok = uri && (g_str_equal(scheme, "http") || g_str_equal(scheme, "https")) &&
                g_uri_get_host(uri) && *g_uri_get_host(uri) && !g_uri_get_userinfo(uri) &&
                !g_uri_get_query(uri) && !g_uri_get_fragment(uri);
  for (const char *p = text; ok && *p; p++)
    ok = (guchar)*p > 0x20 && *p != 0x7f;
  if (!ok)
    return vigil_json_field_invalid(error, "public_url",
                                    "must be null or an http:// or https:// address "
                                    "without user name, query or fragment");
  g_free(s->public_url);
  s->public_url = g_strdup(text);
  gsize len = strlen(s->public_url);
  while (len > 0 && s->public_url[len - 1] == '/')
    s->public_url[--len] = '\0';
  return TRUE;
}

gboolean vigil_rtsp_server_listen_parse(const char *listen, gchar **address, int *port)
{
  if (!listen || strlen(listen) > 64)
    return FALSE;
  const char *colon = strrchr(listen, ':');
  if (!colon || colon == listen || !colon[1])
    return FALSE;
  for (const char *c = colon + 1; *c; c++)
    if (!g_ascii_isdigit(*c))
      return FALSE;
  if (strlen(colon + 1) > 5)
    return FALSE;
  int p = atoi(colon + 1);
  if (p < 1 || p > 65535)
    return FALSE;
  g_autofree gchar *host = g_strndup(listen, colon - listen);
  gboolean bracketed = host[0] == '[';
  if (bracketed) {
    gsize n = strlen(host);
    if (n < 3 || host[n - 1] != ']')
      return FALSE;
    memmove(host, host + 1, n - 2);
    host[n - 2] = '\0';
  }
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(host);
  if (!addr)
    return FALSE;
  /* IPv6 must be bracketed, IPv4 must not be. */
  if (bracketed != (g_inet_address_get_family(addr) == G_SOCKET_FAMILY_IPV6))
    return FALSE;
  if (address)
    *address = g_steal_pointer(&host);
  if (port)
    *port = p;
  return TRUE;
}

static gboolean apply_rtsp_server(VigilRtspServerSettings *r, JsonObject *o, GError **error)
{
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *v = json_object_get_member(o, name);
    if (g_str_equal(name, "enabled")) {
      if (!vigil_json_read_bool(v, "rtsp_server.enabled", &r->enabled, error))
        return FALSE;
    } else if (g_str_equal(name, "listen")) {
      const char *listen = NULL;
      if (!vigil_json_get_string(v, &listen) || !vigil_rtsp_server_listen_parse(listen, NULL, NULL))
        return vigil_json_field_invalid(error, "rtsp_server.listen",
                                        "must be \"IP:PORT\" (IPv6 in brackets, port 1-65535), "
                                        "e.g. \"0.0.0.0:8554\"");
      g_free(r->listen);
      r->listen = g_strdup(listen);
    } else {
      return vigil_json_invalid(error, "unknown field \"rtsp_server.%s\"", name);
    }
  }
  return TRUE;
}

static gboolean apply_mqtt_member(VigilSettings *s, JsonObject *o, GError **error)
{
  return apply_mqtt(&s->mqtt, o, error);
}

static gboolean apply_rtsp_server_member(VigilSettings *s, JsonObject *o, GError **error)
{
  return apply_rtsp_server(&s->rtsp_server, o, error);
}

static gboolean apply_notify(VigilSettings *s, JsonNode *v, GError **error)
{
  return vigil_settings_read_notify(&s->notify, v, error);
}

/* The top-level members: an object's fields (apply_object) or a value
 * (apply_value). */
static const struct {
  const char *name;
  gboolean (*apply_object)(VigilSettings *s, JsonObject *o, GError **error);
  gboolean (*apply_value)(VigilSettings *s, JsonNode *v, GError **error);
} members_table[] = {
    {"public_url", NULL, apply_public_url}, {"storage", apply_storage, NULL},
    {"detect", apply_detect, NULL},         {"tls", apply_tls, NULL},
    {"mqtt", apply_mqtt_member, NULL},      {"rtsp_server", apply_rtsp_server_member, NULL},
    {"notify", NULL, apply_notify},
};

static gboolean apply_member(VigilSettings *s, const char *name, JsonNode *v, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS(members_table); i++) {
    if (!g_str_equal(name, members_table[i].name))
      continue;
    if (members_table[i].apply_value)
      return members_table[i].apply_value(s, v, error);
    if (!JSON_NODE_HOLDS_OBJECT(v))
      return vigil_json_field_invalid(error, name, "must be an object");
    return members_table[i].apply_object(s, json_node_get_object(v), error);
  }
  return vigil_json_invalid(error, "unknown field \"%s\"", name);
}

gboolean vigil_settings_apply_json(VigilSettings *settings, JsonNode *node, GError **error)
{
  if (!node || !JSON_NODE_HOLDS_OBJECT(node))
    return vigil_json_invalid(error, "settings must be a JSON object");
  g_autoptr(VigilSettings) s = vigil_settings_copy(settings);
  JsonObject *o = json_node_get_object(node);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next)
    if (!apply_member(s, l->data, json_object_get_member(o, l->data), error))
      return FALSE;
  if (!s->tls_cert != !s->tls_key)
    return vigil_json_invalid(error,
                              "fields \"tls.cert\" and \"tls.key\" must be set (or null) together");
  if (s->mqtt.enabled && !*s->mqtt.host)
    return vigil_json_field_invalid(error, "mqtt.host", "must be set when MQTT is enabled");
  if (!vigil_settings_check_notify(s->notify, s->public_url, error))
    return FALSE;
  /* The new settings in place; @s takes the old ones away. */
  VigilSettings old = *settings;
  *settings = *s;
  *s = old;
  return TRUE;
}

/* @stored: the stored form carries the password; the API's never does. */
static void build_mqtt(JsonBuilder *b, const VigilMqttSettings *m, gboolean stored)
{
  vigil_json_begin_object(b, "mqtt");
  vigil_json_add_bool(b, "enabled", m->enabled);
  /* Unset is null: the stored form must read back. */
  vigil_json_add_string_or_null(b, "host", *m->host ? m->host : NULL);
  vigil_json_add_int(b, "port", m->port);
  vigil_json_add_bool(b, "tls", m->tls);
  vigil_json_add_string_or_null(b, "ca_file", m->ca_file);
  vigil_json_add_string(b, "username", m->username);
  if (stored)
    vigil_json_add_string_or_null(b, "password", m->password);
  else
    vigil_json_add_bool(b, "password_set", m->password != NULL);
  vigil_json_add_string(b, "client_id", m->client_id);
  vigil_json_add_string(b, "topic_prefix", m->topic_prefix);
  vigil_json_add_string(b, "discovery_prefix", m->discovery_prefix);
  vigil_json_add_string_or_null(b, "user", m->user);
  json_builder_end_object(b);
}

/* @runtime: the API form (runtime fields, no secrets); NULL: the stored
 * form. @with_notify: whether "notify" is shown. */
static JsonNode *build(const VigilSettings *s, const VigilDetectRuntime *runtime,
                       gboolean with_notify)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string_or_null(b, "public_url", s->public_url);
  vigil_json_begin_object(b, "storage");
  if (s->max_bytes < 0)
    vigil_json_add_null(b, "max_bytes");
  else
    vigil_json_add_int(b, "max_bytes", s->max_bytes);
  vigil_json_add_double(b, "min_free_percent", s->min_free_percent);
  json_builder_end_object(b);

  vigil_json_begin_object(b, "detect");
  vigil_json_add_string_or_null(b, "model", s->detect_model);
  if (s->detect_input_size > 0)
    vigil_json_add_int(b, "input_size", s->detect_input_size);
  else
    vigil_json_add_null(b, "input_size");
  if (runtime) {
    if (runtime->input_size > 0)
      vigil_json_add_int(b, "input_size_effective", runtime->input_size);
    else
      vigil_json_add_null(b, "input_size_effective");
    vigil_json_add_bool(b, "available", runtime->available);
    vigil_json_add_string_or_null(b, "error", runtime->error);
  }
  json_builder_end_object(b);

  vigil_json_begin_object(b, "tls");
  vigil_json_add_string_or_null(b, "cert", s->tls_cert);
  vigil_json_add_string_or_null(b, "key", s->tls_key);
  json_builder_end_object(b);
  build_mqtt(b, &s->mqtt, !runtime);
  vigil_json_begin_object(b, "rtsp_server");
  vigil_json_add_bool(b, "enabled", s->rtsp_server.enabled);
  vigil_json_add_string(b, "listen", s->rtsp_server.listen);
  json_builder_end_object(b);
  if (with_notify)
    vigil_settings_build_notify(b, s->notify, !runtime);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *vigil_settings_to_json(const VigilSettings *s, const VigilDetectRuntime *detect,
                                 gboolean admin)
{
  static const VigilDetectRuntime none = {FALSE, NULL, 0};
  return build(s, detect ? detect : &none, admin);
}

gchar *vigil_settings_serialize(const VigilSettings *s)
{
  g_autoptr(JsonNode) node = build(s, NULL, TRUE);
  return json_to_string(node, FALSE);
}
