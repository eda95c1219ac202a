/* vigil-fakecam's fake ONVIF device (--onvif PORT): answers the device and
 * media (ver10 Media and ver20 Media2) calls vigil's probe makes for camera 1, with WS-Security
 * UsernameToken digest checked against --user, and an optional fake clock
 * offset (--onvif-clock-offset). */
#pragma once

#include <glib.h>

typedef struct {
  const char *address;            /* to listen on and to put in URLs */
  int port;                       /* 0: any free one */
  const char *user, *password;    /* NULL: no login asked */
  gint64 clock_offset_s;          /* the fake device clock minus the real one */
  const char *codec;              /* "H264" or "H265" */
  const char *main_uri, *sub_uri; /* sub NULL with --no-sub */
  int width, height, sub_width, sub_height;
  int fps;
  gboolean ptz;             /* --ptz: a PTZ service (ptz.h) */
  gboolean ptz_no_relative; /* --ptz-no-relative: RelativeMove is a fault */
  gboolean events;          /* an events service (events.h), unless --onvif-no-events */
  int media; /* --onvif-media: bits 1 Media (ver10), 2 Media2, 4 a Media2 that only faults */
  int motion_on_s, motion_off_s; /* --onvif-motion-schedule */
} VigilFakeOnvif;

/* Starts listening; returns the bound port, or 0 with @error. */
guint vigil_fake_onvif_start(const VigilFakeOnvif *config, GError **error);

/* The text of the first element whose local name is @name (a string search,
 * enough for the requests of vigil and the tests), entities decoded; NULL
 * when there is none. */
char *vigil_fake_onvif_element_text(const char *xml, const char *name);
