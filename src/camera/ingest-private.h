/* What the two ingest front ends share: the VigilIngest struct, the timeline
 * and muxing every access unit goes through, and failure reporting. Only
 * ingest.c, ingest-gst.c and ingest-av.c include it.
 *
 *   ingest.c      public API, timeline, TS muxing, lifetime
 *   ingest-rtsp.c rtsp:// with vigil's own RTSP client (src/rtsp/, one reading thread)
 *   ingest-av.c   rtsps:// with libavformat (one reading thread)
 *   ingest-units.c what both RTSP front ends share: access units, ADTS
 *   ingest-gst.c  everything else with GStreamer (srt, HLS, files, v4l2, test)
 */
#pragma once

#include <gst/gst.h>

#include "camera/ingest.h"
#include "config/source.h"

G_BEGIN_DECLS

struct _VigilIngest {
  gatomicrefcount refs; /* the owner, the teardown, pending failure reports */
  gchar *camera_id;
  gchar *password; /* scrubbed from any message that might echo it */
  gchar *source;
  VigilSourceKind kind;
  VigilStream *stream;
  VigilIngestFailFunc fail_func;
  gpointer user_data;
  gboolean failed; /* main thread: fail_func already called */

  /* GStreamer front end (main thread, and the teardown thread at the end) */
  GstElement *pipeline;
  guint bus_watch;
  GCancellable *probe;

  /* RTSP front ends: the reading thread owns everything else */
  GThread *reader;
  gint abort; /* atomic: stop was asked */

  /* Guards everything below. Held while muxing and pushing, so that once
   * `stopped` is set no chunk can reach the stream. */
  GMutex lock;
  gboolean stopped;
  gboolean expect_audio;
  gboolean video_linked;
  gboolean audio_linked;
  VigilCodec codec;
  int width, height;
  VigilTsMux *mux;
  gboolean mux_has_audio;
  gboolean discont; /* next chunk is the first of this connection */

  /* Timeline: out (90 kHz) = in_ns * 90000 / 1e9 + offset. */
  gboolean anchored;
  gint64 offset;
  gint64 start_pts;
  gint64 last_in_ns;
  gint64 last_out_dts;
  gint64 frame_dur;                /* 90 kHz, estimated from consecutive AUs */
  gint64 next_audio_pts;           /* 90 kHz, where the next audio frame should start */
  VigilKeyframeFunc keyframe_func; /* keyframe analysis, optional */
  gpointer keyframe_data;
};

/* --- ingest.c, for the front ends --- */

/* Records the video format; a codec change starts a new muxer (new PMT). */
void vigil_ingest_set_format(VigilIngest *self, VigilCodec codec, int width, int height);

/* One whole video access unit (Annex B). @pts_ns is the input's running time,
 * @pts_minus_dts in 90 kHz units (0 without B-frames). @keyframe_buffer, for
 * keyframes only, is what the keyframe analysis gets (parameter sets in front);
 * may be NULL. FALSE once the ingest is stopped: the caller should end. */
gboolean vigil_ingest_push_video(VigilIngest *self, const guint8 *data, gsize size, gint64 pts_ns,
                                 gint64 pts_minus_dts, gboolean keyframe,
                                 GstBuffer *keyframe_buffer);

/* One or more ADTS AAC frames at @pts_ns; @rate is the sample rate (Hz). */
void vigil_ingest_push_audio(VigilIngest *self, const guint8 *data, gsize size, gint64 pts_ns,
                             int rate);

/* Reports the end of this ingest to its owner, once, on the main context.
 * Safe from any thread; nothing is reported after vigil_ingest_stop(). */
void vigil_ingest_report_failure(VigilIngest *self, const char *message, gboolean offline);

/* Main context only: the same, at once. */
void vigil_ingest_fail(VigilIngest *self, const char *message, gboolean offline);

/* @text with the camera's password replaced by "***". */
gchar *vigil_ingest_scrub(VigilIngest *self, const char *text);

/* Words a failed plain TCP connect (or a successful one to a silent server)
 * for users; used when an RTSP client cannot tell why it got no answer. */
const char *vigil_ingest_word_connect_error(const GError *error);

/* --- ingest-units.c, for the RTSP front ends --- */

/* Whole video access units on their way to the muxer: puts the SDP's
 * parameter sets in front of keyframes that lack them, reads the picture
 * size off keyframes (nothing is passed on before it is known), and makes
 * the keyframe analysis' copy. */
typedef struct _VigilVideoFeed VigilVideoFeed;
VigilVideoFeed *vigil_video_feed_new(VigilIngest *ingest, VigilCodec codec, GBytes *parameter_sets);
void vigil_video_feed_free(VigilVideoFeed *feed);
/* One access unit (Annex B); FALSE once the ingest is stopped. */
gboolean vigil_video_feed_push(VigilVideoFeed *feed, const guint8 *data, gsize size, gint64 pts_ns);

/* The ADTS header that raw AAC frames get. */
typedef struct {
  guint8 header[7];
  int rate; /* Hz */
} VigilAdts;
/* From the AudioSpecificConfig (@config, may be NULL) or else @sample_rate
 * and @channels. FALSE for AAC that ADTS cannot carry (object types over 4,
 * more than 7 channels). */
gboolean vigil_adts_init(VigilAdts *adts, const guint8 *config, gsize config_size, int sample_rate,
                         int channels);
/* Pushes one AAC frame, raw or already ADTS. */
void vigil_adts_push(const VigilAdts *adts, VigilIngest *ingest, const guint8 *data, gsize size,
                     gint64 pts_ns);

/* --- ingest-rtsp.c --- */
gboolean vigil_ingest_rtsp_start(VigilIngest *self, const VigilCameraConfig *cfg, GError **error);

/* --- ingest-gst.c --- */
gboolean vigil_ingest_gst_start(VigilIngest *self, const VigilCameraConfig *cfg, GError **error);
void vigil_ingest_gst_stop(VigilIngest *self);     /* main thread, at stop */
void vigil_ingest_gst_teardown(VigilIngest *self); /* teardown thread; may block */

/* --- ingest-av.c --- */
gboolean vigil_ingest_av_start(VigilIngest *self, const VigilCameraConfig *cfg, GError **error);

G_END_DECLS
