/* The process's one detector, chosen by the global setting detect.model and
 * shared by every camera's analysis. Configured on the main thread (at start
 * and when the setting changes); workers take a reference to use it, so a
 * model swapped meanwhile is freed only when the last inference ends. */
#pragma once

#include <glib.h>

#include "detect/detect.h"

G_BEGIN_DECLS

/* The model used when detect.model is null. */
#define VIGIL_DETECT_DEFAULT_MODEL "centernet"

/* Main thread: opens @model (NULL = the default) from @models_dir. On
 * failure detection is unavailable and the error is kept for the settings
 * API; the daemon goes on without it. */
void vigil_detect_service_configure(const char *model, const char *models_dir);
/* Any thread: a reference to the detector, or NULL when unavailable. */
VigilDetector *vigil_detect_service_get(void);
/* Whether a detector is loaded; @error (may be NULL) gets the reason it is
 * not, owned by the service until the next configure. */
gboolean vigil_detect_service_available(const char **error);
void vigil_detect_service_shutdown(void);

G_END_DECLS
