/* Inference time of a detector on one picture: opens MODEL from MODELS_DIR
 * (as the daemon does), runs it N times on a raw RGB24 picture after two
 * warm-up runs, prints the median, min and max in ms and what it found.
 * OpenCV's thread count comes from VIGIL_DETECT_THREADS (default 1).
 *
 * Usage: detect-bench MODELS_DIR MODEL PICTURE.rgb WIDTH HEIGHT N */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "detect/detect.h"

/* CPU time of the whole process (OpenCV's threads included), in ms: what an
 * inference costs whatever else the machine is doing. */
static double cpu_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  if (argc != 7) {
    fprintf(stderr, "usage: %s MODELS_DIR MODEL PICTURE.rgb WIDTH HEIGHT N\n", argv[0]);
    return 2;
  }
  int w = atoi(argv[4]), h = atoi(argv[5]), n = atoi(argv[6]);
  g_autoptr(GError) error = NULL;
  gchar *rgb = NULL;
  gsize len = 0;
  if (!g_file_get_contents(argv[3], &rgb, &len, &error) || len != (gsize)w * h * 3) {
    fprintf(stderr, "%s: not a %dx%d RGB24 picture\n", argv[3], w, h);
    return 1;
  }
  g_autoptr(VigilDetector) det = vigil_detector_open(argv[2], argv[1], &error);
  if (!det) {
    fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  VigilRgbImage img = {(const guint8 *)rgb, w, h};
  double *ms = g_new(double, n), *cpu = g_new(double, n);
  GArray *found = NULL;
  for (int i = -2; i < n; i++) {
    gint64 t0 = g_get_monotonic_time();
    double c0 = cpu_ms();
    GArray *out = vigil_detector_detect(det, &img, &error);
    if (!out) {
      fprintf(stderr, "%s\n", error->message);
      return 1;
    }
    if (i >= 0) {
      ms[i] = (g_get_monotonic_time() - t0) / 1000.0;
      cpu[i] = cpu_ms() - c0;
    }
    if (found)
      g_array_unref(found);
    found = out;
  }
  qsort(ms, n, sizeof(double), cmp);
  qsort(cpu, n, sizeof(double), cmp);
  printf("{\"median_ms\": %.1f, \"min_ms\": %.1f, \"max_ms\": %.1f, \"cpu_ms\": %.1f, "
         "\"n\": %d, \"found\": [",
         ms[n / 2], ms[0], ms[n - 1], cpu[n / 2], n);
  for (guint i = 0; i < found->len; i++) {
    VigilDetection *d = &g_array_index(found, VigilDetection, i);
    printf("%s{\"label\": \"%s\", \"score\": %.3f}", i ? ", " : "", d->label, d->score);
  }
  printf("]}\n");
  g_array_unref(found);
  g_free(ms);
  g_free(cpu);
  g_free(rgb);
  return 0;
}
