/* VigilTracker: which detected objects are the same object from one
 * detection to the next. Pure: detections (detect/detect.h) and times in,
 * changes out; no GStreamer, no threads, no events. The analyzer turns the
 * changes into object events (a NEW object opens one, SEEN raises its score,
 * LOST ends it). Not thread-safe: one tracker per camera, one thread.
 *
 * A detection continues the object in view with the same label whose box
 * overlaps it best, by at least the tracker's min_iou; failing that (with
 * vigil_tracker_set_max_step), the nearest one of that label and about its
 * size within max_step of its larger side (overlaps are matched first, for all
 * detections). Each object
 * continues at most one detection. Anything else is a new object. An object missing
 * from max_misses detections in a row is lost (a detection that briefly
 * misses a person does not end the event). */
#pragma once

#include <glib.h>

#include "detect/detect.h"

G_BEGIN_DECLS

/* The analyzer's: boxes overlapping this much are the same object; an object
 * absent from this many detections in a row is gone. */
#define VIGIL_TRACK_IOU    0.3
#define VIGIL_TRACK_MISSES 2
/* The analyzer's step (vigil_tracker_set_max_step): a detection that
 * overlaps no object still continues one of its label whose size is within
 * VIGIL_TRACK_SIZE_RATIO (width and height) and whose centre is at most
 * this many of its larger side away: someone small (far away) who walked
 * further than their own width between two detections. */
#define VIGIL_TRACK_SIZE_RATIO 1.5
#define VIGIL_TRACK_STEP       2.5

typedef enum {
  VIGIL_TRACK_NEW,  /* an object not in view before */
  VIGIL_TRACK_SEEN, /* an object in view, seen again */
  VIGIL_TRACK_LOST, /* an object no longer in view */
} VigilTrackChange;

typedef struct {
  VigilTrackChange change;
  guint64 id;          /* the object's, from 1, never reused by a tracker */
  VigilDetection det;  /* NEW, SEEN: this detection; LOST: the last one */
  gint64 last_seen_us; /* when the object was last detected */
} VigilTrackEvent;

typedef struct _VigilTracker VigilTracker;

VigilTracker *vigil_tracker_new(double min_iou, int max_misses);
void vigil_tracker_free(VigilTracker *tracker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilTracker, vigil_tracker_free)

/* One detection's results @dets (@n of them), found at @time_us. Returns the
 * changes (GArray of VigilTrackEvent): one NEW or SEEN per detection, in
 * the order of @dets, then the objects LOST by this detection, the newest
 * first. */
GArray *vigil_tracker_update(VigilTracker *tracker, const VigilDetection *dets, guint n,
                             gint64 time_us);
/* Lets a detection that overlaps no object continue the nearest one of its
 * label and about its size (within VIGIL_TRACK_SIZE_RATIO) whose centre is
 * at most @max_step of its larger side away; 0 (the default): off. */
void vigil_tracker_set_max_step(VigilTracker *tracker, double max_step);

/* Forgets every object in view (detection off, camera offline): returns
 * them as LOST, oldest first. */
GArray *vigil_tracker_clear(VigilTracker *tracker);
/* Objects in view now. */
guint vigil_tracker_get_count(VigilTracker *tracker);

G_END_DECLS
