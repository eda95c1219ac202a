/* The shared detector (see service.h). */
#define G_LOG_DOMAIN "vigil-detect"

#include "detect/service.h"

static VigilDetectFigures *figures(void);

static GMutex lock;
static VigilDetector *current;
static gchar *current_error;
static int current_input_size;

void vigil_detect_service_configure(const char *model, int input_size, const char *models_dir)
{
  const char *name = model ? model : VIGIL_DETECT_DEFAULT_MODEL;
  if (input_size == 0 && g_str_equal(name, VIGIL_DETECT_DEFAULT_MODEL))
    input_size = VIGIL_DETECT_DEFAULT_INPUT_SIZE;
  figures(); /* the rate's window starts with the daemon */
  g_autoptr(GError) error = NULL;
  VigilDetector *det = vigil_detector_open_sized(name, models_dir, input_size, &error);
  int w = 0, h = 0;
  if (det && g_str_equal(vigil_detector_backend(det), "dnn"))
    vigil_detector_input_size(det, &w, &h);
  if (!det)
    g_warning("object detection unavailable: %s", error->message);
  g_mutex_lock(&lock);
  VigilDetector *old = current;
  current = det;
  current_input_size = w == h ? w : 0;
  g_free(current_error);
  current_error = det ? NULL : g_strdup(error->message);
  g_mutex_unlock(&lock);
  g_clear_pointer(&old, vigil_detector_unref);
}

VigilDetector *vigil_detect_service_get(void)
{
  g_mutex_lock(&lock);
  VigilDetector *det = current ? vigil_detector_ref(current) : NULL;
  g_mutex_unlock(&lock);
  return det;
}

gboolean vigil_detect_service_available(const char **error)
{
  g_mutex_lock(&lock);
  gboolean ok = current != NULL;
  if (error)
    *error = current_error;
  g_mutex_unlock(&lock);
  return ok;
}

int vigil_detect_service_input_size(void)
{
  g_mutex_lock(&lock);
  int size = current ? current_input_size : 0;
  g_mutex_unlock(&lock);
  return size;
}

static VigilDetectFigures *figures(void)
{
  static VigilDetectFigures *f;
  if (g_once_init_enter(&f))
    g_once_init_leave(&f, vigil_detect_figures_new(g_get_monotonic_time()));
  return f;
}

void vigil_detect_service_record(gint64 wait_us, gint64 inference_us)
{
  vigil_detect_figures_record(figures(), g_get_monotonic_time(), wait_us, inference_us);
}

void vigil_detect_service_figures(VigilDetectSummary *summary)
{
  vigil_detect_figures_summary(figures(), g_get_monotonic_time(), summary);
}

void vigil_detect_service_shutdown(void)
{
  g_mutex_lock(&lock);
  VigilDetector *old = g_steal_pointer(&current);
  g_clear_pointer(&current_error, g_free);
  g_mutex_unlock(&lock);
  g_clear_pointer(&old, vigil_detector_unref);
}
