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
 * listener (a rebind or a stop drops the connected clients). */
void vigil_restream_configure(VigilRestream *restream, const VigilRtspServerSettings *settings);

/* "disabled", "listening" or "error" (then *@error says why: the listen
 * address could not be bound); *@clients: open RTSP connections. */
const char *vigil_restream_get_state(VigilRestream *restream, const char **error, guint *clients);

G_END_DECLS
