/* The analyzer's insides, shared by its two halves: worker.c (the pool job:
 * decode, motion, zbar, detection; and the keyframe intake) and analyzer.c
 * (the main thread: events, triggers, configuration). Not a public header. */
#pragma once

#include <zbar.h>

#include "analysis/analyzer.h"
#include "analysis/decoder.h"
#include "analysis/motion.h"
#include "analysis/snapshot.h"
#include "analysis/state.h"
#include "analysis/tracker.h"

G_BEGIN_DECLS

/* Zones beyond this are ignored (the config validates far fewer in practice). */
#define MAX_ZONES (VIGIL_STATE_MAX_REGIONS - 1)

struct _VigilAnalyzer {
  gint refs;
  gchar *camera_id;
  VigilSnapshots *snapshots; /* its own lock */

  /* Guards everything up to the worker part. */
  GMutex lock;
  gboolean closed;
  gboolean busy;      /* a pool job owns the worker part */
  gboolean reset;     /* forget the previous frame (reconnect) */
  GstBuffer *pending; /* next keyframe to analyse */
  VigilCodec pending_codec;
  gint64 pending_time;
  gint64 pending_arrival_us; /* monotonic: when it came in, for the queue wait */
  VigilStreamChoice pending_stream;
  GstBuffer *pending_codes; /* next main keyframe to read barcodes from */
  VigilCodec pending_codes_codec;
  gint64 pending_codes_time;
  gint64 last_codes_us;   /* wallclock of the last one queued */
  gboolean has_sub;       /* the camera has a sub stream configured */
  gboolean sub_streaming; /* ... and it streams now */
  VigilStreamChoice barcode_stream;
  gint64 barcode_interval_us;
  int n_zones;
  VigilMotionRect zones[MAX_ZONES];
  double thresholds[1 + MAX_ZONES];
  gchar *zone_names[MAX_ZONES];
  gboolean motion_enabled;
  gboolean barcodes;
  gboolean detect_enabled;
  gint64 last_sample_us;  /* wallclock of the last keyframe queued */
  gchar **detect_classes; /* classes ∪ record_on: what the detector reports */
  double min_score;
  int interval_s;
  gboolean main_crop;       /* detect.main_crop */
  gboolean motion_active;   /* main thread's view: a motion event is open */
  gboolean moving;          /* the last keyframe analysed was over a threshold */
  gint64 last_detect_us;    /* wallclock of the keyframe last detected in */
  gboolean external_motion; /* motion comes from the camera (ONVIF events) too */
  VigilAnalyzerStats stats;

  /* Worker part: used by one pool job at a time. */
  VigilDecoder *decoder;
  VigilDecoder *codes_decoder;       /* main keyframes for barcodes only */
  VigilStreamChoice analysed_stream; /* of the last frame motion saw */
  VigilMotion *motion;
  zbar_image_scanner_t *scanner;
  gboolean has_motion_box; /* motion_box is of the frame just analysed */
  VigilMotionRect motion_box;

  /* Main thread part. */
  VigilTracker *tracker;    /* objects in view, each an open event */
  GHashTable *track_events; /* tracker id (guint64*) -> event id (gint64*) */
  gchar **record_on;        /* record only when one of these is seen during motion */
  gchar *record_on_hit;     /* "object:LABEL" once seen during the current motion */
  VigilAnalysisState *state;
  gint64 motion_ids[VIGIL_STATE_MAX_REGIONS];
  gchar *result_zone_names[MAX_ZONES]; /* names of the frame being applied */
  gboolean has_level;
  double level;
  gboolean trigger_on_motion; /* record mode "events" */
  VigilAnalyzerTriggerFunc trigger_func;
  gpointer trigger_data;
  guint tick;
  gboolean ptz_moving;     /* keyframe motion paused: the camera is steered */
  gint64 ptz_paused_until; /* ... and until then (wall clock), after a move */
  VigilAnalyzerEventFunc event_func;
  gpointer event_data;
  gint64 external_motion_id;   /* the open motion event the camera reported; 0: none */
  GHashTable *external_events; /* label -> open event id (gint64*), objects the camera reported */
};

/* What the worker saw in one keyframe, for the main thread. */
typedef struct {
  VigilAnalyzer *analyzer; /* ref */
  gint64 time_us;
  gint64 mono_us; /* monotonic: when the keyframe came in */
  gboolean has_levels;
  double levels[1 + MAX_ZONES];
  double thresholds[1 + MAX_ZONES];
  gchar *zone_names[MAX_ZONES];
  int n_zones;
  double mean_luma;
  gboolean identical;
  gboolean barcodes;
  gboolean codes_skipped;     /* barcodes on, read from the other stream */
  gboolean codes_only;        /* a main keyframe read for barcodes only */
  GPtrArray *formats, *texts; /* gchar* */
} Result;

/* One detection's results, for the main thread. */
typedef struct {
  VigilAnalyzer *analyzer; /* ref */
  gint64 time_us;
  GArray *dets;        /* VigilDetection, filtered */
  GstBuffer *keyframe; /* what they were found in, for event thumbnails */
  VigilCodec codec;
} DetectResult;

VigilAnalyzer *vigil_analyzer_ref(VigilAnalyzer *analyzer);
void vigil_analyzer_unref(VigilAnalyzer *analyzer);

/* Main thread (worker.c hands them over with g_main_context_invoke_full):
 * apply a Result or DetectResult; the free functions go with them. */
gboolean vigil_analyzer_apply_result(gpointer result);
void vigil_analyzer_result_free(gpointer result);
gboolean vigil_analyzer_apply_detections(gpointer result);
void vigil_analyzer_detect_result_free(gpointer result);

G_END_DECLS
