/* The default front end for rtsp://: vigil's own RTSP client (src/rtsp/),
 * read by one thread per camera that hands whole access units to the shared
 * muxing in ingest.c. It costs a fraction of libavformat's reading (large
 * reads at a steady cadence instead of two reads per RTP packet;
 * bench/RESULTS.md, "ingest"), and knows where a picture ends from the RTP
 * marker bit, so a picture goes out as soon as its last packet is in.
 *
 * Stopping: vigil_ingest_stop() sets `abort`, which the client checks at
 * least every 100 ms; the teardown thread joins the reader. */
#define G_LOG_DOMAIN "vigil-camera"

#include <string.h>

#include "camera/camera.h"
#include "camera/ingest-private.h"
#include "rtsp/rtsp.h"

/* Connecting, OPTIONS, DESCRIBE, SETUP and PLAY must fit in this. */
#define OPEN_TIMEOUT_US (8 * G_USEC_PER_SEC)

typedef struct {
  VigilIngest *ingest; /* alive until the teardown has joined this thread */
  VigilRtspClient *client;
  VigilVideoFeed *feed;
  VigilAdts adts;
  guint damaged;
} Reader;

static gboolean on_video(const guint8 *data, gsize size, gint64 pts_ns, gboolean damaged,
                         gpointer user_data)
{
  Reader *r = user_data;
  if (size == 0)
    return TRUE; /* a picture lost whole */
  /* A picture that lost a packet still goes on, as a camera's decoder
   * conceals it (it is what libavformat and ffmpeg pass on, unknowing). */
  if (damaged && r->damaged++ % 100 == 0)
    g_debug("camera %s: %u pictures so far with lost packets", r->ingest->camera_id, r->damaged);
  return vigil_video_feed_push(r->feed, data, size, pts_ns);
}

static void on_audio(const guint8 *data, gsize size, gint64 pts_ns, gpointer user_data)
{
  Reader *r = user_data;
  vigil_adts_push(&r->adts, r->ingest, data, size, pts_ns);
}

/* Whether the camera is unreachable or gone (as opposed to one that
 * answered with a problem a user must fix). */
static gboolean is_offline(const GError *error)
{
  switch ((VigilRtspErrorCode)error->code) {
  case VIGIL_RTSP_ERROR_UNAUTHORIZED:
  case VIGIL_RTSP_ERROR_NOT_FOUND:
  case VIGIL_RTSP_ERROR_FORBIDDEN:
  case VIGIL_RTSP_ERROR_REJECTED:
  case VIGIL_RTSP_ERROR_UNSUPPORTED:
  case VIGIL_RTSP_ERROR_INVALID:
    return FALSE;
  default:
    return TRUE;
  }
}

static gboolean start_tracks(Reader *r)
{
  VigilIngest *self = r->ingest;
  const VigilRtspTracks *tracks = vigil_rtsp_client_tracks(r->client);
  VigilCodec codec = tracks->video == VIGIL_RTP_H265 ? VIGIL_CODEC_H265 : VIGIL_CODEC_H264;
  r->feed = vigil_video_feed_new(self, codec, tracks->parameter_sets);
  gboolean audio = FALSE;
  if (tracks->audio) {
    gsize size = 0;
    const guint8 *config = tracks->aac_config ? g_bytes_get_data(tracks->aac_config, &size) : NULL;
    audio = vigil_adts_init(&r->adts, config, size, tracks->audio_rate, tracks->audio_channels);
  }
  g_mutex_lock(&self->lock);
  self->video_linked = TRUE;
  self->audio_linked = self->expect_audio = audio;
  g_mutex_unlock(&self->lock);
  g_debug("camera %s: %s%s over RTP/%s", self->camera_id, vigil_codec_to_string(codec),
          audio ? " + AAC" : "", tracks->lower == VIGIL_RTSP_LOWER_UDP ? "UDP" : "TCP");
  return audio;
}

static gpointer reader_main(gpointer data)
{
  Reader *r = data;
  g_autoptr(GError) error = NULL;
  if (vigil_rtsp_client_open(r->client, OPEN_TIMEOUT_US, &error)) {
    gboolean audio = start_tracks(r);
    vigil_rtsp_client_play(r->client, VIGIL_CAMERA_SILENCE_US, on_video, audio ? on_audio : NULL, r,
                           &error);
  }
  vigil_rtsp_client_free(r->client);
  if (error && !g_error_matches(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_ABORTED)) {
    g_autofree gchar *message = vigil_ingest_scrub(r->ingest, error->message);
    vigil_ingest_report_failure(r->ingest, message, is_offline(error));
  }
  vigil_video_feed_free(r->feed);
  g_free(r);
  return NULL;
}

gboolean vigil_ingest_rtsp_start(VigilIngest *self, const VigilCameraConfig *cfg, GError **error)
{
  VigilRtspLower lower = cfg->rtsp_transport == VIGIL_TRANSPORT_TCP   ? VIGIL_RTSP_LOWER_TCP
                         : cfg->rtsp_transport == VIGIL_TRANSPORT_UDP ? VIGIL_RTSP_LOWER_UDP
                                                                      : VIGIL_RTSP_LOWER_AUTO;
  Reader *r = g_new0(Reader, 1);
  r->ingest = self;
  r->client = vigil_rtsp_client_new(cfg->source, cfg->username, cfg->password, lower, &self->abort);
  g_autofree gchar *name = g_strdup_printf("vigil-rtsp-%.5s", cfg->id);
  self->reader = g_thread_try_new(name, reader_main, r, error);
  if (!self->reader) {
    vigil_rtsp_client_free(r->client);
    g_free(r);
    return FALSE;
  }
  return TRUE;
}
