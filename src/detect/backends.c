/* The OpenCV backends of VigilDetector: "dnn" (an ONNX model, with the pre-
 * and post-processing of prepost.c) and "hog" (OpenCV's people detector). */
#define G_LOG_DOMAIN "vigil-detect"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "detect/detect.h"
#include "detect/opencv.h"
#include "detect/prepost.h"

/* Overlapping boxes of one class above this IoU are one object. */
#define NMS_IOU 0.5

static void take_cv_error(GError **error, const char *what, char *msg)
{
  g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "%s: %s", what,
              msg ? msg : "unknown OpenCV error");
  free(msg);
}

/* OpenCV's own threads: one per inference by default. The worker pool runs
 * one inference per core already, so more would only contend; a benchmark
 * sets VIGIL_DETECT_THREADS to compare. */
static void set_threads_once(void)
{
  static gsize done;
  if (g_once_init_enter(&done)) {
    const char *env = g_getenv("VIGIL_DETECT_THREADS");
    int n = env ? atoi(env) : 1;
    vigil_cv_set_threads(MAX(n, 1));
    g_once_init_leave(&done, 1);
  }
}

/* --- dnn --- */

typedef struct {
  VigilCvNet *net;
  VigilModelSpec *spec;
  float *input;
} Dnn;

static void dnn_close(gpointer data)
{
  Dnn *d = data;
  vigil_cv_net_free(d->net);
  vigil_model_spec_free(d->spec);
  g_free(d->input);
  g_free(d);
}

static gpointer dnn_open(const char *path, int input_size, GError **error)
{
  set_threads_once();
  g_autofree gchar *ini = g_strconcat(path, ".ini", NULL);
  g_autoptr(VigilModelSpec) spec = vigil_model_spec_load(ini, error);
  if (!spec || (input_size > 0 && !vigil_model_spec_set_input_size(spec, input_size, error)))
    return NULL;
  char *msg = NULL;
  VigilCvNet *net = vigil_cv_net_load(path, &msg);
  if (!net) {
    take_cv_error(error, path, msg);
    return NULL;
  }
  Dnn *d = g_new0(Dnn, 1);
  d->net = net;
  d->input = g_new(float, (gsize)3 * spec->input_width * spec->input_height);
  d->spec = g_steal_pointer(&spec);
  return d;
}

static void dnn_input_size(gpointer data, int *w, int *h)
{
  Dnn *d = data;
  *w = d->spec->input_width;
  *h = d->spec->input_height;
}

static gboolean dnn_detect(gpointer data, const VigilRgbImage *image, GArray *out, GError **error)
{
  Dnn *d = data;
  const VigilModelSpec *s = d->spec;
  VigilLetterbox lb;
  int W, H;
  vigil_model_input_for(s, image->width, image->height, &W, &H);
  vigil_letterbox(image, s, W, H, d->input, &lb);
  const char *names[2] = {s->heatmap_name, s->boxes_name};
  const float *outs[2] = {NULL, NULL};
  int dims[2][4];
  char *msg = NULL;
  if (vigil_cv_net_forward(d->net, d->input, H, W, names, 2, outs, dims, &msg) != 0) {
    take_cv_error(error, "inference", msg);
    return FALSE;
  }
  gboolean ok = dims[1][1] == 4 && dims[0][2] == dims[1][2] && dims[0][3] == dims[1][3] &&
                dims[0][1] <= VIGIL_COCO_CLASSES;
  /* The grid is what this forward pass made (input / stride), not what the
   * .ini's native size would give; one that does not cover the input means
   * the model does not run at this size, and its boxes would be off. */
  gboolean grid = dims[0][2] * s->stride == H && dims[0][3] * s->stride == W;
  if (!ok) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED,
                "model outputs %dx%dx%d and %dx%dx%d do not fit the centernet decoder", dims[0][1],
                dims[0][2], dims[0][3], dims[1][1], dims[1][2], dims[1][3]);
  } else if (!grid) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED,
                "model output grid %dx%d does not cover its %dx%d input at stride %d (does the "
                "model run at this input size?)",
                dims[0][3], dims[0][2], W, H, s->stride);
    ok = FALSE;
  } else {
    vigil_centernet_decode(outs[0], outs[1], dims[0][1], dims[0][2], dims[0][3], s->stride,
                           s->min_score, &lb, out);
    vigil_nms(out, NMS_IOU);
  }
  return ok;
}

const VigilDetectorBackend vigil_detector_dnn = {
    .name = "dnn",
    .open = dnn_open,
    .input_size = dnn_input_size,
    .detect = dnn_detect,
    .close = dnn_close,
};

/* --- hog --- */

static gpointer hog_open(const char *path, int input_size, GError **error)
{
  set_threads_once();
  return vigil_cv_hog_new();
}

static void hog_input_size(gpointer data, int *w, int *h)
{
  /* People of 128 px and more in a 640 px picture: what the default 64x128
   * window finds without upscaling. */
  *w = 640;
  *h = 640;
}

static gboolean hog_detect(gpointer data, const VigilRgbImage *image, GArray *out, GError **error)
{
  int n = 0;
  char *msg = NULL;
  VigilCvRect *r = vigil_cv_hog_detect(data, image->rgb, image->width, image->height, &n, &msg);
  if (!r) {
    take_cv_error(error, "HOG", msg);
    return FALSE;
  }
  for (int i = 0; i < n; i++) {
    /* The SVM margin as a 0..1 score: 0 at the decision boundary, 0.63 at a
     * margin of 1, 0.86 at 2. */
    float score = (float)(1.0 - exp(-MAX(r[i].weight, 0.0)));
    double x = CLAMP(r[i].x, 0, image->width), y = CLAMP(r[i].y, 0, image->height);
    double x2 = CLAMP(r[i].x + r[i].w, 0, image->width);
    double y2 = CLAMP(r[i].y + r[i].h, 0, image->height);
    VigilDetection d = {.class_id = 0,
                        .label = "person",
                        .score = score,
                        .x = (float)(x / image->width),
                        .y = (float)(y / image->height),
                        .w = (float)((x2 - x) / image->width),
                        .h = (float)((y2 - y) / image->height)};
    g_array_append_val(out, d);
  }
  free(r);
  vigil_nms(out, NMS_IOU);
  return TRUE;
}

const VigilDetectorBackend vigil_detector_hog = {
    .name = "hog",
    .open = hog_open,
    .input_size = hog_input_size,
    .detect = hog_detect,
    .close = (void (*)(gpointer))vigil_cv_hog_free,
};
