/* vigil-fakecam's pan/tilt/zoom state for camera 1 (--ptz): positions that
 * integrate the ContinuousMove speeds over time, presets and home. The
 * ONVIF service (onvif.c, main context) changes it; the live encoder's
 * streaming threads (server.c) read the position for every frame. All
 * functions lock; any thread may call them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Position ranges: pan and tilt -1..1, zoom 0..1. A speed of 1 crosses
 * half the pan or tilt range (or the whole zoom range) in this long. */
#define VIGIL_FAKE_PTZ_SECONDS_PER_UNIT 1.0
#define VIGIL_FAKE_PTZ_MAX_PRESETS      32

typedef struct {
  double pan, tilt, zoom;
} VigilFakePtzPosition;

typedef struct {
  char *token, *name;
  VigilFakePtzPosition position;
} VigilFakePtzPreset;

/* Starts moving at these speeds (each -1..1; 0 stops that axis). */
void vigil_fake_ptz_move(double pan, double tilt, double zoom);
/* Stops pan/tilt and/or zoom where they are. */
void vigil_fake_ptz_stop(gboolean pan_tilt, gboolean zoom);
/* The position now. */
VigilFakePtzPosition vigil_fake_ptz_position(void);
/* Jumps to the home position (0, 0, 0) and stops. */
void vigil_fake_ptz_home(void);
/* RelativeMove: adds the translations to the position (clamped), stops. */
void vigil_fake_ptz_relative(double pan, double tilt, double zoom);

typedef enum {
  VIGIL_FAKE_PTZ_OK,
  VIGIL_FAKE_PTZ_NO_TOKEN,    /* no preset with that token */
  VIGIL_FAKE_PTZ_TOO_MANY,    /* VIGIL_FAKE_PTZ_MAX_PRESETS already */
  VIGIL_FAKE_PTZ_NAME_EXISTS, /* another preset has that name */
} VigilFakePtzResult;

/* Stores the position now as a new preset named @name (NULL: the token);
 * *token gets its token. */
VigilFakePtzResult vigil_fake_ptz_set_preset(const char *name, char **token);
VigilFakePtzResult vigil_fake_ptz_goto_preset(const char *token);
VigilFakePtzResult vigil_fake_ptz_remove_preset(const char *token);
/* A copy of the presets (VigilFakePtzPreset*), oldest first. */
GPtrArray *vigil_fake_ptz_presets(void);

G_END_DECLS
