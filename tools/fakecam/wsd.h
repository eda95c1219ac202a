/* vigil-fakecam's WS-Discovery responder (with --onvif): answers Probes for
 * NetworkVideoTransmitters on 239.255.255.250:3702 with a ProbeMatches that
 * points at the fake ONVIF device. */
#pragma once

#include <glib.h>

typedef struct {
  const char *interface;       /* the IPv4 address of the interface to join the group on */
  const char *device_url;      /* the XAddr: the fake device service */
  const char *name, *hardware; /* the onvif://www.onvif.org/name/ and hardware/ scopes */
} VigilFakeWsd;

/* Joins the group and answers on the default main context; FALSE with
 * @error when the socket cannot be set up. */
gboolean vigil_fake_wsd_start(const VigilFakeWsd *config, GError **error);
