/* core/settings: settings "mqtt": defaults, validation with worded 400s, the
 * password kept in the stored form and never in the API's. */
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
  g_autoptr(JsonNode) api = vigil_settings_to_json(s, FALSE, NULL);
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
  g_autoptr(JsonNode) api = vigil_settings_to_json(s, FALSE, NULL);
  JsonObject *mqtt = json_object_get_object_member(json_node_get_object(api), "mqtt");
  g_assert_true(json_object_get_null_member(mqtt, "host"));
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

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/settings/mqtt/defaults", test_mqtt_defaults);
  g_test_add_func("/settings/mqtt/password-write-only", test_mqtt_password_write_only);
  g_test_add_func("/settings/mqtt/invalid", test_mqtt_invalid);
  g_test_add_func("/settings/public-url-and-mqtt-user", test_public_url_and_user);
  g_test_add_func("/settings/stored-defaults-read-back", test_stored_defaults_read_back);
  return g_test_run();
}
