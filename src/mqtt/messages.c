/* The pure parts of vigil's MQTT messages (see messages.h). */
#include "mqtt/messages.h"

#include <string.h>

#include "core/json.h"
#include "vigil-config.h"

gchar *vigil_mqtt_topic(const VigilMqttSettings *s, const char *camera, const char *what)
{
  if (!camera)
    return g_strdup_printf("%s/%s", s->topic_prefix, what);
  return g_strdup_printf("%s/%s/%s", s->topic_prefix, camera, what);
}

gboolean vigil_mqtt_parse_command(const char *prefix, const char *topic, const void *payload,
                                  int payload_len, gchar **camera, gchar **name, gboolean *on)
{
  gsize plen = strlen(prefix);
  if (strncmp(topic, prefix, plen) != 0 || topic[plen] != '/')
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(topic + plen + 1, "/", -1);
  if (g_strv_length(parts) != 3 || !*parts[0] || !g_str_equal(parts[2], "set"))
    return FALSE;
  if (!g_str_equal(parts[1], "record") && !g_str_equal(parts[1], "motion") &&
      !g_str_equal(parts[1], "detect"))
    return FALSE;
  if (payload_len == 2 && memcmp(payload, "ON", 2) == 0)
    *on = TRUE;
  else if (payload_len == 3 && memcmp(payload, "OFF", 3) == 0)
    *on = FALSE;
  else
    return FALSE;
  *camera = g_strdup(parts[0]);
  *name = g_strdup(parts[1]);
  return TRUE;
}

/* The camera change a command asks for, as a PATCH body. record ON keeps a
 * continuous camera continuous and makes one that was off record on events. */
JsonNode *vigil_mqtt_command_body(const VigilCameraConfig *cfg, const char *name, gboolean on)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  if (g_str_equal(name, "record")) {
    VigilRecordMode mode = !on                               ? VIGIL_RECORD_OFF
                           : cfg->record == VIGIL_RECORD_OFF ? VIGIL_RECORD_EVENTS
                                                             : cfg->record;
    vigil_json_add_string(b, "record", vigil_record_mode_to_string(mode));
  } else {
    vigil_json_begin_object(b, name);
    vigil_json_add_bool(b, "enabled", on);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* --- Home Assistant discovery --- */

/* One entity of a camera's device. */
typedef struct {
  const char *component; /* binary_sensor or switch */
  const char *object;    /* the object id's end, and the state topic's switch */
  const char *name;
  const char *state;        /* state topic after <prefix>/<camera>/ */
  const char *device_class; /* NULL for none */
  gboolean command;         /* a switch: <prefix>/<camera>/<object>/set */
} Entity;

static const Entity entities[] = {
    {"binary_sensor", "motion", "Motion", "motion", "motion", FALSE},
    {"binary_sensor", "recording", "Recording", "recording", "running", FALSE},
    {"switch", "record", "Record", "record/state", NULL, TRUE},
    {"switch", "motion_detection", "Motion detection", "motion/state", NULL, TRUE},
    {"switch", "object_detection", "Object detection", "detect/state", NULL, TRUE},
};

/* The discovery node id: the client id in the characters Home Assistant
 * allows there. */
static gchar *node_id(const VigilMqttSettings *s)
{
  gchar *node = g_strdup(s->client_id);
  for (gchar *p = node; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
      *p = '_';
  return node;
}

guint vigil_mqtt_n_entities(void)
{
  return G_N_ELEMENTS(entities);
}

gchar *vigil_mqtt_discovery_topic(const VigilMqttSettings *s, const char *camera, guint i)
{
  const Entity *e = &entities[i];
  g_autofree gchar *node = node_id(s);
  return g_strdup_printf("%s/%s/%s/%s_%s/config", s->discovery_prefix, e->component, node, camera,
                         e->object);
}

gchar *vigil_mqtt_discovery_config(const VigilMqttSettings *s, const VigilCameraConfig *cfg,
                                   guint i)
{
  const Entity *e = &entities[i];
  g_autofree gchar *node = node_id(s);
  g_autofree gchar *device_id = g_strdup_printf("%s_%s", node, cfg->id);
  g_autofree gchar *unique_id = g_strdup_printf("%s_%s", device_id, e->object);
  g_autofree gchar *state = vigil_mqtt_topic(s, cfg->id, e->state);
  g_autofree gchar *available = vigil_mqtt_topic(s, NULL, "available");
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "name", e->name);
  vigil_json_add_string(b, "unique_id", unique_id);
  vigil_json_add_string(b, "state_topic", state);
  if (e->command) {
    g_autofree gchar *what = g_strndup(e->state, strlen(e->state) - strlen("/state"));
    g_autofree gchar *set = g_strdup_printf("%s/set", what);
    g_autofree gchar *command = vigil_mqtt_topic(s, cfg->id, set);
    vigil_json_add_string(b, "command_topic", command);
  }
  vigil_json_add_string(b, "payload_on", "ON");
  vigil_json_add_string(b, "payload_off", "OFF");
  if (e->device_class)
    vigil_json_add_string(b, "device_class", e->device_class);
  vigil_json_add_string(b, "availability_topic", available);
  vigil_json_add_string(b, "payload_available", "online");
  vigil_json_add_string(b, "payload_not_available", "offline");
  vigil_json_begin_object(b, "device");
  vigil_json_begin_array(b, "identifiers");
  json_builder_add_string_value(b, device_id);
  json_builder_end_array(b);
  vigil_json_add_string(b, "name", cfg->name);
  vigil_json_add_string(b, "manufacturer", "vigil");
  vigil_json_add_string(b, "model", "vigil");
  vigil_json_add_string(b, "sw_version", VIGIL_VERSION);
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node_json = json_builder_get_root(b);
  return vigil_json_to_string(node_json);
}
