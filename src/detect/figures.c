/* Detection figures: totals and a ring of the newest inferences (figures.h). */
#include "detect/figures.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
  gint64 time_us;
  float wait_ms, inference_ms;
} Sample;

struct _VigilDetectFigures {
  GMutex lock;
  gint64 started_us;
  guint64 inferences;
  double wait_s_total, inference_s_total;
  Sample ring[VIGIL_DETECT_WINDOW_SAMPLES];
  guint next, count; /* next slot to write; slots in use */
};

VigilDetectFigures *vigil_detect_figures_new(gint64 now_us)
{
  VigilDetectFigures *f = g_new0(VigilDetectFigures, 1);
  g_mutex_init(&f->lock);
  f->started_us = now_us;
  return f;
}

void vigil_detect_figures_free(VigilDetectFigures *f)
{
  if (!f)
    return;
  g_mutex_clear(&f->lock);
  g_free(f);
}

void vigil_detect_figures_record(VigilDetectFigures *f, gint64 now_us, gint64 wait_us,
                                 gint64 inference_us)
{
  wait_us = MAX(wait_us, 0);
  inference_us = MAX(inference_us, 0);
  g_mutex_lock(&f->lock);
  f->inferences++;
  f->wait_s_total += wait_us / 1e6;
  f->inference_s_total += inference_us / 1e6;
  f->ring[f->next] = (Sample){now_us, wait_us / 1e3f, inference_us / 1e3f};
  f->next = (f->next + 1) % VIGIL_DETECT_WINDOW_SAMPLES;
  f->count = MIN(f->count + 1, VIGIL_DETECT_WINDOW_SAMPLES);
  g_mutex_unlock(&f->lock);
}

static int by_value(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

void vigil_detect_figures_summary(VigilDetectFigures *f, gint64 now_us, VigilDetectSummary *out)
{
  const gint64 window_us = (gint64)VIGIL_DETECT_WINDOW_S * G_USEC_PER_SEC;
  g_autofree float *waits = g_new(float, VIGIL_DETECT_WINDOW_SAMPLES);
  double wait_sum = 0, inference_sum = 0;
  guint n = 0;
  *out = (VigilDetectSummary){0};
  g_mutex_lock(&f->lock);
  out->inferences = f->inferences;
  out->wait_s_total = f->wait_s_total;
  out->inference_s_total = f->inference_s_total;
  /* Newest first, until one is older than the window. */
  for (guint i = 0; i < f->count; i++) {
    const Sample *s =
        &f->ring[(f->next + VIGIL_DETECT_WINDOW_SAMPLES - 1 - i) % VIGIL_DETECT_WINDOW_SAMPLES];
    if (now_us - s->time_us >= window_us)
      break;
    waits[n++] = s->wait_ms;
    wait_sum += s->wait_ms;
    inference_sum += s->inference_ms;
  }
  gint64 span_us = CLAMP(now_us - f->started_us, G_USEC_PER_SEC, window_us);
  g_mutex_unlock(&f->lock);

  out->window_inferences = n;
  out->per_second = n / (span_us / 1e6);
  if (n == 0)
    return;
  out->wait_ms_mean = wait_sum / n;
  out->inference_ms_mean = inference_sum / n;
  /* Nearest rank: the smallest wait that 95 % of them do not exceed. */
  qsort(waits, n, sizeof *waits, by_value);
  guint rank = (guint)ceil(0.95 * n);
  out->wait_ms_p95 = waits[MAX(rank, 1) - 1];
}
