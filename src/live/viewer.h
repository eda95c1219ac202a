/* VigilViewer: one live viewer of a camera's VigilStream (a WebSocket, a
 * live.ts response), independent of the transport that carries the bytes.
 *
 * The viewer subscribes from the current GOP on the main context and keeps the
 * chunks its transport has not yet written. The bound is on bytes accepted but
 * not yet confirmed written to the socket: past VIGIL_VIEWER_MAX_QUEUED the
 * viewer drops what is still queued, skips the rest of the GOP and resumes at
 * the next keyframe. A viewer that keeps being too slow for
 * VIGIL_VIEWER_GRACE_US is closed. The camera and the other viewers never wait.
 *
 * Chunks are shared (refcounted) with the stream and every other viewer:
 * nothing is copied per viewer.
 *
 * Per-camera counters (viewers, bytes sent, GOPs dropped, slow disconnects)
 * and a histogram of the server-added latency (chunk arrival from the camera
 * to its last byte written to the socket) are kept for /metrics.
 *
 * Main thread only. */
#pragma once

#include <glib.h>

#include "live/stream.h"

G_BEGIN_DECLS

/* About 8 s of a 4 Mbps camera. */
#define VIGIL_VIEWER_MAX_QUEUED (4u * 1024 * 1024)
/* A viewer still too slow this long after its first dropped GOP is closed. */
#define VIGIL_VIEWER_GRACE_US (10 * G_USEC_PER_SEC)

typedef enum {
  VIGIL_VIEWER_WS,
  VIGIL_VIEWER_TS,
  VIGIL_VIEWER_HLS,
  VIGIL_VIEWER_N_KINDS,
} VigilViewerKind;

const char *vigil_viewer_kind_to_string(VigilViewerKind kind);

typedef struct _VigilViewer VigilViewer;

/* Chunks are waiting: the transport should call vigil_viewer_pop(). */
typedef void (*VigilViewerReadyFunc)(VigilViewer *viewer, gpointer user_data);
/* The viewer was too slow for too long: the transport should close. Called
 * at most once; the viewer no longer receives chunks afterwards. */
typedef void (*VigilViewerCloseFunc)(VigilViewer *viewer, gpointer user_data);

/* Subscribes to @stream from its current GOP and counts a live viewer. */
VigilViewer *vigil_viewer_new(VigilStream *stream, VigilViewerKind kind, VigilViewerReadyFunc ready,
                              VigilViewerCloseFunc close, gpointer user_data);
/* Unsubscribes, uncounts and frees. NULL is allowed. */
void vigil_viewer_free(VigilViewer *viewer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilViewer, vigil_viewer_free)

/* The next chunk to send (a new reference), or NULL when none is queued. The
 * chunk's bytes count against the bound until reported by
 * vigil_viewer_wrote(). */
VigilChunk *vigil_viewer_pop(VigilViewer *viewer);
/* The transport wrote @bytes of the popped chunks (in order) to the socket. */
void vigil_viewer_wrote(VigilViewer *viewer, gsize bytes);

/* Bytes popped or queued but not yet written. */
gsize vigil_viewer_get_outstanding(VigilViewer *viewer);
guint64 vigil_viewer_get_gops_dropped(VigilViewer *viewer);

/* --- counters for /metrics --- */

typedef struct {
  guint viewers[VIGIL_VIEWER_N_KINDS];
  guint64 bytes_sent[VIGIL_VIEWER_N_KINDS];
  guint64 gops_dropped;
  guint64 slow_disconnects;
} VigilViewerCounters;

/* Counters of camera @camera_id (zeros for an unknown camera). */
void vigil_viewer_get_counters(const char *camera_id, VigilViewerCounters *counters);
/* Adds bytes sent to a camera's counters (for HLS segments, which are
 * not streamed through a VigilViewer). */
void vigil_viewer_count_bytes(const char *camera_id, VigilViewerKind kind, guint64 bytes);
/* Sets the number of HLS viewers of a camera (for the counters only). */
void vigil_viewer_set_hls_viewers(const char *camera_id, guint n);

/* Upper bounds (µs) of the latency histogram's buckets; the last is +Inf. */
#define VIGIL_VIEWER_LATENCY_BUCKETS 16
extern const gint64 vigil_viewer_latency_bounds_us[VIGIL_VIEWER_LATENCY_BUCKETS];
typedef struct {
  guint64 buckets[VIGIL_VIEWER_LATENCY_BUCKETS]; /* not cumulative */
  guint64 count;
  gint64 sum_us;
} VigilViewerLatency;
/* Server-added latency, chunk arrival → last byte written, all cameras. */
void vigil_viewer_get_latency(VigilViewerLatency *latency);

G_END_DECLS
