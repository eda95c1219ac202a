/* VigilIngest: one camera's GStreamer pipeline, from its source URL to TS
 * chunks pushed into its VigilStream. It never decodes the camera's video (only
 * test:// and v4l2:// encode, as they have nothing encoded to pass through).
 *
 *   rtspsrc ─ depay ─┐
 *   urisourcebin ─ parsebin ─┼─ h264parse/h265parse ─ capsfilter(byte-stream,au) ─ appsink ─► VigilTsMux ─► VigilStream
 *   videotestsrc/v4l2src ─ x264enc ─┘   (aacparse ─ capsfilter(adts) ─ appsink ─► same muxer)
 *
 * Muxing happens in the appsink callback on GStreamer's streaming thread: one
 * access unit in, one chunk out, no queue and no thread hop. Errors and EOS come
 * back on the main context through the bus. An ingest is started once and
 * stopped once; the supervisor (camera.c) builds a new one to reconnect. */
#pragma once

#include <glib.h>
#include <gst/gst.h>

#include "config/config.h"
#include "live/stream.h"

G_BEGIN_DECLS

typedef struct _VigilIngest VigilIngest;

/* Called on the main context when the ingest has failed or ended for good;
 * @message is for users (no secrets in it), @offline tells a camera that could
 * not be reached (or went silent) from one that answered with a problem. */
typedef void (*VigilIngestFailFunc)(VigilIngest *ingest, const char *message, gboolean offline,
                                    gpointer user_data);

/* Builds and starts the pipeline for @cfg. Output timestamps continue from
 * @start_pts (90 kHz), so the stream stays monotonic across reconnects. */
VigilIngest *vigil_ingest_start(const VigilCameraConfig *cfg, VigilStream *stream, gint64 start_pts,
                                VigilIngestFailFunc fail_func, gpointer user_data, GError **error);

/* Stops and frees the ingest. The pipeline's teardown (which can block on a
 * dead TCP connection) happens on a worker thread; no chunk is pushed and no
 * callback runs after this returns. */
void vigil_ingest_stop(VigilIngest *ingest);

/* Sends every libav message of the process (the analysis decoder's too) to
 * GLib's log at debug level instead of stderr; libavformat's errors still
 * become the camera's error. Without it a camera sending garbage made
 * libavcodec print ~20 lines a second to stderr (bench/soak). Idempotent. */
void vigil_ingest_init_av_log(void);

/* Waits until every stopped ingest has finished its teardown; FALSE when
 * @timeout_us passed first. For a clean exit. */
gboolean vigil_ingest_wait_stopped(gint64 timeout_us);

/* The next pts (90 kHz) a successor should continue from. */
gint64 vigil_ingest_next_pts(VigilIngest *ingest);

/* Called in the streaming thread with every video keyframe access unit
 * (Annex B, parameter sets in front: decodable on its own), under the
 * ingest's lock, so it must be quick (take a ref and return). @buffer is
 * borrowed. Never called once vigil_ingest_stop() has returned. */
typedef void (*VigilKeyframeFunc)(GstBuffer *buffer, VigilCodec codec, gint64 wallclock_us,
                                  gpointer user_data);
void vigil_ingest_set_keyframe_func(VigilIngest *ingest, VigilKeyframeFunc func,
                                    gpointer user_data);

/* Turns a GStreamer error into a short message for users, without secrets. */
gchar *vigil_ingest_describe_error(const GError *error, const char *debug, gboolean *offline);

G_END_DECLS
