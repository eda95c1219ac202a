/* VigilRestream: vigil's RTSP server, which serves every camera's live
 * streams to other clients (Home Assistant, VLC, another NVR) from the
 * camera's VigilStream, so the camera keeps one connection
 * (docs/restream.md). rtsp://HOST:PORT/<camera> is the main stream,
 * /<camera>_sub the sub stream. Follows settings "rtsp_server". Main
 * context only. */
#pragma once

#include <glib.h>

#include "camera/manager.h"
#include "core/settings.h"
#include "store/store.h"

G_BEGIN_DECLS

typedef struct _VigilRestream VigilRestream;

/* Idle until configured. @cameras and @store must outlive it. */
VigilRestream *vigil_restream_new(VigilCameraManager *cameras, VigilStore *store);
/* Drops every client and closes the listener. */
void vigil_restream_free(VigilRestream *restream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRestream, vigil_restream_free)

/* Applies settings "rtsp_server" at once: starts, stops or rebinds the
 * listener (a rebind or a stop drops the connected clients). With
 * @tls_cert and @tls_key (settings "tls", PEM paths, may be NULL) the
 * listener also accepts RTSP over TLS (rtsps://) on the same port: a new
 * connection whose first byte is a TLS handshake record gets TLS. A changed
 * pair is loaded at once, for new connections; one that does not load
 * leaves rtsps off (logged). */
void vigil_restream_configure(VigilRestream *restream, const VigilRtspServerSettings *settings,
                              const char *tls_cert, const char *tls_key);

/* "disabled", "listening" or "error" (then *@error says why: the listen
 * address could not be bound); *@clients: open RTSP connections. */
const char *vigil_restream_get_state(VigilRestream *restream, const char **error, guint *clients);

G_END_DECLS
