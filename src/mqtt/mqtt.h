/* VigilMqtt: vigil on an MQTT broker (docs/mqtt.md): availability, each
 * camera's state as retained topics, every event as JSON, commands that
 * switch a camera's recording, motion and detection, and Home Assistant
 * discovery. libmosquitto runs its own network thread; everything that
 * touches vigil happens on the main context, and publishing only queues, so
 * a slow or absent broker never holds up the main loop or video. */
#pragma once

#include <glib.h>

#include "camera/manager.h"
#include "core/settings.h"
#include "store/store.h"

G_BEGIN_DECLS

typedef struct _VigilMqtt VigilMqtt;

/* Idle (state "disabled") until configured. @cameras and @store (whose
 * users give commands their rights) must outlive it. */
VigilMqtt *vigil_mqtt_new(VigilCameraManager *cameras, VigilStore *store);
/* Publishes "offline" on <prefix>/available when connected, disconnects and
 * waits for the network thread. */
void vigil_mqtt_free(VigilMqtt *mqtt);

/* Applies settings "mqtt": a change of any of them disconnects and connects
 * again with the new values; disabled disconnects. @public_url (settings
 * "public_url", may be NULL) makes the links in the discovery configs. */
void vigil_mqtt_configure(VigilMqtt *mqtt, const VigilMqttSettings *settings,
                          const char *public_url);

/* "disabled", "connecting", "connected" or "error"; *@error (may be NULL)
 * gets the last error worded for users, or NULL. Main thread. */
const char *vigil_mqtt_get_state(VigilMqtt *mqtt, const char **error);

G_END_DECLS
