/* vigil-fakecam RTSP side: mount one factory per stream (camN, camN_sub);
 * each media is shared and live, and loops pre-encoded buffers through an
 * appsrc with ever-increasing timestamps. Nothing ever seeks the media:
 * seeking a shared media while clients come and go can deadlock
 * gst-rtsp-server 1.22. A camera's main and sub streams share one clock, so
 * both show the same moment of the scene. */
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

/* A late joiner starts at the keyframe before its position when that is at
 * most this late (it then shows the scene this much behind), else it waits
 * for the next keyframe if that comes within MAX_WAIT; with longer GOPs it
 * starts at the previous keyframe anyway, up to a GOP behind. */
#define MAX_LATE (70 * GST_MSECOND)
#define MAX_WAIT (2 * GST_SECOND)

/* The scene clock of one camera, shared by its main and sub streams (and
 * their audio): position 0 of the clip is @epoch, the clock time at which the
 * first of them started after all had stopped. So a stream that starts while
 * another one of the camera plays joins it at the same moment of the scene,
 * and motion:N's still part still counts from the first client. Streaming
 * threads of several medias use it: @lock guards the fields. */
typedef struct {
  GMutex lock;
  guint running;      /* feeds started and not yet stopped */
  GstClockTime epoch; /* system clock time of position 0 while running > 0 */
} SceneClock;

/* What one mount (a camera's main or sub stream) serves; shared by every
 * media its factory builds. */
typedef struct {
  VigilClip *video;
  VigilClip *audio; /* NULL without --audio */
  SceneClock *clock;
} Stream;

typedef enum { FEED_IDLE, FEED_RUNNING, FEED_STOPPED } FeedState;

/* Playback position of one appsrc. Only its streaming thread touches the
 * position and @started; @state is guarded by the clock's lock. */
typedef struct {
  VigilClip *clip;
  SceneClock *clock;
  FeedState state;
  gboolean started;
  gboolean in_intro;
  guint index;
  GstClockTimeDiff offset; /* added to the clip's timestamps: grows every loop */
} Feed;

static void scene_clock_clear(gpointer data)
{
  SceneClock *clock = data;
  g_mutex_clear(&clock->lock);
}

static SceneClock *scene_clock_new(void)
{
  SceneClock *clock = g_atomic_rc_box_new0(SceneClock);
  g_mutex_init(&clock->lock);
  return clock;
}

static void scene_clock_unref(SceneClock *clock)
{
  g_atomic_rc_box_release_full(clock, scene_clock_clear);
}

static void stream_free(gpointer data, GClosure *closure)
{
  Stream *stream = data;
  vigil_clip_unref(stream->video);
  vigil_clip_unref(stream->audio);
  scene_clock_unref(stream->clock);
  g_free(stream);
}

/* Leaves the camera's clock: when the last stream stops, the next one starts
 * the scene from the top again. Called when the media is unprepared and again
 * (harmlessly) when the feed is freed. */
static void feed_stop(Feed *feed)
{
  g_mutex_lock(&feed->clock->lock);
  if (feed->state == FEED_RUNNING)
    feed->clock->running--;
  feed->state = FEED_STOPPED;
  g_mutex_unlock(&feed->clock->lock);
}

static void feed_free(gpointer data)
{
  Feed *feed = data;
  feed_stop(feed);
  vigil_clip_unref(feed->clip);
  scene_clock_unref(feed->clock);
  g_free(feed);
}

static gboolean is_keyframe(GPtrArray *part, guint index)
{
  return !GST_BUFFER_FLAG_IS_SET(g_ptr_array_index(part, index), GST_BUFFER_FLAG_DELTA_UNIT);
}

/* Places the feed at scene position @pos (time since the epoch) so that the
 * frame of that moment goes out at running time @now: from a keyframe, and
 * with timestamps that make clocksync release each frame at its moment. */
static void feed_seek(Feed *feed, GstClockTime pos, GstClockTime now)
{
  VigilClip *clip = feed->clip;
  GstClockTime t; /* position inside the part */
  if (pos < clip->intro_duration) {
    feed->in_intro = TRUE;
    t = pos;
  } else {
    feed->in_intro = FALSE;
    t = (pos - clip->intro_duration) % clip->loop_duration;
  }
  GPtrArray *part = feed->in_intro ? clip->intro : clip->loop;
  GstClockTime part_duration = feed->in_intro ? clip->intro_duration : clip->loop_duration;

  /* Every part starts with a keyframe, so there is one at or before t. */
  guint index = part->len - 1;
  while (index > 0 &&
         (GST_BUFFER_PTS(g_ptr_array_index(part, index)) > t || !is_keyframe(part, index)))
    index--;
  GstClockTime key_ts = GST_BUFFER_PTS(g_ptr_array_index(part, index));

  guint next = index + 1;
  while (next < part->len && !is_keyframe(part, next))
    next++;
  GstClockTime next_ts =
      next < part->len ? GST_BUFFER_PTS(g_ptr_array_index(part, next)) : part_duration;

  if (t - key_ts > MAX_LATE && next_ts - t <= MAX_WAIT) {
    /* Wait for the next keyframe: it goes out in (next_ts - t). */
    GstClockTime first = now + (next_ts - t);
    if (next < part->len) {
      feed->index = next;
      feed->offset = (GstClockTimeDiff)first - (GstClockTimeDiff)next_ts;
    } else { /* the next keyframe starts the loop (again) */
      feed->in_intro = FALSE;
      feed->index = 0;
      feed->offset = (GstClockTimeDiff)first;
    }
    return;
  }
  /* Start at the keyframe before: it goes out at once, and the stream shows
   * the scene (t - key_ts) late, or exactly in time while now >= that. */
  feed->index = index;
  GstClockTime first = now > t - key_ts ? now - (t - key_ts) : 0;
  feed->offset = (GstClockTimeDiff)first - (GstClockTimeDiff)key_ts;
}

/* The first need-data of a feed: join the camera's clock. The pipeline is
 * playing by now, so its clock and base time tell the running time. */
static void feed_start(Feed *feed, GstElement *src)
{
  g_autoptr(GstClock) gclock = gst_element_get_clock(src);
  GstClockTime clock_now = gclock ? gst_clock_get_time(gclock) : 0;
  GstClockTime base = gst_element_get_base_time(src);
  GstClockTime now = gclock && clock_now > base ? clock_now - base : 0;

  g_mutex_lock(&feed->clock->lock);
  if (feed->clock->running == 0)
    feed->clock->epoch = clock_now;
  feed->clock->running++;
  feed->state = FEED_RUNNING;
  GstClockTime pos = clock_now > feed->clock->epoch ? clock_now - feed->clock->epoch : 0;
  g_mutex_unlock(&feed->clock->lock);

  feed_seek(feed, pos, now);
}

/* appsrc calls this on its streaming thread whenever its queue runs empty;
 * clocksync downstream paces the stream to real time, so one buffer at a
 * time is enough and nothing piles up. */
static void feed_need_data(GstAppSrc *src, guint length, gpointer user_data)
{
  Feed *feed = user_data;
  if (!feed->started) {
    feed->started = TRUE;
    feed_start(feed, GST_ELEMENT(src));
  }
  GPtrArray *part = feed->in_intro ? feed->clip->intro : feed->clip->loop;
  if (feed->index >= part->len) {
    feed->offset += feed->in_intro ? feed->clip->intro_duration : feed->clip->loop_duration;
    feed->in_intro = FALSE;
    feed->index = 0;
    part = feed->clip->loop;
  }
  /* A shallow copy: new timestamps, same encoded bytes. */
  GstBuffer *buf = gst_buffer_copy(g_ptr_array_index(part, feed->index));
  feed->index++;
  GST_BUFFER_PTS(buf) += feed->offset;
  GST_BUFFER_DTS(buf) += feed->offset;
  gst_app_src_push_buffer(src, buf);
}

static void on_media_unprepared(GstRTSPMedia *media, gpointer user_data)
{
  feed_stop(user_data);
}

static void setup_feed(GstRTSPMedia *media, GstElement *bin, const char *name, VigilClip *clip,
                       SceneClock *clock)
{
  g_autoptr(GstElement) src = gst_bin_get_by_name_recurse_up(GST_BIN(bin), name);
  g_return_if_fail(src != NULL);

  Feed *feed = g_new0(Feed, 1);
  feed->clip = vigil_clip_ref(clip);
  feed->clock = g_atomic_rc_box_acquire(clock);
  g_object_set(src, "is-live", TRUE, "format", GST_FORMAT_TIME, "min-latency", (gint64)0, NULL);
  gst_app_src_set_caps(GST_APP_SRC(src), clip->caps);
  GstAppSrcCallbacks cbs = {.need_data = feed_need_data};
  /* The appsrc owns the feed: it lives exactly as long as this media. A
   * stopped media leaves the clock at once, not when it is freed later. */
  gst_app_src_set_callbacks(GST_APP_SRC(src), &cbs, feed, feed_free);
  g_signal_connect(media, "unprepared", G_CALLBACK(on_media_unprepared), feed);
}

/* Called for every new media; its feeds join the camera's clock when they
 * start streaming. */
static void on_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media,
                               gpointer user_data)
{
  Stream *stream = user_data;
  g_autoptr(GstElement) bin = gst_rtsp_media_get_element(media);
  setup_feed(media, bin, "vsrc", stream->video, stream->clock);
  if (stream->audio)
    setup_feed(media, bin, "asrc", stream->audio, stream->clock);
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

/* A shared factory for @launch; with --user, only the viewer role may use it. */
static GstRTSPMediaFactory *new_factory(VigilServer *server, const char *launch)
{
  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  if (server->authenticated)
    gst_rtsp_media_factory_add_role(factory, VIEWER_ROLE, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                    G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                    G_TYPE_BOOLEAN, TRUE, NULL);
  return factory;
}

static void add_stream(VigilServer *server, const char *path, VigilCodec codec, VigilClip *video,
                       VigilClip *audio, SceneClock *clock)
{
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

  GstRTSPMediaFactory *factory = new_factory(server, launch);

  Stream *stream = g_new0(Stream, 1);
  stream->video = vigil_clip_ref(video);
  stream->audio = audio ? vigil_clip_ref(audio) : NULL;
  stream->clock = g_atomic_rc_box_acquire(clock);
  g_signal_connect_data(factory, "media-configure", G_CALLBACK(on_media_configure), stream,
                        stream_free, 0);

  g_autoptr(GstRTSPMountPoints) mounts = gst_rtsp_server_get_mount_points(server->rtsp);
  gst_rtsp_mount_points_add_factory(mounts, path, factory); /* takes the factory */
}

void vigil_server_add_camera(VigilServer *server, const char *path, VigilCodec codec,
                             VigilClip *video, VigilClip *sub_video, VigilClip *audio)
{
  g_return_if_fail(server != NULL && path != NULL && video != NULL);

  SceneClock *clock = scene_clock_new();
  add_stream(server, path, codec, video, audio, clock);
  if (sub_video) {
    g_autofree char *sub_path = g_strconcat(path, "_sub", NULL);
    add_stream(server, sub_path, codec, sub_video, audio, clock);
  }
  scene_clock_unref(clock);
}

/* ---- live cameras (--ptz) ---- */

typedef struct {
  GstVideoInfo info;
  VigilLiveDrawFunc draw;
  gpointer user_data;
} LiveStream;

/* One appsrc of a live media; only its streaming thread touches it. */
typedef struct {
  const LiveStream *stream;
  gboolean started;
  GstClockTime base;
  guint64 frames;
} LiveFeed;

static void live_need_data(GstAppSrc *src, guint length, gpointer user_data)
{
  LiveFeed *feed = user_data;
  const GstVideoInfo *info = &feed->stream->info;
  if (!feed->started) {
    /* The first frame goes out now: clocksync paces the rest. */
    g_autoptr(GstClock) gclock = gst_element_get_clock(GST_ELEMENT(src));
    GstClockTime clock_now = gclock ? gst_clock_get_time(gclock) : 0;
    GstClockTime base = gst_element_get_base_time(GST_ELEMENT(src));
    feed->base = gclock && clock_now > base ? clock_now - base : 0;
    feed->started = TRUE;
  }
  GstBuffer *buf = feed->stream->draw(info, feed->stream->user_data);
  GstClockTime dur =
      gst_util_uint64_scale_int(GST_SECOND, GST_VIDEO_INFO_FPS_D(info), GST_VIDEO_INFO_FPS_N(info));
  GST_BUFFER_PTS(buf) = GST_BUFFER_DTS(buf) = feed->base + feed->frames * dur;
  GST_BUFFER_DURATION(buf) = dur;
  feed->frames++;
  gst_app_src_push_buffer(src, buf);
}

static void on_live_media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media,
                                    gpointer user_data)
{
  const LiveStream *stream = user_data;
  g_autoptr(GstElement) bin = gst_rtsp_media_get_element(media);
  g_autoptr(GstElement) src = gst_bin_get_by_name_recurse_up(GST_BIN(bin), "vsrc");
  g_autoptr(GstCaps) caps = gst_video_info_to_caps(&stream->info);
  g_object_set(src, "is-live", TRUE, "format", GST_FORMAT_TIME, "min-latency", (gint64)0, NULL);
  gst_app_src_set_caps(GST_APP_SRC(src), caps);
  LiveFeed *feed = g_new0(LiveFeed, 1);
  feed->stream = stream;
  GstAppSrcCallbacks cbs = {.need_data = live_need_data};
  gst_app_src_set_callbacks(GST_APP_SRC(src), &cbs, feed, g_free);
}

static void live_stream_free(gpointer data, GClosure *closure)
{
  g_free(data);
}

static void add_live_stream(VigilServer *server, const char *path, const VigilEncodeParams *params,
                            VigilLiveDrawFunc draw, gpointer user_data)
{
  g_autofree char *launch = g_strdup_printf(
      "( appsrc name=vsrc ! clocksync ! x264enc tune=zerolatency speed-preset=ultrafast"
      " bframes=0 key-int-max=%u bitrate=%d ! h264parse ! rtph264pay name=pay0 pt=96"
      " config-interval=-1 aggregate-mode=zero-latency )",
      vigil_encode_gop_frames(params), params->bitrate_kbps);
  GstRTSPMediaFactory *factory = new_factory(server, launch);
  LiveStream *stream = g_new0(LiveStream, 1);
  gst_video_info_set_format(&stream->info, GST_VIDEO_FORMAT_I420, params->width, params->height);
  GST_VIDEO_INFO_FPS_N(&stream->info) = params->fps;
  GST_VIDEO_INFO_FPS_D(&stream->info) = 1;
  stream->draw = draw;
  stream->user_data = user_data;
  g_signal_connect_data(factory, "media-configure", G_CALLBACK(on_live_media_configure), stream,
                        live_stream_free, 0);
  g_autoptr(GstRTSPMountPoints) mounts = gst_rtsp_server_get_mount_points(server->rtsp);
  gst_rtsp_mount_points_add_factory(mounts, path, factory);
}

void vigil_server_add_live_camera(VigilServer *server, const char *path,
                                  const VigilEncodeParams *params,
                                  const VigilEncodeParams *sub_params, VigilLiveDrawFunc draw,
                                  gpointer user_data)
{
  g_return_if_fail(server != NULL && path != NULL && params != NULL && draw != NULL);
  add_live_stream(server, path, params, draw, user_data);
  if (sub_params) {
    g_autofree char *sub_path = g_strconcat(path, "_sub", NULL);
    add_live_stream(server, sub_path, sub_params, draw, user_data);
  }
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
