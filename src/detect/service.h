/* The process's one detector, chosen by the global setting detect.model and
 * shared by every camera's analysis. Configured on the main thread (at start
 * and when the setting changes); workers take a reference to use it, so a
 * model swapped meanwhile is freed only when the last inference ends. */
#pragma once

#include <glib.h>

#include "detect/detect.h"
#include "detect/figures.h"

G_BEGIN_DECLS

/* The model used when detect.model is null. */
#define VIGIL_DETECT_DEFAULT_MODEL "centernet"
/* The input it runs at when detect.input_size is null, fitted to the
 * picture (384x224 for 16:9): 512 is its native size; 384 fitted costs
 * about 38 ms per inference of a 16:9 picture instead of 136 ms at 512x512
 * (162 ms before the outputs were read in place), with person recall on
 * medium and large people within 2 points of 512x512's (bench/RESULTS.md
 * "detect: input size", docs/detect.md). Other
 * models run at the size their .ini gives unless detect.input_size is set. */
#define VIGIL_DETECT_DEFAULT_INPUT_SIZE 384

/* Main thread: opens @model (NULL = the default) from @models_dir, at
 * @input_size x @input_size pixels (0 = the model's default, above). On
 * failure detection is unavailable and the error is kept for the settings
 * API; the daemon goes on without it. */
void vigil_detect_service_configure(const char *model, int input_size, const char *models_dir);
/* Any thread: a reference to the detector, or NULL when unavailable. */
VigilDetector *vigil_detect_service_get(void);
/* Whether a detector is loaded; @error (may be NULL) gets the reason it is
 * not, owned by the service until the next configure. */
gboolean vigil_detect_service_available(const char **error);
/* The square input the loaded model runs at; 0 when none is loaded or its
 * backend takes no input size (hog). */
int vigil_detect_service_input_size(void);

/* Any thread: one inference of any camera's that waited @wait_us from its
 * keyframe's arrival and took @inference_us; for the figures below. */
void vigil_detect_service_record(gint64 wait_us, gint64 inference_us);
/* The scheduling figures of every inference since start (figures.h). */
void vigil_detect_service_figures(VigilDetectSummary *summary);
void vigil_detect_service_shutdown(void);

G_END_DECLS
