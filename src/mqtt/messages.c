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

gboolean vigil_mqtt_parse_ptz(const char *prefix, const char *topic, const void *payload,
                              int payload_len, gchar **camera, JsonNode **json, gchar **preset)
{
  gsize plen = strlen(prefix);
  if (strncmp(topic, prefix, plen) != 0 || topic[plen] != '/')
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(topic + plen + 1, "/", -1);
  if (g_strv_length(parts) != 3 || !*parts[0] || !g_str_equal(parts[1], "ptz") ||
      !g_str_equal(parts[2], "set"))
    return FALSE;
  if (payload_len < 1 || payload_len > 4096)
    return FALSE;
  g_autofree gchar *text = g_strndup(payload, payload_len);
  if (strlen(text) != (gsize)payload_len || !g_utf8_validate(text, -1, NULL))
    return FALSE;
  *json = NULL;
  *preset = NULL;
  if (text[0] == '{') {
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, -1, NULL))
      return FALSE;
    *json = json_node_copy(json_parser_get_root(parser));
  } else {
    /* A preset token: as the API takes them (1-64 characters, no control). */
    glong chars = g_utf8_strlen(text, -1);
    if (chars < 1 || chars > 64)
      return FALSE;
    for (const char *p = text; *p; p = g_utf8_next_char(p))
      if (g_unichar_iscntrl(g_utf8_get_char(p)))
        return FALSE;
    *preset = g_steal_pointer(&text);
  }
  *camera = g_strdup(parts[0]);
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

/* The names vigil uses below <prefix>/<camera>/: no class may take them. */
static const char *const own_levels[] = {"status", "motion", "recording", "snapshot",
                                         "event",  "record", "detect",    "available"};

gboolean vigil_mqtt_label_ok(const char *label)
{
  if (!label || !*label || strpbrk(label, "/+#"))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS(own_levels); i++)
    if (g_str_equal(label, own_levels[i]))
      return FALSE;
  return TRUE;
}

typedef enum { KIND_SWITCH, KIND_SENSOR, KIND_COUNT_ON, KIND_COUNT, KIND_CAMERA, KIND_EVENT } Kind;

/* One entity of a camera's device. */
typedef struct {
  Kind kind;
  const char *component;
  const char *object;       /* the object id's end; the switch's topic level */
  const char *name;         /* NULL: from the class */
  const char *state;        /* topic after <prefix>/<camera>/ */
  const char *device_class; /* NULL for none */
} Entity;

static const Entity fixed[] = {
    {KIND_SENSOR, "binary_sensor", "motion", "Motion", "motion", "motion"},
    {KIND_SENSOR, "binary_sensor", "recording", "Recording", "recording", "running"},
    {KIND_SWITCH, "switch", "record", "Record", "record", NULL},
    {KIND_SWITCH, "switch", "motion_detection", "Motion detection", "motion", NULL},
    {KIND_SWITCH, "switch", "object_detection", "Object detection", "detect", NULL},
    {KIND_CAMERA, "camera", "snapshot", "Snapshot", "snapshot", NULL},
    {KIND_EVENT, "event", "object", "Object", "event", NULL},
};

static const Entity per_class[] = {
    {KIND_COUNT_ON, "binary_sensor", "occupancy", NULL, NULL, "occupancy"},
    {KIND_COUNT, "sensor", "count", NULL, NULL, NULL},
};

/* @text in the characters Home Assistant allows in ids: others become '_'. */
static gchar *id_chars(const char *text)
{
  gchar *id = g_strdup(text);
  for (gchar *p = id; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
      *p = '_';
  return id;
}

/* "Person", "Traffic light": a class as a name. */
static gchar *class_name(const char *label, const char *suffix)
{
  gchar *name = g_strdup_printf("%s%s", label, suffix);
  name[0] = g_ascii_toupper(name[0]);
  return name;
}

static void add_device(JsonBuilder *b, const char *device_id, const char *public_url,
                       const VigilCameraConfig *cfg)
{
  vigil_json_begin_object(b, "device");
  vigil_json_begin_array(b, "identifiers");
  json_builder_add_string_value(b, device_id);
  json_builder_end_array(b);
  vigil_json_add_string(b, "name", cfg->name);
  vigil_json_add_string(b, "manufacturer", "vigil");
  vigil_json_add_string(b, "model", "vigil");
  vigil_json_add_string(b, "sw_version", VIGIL_VERSION);
  if (public_url) {
    g_autofree gchar *escaped = g_uri_escape_string(cfg->id, NULL, FALSE);
    g_autofree gchar *url = g_strdup_printf("%s/cameras/%s", public_url, escaped);
    vigil_json_add_string(b, "configuration_url", url);
  }
  json_builder_end_object(b);
}

/* The members that depend on the entity's kind. */
static void add_kind(JsonBuilder *b, const VigilMqttSettings *s, const VigilCameraConfig *cfg,
                     const Entity *e, const char *label)
{
  g_autofree gchar *state = vigil_mqtt_topic(s, cfg->id, label ? label : e->state);
  switch (e->kind) {
  case KIND_SWITCH: {
    g_autofree gchar *level = g_strdup_printf("%s/state", e->state);
    g_autofree gchar *set_level = g_strdup_printf("%s/set", e->state);
    g_autofree gchar *state_topic = vigil_mqtt_topic(s, cfg->id, level);
    g_autofree gchar *command = vigil_mqtt_topic(s, cfg->id, set_level);
    vigil_json_add_string(b, "state_topic", state_topic);
    vigil_json_add_string(b, "command_topic", command);
    vigil_json_add_string(b, "payload_on", "ON");
    vigil_json_add_string(b, "payload_off", "OFF");
    break;
  }
  case KIND_SENSOR:
    vigil_json_add_string(b, "state_topic", state);
    vigil_json_add_string(b, "payload_on", "ON");
    vigil_json_add_string(b, "payload_off", "OFF");
    break;
  case KIND_COUNT_ON:
    vigil_json_add_string(b, "state_topic", state);
    vigil_json_add_string(b, "value_template", "{{ 'ON' if value | int(0) > 0 else 'OFF' }}");
    vigil_json_add_string(b, "payload_on", "ON");
    vigil_json_add_string(b, "payload_off", "OFF");
    break;
  case KIND_COUNT:
    vigil_json_add_string(b, "state_topic", state);
    vigil_json_add_string(b, "state_class", "measurement");
    break;
  case KIND_CAMERA:
    vigil_json_add_string(b, "topic", state);
    break;
  case KIND_EVENT:
    vigil_json_add_string(b, "state_topic", state);
    vigil_json_begin_array(b, "event_types");
    for (guint i = 0; cfg->detect.classes && cfg->detect.classes[i]; i++)
      if (vigil_mqtt_label_ok(cfg->detect.classes[i]))
        json_builder_add_string_value(b, cfg->detect.classes[i]);
    json_builder_end_array(b);
    break;
  }
}

/* Adds entity @e (of class @label, or NULL) to @out: topic → config. */
static void add_config(GHashTable *out, const VigilMqttSettings *s, const char *public_url,
                       const VigilCameraConfig *cfg, const Entity *e, const char *label)
{
  g_autofree gchar *node = id_chars(s->client_id);
  g_autofree gchar *device_id = g_strdup_printf("%s_%s", node, cfg->id);
  g_autofree gchar *label_id = label ? id_chars(label) : NULL;
  g_autofree gchar *object =
      label ? g_strdup_printf("%s_%s", label_id, e->object) : g_strdup(e->object);
  g_autofree gchar *unique_id = g_strdup_printf("%s_%s", device_id, object);
  g_autofree gchar *name =
      label ? class_name(label, e->kind == KIND_COUNT ? " count" : "") : g_strdup(e->name);
  g_autofree gchar *available = vigil_mqtt_topic(s, NULL, "available");

  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "name", name);
  vigil_json_add_string(b, "unique_id", unique_id);
  add_kind(b, s, cfg, e, label);
  if (e->device_class)
    vigil_json_add_string(b, "device_class", e->device_class);
  vigil_json_add_string(b, "availability_topic", available);
  vigil_json_add_string(b, "payload_available", "online");
  vigil_json_add_string(b, "payload_not_available", "offline");
  add_device(b, device_id, public_url, cfg);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);

  gchar *topic = g_strdup_printf("%s/%s/%s/%s_%s/config", s->discovery_prefix, e->component, node,
                                 cfg->id, object);
  g_hash_table_replace(out, topic, vigil_json_to_string(root));
}

GHashTable *vigil_mqtt_discovery(const VigilMqttSettings *s, const char *public_url,
                                 const VigilCameraConfig *cfg)
{
  GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (gsize i = 0; i < G_N_ELEMENTS(fixed); i++)
    add_config(out, s, public_url, cfg, &fixed[i], NULL);
  for (guint c = 0; cfg->detect.classes && cfg->detect.classes[c]; c++) {
    if (!vigil_mqtt_label_ok(cfg->detect.classes[c]))
      continue;
    for (gsize i = 0; i < G_N_ELEMENTS(per_class); i++)
      add_config(out, s, public_url, cfg, &per_class[i], cfg->detect.classes[c]);
  }
  return out;
}
