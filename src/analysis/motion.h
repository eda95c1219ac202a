/* Motion level between two keyframes: the seed's algorithm with one frame of
 * memory, on packed 8-bit luma. Pure C (arrays in, numbers out): no GLib main
 * loop, GStreamer or SQLite, so it is unit-tested on synthetic frames.
 *
 *   d = |frame - previous|
 *   d = erode(d, 3x3 minimum)           isolated noise pixels vanish
 *   m = mean(d) * 1.5 + 4               per region (whole frame or zone)
 *   d = max(d - m, 0)                   uniform light changes and spread noise vanish
 *   level = RMS(d) / VIGIL_MOTION_SCALE
 *
 * Scale: RMS is taken in 8-bit luma units (0-255) and divided by 50, i.e. the
 * RMS on the 0..1 luma scale times 5.1. The default threshold 0.08 is then an
 * RMS of 4 luma levels: a person walking through (4 % of the frame, 30+
 * levels of contrast) scores 0.09-0.45, sensor noise and lighting changes
 * under 0.004, a small object about 0.03 (calibration in docs/analysis.md,
 * from tests/unit/test-motion.c).
 *
 * A property of the seed's mean-based threshold: a region mostly covered by
 * the change (over about half of it) reads low, like a lighting change. Zones
 * should be clearly larger than what should trigger them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIGIL_MOTION_SCALE 50.0

/* A region in fractions of the frame (0-1). */
typedef struct {
  double x, y, w, h;
} VigilMotionRect;

typedef struct VigilMotion VigilMotion;

VigilMotion *vigil_motion_new(void);
void vigil_motion_free(VigilMotion *motion);

/* Forgets the previous frame (after a reconnect the next frame is a new start). */
void vigil_motion_reset(VigilMotion *motion);

/* Compares @gray (@width x @height, packed, no row padding) with the previous
 * frame and remembers it. levels[0] is the whole frame, levels[1 + i] zone i.
 * Returns false (levels untouched) when there is no previous frame of the
 * same size. *identical (may be NULL) tells a frame equal byte for byte to the
 * previous one; it is only set when true is returned. */
bool vigil_motion_process(VigilMotion *motion, const uint8_t *gray, int width, int height,
                          const VigilMotionRect *zones, int n_zones, double *levels,
                          bool *identical);

/* The computation itself on two frames (@scratch: width*height bytes). */
void vigil_motion_levels(const uint8_t *previous, const uint8_t *frame, int width, int height,
                         const VigilMotionRect *zones, int n_zones, uint8_t *scratch,
                         double *levels);

/* Where the last vigil_motion_process saw change: the bounding box of the
 * 16x16-pixel cells in which at least an eighth of the pixels of the eroded
 * difference are above the whole frame's threshold m (see above), in
 * fractions of the frame. Cells rather than pixels, so that a few stray
 * pixels do not stretch the box. Returns false (box untouched) when no cell
 * changed or no comparison was made. For detection on a crop around the
 * motion (docs/detect.md). */
bool vigil_motion_box(const VigilMotion *motion, VigilMotionRect *box);

/* Mean luma on the 0..1 scale (for the camera-dark alarm). */
double vigil_motion_mean_luma(const uint8_t *gray, int width, int height);

#ifdef __cplusplus
}
#endif
