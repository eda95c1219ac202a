/* Scheduling figures of object detection: how many inferences ran, how long
 * each waited (keyframe arrival to the start of its detection) and took;
 * totals since start, and over the last minute the rate, the means and the
 * 95th percentile of the wait. Bookkeeping only, with the clock passed in,
 * so the unit tests drive it with made-up times; its own lock, so any
 * worker thread may record. The process's one instance is service.h's. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The window of the "last minute" figures... */
#define VIGIL_DETECT_WINDOW_S 60
/* ... holding at most this many inferences (the newest): 68 per second. */
#define VIGIL_DETECT_WINDOW_SAMPLES 4096

typedef struct {
  guint64 inferences;       /* since start */
  double wait_s_total;      /* their queue waits, summed */
  double inference_s_total; /* their inference times, summed */
  /* The last VIGIL_DETECT_WINDOW_S seconds (less just after start); the
   * means and the percentile are 0 when no inference ran in it. */
  guint window_inferences;
  double per_second;
  double wait_ms_mean, wait_ms_p95;
  double inference_ms_mean;
} VigilDetectSummary;

typedef struct _VigilDetectFigures VigilDetectFigures;

/* @now_us: the monotonic clock at start (the rate's window begins there). */
VigilDetectFigures *vigil_detect_figures_new(gint64 now_us);
void vigil_detect_figures_free(VigilDetectFigures *figures);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDetectFigures, vigil_detect_figures_free)

/* One inference that started at @now_us after waiting @wait_us and took
 * @inference_us. */
void vigil_detect_figures_record(VigilDetectFigures *figures, gint64 now_us, gint64 wait_us,
                                 gint64 inference_us);
void vigil_detect_figures_summary(VigilDetectFigures *figures, gint64 now_us,
                                  VigilDetectSummary *summary);

G_END_DECLS
