/* core/settings: settings "mqtt": defaults, validation with worded 400s, the
 * password kept in the stored form and never in the API's; "detect". */
#include <glib.h>
#include <string.h>

#include "core/error.h"
#include "core/settings.h"

static gboolean apply(VigilSettings *s, const char *json, GError **error)
{
  g_autoptr(JsonNode) node = json_from_string(json, NULL);
  g_assert_nonnull(node);
  return vigil_settings_apply_json(s, node, error);
}

static void test_mqtt_defaults(void)
{
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_assert_false(s->mqtt.enabled);
  g_assert_cmpint(s->mqtt.port, ==, 1883);
  g_assert_cmpstr(s->mqtt.topic_prefix, ==, "vigil");
  g_assert_cmpstr(s->mqtt.discovery_prefix, ==, "homeassistant");
  g_assert_true(g_str_has_prefix(s->mqtt.client_id, "vigil-"));
  g_assert_null(s->mqtt.password);
  /* Stable: the same on every start. */
  g_autoptr(VigilSettings) again = vigil_settings_new();
  g_assert_cmpstr(again->mqtt.client_id, ==, s->mqtt.client_id);
}

static void test_mqtt_password_write_only(void)
{
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(apply(s,
                      "{\"mqtt\": {\"enabled\": true, \"host\": \"broker.lan\", \"port\": 8883,"
                      " \"tls\": true, \"username\": \"nvr\", \"password\": \"s3cret\"}}",
                      &error));
  g_assert_no_error(error);
  g_autoptr(JsonNode) api = vigil_settings_to_json(s, NULL, TRUE);
  g_autofree gchar *api_text = json_to_string(api, FALSE);
  g_assert_null(strstr(api_text, "s3cret"));
  g_assert_nonnull(strstr(api_text, "\"password_set\":true"));

  /* The stored form keeps it and reads back. */
  g_autofree gchar *stored = vigil_settings_serialize(s);
  g_autoptr(VigilSettings) back = vigil_settings_new();
  g_assert_true(apply(back, stored, &error));
  g_assert_cmpstr(back->mqtt.password, ==, "s3cret");
  g_assert_cmpstr(back->mqtt.host, ==, "broker.lan");
  g_assert_cmpint(back->mqtt.port, ==, 8883);
  g_assert_true(back->mqtt.tls);

  /* null clears it. */
  g_assert_true(apply(s, "{\"mqtt\": {\"password\": null, \"username\": null}}", &error));
  g_assert_null(s->mqtt.password);
  g_assert_cmpstr(s->mqtt.username, ==, "");
}

/* What is stored reads back, defaults included: a stored form that does not
 * would make the next start drop every setting (TLS among them). */
static void test_stored_defaults_read_back(void)
{
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_autofree gchar *stored = vigil_settings_serialize(s);
  g_autoptr(VigilSettings) back = vigil_settings_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(apply(back, stored, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(back->mqtt.host, ==, "");
  g_autoptr(JsonNode) api = vigil_settings_to_json(s, NULL, TRUE);
  JsonObject *mqtt = json_object_get_object_member(json_node_get_object(api), "mqtt");
  g_assert_true(json_object_get_null_member(mqtt, "host"));
  JsonArray *notify = json_object_get_array_member(json_node_get_object(api), "notify");
  g_assert_nonnull(notify);
  g_assert_cmpuint(json_array_get_length(notify), ==, 0);
}

/* rtsp_server: defaults, listen validated with a worded 400, stored form
 * reads back. */
static void test_rtsp_server(void)
{
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_assert_false(s->rtsp_server.enabled);
  g_assert_cmpstr(s->rtsp_server.listen, ==, "0.0.0.0:8554");
  g_autoptr(GError) error = NULL;
  g_assert_true(
      apply(s, "{\"rtsp_server\": {\"enabled\": true, \"listen\": \"[::1]:10554\"}}", &error));
  g_assert_no_error(error);
  g_assert_true(s->rtsp_server.enabled);
  g_assert_cmpstr(s->rtsp_server.listen, ==, "[::1]:10554");
  g_autofree gchar *stored = vigil_settings_serialize(s);
  g_autoptr(VigilSettings) back = vigil_settings_new();
  g_assert_true(apply(back, stored, &error));
  g_assert_no_error(error);
  g_assert_true(back->rtsp_server.enabled);
  g_assert_cmpstr(back->rtsp_server.listen, ==, "[::1]:10554");

  const char *bad[] = {
      "8554",          "0.0.0.0",  "0.0.0.0:",         "0.0.0.0:0",    "0.0.0.0:65536",
      "host.lan:8554", "::1:8554", "[127.0.0.1]:8554", "1.2.3.4:85x4", ""};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree gchar *json = g_strdup_printf("{\"rtsp_server\": {\"listen\": \"%s\"}}", bad[i]);
    g_clear_error(&error);
    g_assert_false(apply(s, json, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "rtsp_server.listen"));
  }
  g_assert_cmpstr(s->rtsp_server.listen, ==, "[::1]:10554"); /* unchanged */
  g_clear_error(&error);
  g_assert_false(apply(s, "{\"rtsp_server\": {\"port\": 1}}", &error));
  g_clear_error(&error);
  g_assert_false(apply(s, "{\"rtsp_server\": {\"enabled\": 1}}", &error));

  g_autofree gchar *address = NULL;
  int port = 0;
  g_assert_true(vigil_rtsp_server_listen_parse("127.0.0.1:554", &address, &port));
  g_assert_cmpstr(address, ==, "127.0.0.1");
  g_assert_cmpint(port, ==, 554);
}

#define HOOK_PHONE                                                                                 \
  "{\"name\": \"phone\", \"url\": \"https://ntfy.sh/vigil-garage\", \"format\": \"ntfy\","         \
  " \"events\": {\"cameras\": [\"garage\"], \"types\": [\"object\", \"alarm\"],"                   \
  " \"labels\": [\"person\"], \"min_score\": 0.6}, \"snapshot\": \"url\","                         \
  " \"secret\": \"hmac-key-1\", \"auth_token\": \"tok-1\", \"cooldown_s\": 60}"

/* Settings "notify": a valid list, its defaults, the stored form with the
 * secrets reading back, the API form without them (and without the list for
 * non-admins). */
static void test_notify_valid(void)
{
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(apply(s,
                      "{\"public_url\": \"https://nvr.example\", \"notify\": [" HOOK_PHONE
                      ", {\"name\": \"hook 2\", \"url\": \"http://10.0.0.5:8080/hook?k=1\"}]}",
                      &error));
  g_assert_no_error(error);
  g_assert_cmpuint(s->notify->len, ==, 2);
  const VigilWebhook *w = g_ptr_array_index(s->notify, 0);
  g_assert_cmpstr(w->name, ==, "phone");
  g_assert_true(w->enabled);
  g_assert_cmpint(w->format, ==, VIGIL_WEBHOOK_NTFY);
  g_assert_cmpint(w->snapshot, ==, VIGIL_WEBHOOK_SNAPSHOT_URL);
  g_assert_cmpstr(w->cameras[0], ==, "garage");
  g_assert_null(w->cameras[1]);
  g_assert_cmpstr(w->types[1], ==, "alarm");
  g_assert_cmpfloat(w->min_score, ==, 0.6);
  g_assert_cmpstr(w->secret, ==, "hmac-key-1");
  g_assert_cmpstr(w->auth_token, ==, "tok-1");
  g_assert_cmpint(w->cooldown_s, ==, 60);
  const VigilWebhook *d = g_ptr_array_index(s->notify, 1);
  g_assert_true(d->enabled);
  g_assert_cmpint(d->format, ==, VIGIL_WEBHOOK_JSON);
  g_assert_cmpint(d->snapshot, ==, VIGIL_WEBHOOK_SNAPSHOT_NONE);
  g_assert_null(d->types[0]);
  g_assert_null(d->secret);
  g_assert_cmpint(d->cooldown_s, ==, 0);

  /* API form: no secrets, *_set flags. */
  g_autoptr(JsonNode) api = vigil_settings_to_json(s, NULL, TRUE);
  g_autofree gchar *api_text = json_to_string(api, FALSE);
  g_assert_null(strstr(api_text, "hmac-key-1"));
  g_assert_null(strstr(api_text, "tok-1"));
  g_assert_nonnull(strstr(api_text, "\"secret_set\":true"));
  g_assert_nonnull(strstr(api_text, "\"auth_token_set\":true"));
  g_assert_nonnull(strstr(api_text, "\"secret_set\":false"));
  /* Non-admins see no webhooks at all. */
  g_autoptr(JsonNode) viewer = vigil_settings_to_json(s, NULL, FALSE);
  g_assert_false(json_object_has_member(json_node_get_object(viewer), "notify"));
  g_autofree gchar *viewer_text = json_to_string(viewer, FALSE);
  g_assert_null(strstr(viewer_text, "ntfy.sh"));

  /* Stored form: keeps the secrets and reads back. */
  g_autofree gchar *stored = vigil_settings_serialize(s);
  g_autoptr(VigilSettings) back = vigil_settings_new();
  g_assert_true(apply(back, stored, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(back->notify->len, ==, 2);
  const VigilWebhook *b = g_ptr_array_index(back->notify, 0);
  g_assert_cmpstr(b->secret, ==, "hmac-key-1");
  g_assert_cmpstr(b->auth_token, ==, "tok-1");
  g_assert_cmpstr(b->labels[0], ==, "person");
  g_assert_cmpfloat(b->min_score, ==, 0.6);
  g_assert_cmpstr(((VigilWebhook *)g_ptr_array_index(back->notify, 1))->url, ==,
                  "http://10.0.0.5:8080/hook?k=1");
  g_autofree gchar *stored_again = vigil_settings_serialize(back);
  g_assert_cmpstr(stored_again, ==, stored);
}

/* A PATCH replaces the list; a webhook sent without secret/auth_token keeps
 * those of the webhook with the same name; null or "" removes them. */
static void test_notify_secret_kept_by_name(void)
{
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(
      apply(s, "{\"public_url\": \"https://nvr.example\", \"notify\": [" HOOK_PHONE "]}", &error));
  g_assert_true(apply(s,
                      "{\"notify\": [{\"name\": \"other\", \"url\": \"http://a.lan/\"},"
                      " {\"name\": \"phone\", \"url\": \"https://ntfy.sh/new\"}]}",
                      &error));
  g_assert_no_error(error);
  g_assert_cmpuint(s->notify->len, ==, 2);
  const VigilWebhook *other = g_ptr_array_index(s->notify, 0);
  const VigilWebhook *phone = g_ptr_array_index(s->notify, 1);
  g_assert_null(other->secret);
  g_assert_cmpstr(phone->url, ==, "https://ntfy.sh/new");
  g_assert_cmpstr(phone->secret, ==, "hmac-key-1");
  g_assert_cmpstr(phone->auth_token, ==, "tok-1");
  g_assert_cmpint(phone->cooldown_s, ==, 0); /* the rest is replaced */
  /* A renamed webhook does not inherit. */
  g_assert_true(
      apply(s, "{\"notify\": [{\"name\": \"phone2\", \"url\": \"http://a.lan/\"}]}", &error));
  g_assert_null(((VigilWebhook *)g_ptr_array_index(s->notify, 0))->secret);
  g_assert_true(apply(s,
                      "{\"notify\": [{\"name\": \"p\", \"url\": \"http://a.lan/\","
                      " \"secret\": \"k\", \"auth_token\": \"t\"}]}",
                      &error));
  g_assert_true(apply(s,
                      "{\"notify\": [{\"name\": \"p\", \"url\": \"http://a.lan/\","
                      " \"secret\": null, \"auth_token\": \"\"}]}",
                      &error));
  g_assert_no_error(error);
  g_assert_null(((VigilWebhook *)g_ptr_array_index(s->notify, 0))->secret);
  g_assert_null(((VigilWebhook *)g_ptr_array_index(s->notify, 0))->auth_token);
  /* An empty list removes them all. */
  g_assert_true(apply(s, "{\"notify\": []}", &error));
  g_assert_cmpuint(s->notify->len, ==, 0);
}

static void test_notify_invalid(void)
{
  static const struct {
    const char *json, *message;
  } cases[] = {
      {"{\"notify\": {}}", "field \"notify\" must be a list"},
      {"{\"notify\": [5]}", "field \"notify[0]\" must be an object"},
      {"{\"notify\": [{\"url\": \"http://a.lan/\"}]}", "notify[0].name"},
      {"{\"notify\": [{\"name\": \"\", \"url\": \"http://a.lan/\"}]}", "notify[0].name"},
      {"{\"notify\": [{\"name\": \"a/b\", \"url\": \"http://a.lan/\"}]}", "notify[0].name"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\"},"
       " {\"name\": \"a\", \"url\": \"http://b.lan/\"}]}",
       "field \"notify[1].name\" must be unique"},
      {"{\"notify\": [{\"name\": \"a\"}]}", "field \"notify[0].url\" is required"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\"},"
       " {\"name\": \"b\", \"url\": \"ftp://a.lan/\"}]}",
       "field \"notify[1].url\" must be an http:// or https:// address"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://u:p@a.lan/\"}]}", "notify[0].url"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/a b\"}]}", "notify[0].url"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http:///x\"}]}", "notify[0].url"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": 5}]}", "notify[0].url"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"format\": \"xml\"}]}",
       "field \"notify[0].format\" must be one of json, ntfy"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"snapshot\": true}]}",
       "notify[0].snapshot"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"snapshot\": \"url\"}]}",
       "set public_url"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"enabled\": 1}]}",
       "notify[0].enabled"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"cooldown_s\": -1}]}",
       "notify[0].cooldown_s"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"cooldown_s\": 86401}]}",
       "notify[0].cooldown_s"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"secret\": 5}]}",
       "notify[0].secret"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"auth_token\": \"a\\nb\"}]}",
       "notify[0].auth_token"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"secret_set\": true}]}",
       "field \"notify[0].secret_set\" is read-only"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"retries\": 3}]}",
       "unknown field \"notify[0].retries\""},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\", \"events\": []}]}",
       "field \"notify[0].events\" must be an object"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\","
       " \"events\": {\"types\": [\"smoke\"]}}]}",
       "notify[0].events.types"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\","
       " \"events\": {\"cameras\": \"garage\"}}]}",
       "notify[0].events.cameras"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\","
       " \"events\": {\"labels\": [5]}}]}",
       "notify[0].events.labels"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\","
       " \"events\": {\"min_score\": 1.5}}]}",
       "notify[0].events.min_score"},
      {"{\"notify\": [{\"name\": \"a\", \"url\": \"http://a.lan/\","
       " \"events\": {\"zones\": []}}]}",
       "unknown field \"notify[0].events.zones\""},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(VigilSettings) s = vigil_settings_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(
        apply(s, "{\"notify\": [{\"name\": \"keep\", \"url\": \"http://k.lan/\"}]}", &error));
    g_assert_false(apply(s, cases[i].json, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    if (!strstr(error->message, cases[i].message))
      g_error("%s: %s", cases[i].json, error->message);
    /* Unchanged. */
    g_assert_cmpuint(s->notify->len, ==, 1);
    g_assert_cmpstr(((VigilWebhook *)g_ptr_array_index(s->notify, 0))->name, ==, "keep");
  }

  /* At most 32 webhooks. */
  g_autoptr(GString) many = g_string_new("{\"notify\": [");
  for (int i = 0; i < 33; i++)
    g_string_append_printf(many, "%s{\"name\": \"h%d\", \"url\": \"http://a.lan/\"}", i ? "," : "",
                           i);
  g_string_append(many, "]}");
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_autoptr(GError) error = NULL;
  g_assert_false(apply(s, many->str, &error));
  g_assert_nonnull(strstr(error->message, "at most 32"));

  /* public_url cannot go while a webhook links to it. */
  g_clear_error(&error);
  g_assert_true(
      apply(s, "{\"public_url\": \"https://nvr.example\", \"notify\": [" HOOK_PHONE "]}", &error));
  g_assert_false(apply(s, "{\"public_url\": null}", &error));
  g_assert_nonnull(strstr(error->message, "notify[0].snapshot"));
  g_assert_cmpstr(s->public_url, ==, "https://nvr.example");
}

static void test_mqtt_invalid(void)
{
  static const struct {
    const char *json, *message;
  } cases[] = {
      {"{\"mqtt\": {\"port\": 0}}", "mqtt.port"},
      {"{\"mqtt\": {\"port\": 65536}}", "mqtt.port"},
      {"{\"mqtt\": {\"enabled\": \"yes\"}}", "mqtt.enabled"},
      {"{\"mqtt\": {\"enabled\": true}}", "field \"mqtt.host\" must be set when MQTT is enabled"},
      {"{\"mqtt\": {\"host\": \"a b\"}}", "mqtt.host"},
      {"{\"mqtt\": {\"topic_prefix\": \"vigil/#\"}}", "mqtt.topic_prefix"},
      {"{\"mqtt\": {\"topic_prefix\": \"/vigil\"}}", "mqtt.topic_prefix"},
      {"{\"mqtt\": {\"discovery_prefix\": \"ha/\"}}", "mqtt.discovery_prefix"},
      {"{\"mqtt\": {\"client_id\": \"\"}}", "mqtt.client_id"},
      {"{\"mqtt\": {\"password\": 5}}", "mqtt.password"},
      {"{\"mqtt\": {\"password_set\": true}}", "field \"mqtt.password_set\" is read-only"},
      {"{\"mqtt\": {\"qos\": 2}}", "unknown field \"mqtt.qos\""},
      {"{\"mqtt\": true}", "mqtt"},
      {"{\"mqtt\": {\"user\": 3}}", "mqtt.user"},
      {"{\"mqtt\": {\"ca_file\": \"ca.pem\"}}", "mqtt.ca_file"},
      {"{\"mqtt\": {\"user\": \"\"}}", "mqtt.user"},
      {"{\"public_url\": \"ftp://nvr.lan\"}", "public_url"},
      {"{\"public_url\": \"http://admin:pw@nvr.lan\"}", "public_url"},
      {"{\"public_url\": \"https://nvr.lan/?a=1\"}", "public_url"},
      {"{\"public_url\": \"nvr.lan\"}", "public_url"},
      {"{\"public_url\": {}}", "public_url"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(VigilSettings) s = vigil_settings_new();
    g_autoptr(GError) error = NULL;
    g_assert_false(apply(s, cases[i].json, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    if (!strstr(error->message, cases[i].message))
      g_error("%s: %s", cases[i].json, error->message);
    /* Unchanged. */
    g_assert_false(s->mqtt.enabled);
    g_assert_cmpint(s->mqtt.port, ==, 1883);
    g_assert_null(s->public_url);
  }
}

/* public_url and mqtt.user: set, shown, stored, cleared with null. */
static void test_public_url_and_user(void)
{
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(apply(s,
                      "{\"public_url\": \"https://nvr.example:8443/vigil/\","
                      " \"mqtt\": {\"user\": \"homeassistant\", \"ca_file\": \"/etc/ca.pem\"}}",
                      &error));
  g_assert_no_error(error);
  g_assert_cmpstr(s->public_url, ==, "https://nvr.example:8443/vigil");
  g_assert_cmpstr(s->mqtt.user, ==, "homeassistant");
  g_autofree gchar *stored = vigil_settings_serialize(s);
  g_autoptr(VigilSettings) back = vigil_settings_new();
  g_assert_true(apply(back, stored, &error));
  g_assert_cmpstr(back->public_url, ==, "https://nvr.example:8443/vigil");
  g_assert_cmpstr(back->mqtt.user, ==, "homeassistant");
  g_assert_cmpstr(back->mqtt.ca_file, ==, "/etc/ca.pem");
  g_assert_true(vigil_mqtt_settings_equal(&back->mqtt, &s->mqtt));
  g_assert_true(apply(s, "{\"public_url\": null, \"mqtt\": {\"user\": null}}", &error));
  g_assert_null(s->public_url);
  g_assert_null(s->mqtt.user);
  g_assert_false(vigil_mqtt_settings_equal(&back->mqtt, &s->mqtt));
}

/* detect.input_size: null or a multiple of 32 from 128 to 1024, stored, and
 * shown with the size the loaded model really runs at. */
static void test_detect_input_size(void)
{
  g_autoptr(VigilSettings) s = vigil_settings_new();
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(s->detect_input_size, ==, 0);
  static const char *const bad[] = {
      "128.5", "96", "100", "330", "1056", "2048", "0", "-320", "\"320\"", "true", "[320]",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree gchar *json = g_strdup_printf("{\"detect\": {\"input_size\": %s}}", bad[i]);
    g_assert_false(apply(s, json, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "detect.input_size"));
    g_assert_nonnull(strstr(error->message, "multiple of 32 from 128 to 1024"));
    g_clear_error(&error);
    g_assert_cmpint(s->detect_input_size, ==, 0);
  }
  static const int good[] = {128, 320, 384, 512, 1024};
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autofree gchar *json = g_strdup_printf("{\"detect\": {\"input_size\": %d}}", good[i]);
    g_assert_true(apply(s, json, &error));
    g_assert_no_error(error);
    g_assert_cmpint(s->detect_input_size, ==, good[i]);
  }
  /* Read-only: what the model runs at. */
  g_assert_false(apply(s, "{\"detect\": {\"input_size_effective\": 320}}", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_clear_error(&error);

  /* The API form: the setting and the effective size; the model unchanged. */
  g_assert_true(apply(s, "{\"detect\": {\"model\": \"centernet\", \"input_size\": 384}}", &error));
  VigilDetectRuntime rt = {.available = TRUE, .error = NULL, .input_size = 384};
  g_autoptr(JsonNode) api = vigil_settings_to_json(s, &rt, FALSE);
  JsonObject *d = json_object_get_object_member(json_node_get_object(api), "detect");
  g_assert_cmpstr(json_object_get_string_member(d, "model"), ==, "centernet");
  g_assert_cmpint(json_object_get_int_member(d, "input_size"), ==, 384);
  g_assert_cmpint(json_object_get_int_member(d, "input_size_effective"), ==, 384);
  g_assert_true(json_object_get_boolean_member(d, "available"));
  g_assert_true(json_object_get_null_member(d, "error"));

  /* Stored, it reads back; the stored form has no runtime fields. */
  g_autofree gchar *stored = vigil_settings_serialize(s);
  g_assert_null(strstr(stored, "input_size_effective"));
  g_autoptr(VigilSettings) back = vigil_settings_new();
  g_assert_true(apply(back, stored, &error));
  g_assert_no_error(error);
  g_assert_cmpint(back->detect_input_size, ==, 384);

  /* null: the model's default; no model loaded: no effective size. */
  g_assert_true(apply(s, "{\"detect\": {\"input_size\": null}}", &error));
  g_assert_cmpint(s->detect_input_size, ==, 0);
  rt = (VigilDetectRuntime){.available = FALSE, .error = "model file x not found"};
  g_autoptr(JsonNode) none = vigil_settings_to_json(s, &rt, TRUE);
  d = json_object_get_object_member(json_node_get_object(none), "detect");
  g_assert_true(json_object_get_null_member(d, "input_size"));
  g_assert_true(json_object_get_null_member(d, "input_size_effective"));
  g_assert_cmpstr(json_object_get_string_member(d, "error"), ==, "model file x not found");
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/settings/mqtt/defaults", test_mqtt_defaults);
  g_test_add_func("/settings/mqtt/password-write-only", test_mqtt_password_write_only);
  g_test_add_func("/settings/mqtt/invalid", test_mqtt_invalid);
  g_test_add_func("/settings/public-url-and-mqtt-user", test_public_url_and_user);
  g_test_add_func("/settings/stored-defaults-read-back", test_stored_defaults_read_back);
  g_test_add_func("/settings/rtsp-server", test_rtsp_server);
  g_test_add_func("/settings/notify/valid", test_notify_valid);
  g_test_add_func("/settings/notify/secret-kept-by-name", test_notify_secret_kept_by_name);
  g_test_add_func("/settings/notify/invalid", test_notify_invalid);
  g_test_add_func("/settings/detect/input-size", test_detect_input_size);
  return g_test_run();
}
