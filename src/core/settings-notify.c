/* Settings "notify": the list of webhooks, read with worded 400s and written
 * in the API form (secrets shown as *_set) or the stored form (secrets kept). */
#include "core/settings-private.h"

#include "core/json.h"

#include <string.h>

#define MAX_NAME     64
#define MAX_URL      2048
#define MAX_FILTER   64 /* entries of one filter list */
#define MAX_TOKEN    1024
#define MAX_COOLDOWN 86400

static const char *const format_names[] = {"json", "ntfy"};
static const char *const snapshot_names[] = {"none", "url", "attach"};
static const char *const event_types[] = {"motion", "object", "barcode", "alarm"};

VigilWebhook *vigil_webhook_copy(const VigilWebhook *src)
{
  VigilWebhook *w = g_new0(VigilWebhook, 1);
  *w = *src;
  w->name = g_strdup(src->name);
  w->url = g_strdup(src->url);
  w->cameras = g_strdupv(src->cameras);
  w->types = g_strdupv(src->types);
  w->labels = g_strdupv(src->labels);
  w->secret = g_strdup(src->secret);
  w->auth_token = g_strdup(src->auth_token);
  return w;
}

void vigil_webhook_free(VigilWebhook *w)
{
  if (!w)
    return;
  g_free(w->name);
  g_free(w->url);
  g_strfreev(w->cameras);
  g_strfreev(w->types);
  g_strfreev(w->labels);
  g_free(w->secret);
  g_free(w->auth_token);
  g_free(w);
}

GPtrArray *vigil_webhooks_copy(const GPtrArray *src)
{
  GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_webhook_free);
  for (guint i = 0; src && i < src->len; i++)
    g_ptr_array_add(list, vigil_webhook_copy(g_ptr_array_index(src, i)));
  return list;
}

static gboolean name_ok(const char *name)
{
  gsize len = strlen(name);
  if (len == 0 || len > MAX_NAME)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr(" _.-", *p))
      return FALSE;
  return TRUE;
}

/* http(s)://host..., no credentials, printable ASCII without spaces. */
static gboolean url_ok(const char *url)
{
  if (strlen(url) > MAX_URL)
    return FALSE;
  for (const char *p = url; *p; p++)
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f)
      return FALSE;
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  if (!uri)
    return FALSE;
  const char *scheme = g_uri_get_scheme(uri);
  const char *host = g_uri_get_host(uri);
  return (g_str_equal(scheme, "http") || g_str_equal(scheme, "https")) && host && *host &&
         !g_uri_get_userinfo(uri);
}

/* Printable ASCII, 1 to 64 bytes: a camera id or a label. */
static gboolean filter_word_ok(const char *word)
{
  gsize len = strlen(word);
  if (len == 0 || len > 64)
    return FALSE;
  for (const char *p = word; *p; p++)
    if ((guchar)*p < 0x20 || (guchar)*p >= 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean type_ok(const char *type)
{
  for (gsize i = 0; i < G_N_ELEMENTS(event_types); i++)
    if (g_str_equal(type, event_types[i]))
      return TRUE;
  return FALSE;
}

/* A list of strings that @check accepts, into *@out (NULL-terminated). */
static gboolean read_list(JsonNode *v, gboolean (*check)(const char *), gchar ***out,
                          const char *field, const char *wording, GError **error)
{
  if (!JSON_NODE_HOLDS_ARRAY(v) || json_array_get_length(json_node_get_array(v)) > MAX_FILTER)
    return vigil_json_field_invalid(error, field, "must be a list (at most %d) of %s", MAX_FILTER,
                                    wording);
  JsonArray *a = json_node_get_array(v);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; i < json_array_get_length(a); i++) {
    const char *word = NULL;
    if (!vigil_json_get_string(json_array_get_element(a, i), &word) || !check(word))
      return vigil_json_field_invalid(error, field, "must be a list (at most %d) of %s", MAX_FILTER,
                                      wording);
    g_strv_builder_add(b, word);
  }
  g_strfreev(*out);
  *out = g_strv_builder_end(b);
  return TRUE;
}

static gboolean read_events(VigilWebhook *w, JsonNode *v, const char *at, GError **error)
{
  g_autofree gchar *field = g_strdup_printf("%s.events", at);
  if (!JSON_NODE_HOLDS_OBJECT(v))
    return vigil_json_field_invalid(error, field, "must be an object");
  JsonObject *o = json_node_get_object(v);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *m = json_object_get_member(o, name);
    g_autofree gchar *sub = g_strdup_printf("%s.%s", field, name);
    gboolean ok;
    if (g_str_equal(name, "cameras"))
      ok = read_list(m, filter_word_ok, &w->cameras, sub, "camera ids", error);
    else if (g_str_equal(name, "types"))
      ok = read_list(m, type_ok, &w->types, sub, "motion, object, barcode or alarm", error);
    else if (g_str_equal(name, "labels"))
      ok = read_list(m, filter_word_ok, &w->labels, sub, "labels", error);
    else if (g_str_equal(name, "min_score"))
      ok = vigil_json_get_double(m, 0, 1, &w->min_score) ||
           vigil_json_field_invalid(error, sub, "must be a number from 0 to 1");
    else
      return vigil_json_invalid(error, "unknown field \"%s\"", sub);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* secret / auth_token: a string (at most MAX_TOKEN bytes, no control
 * characters: it may go into a header), null or "" for none. */
static gboolean read_secret(gchar **slot, JsonNode *v, const char *field, GError **error)
{
  const char *text = NULL;
  if (JSON_NODE_HOLDS_NULL(v)) {
    g_clear_pointer(slot, g_free);
    return TRUE;
  }
  gboolean ok = vigil_json_get_string(v, &text) && strlen(text) <= MAX_TOKEN;
  for (const char *p = text; ok && *p; p++)
    ok = (guchar)*p >= 0x20 && *p != 0x7f;
  if (!ok)
    return vigil_json_field_invalid(
        error, field, "must be null or a string of at most %d bytes without control characters",
        MAX_TOKEN);
  g_free(*slot);
  *slot = *text ? g_strdup(text) : NULL;
  return TRUE;
}

static const VigilWebhook *find(const GPtrArray *list, const char *name)
{
  for (guint i = 0; list && i < list->len; i++) {
    const VigilWebhook *w = g_ptr_array_index(list, i);
    if (g_str_equal(w->name, name))
      return w;
  }
  return NULL;
}

static VigilWebhook *read_webhook(JsonNode *v, guint index, const GPtrArray *old, GError **error)
{
  g_autofree gchar *at = g_strdup_printf("notify[%u]", index);
  if (!JSON_NODE_HOLDS_OBJECT(v)) {
    vigil_json_field_invalid(error, at, "must be an object");
    return NULL;
  }
  JsonObject *o = json_node_get_object(v);
  g_autoptr(VigilWebhook) w = g_new0(VigilWebhook, 1);
  w->enabled = TRUE;
  w->cameras = g_new0(gchar *, 1);
  w->types = g_new0(gchar *, 1);
  w->labels = g_new0(gchar *, 1);

  /* The name first: secrets left out are those of the old webhook so named. */
  const char *name = NULL;
  g_autofree gchar *name_field = g_strdup_printf("%s.name", at);
  JsonNode *name_node = json_object_get_member(o, "name");
  if (!name_node || !vigil_json_get_string(name_node, &name) || !name_ok(name)) {
    vigil_json_field_invalid(error, name_field,
                             "must be a name of 1 to %d letters, digits, spaces, '_', '.' or '-'",
                             MAX_NAME);
    return NULL;
  }
  w->name = g_strdup(name);
  const VigilWebhook *before = find(old, name);
  if (before) {
    w->secret = g_strdup(before->secret);
    w->auth_token = g_strdup(before->auth_token);
  }

  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *member = l->data;
    JsonNode *m = json_object_get_member(o, member);
    g_autofree gchar *field = g_strdup_printf("%s.%s", at, member);
    gboolean ok = TRUE;
    int choice = 0;
    if (g_str_equal(member, "name")) {
      continue;
    } else if (g_str_equal(member, "enabled")) {
      ok = vigil_json_read_bool(m, field, &w->enabled, error);
    } else if (g_str_equal(member, "url")) {
      const char *url = NULL;
      if (!vigil_json_get_string(m, &url) || !url_ok(url)) {
        vigil_json_field_invalid(error, field,
                                 "must be an http:// or https:// address (at most %d bytes, "
                                 "no user name or password, no spaces)",
                                 MAX_URL);
        return NULL;
      }
      w->url = g_strdup(url);
    } else if (g_str_equal(member, "format")) {
      ok = vigil_json_read_enum(m, field, format_names, G_N_ELEMENTS(format_names), &choice, error);
      w->format = choice;
    } else if (g_str_equal(member, "snapshot")) {
      ok = vigil_json_read_enum(m, field, snapshot_names, G_N_ELEMENTS(snapshot_names), &choice,
                                error);
      w->snapshot = choice;
    } else if (g_str_equal(member, "events")) {
      ok = read_events(w, m, at, error);
    } else if (g_str_equal(member, "secret")) {
      ok = read_secret(&w->secret, m, field, error);
    } else if (g_str_equal(member, "auth_token")) {
      ok = read_secret(&w->auth_token, m, field, error);
    } else if (g_str_equal(member, "cooldown_s")) {
      ok = vigil_json_read_int(m, field, 0, MAX_COOLDOWN, &w->cooldown_s, error);
    } else if (g_str_equal(member, "secret_set") || g_str_equal(member, "auth_token_set")) {
      vigil_json_field_invalid(error, field, "is read-only");
      return NULL;
    } else {
      vigil_json_invalid(error, "unknown field \"%s\"", field);
      return NULL;
    }
    if (!ok)
      return NULL;
  }
  if (!w->url) {
    g_autofree gchar *field = g_strdup_printf("%s.url", at);
    vigil_json_field_invalid(error, field, "is required");
    return NULL;
  }
  return g_steal_pointer(&w);
}

gboolean vigil_settings_read_notify(GPtrArray **list, JsonNode *v, GError **error)
{
  if (!JSON_NODE_HOLDS_ARRAY(v))
    return vigil_json_field_invalid(error, "notify", "must be a list of webhooks");
  JsonArray *a = json_node_get_array(v);
  if (json_array_get_length(a) > VIGIL_WEBHOOKS_MAX)
    return vigil_json_field_invalid(error, "notify", "must have at most %d webhooks",
                                    VIGIL_WEBHOOKS_MAX);
  g_autoptr(GPtrArray) next = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_webhook_free);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    VigilWebhook *w = read_webhook(json_array_get_element(a, i), i, *list, error);
    if (!w)
      return FALSE;
    if (find(next, w->name)) {
      g_autofree gchar *field = g_strdup_printf("notify[%u].name", i);
      vigil_webhook_free(w);
      return vigil_json_field_invalid(error, field, "must be unique in the list");
    }
    g_ptr_array_add(next, w);
  }
  g_ptr_array_unref(*list);
  *list = g_steal_pointer(&next);
  return TRUE;
}

gboolean vigil_settings_check_notify(const GPtrArray *list, const char *public_url, GError **error)
{
  for (guint i = 0; i < list->len && !public_url; i++) {
    const VigilWebhook *w = g_ptr_array_index(list, i);
    if (w->snapshot == VIGIL_WEBHOOK_SNAPSHOT_URL) {
      g_autofree gchar *field = g_strdup_printf("notify[%u].snapshot", i);
      return vigil_json_field_invalid(error, field,
                                      "can be \"url\" only when public_url is set: "
                                      "set public_url (the address receivers open) first");
    }
  }
  return TRUE;
}

static void add_list(JsonBuilder *b, const char *member, gchar **words)
{
  vigil_json_begin_array(b, member);
  for (gchar **p = words; p && *p; p++)
    json_builder_add_string_value(b, *p);
  json_builder_end_array(b);
}

void vigil_settings_build_notify(JsonBuilder *b, const GPtrArray *list, gboolean stored)
{
  vigil_json_begin_array(b, "notify");
  for (guint i = 0; i < list->len; i++) {
    const VigilWebhook *w = g_ptr_array_index(list, i);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "name", w->name);
    vigil_json_add_bool(b, "enabled", w->enabled);
    vigil_json_add_string(b, "url", w->url);
    vigil_json_add_string(b, "format", format_names[w->format]);
    vigil_json_begin_object(b, "events");
    add_list(b, "cameras", w->cameras);
    add_list(b, "types", w->types);
    add_list(b, "labels", w->labels);
    vigil_json_add_double(b, "min_score", w->min_score);
    json_builder_end_object(b);
    vigil_json_add_string(b, "snapshot", snapshot_names[w->snapshot]);
    if (stored) {
      vigil_json_add_string_or_null(b, "secret", w->secret);
      vigil_json_add_string_or_null(b, "auth_token", w->auth_token);
    } else {
      vigil_json_add_bool(b, "secret_set", w->secret != NULL);
      vigil_json_add_bool(b, "auth_token_set", w->auth_token != NULL);
    }
    vigil_json_add_int(b, "cooldown_s", w->cooldown_s);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}
