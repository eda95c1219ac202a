/* What config.c (the camera configuration's life and JSON form) and
 * config-read.c (reading and validating the API's camera object) share: the
 * limits and defaults, the names of the enums, and two helpers. Inside
 * config/ only. */
#pragma once

#include "config/config.h"

G_BEGIN_DECLS

#define NAME_MAX_CHARS             64
#define CREDENTIAL_MAX_CHARS       128
#define ONVIF_ADDRESS_MAX_CHARS    512
#define ONVIF_TOKEN_MAX_CHARS      64
#define ZONE_NAME_MAX_CHARS        32
#define ZONES_MAX                  16
#define CLASSES_MAX                80
#define CLASS_MAX_CHARS            32
#define DEFAULT_MOTION_THRESHOLD   0.08
#define DEFAULT_BARCODE_INTERVAL_S 2.0
#define BARCODE_INTERVAL_MIN_S     0.5
#define BARCODE_INTERVAL_MAX_S     60.0
/* Fractions arrive as decimal text: 0.7 + 0.3 may come out a hair above 1. */
#define GEOMETRY_SLACK 1e-9

static const char *const default_classes[] = {"person", "dog", "cat", NULL};

static const char *const record_names[] = {
    [VIGIL_RECORD_OFF] = "off",
    [VIGIL_RECORD_EVENTS] = "events",
    [VIGIL_RECORD_CONTINUOUS] = "continuous",
};

static const char *const stream_names[] = {
    [VIGIL_STREAM_MAIN] = "main",
    [VIGIL_STREAM_SUB] = "sub",
    [VIGIL_STREAM_BOTH] = "both",
};

static const char *const transport_names[] = {
    [VIGIL_TRANSPORT_TCP] = "tcp",
    [VIGIL_TRANSPORT_UDP] = "udp",
    [VIGIL_TRANSPORT_AUTO] = "auto",
};

void vigil_config_zone_free(gpointer zone);
/* Frees what @cfg owns (secrets wiped) and leaves it zeroed. */
void vigil_config_clear(VigilCameraConfig *cfg);

G_END_DECLS
