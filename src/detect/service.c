/* The shared detector (see service.h). */
#define G_LOG_DOMAIN "vigil-detect"

#include "detect/service.h"

static GMutex lock;
static VigilDetector *current;
static gchar *current_error;

void vigil_detect_service_configure(const char *model, const char *models_dir)
{
  const char *name = model ? model : VIGIL_DETECT_DEFAULT_MODEL;
  g_autoptr(GError) error = NULL;
  VigilDetector *det = vigil_detector_open(name, models_dir, &error);
  if (!det)
    g_warning("object detection unavailable: %s", error->message);
  g_mutex_lock(&lock);
  VigilDetector *old = current;
  current = det;
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

void vigil_detect_service_shutdown(void)
{
  g_mutex_lock(&lock);
  VigilDetector *old = g_steal_pointer(&current);
  g_clear_pointer(&current_error, g_free);
  g_mutex_unlock(&lock);
  g_clear_pointer(&old, vigil_detector_unref);
}
