/* mqtt: command topics and payloads (vigil_mqtt_parse_command), class
 * topics, and the Home Assistant discovery configs of a camera. */
#include <glib.h>
#include <string.h>

#include "core/settings.h"
#include "mqtt/messages.h"
#include "onvif/onvif.h"

static gboolean parse(const char *prefix, const char *topic, const char *payload, gchar **camera,
                      gchar **name, gboolean *on)
{
  return vigil_mqtt_parse_command(prefix, topic, payload, (int)strlen(payload), camera, name, on);
}

static void test_commands(void)
{
  static const struct {
    const char *topic, *payload, *camera, *name;
    gboolean on;
  } good[] = {
      {"vigil/door/record/set", "ON", "door", "record", TRUE},
      {"vigil/door/motion/set", "OFF", "door", "motion", FALSE},
      {"vigil/garage-2/detect/set", "ON", "garage-2", "detect", TRUE},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autofree gchar *camera = NULL, *name = NULL;
    gboolean on = !good[i].on;
    g_assert_true(parse("vigil", good[i].topic, good[i].payload, &camera, &name, &on));
    g_assert_cmpstr(camera, ==, good[i].camera);
    g_assert_cmpstr(name, ==, good[i].name);
    g_assert_cmpint(on, ==, good[i].on);
  }
  /* A prefix of several levels. */
  g_autofree gchar *camera = NULL, *name = NULL;
  gboolean on = FALSE;
  g_assert_true(parse("home/nvr", "home/nvr/door/record/set", "ON", &camera, &name, &on));
  g_assert_cmpstr(camera, ==, "door");
}

static void test_not_commands(void)
{
  static const struct {
    const char *topic, *payload;
  } bad[] = {
      {"vigil/door/record/set", "on"},   {"vigil/door/record/set", "ON "},
      {"vigil/door/record/set", ""},     {"vigil/door/record/set", "TRUE"},
      {"vigil/door/snapshot/set", "ON"}, {"vigil/door/record", "ON"},
      {"vigil/door/record/set/x", "ON"}, {"vigil//record/set", "ON"},
      {"vigilx/door/record/set", "ON"},  {"other/door/record/set", "ON"},
      {"vigil/door/motion/state", "ON"}, {"vigil", "ON"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree gchar *camera = NULL, *name = NULL;
    gboolean on = FALSE;
    if (parse("vigil", bad[i].topic, bad[i].payload, &camera, &name, &on))
      g_error("accepted %s %s", bad[i].topic, bad[i].payload);
    g_assert_null(camera);
    g_assert_null(name);
  }
}

static void test_labels(void)
{
  g_assert_true(vigil_mqtt_label_ok("person"));
  g_assert_true(vigil_mqtt_label_ok("traffic light"));
  static const char *const bad[] = {"", "motion", "status", "snapshot", "event", "a/b", "a+", "#"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_false(vigil_mqtt_label_ok(bad[i]));
  g_assert_false(vigil_mqtt_label_ok(NULL));
}

static JsonObject *config_of(GHashTable *configs, const char *topic)
{
  const char *payload = g_hash_table_lookup(configs, topic);
  if (!payload)
    g_error("no config on %s", topic);
  JsonNode *node = json_from_string(payload, NULL);
  g_assert_nonnull(node);
  JsonObject *o = json_object_ref(json_node_get_object(node));
  json_node_unref(node);
  return o;
}

/* Every config has what Home Assistant requires of it; ids are unique;
 * per-class sensors follow the classes; configuration_url follows
 * public_url. */
static void test_discovery(void)
{
  g_autoptr(VigilSettings) settings = vigil_settings_new();
  VigilMqttSettings *s = &settings->mqtt;
  g_free(s->client_id);
  s->client_id = g_strdup("vigil-host.lan");
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();
  cfg->id = g_strdup("door");
  cfg->name = g_strdup("Front door");
  g_strfreev(cfg->detect.classes);
  const char *classes[] = {"person", "traffic light", "motion", NULL};
  cfg->detect.classes = g_strdupv((gchar **)classes);

  g_autoptr(GHashTable) configs = vigil_mqtt_discovery(s, "https://nvr.lan:8443", cfg);
  /* 7 of the camera, 2 for each usable class ("motion" is vigil's own). */
  g_assert_cmpuint(g_hash_table_size(configs), ==, 7 + 2 * 2);
  g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer topic;
  g_hash_table_iter_init(&iter, configs);
  while (g_hash_table_iter_next(&iter, &topic, NULL)) {
    g_assert_true(g_str_has_prefix(topic, "homeassistant/"));
    g_assert_true(g_str_has_suffix(topic, "/config"));
    g_assert_nonnull(strstr(topic, "/vigil-host_lan/door_"));
    g_assert_null(strchr(topic, ' '));
    g_autoptr(JsonObject) o = config_of(configs, topic);
    const char *unique_id = json_object_get_string_member(o, "unique_id");
    g_assert_false(g_hash_table_contains(ids, unique_id));
    g_hash_table_add(ids, (gpointer)g_intern_string(unique_id));
    g_assert_cmpstr(json_object_get_string_member(o, "availability_topic"), ==, "vigil/available");
    JsonObject *device = json_object_get_object_member(o, "device");
    g_assert_cmpstr(
        json_array_get_string_element(json_object_get_array_member(device, "identifiers"), 0), ==,
        "vigil-host_lan_door");
    g_assert_cmpstr(json_object_get_string_member(device, "name"), ==, "Front door");
    g_assert_cmpstr(json_object_get_string_member(device, "configuration_url"), ==,
                    "https://nvr.lan:8443/cameras/door");
    g_assert_true(json_object_has_member(o, "state_topic") || json_object_has_member(o, "topic"));
  }

  g_autoptr(JsonObject) sw =
      config_of(configs, "homeassistant/switch/vigil-host_lan/door_record/config");
  g_assert_cmpstr(json_object_get_string_member(sw, "command_topic"), ==, "vigil/door/record/set");
  g_assert_cmpstr(json_object_get_string_member(sw, "state_topic"), ==, "vigil/door/record/state");
  g_autoptr(JsonObject) camera =
      config_of(configs, "homeassistant/camera/vigil-host_lan/door_snapshot/config");
  g_assert_cmpstr(json_object_get_string_member(camera, "topic"), ==, "vigil/door/snapshot");
  g_autoptr(JsonObject) count =
      config_of(configs, "homeassistant/sensor/vigil-host_lan/door_traffic_light_count/config");
  g_assert_cmpstr(json_object_get_string_member(count, "state_topic"), ==,
                  "vigil/door/traffic light");
  g_assert_cmpstr(json_object_get_string_member(count, "name"), ==, "Traffic light count");
  g_autoptr(JsonObject) person =
      config_of(configs, "homeassistant/binary_sensor/vigil-host_lan/door_person_occupancy/config");
  g_assert_cmpstr(json_object_get_string_member(person, "state_topic"), ==, "vigil/door/person");
  g_assert_cmpstr(json_object_get_string_member(person, "device_class"), ==, "occupancy");
  g_assert_nonnull(json_object_get_string_member(person, "value_template"));
  g_autoptr(JsonObject) event =
      config_of(configs, "homeassistant/event/vigil-host_lan/door_object/config");
  JsonArray *types = json_object_get_array_member(event, "event_types");
  g_assert_cmpuint(json_array_get_length(types), ==, 2);
  g_assert_cmpstr(json_array_get_string_element(types, 0), ==, "person");

  /* Without public_url, no configuration_url; without classes, no class
   * entities. */
  g_strfreev(cfg->detect.classes);
  cfg->detect.classes = NULL;
  g_autoptr(GHashTable) bare = vigil_mqtt_discovery(s, NULL, cfg);
  g_assert_cmpuint(g_hash_table_size(bare), ==, 7);
  g_autoptr(JsonObject) motion =
      config_of(bare, "homeassistant/binary_sensor/vigil-host_lan/door_motion/config");
  g_assert_false(
      json_object_has_member(json_object_get_object_member(motion, "device"), "configuration_url"));
}

static void test_ptz_commands(void)
{
  g_autofree gchar *camera = NULL, *preset = NULL;
  g_autoptr(JsonNode) json = NULL;
  const char *token = "Preset 2";
  g_assert_true(vigil_mqtt_parse_ptz("vigil", "vigil/dome/ptz/set", token, (int)strlen(token),
                                     &camera, &json, &preset));
  g_assert_cmpstr(camera, ==, "dome");
  g_assert_cmpstr(preset, ==, "Preset 2");
  g_assert_null(json);
  g_clear_pointer(&camera, g_free);
  g_clear_pointer(&preset, g_free);
  const char *cmd = "{\"action\": \"goto_preset\", \"preset\": \"2\"}";
  g_assert_true(vigil_mqtt_parse_ptz("vigil", "vigil/dome/ptz/set", cmd, (int)strlen(cmd), &camera,
                                     &json, &preset));
  g_assert_nonnull(json);
  g_assert_null(preset);
  VigilPtzCommand c;
  g_assert_true(vigil_ptz_command_from_json(json, &c, NULL));
  g_assert_cmpint(c.action, ==, VIGIL_PTZ_GOTO_PRESET);
  g_assert_cmpstr(c.preset, ==, "2");
  /* Not PTZ commands: another switch, an empty or binary payload, a control
   * character, a token over 64 characters, JSON that does not parse. */
  static const char *const bad_topics[] = {"vigil/dome/motion/set", "vigil/dome/ptz",
                                           "other/dome/ptz/set", "vigil//ptz/set"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad_topics); i++) {
    g_autofree gchar *cam = NULL, *p = NULL;
    g_autoptr(JsonNode) j = NULL;
    g_assert_false(vigil_mqtt_parse_ptz("vigil", bad_topics[i], "1", 1, &cam, &j, &p));
  }
  static const char *const bad_payloads[] = {
      "", "a\tb", "{not json", "0123456789012345678901234567890123456789012345678901234567890123X"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad_payloads); i++) {
    g_autofree gchar *cam = NULL, *p = NULL;
    g_autoptr(JsonNode) j = NULL;
    g_assert_false(vigil_mqtt_parse_ptz("vigil", "vigil/dome/ptz/set", bad_payloads[i],
                                        (int)strlen(bad_payloads[i]), &cam, &j, &p));
  }
  g_autofree gchar *cam = NULL, *p = NULL;
  g_autoptr(JsonNode) j = NULL;
  g_assert_false(vigil_mqtt_parse_ptz("vigil", "vigil/dome/ptz/set", "a\0b", 3, &cam, &j, &p));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mqtt/commands", test_commands);
  g_test_add_func("/mqtt/not-commands", test_not_commands);
  g_test_add_func("/mqtt/ptz-commands", test_ptz_commands);
  g_test_add_func("/mqtt/labels", test_labels);
  g_test_add_func("/mqtt/discovery", test_discovery);
  return g_test_run();
}
