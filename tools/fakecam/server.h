/* vigil-fakecam RTSP side: one shared, live gst-rtsp-server media per camera
 * that loops a pre-encoded clip through an appsrc. */
#pragma once

#include <glib.h>
#include <gst/video/video.h>

#include "encode.h"

G_BEGIN_DECLS

typedef struct _VigilServer VigilServer;

/* Creates a server for @address:@port (0 picks a free port). With @user set,
 * clients must authenticate as @user/@password with Basic or Digest auth;
 * with @user NULL anyone may watch. Nothing listens before start(). */
VigilServer *vigil_server_new(const char *address, int port, const char *user,
                              const char *password);

/* Serves rtsps:// (RTSP over TLS) with the certificate and private key in
 * the PEM file @pem_path. Call before vigil_server_add_camera(). */
gboolean vigil_server_set_tls(VigilServer *server, const char *pem_path, GError **error);

/* Mounts a camera at @path (e.g. "/cam1") serving @video (and @audio, may be
 * NULL) encoded with @codec and, when @sub_video is not NULL, its sub stream
 * at @path + "_sub" (with the same audio). Both streams follow one scene
 * clock: whichever starts second joins the first at the same moment of the
 * scene (from its next keyframe). Takes references on the clips; @video and
 * @sub_video must have the same frame rate and part lengths. Call before
 * vigil_server_start(). */
void vigil_server_add_camera(VigilServer *server, const char *path, VigilCodec codec,
                             VigilClip *video, VigilClip *sub_video, VigilClip *audio);

/* Draws one frame (I420 of @info's size) of a live camera; called on a
 * streaming thread, so it must be thread-safe. */
typedef GstBuffer *(*VigilLiveDrawFunc)(const GstVideoInfo *info, gpointer user_data);

/* Mounts a camera whose frames are drawn by @draw and encoded (H.264,
 * x264enc ultrafast/zerolatency) while they are served, at @params' size,
 * rate, GOP and bitrate, and its sub stream at @sub_params' (NULL: none).
 * For the PTZ camera (--ptz), whose picture follows the ONVIF commands: the
 * pre-encoded clips cannot. No audio. @user_data must outlive the server. */
void vigil_server_add_live_camera(VigilServer *server, const char *path,
                                  const VigilEncodeParams *params,
                                  const VigilEncodeParams *sub_params, VigilLiveDrawFunc draw,
                                  gpointer user_data);

/* Binds the socket and starts serving on the thread-default main context.
 * Returns FALSE with @error set when the address cannot be bound. */
gboolean vigil_server_start(VigilServer *server, GError **error);

/* Returns the port actually bound (useful with port 0), or -1 before start. */
int vigil_server_get_port(VigilServer *server);

/* Disconnects every client, stops listening and frees the server. NULL is
 * allowed. */
void vigil_server_free(VigilServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilServer, vigil_server_free)

G_END_DECLS
