/* vigil-fakecam RTSP side: mount one factory per camera; each media is
 * shared and live, and loops pre-encoded buffers through an appsrc with
 * ever-increasing timestamps. Nothing ever seeks the media: seeking a shared
 * media while clients come and go can deadlock gst-rtsp-server 1.22. */
#define G_LOG_DOMAIN "vigil-fakecam"

#include "server.h"

#include <gst/app/gstappsrc.h>
#include <gst/rtsp-server/rtsp-server.h>

#define VIEWER_ROLE "viewer"

struct _VigilServer {
  GstRTSPServer *rtsp;
  GSource *listen_source;
  guint cleanup_id;
  gboolean authenticated;
};

/* What one camera serves; shared by every media its factory builds. */
typedef struct {
  VigilClip *video;
  VigilClip *audio; /* NULL without --audio */
} Camera;

/* Playback position of one appsrc. Only its streaming thread touches it. */
typedef struct {
  VigilClip *clip;
  gboolean in_intro;
  guint index;
  GstClockTime base; /* added to the clip's timestamps: grows every loop */
} Feed;

static void camera_free(gpointer data, GClosure *closure)
{
  Camera *cam = data;
  vigil_clip_unref(cam->video);
  vigil_clip_unref(cam->audio);
  g_free(cam);
}

static void feed_free(gpointer data)
{
  Feed *feed = data;
  vigil_clip_unref(feed->clip);
  g_free(feed);
}

/* appsrc calls this on its streaming thread whenever its queue runs empty;
 * clocksync downstream paces the stream to real time, so one buffer at a
 * time is enough and nothing piles up. */
static void feed_need_data(GstAppSrc *src, guint length, gpointer user_data)
{
  Feed *feed = user_data;
  GPtrArray *part = feed->in_intro ? feed->clip->intro : feed->clip->loop;
  if (feed->index >= part->len) {
    feed->base += feed->in_intro ? feed->clip->intro_duration : feed->clip->loop_duration;
    feed->in_intro = FALSE;
    feed->index = 0;
    part = feed->clip->loop;
  }
  /* A shallow copy: new timestamps, same encoded bytes. */
  GstBuffer *buf = gst_buffer_copy(g_ptr_array_index(part, feed->index));
  feed->index++;
  GST_BUFFER_PTS(buf) += feed->base;
  GST_BUFFER_DTS(buf) += feed->base;
  gst_app_src_push_buffer(src, buf);
}

static void setup_feed(GstElement *bin, const char *name, VigilClip *clip)
{
  g_autoptr(GstElement) src = gst_bin_get_by_name_recurse_up(GST_BIN(bin), name);
  g_return_if_fail(src != NULL);

  Feed *feed = g_new0(Feed, 1);
  feed->clip = vigil_clip_ref(clip);
  feed->in_intro = clip->intro->len > 0;
  g_object_set(src, "is-live", TRUE, "format", GST_FORMAT_TIME, "min-latency", (gint64)0, NULL);
  gst_app_src_set_caps(GST_APP_SRC(src), clip->caps);
  GstAppSrcCallbacks cbs = {.need_data = feed_need_data};
  /* The appsrc owns the feed: it lives exactly as long as this media. */
  gst_app_src_set_callbacks(GST_APP_SRC(src), &cbs, feed, feed_free);
}

/* Called for every new media: a new media starts the clip from the top, so
 * motion:N counts from the moment the first client made the media. */
static void on_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media,
                               gpointer user_data)
{
  Camera *cam = user_data;
  g_autoptr(GstElement) bin = gst_rtsp_media_get_element(media);
  setup_feed(bin, "vsrc", cam->video);
  if (cam->audio)
    setup_feed(bin, "asrc", cam->audio);
}

VigilServer *vigil_server_new(const char *address, int port, const char *user, const char *password)
{
  g_return_val_if_fail(address != NULL && port >= 0 && port <= 65535, NULL);

  VigilServer *server = g_new0(VigilServer, 1);
  server->rtsp = gst_rtsp_server_new();
  g_autofree char *service = g_strdup_printf("%d", port);
  gst_rtsp_server_set_address(server->rtsp, address);
  gst_rtsp_server_set_service(server->rtsp, service);

  if (user) {
    g_autoptr(GstRTSPAuth) auth = gst_rtsp_auth_new();
    g_autoptr(GstRTSPToken) token =
        gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, VIEWER_ROLE, NULL);
    g_autofree char *basic = gst_rtsp_auth_make_basic(user, password ? password : "");
    gst_rtsp_auth_add_basic(auth, basic, token);
    gst_rtsp_auth_add_digest(auth, user, password ? password : "", token);
    gst_rtsp_auth_set_supported_methods(auth, GST_RTSP_AUTH_BASIC | GST_RTSP_AUTH_DIGEST);
    gst_rtsp_server_set_auth(server->rtsp, auth);
    server->authenticated = TRUE;
  }
  return server;
}

gboolean vigil_server_set_tls(VigilServer *server, const char *pem_path, GError **error)
{
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_file(pem_path, error);
  if (!cert)
    return FALSE;
  g_autoptr(GstRTSPAuth) auth = gst_rtsp_server_get_auth(server->rtsp);
  if (!auth) {
    /* TLS lives on the auth object: one that lets everybody watch. */
    auth = gst_rtsp_auth_new();
    g_autoptr(GstRTSPToken) token =
        gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, VIEWER_ROLE, NULL);
    gst_rtsp_auth_set_default_token(auth, token);
    gst_rtsp_server_set_auth(server->rtsp, auth);
    server->authenticated = TRUE;
  }
  gst_rtsp_auth_set_tls_certificate(auth, cert);
  return TRUE;
}

void vigil_server_add_camera(VigilServer *server, const char *path, VigilCodec codec,
                             VigilClip *video, VigilClip *audio)
{
  g_return_if_fail(server != NULL && path != NULL && video != NULL);

  /* The payloaders read the parameter sets from the avc/hvc1 caps and repeat
   * them before every keyframe, so a client can start at any keyframe.
   * aggregate-mode=zero-latency packs the small NAL units of a frame together:
   * fewer pushes per frame halve the thread wake-ups inside gst-rtsp-server,
   * the main cost of serving. */
  g_autofree char *launch =
      g_strdup_printf("( appsrc name=vsrc ! clocksync ! %s name=pay0 pt=96 config-interval=-1"
                      " aggregate-mode=zero-latency %s )",
                      codec == VIGIL_CODEC_H264 ? "rtph264pay" : "rtph265pay",
                      audio ? "appsrc name=asrc ! clocksync ! rtpmp4gpay name=pay1 pt=97" : "");

  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  if (server->authenticated)
    gst_rtsp_media_factory_add_role(factory, VIEWER_ROLE, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                    G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                    G_TYPE_BOOLEAN, TRUE, NULL);

  Camera *cam = g_new0(Camera, 1);
  cam->video = vigil_clip_ref(video);
  cam->audio = audio ? vigil_clip_ref(audio) : NULL;
  g_signal_connect_data(factory, "media-configure", G_CALLBACK(on_media_configure), cam,
                        camera_free, 0);

  g_autoptr(GstRTSPMountPoints) mounts = gst_rtsp_server_get_mount_points(server->rtsp);
  gst_rtsp_mount_points_add_factory(mounts, path, factory); /* takes the factory */
}

/* Expires sessions of clients that vanished without TEARDOWN (UDP clients
 * have no connection whose loss would tell us), so their media can stop. */
static gboolean cleanup_sessions(gpointer user_data)
{
  VigilServer *server = user_data;
  g_autoptr(GstRTSPSessionPool) pool = gst_rtsp_server_get_session_pool(server->rtsp);
  gst_rtsp_session_pool_cleanup(pool);
  return G_SOURCE_CONTINUE;
}

gboolean vigil_server_start(VigilServer *server, GError **error)
{
  g_return_val_if_fail(server != NULL && server->listen_source == NULL, FALSE);

  server->listen_source = gst_rtsp_server_create_source(server->rtsp, NULL, error);
  if (!server->listen_source) {
    g_autofree char *address = gst_rtsp_server_get_address(server->rtsp);
    g_autofree char *service = gst_rtsp_server_get_service(server->rtsp);
    g_prefix_error(error, "cannot listen on %s port %s: ", address, service);
    return FALSE;
  }
  g_source_attach(server->listen_source, g_main_context_get_thread_default());
  server->cleanup_id = g_timeout_add_seconds(2, cleanup_sessions, server);
  return TRUE;
}

int vigil_server_get_port(VigilServer *server)
{
  g_return_val_if_fail(server != NULL, -1);
  return server->listen_source ? gst_rtsp_server_get_bound_port(server->rtsp) : -1;
}

static GstRTSPFilterResult remove_client(GstRTSPServer *rtsp, GstRTSPClient *client,
                                         gpointer user_data)
{
  return GST_RTSP_FILTER_REMOVE; /* closes the connection */
}

void vigil_server_free(VigilServer *server)
{
  if (!server)
    return;
  g_clear_handle_id(&server->cleanup_id, g_source_remove);
  if (server->listen_source) {
    g_source_destroy(server->listen_source);
    g_clear_pointer(&server->listen_source, g_source_unref);
  }
  gst_rtsp_server_client_filter(server->rtsp, remove_client, NULL);
  g_clear_object(&server->rtsp);
  g_free(server);
}
