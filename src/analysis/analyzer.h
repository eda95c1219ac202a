/* VigilAnalyzer: one camera's keyframe analysis. The ingest hands it every
 * keyframe access unit (a GstBuffer ref, from the streaming thread, cheap);
 * a shared worker pool decodes the newest one to a small GRAY8 picture, runs
 * motion (motion.c) and barcodes (zbar), and hands the numbers to the main
 * context, where state.c turns them into events and recording triggers.
 * When a detection is due (docs/detect.md) the same job then runs the object
 * detector (detect/) on a colour version of the picture; the main context
 * turns its boxes into object events (tracker.c) and triggers. A keyframe
 * that arrives while the previous one is still being analysed replaces the
 * waiting one: a slow analysis drops stale frames and never delays live
 * video or recording.
 *
 * Events, their thumbnails and alarms leave through the report functions
 * (VigilAnalyzerReportFuncs) that main.c points at the event bus; recording
 * triggers through the trigger function the camera sets. Also keeps the
 * latest keyframe for snapshots (snapshot.h: decoded to JPEG only when
 * asked, cached until the next keyframe). The worker side lives in
 * worker.c, the main thread side in analyzer.c. Created and freed on the
 * main thread; push_keyframe is the only call from other threads. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "config/config.h"
#include "core/media.h"
#include "detect/detect.h"

G_BEGIN_DECLS

typedef struct _VigilAnalyzer VigilAnalyzer;

/* What analyzers report, on the main thread. main.c points these at the event
 * bus (events/events.h) once, before the cameras start, as it does for the
 * recorder's alarms; until then (and in tests) nothing is reported. Event ids
 * are the bus's; 0 (not stored) is passed back as is. */
typedef struct {
  /* Opens an event (end unset) and returns its id: "motion" (@label: the
   * zone, NULL for the whole picture; @box NULL) or "object" (@label: the
   * class; @box: where, fractions of the picture). */
  gint64 (*event_begin)(const char *camera, const char *type, gint64 start_us, double score,
                        const char *label, const VigilDetection *box, gpointer data);
  /* Raises an open event's score (no-op when lower). */
  void (*event_score)(gint64 id, double score, gpointer data);
  void (*event_end)(gint64 id, gint64 end_us, gpointer data);
  /* An event with start = end ("barcode": @label the format, @data_json
   * {"format", "text"}); returns its id. */
  gint64 (*event_add)(const char *camera, const char *type, gint64 time_us, const char *label,
                      const char *data_json, gpointer data);
  /* An event's thumbnail, a JPEG (made on a worker thread). */
  void (*event_thumbnail)(gint64 id, GBytes *jpeg, gpointer data);
  /* The camera's alarm @label ("camera-dark", "frozen-image",
   * "camera-offline": state.h) raised or cleared. */
  void (*alarm)(const char *camera, const char *label, gboolean raised, gpointer data);
} VigilAnalyzerReportFuncs;

/* @funcs is copied (NULL: report nothing); @data goes to each. */
void vigil_analyzer_set_report_funcs(const VigilAnalyzerReportFuncs *funcs, gpointer data);

/* Main thread: a recording should start or go on ("motion", "barcode"). */
typedef void (*VigilAnalyzerTriggerFunc)(const char *reason, gpointer user_data);

VigilAnalyzer *vigil_analyzer_new(const VigilCameraConfig *cfg);
/* Ends the camera's open events and alarms and detaches from the worker;
 * work still in flight finishes quietly. */
void vigil_analyzer_free(VigilAnalyzer *analyzer);

/* Zones, thresholds, barcodes and record mode from a new configuration. */
void vigil_analyzer_set_config(VigilAnalyzer *analyzer, const VigilCameraConfig *cfg);
void vigil_analyzer_set_trigger_func(VigilAnalyzer *analyzer, VigilAnalyzerTriggerFunc func,
                                     gpointer user_data);

/* Any thread (the ingest's streaming thread): a keyframe access unit, Annex B
 * with its parameter sets, of the camera's main or sub stream. @buffer is
 * borrowed (a ref is taken).
 *
 * What gets decoded (docs/streams.md): keyframes of the analysis stream (the
 * sub stream while it streams, else the main one), every one while motion,
 * detection or barcodes on that stream need it, else one per 10 s for the
 * dark and frozen alarms; with barcodes read from the main stream while
 * analysis runs on the sub stream, one main keyframe per barcode_interval_s.
 * Nothing else. Snapshots take the latest main keyframe (the sub stream's
 * until the main stream sent one). */
void vigil_analyzer_push_keyframe(VigilAnalyzer *analyzer, GstBuffer *buffer, VigilCodec codec,
                                  gint64 wallclock_us, VigilStreamChoice stream);

/* Main thread: whether the camera's sub stream streams now; analysis moves to
 * it (and back to the main stream) accordingly. */
void vigil_analyzer_set_sub_streaming(VigilAnalyzer *analyzer, gboolean streaming);
/* Which stream analysis looks at now: VIGIL_STREAM_MAIN or VIGIL_STREAM_SUB. */
VigilStreamChoice vigil_analyzer_get_analysis_stream(VigilAnalyzer *analyzer);

/* Main thread: the camera's state changed ("streaming", "offline", ...). */
void vigil_analyzer_camera_state(VigilAnalyzer *analyzer, const char *state, const char *error);

/* The latest whole-frame motion level; FALSE until two keyframes were compared
 * since the camera (re)connected. */
gboolean vigil_analyzer_get_motion_level(VigilAnalyzer *analyzer, double *level);

/* Snapshots: FALSE when no keyframe arrived yet. */
gboolean vigil_analyzer_has_keyframe(VigilAnalyzer *analyzer);
/* A JPEG of @stream's latest keyframe (the other stream's while that one
 * has none), cached until its next keyframe; with @boxes, the latest
 * detection's boxes drawn (not cached). */
void vigil_analyzer_snapshot_async(VigilAnalyzer *analyzer, VigilStreamChoice stream,
                                   gboolean boxes, GAsyncReadyCallback callback,
                                   gpointer user_data);
GBytes *vigil_analyzer_snapshot_finish(GAsyncResult *result, GError **error);

/* Motion and objects the camera detects itself (its ONVIF events,
 * docs/onvif.md), main thread. They become the same events as the keyframe
 * analysis makes ("motion" with label NULL; "object" with @label), with a
 * thumbnail of the latest keyframe and the same recording triggers (renewed
 * every second while they last). @on FALSE ends what is open; @instant
 * (line crossings) adds an event whose start is its end. */
void vigil_analyzer_external_motion(VigilAnalyzer *analyzer, gboolean on, gint64 time_us);
void vigil_analyzer_external_object(VigilAnalyzer *analyzer, const char *label, gboolean on,
                                    gboolean instant, gint64 time_us);
/* Ends every open event the camera reported (its events stopped coming). */
void vigil_analyzer_external_end(VigilAnalyzer *analyzer, gint64 time_us);

/* Main thread: the camera is being steered (PTZ): keyframe motion makes no
 * events while @moving, nor for @settle_us after it stopped (keyframes that
 * arrived by then are measured but count as quiet). */
void vigil_analyzer_pause_motion(VigilAnalyzer *analyzer, gboolean moving, gint64 settle_us);

/* Main thread: told when a motion or object event starts (@type "motion" or
 * "object", @label the zone or class), whatever the record mode. */
typedef void (*VigilAnalyzerEventFunc)(const char *type, const char *label, gpointer user_data);
void vigil_analyzer_set_event_func(VigilAnalyzer *analyzer, VigilAnalyzerEventFunc func,
                                   gpointer user_data);

/* Worker numbers, for benchmarks and /metrics. */
typedef struct {
  guint64 analysed, dropped;
  guint64 barcode_scans;                /* main keyframes read for barcodes only */
  double decode_ms, motion_ms, zbar_ms; /* totals, wall clock */
  double cpu_ms;                        /* total CPU time of the analysis */
  guint64 detected;                     /* detector runs */
  guint64 detected_on_crops;            /* of them, on a crop of the main picture */
  double detect_ms;                     /* their total, wall clock */
  guint64 detect_dropped; /* keyframes due for detection replaced by a newer one while waiting */
} VigilAnalyzerStats;
void vigil_analyzer_get_stats(VigilAnalyzer *analyzer, VigilAnalyzerStats *stats);

G_END_DECLS
