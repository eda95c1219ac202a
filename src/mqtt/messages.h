/* The pure parts of vigil's MQTT messages: topic names, the commands it
 * understands, and the Home Assistant discovery configs (docs/mqtt.md).
 * No connection, no state: mqtt.c publishes what these build. Inside mqtt/
 * (and its unit test) only. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "config/config.h"
#include "core/settings.h"

G_BEGIN_DECLS

/* <topic_prefix>/<camera>/<what>, or <topic_prefix>/<what> for a NULL
 * @camera. */
gchar *vigil_mqtt_topic(const VigilMqttSettings *s, const char *camera, const char *what);

/* A command topic parsed: <prefix>/<camera>/<switch>/set with payload ON or
 * OFF, <switch> one of record, motion, detect. Returns FALSE for anything
 * else; @camera and @name are newly allocated. */
gboolean vigil_mqtt_parse_command(const char *prefix, const char *topic, const void *payload,
                                  int payload_len, gchar **camera, gchar **name, gboolean *on);

/* The camera change command @name @on asks of a camera configured as @cfg,
 * as a PATCH body. */
JsonNode *vigil_mqtt_command_body(const VigilCameraConfig *cfg, const char *name, gboolean on);

/* Home Assistant discovery: a camera's device has this many entities; the
 * retained config topic and payload of entity @i of camera @cfg. */
guint vigil_mqtt_n_entities(void);
gchar *vigil_mqtt_discovery_topic(const VigilMqttSettings *s, const char *camera, guint i);
gchar *vigil_mqtt_discovery_config(const VigilMqttSettings *s, const VigilCameraConfig *cfg,
                                   guint i);

G_END_DECLS
