/* The event logic of one camera's analysis, pure (no I/O, no clocks of its
 * own: every call says what time it is), so it is unit-tested directly:
 *
 * - motion per region (the whole frame when the camera has no zones, else each
 *   zone): an event starts on the first keyframe whose level is over the
 *   region's threshold and ends after VIGIL_STATE_QUIET_KEYFRAMES keyframes
 *   without motion (or when the camera stops sending);
 * - barcodes: one event per code that comes into view; a code is forgotten
 *   after VIGIL_STATE_BARCODE_FORGET keyframes out of view;
 * - alarms: camera-dark (mean luma < 0.095 for two keyframes running, cleared
 *   after two brighter ones), frozen-image (frames identical byte for byte for
 *   frozen_us), camera-offline (offline or error for offline_us).
 *
 * Two clocks: what is reported carries the wall clock (time_us), how long a
 * picture stays frozen or a camera offline is measured on the monotonic one
 * (mono_us), so a step of the wall clock neither delays nor hastens an alarm
 * (docs/recording.md, "Wall-clock steps").
 *
 * What happens is reported through a callback, in order. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIGIL_STATE_QUIET_KEYFRAMES 3
#define VIGIL_STATE_BARCODE_FORGET  3
#define VIGIL_STATE_DARK_LUMA       0.095
#define VIGIL_STATE_DARK_KEYFRAMES  2
#define VIGIL_STATE_FROZEN_US       (60 * (int64_t)1000000)
#define VIGIL_STATE_OFFLINE_US      (30 * (int64_t)1000000)
#define VIGIL_STATE_MAX_REGIONS     33 /* whole frame + 32 zones */

typedef enum {
  VIGIL_ACTION_MOTION_START, /* region, time_us (start), score */
  VIGIL_ACTION_MOTION_ON,    /* region, time_us, score: motion continues (re-trigger) */
  VIGIL_ACTION_MOTION_END,   /* region, time_us (end), score (peak) */
  VIGIL_ACTION_BARCODE,      /* time_us, format, text */
  VIGIL_ACTION_ALARM_RAISE,  /* time_us, label */
  VIGIL_ACTION_ALARM_CLEAR,  /* time_us, label */
} VigilActionKind;

typedef struct {
  VigilActionKind kind;
  int region; /* 0 = whole frame, 1 + i = zone i */
  int64_t time_us;
  double score;
  const char *label;
  const char *format;
  const char *text;
} VigilAction;

typedef void (*VigilActionFunc)(const VigilAction *action, void *user_data);

typedef struct {
  const char *format; /* "QR-Code", "EAN-13", ... */
  const char *text;
} VigilCode;

/* One analysed keyframe. */
typedef struct {
  int64_t time_us;      /* wall clock of the keyframe */
  int64_t mono_us;      /* monotonic clock of its arrival */
  bool has_levels;      /* false for the first frame after a (re)start */
  const double *levels; /* [0] whole frame, [1 + i] zone i */
  int n_zones;
  const double *thresholds; /* same indexing as levels */
  double mean_luma;         /* 0..1 */
  bool identical;           /* byte-equal to the previous frame */
  bool barcodes;            /* barcode scanning on for this frame */
  const VigilCode *codes;
  int n_codes;
  /* Barcodes on, but this frame was not scanned (they are read from the
   * other stream): the codes seen so far stay as they are. */
  bool codes_skipped;
  /* A frame read only for barcodes (the main stream's, while motion and
   * alarms look at the sub stream): motion and alarms ignore it. */
  bool codes_only;
} VigilObservation;

typedef struct VigilAnalysisState VigilAnalysisState;

VigilAnalysisState *vigil_analysis_state_new(VigilActionFunc func, void *user_data);
void vigil_analysis_state_free(VigilAnalysisState *state);

/* Overrides VIGIL_STATE_FROZEN_US / VIGIL_STATE_OFFLINE_US (for tests). */
void vigil_analysis_state_set_timeouts(VigilAnalysisState *state, int64_t frozen_us,
                                       int64_t offline_us);

void vigil_analysis_state_keyframe(VigilAnalysisState *state, const VigilObservation *obs);

/* The camera's connection: @online false starts the offline clock (and ends
 * running motion at @time_us); true clears camera-offline. @mono_us: the
 * monotonic clock at the same moment. */
void vigil_analysis_state_online(VigilAnalysisState *state, bool online, int64_t time_us,
                                 int64_t mono_us);

/* Called about once a second: raises camera-offline when it is due. */
void vigil_analysis_state_tick(VigilAnalysisState *state, int64_t time_us, int64_t mono_us);

/* Ends running motion at @time_us: motion detection was switched off. */
void vigil_analysis_state_end_motion(VigilAnalysisState *state, int64_t time_us);

/* Ends everything open (motion and alarms) at @time_us: the camera goes away. */
void vigil_analysis_state_finish(VigilAnalysisState *state, int64_t time_us);

/* Whether an alarm is currently raised. */
bool vigil_analysis_state_alarm_active(VigilAnalysisState *state, const char *label);

#ifdef __cplusplus
}
#endif
