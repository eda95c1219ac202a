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

/* A PTZ command: <prefix>/<camera>/ptz/set with payload a preset token
 * (@preset set: go there) or a JSON object like the API's (@json set, to
 * read with vigil_ptz_command_from_json()). FALSE for anything else. */
gboolean vigil_mqtt_parse_ptz(const char *prefix, const char *topic, const void *payload,
                              int payload_len, gchar **camera, JsonNode **json, gchar **preset);

/* The camera change command @name @on asks of a camera configured as @cfg,
 * as a PATCH body. */
JsonNode *vigil_mqtt_command_body(const VigilCameraConfig *cfg, const char *name, gboolean on);

/* Whether a detection class can have a topic of its own,
 * <prefix>/<camera>/<label> (its count): not one of vigil's own levels
 * (status, motion, recording, snapshot, event, record, detect), no '/', '+'
 * or '#'. */
gboolean vigil_mqtt_label_ok(const char *label);

/* Home Assistant discovery: every config of camera @cfg's device, as
 * retained topic → JSON payload (a new table of strings). The device's
 * configuration_url is its camera page below @public_url (NULL: none). */
GHashTable *vigil_mqtt_discovery(const VigilMqttSettings *s, const char *public_url,
                                 const VigilCameraConfig *cfg);

G_END_DECLS
