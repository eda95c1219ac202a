/* VigilDetector: picks the backend for a model name, keeps a small pool of
 * backend instances so that several worker threads can detect at once, and
 * the COCO class names. See detect.h. */
#define G_LOG_DOMAIN "vigil-detect"

#include "detect/detect.h"

#include <string.h>

#include "core/error.h"

static const char *const coco[VIGIL_COCO_CLASSES] = {
    "person",        "bicycle",      "car",
    "motorcycle",    "airplane",     "bus",
    "train",         "truck",        "boat",
    "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench",        "bird",
    "cat",           "dog",          "horse",
    "sheep",         "cow",          "elephant",
    "bear",          "zebra",        "giraffe",
    "backpack",      "umbrella",     "handbag",
    "tie",           "suitcase",     "frisbee",
    "skis",          "snowboard",    "sports ball",
    "kite",          "baseball bat", "baseball glove",
    "skateboard",    "surfboard",    "tennis racket",
    "bottle",        "wine glass",   "cup",
    "fork",          "knife",        "spoon",
    "bowl",          "banana",       "apple",
    "sandwich",      "orange",       "broccoli",
    "carrot",        "hot dog",      "pizza",
    "donut",         "cake",         "chair",
    "couch",         "potted plant", "bed",
    "dining table",  "toilet",       "tv",
    "laptop",        "mouse",        "remote",
    "keyboard",      "cell phone",   "microwave",
    "oven",          "toaster",      "sink",
    "refrigerator",  "book",         "clock",
    "vase",          "scissors",     "teddy bear",
    "hair drier",    "toothbrush",
};

const char *vigil_coco_label(int class_id)
{
  return class_id >= 0 && class_id < VIGIL_COCO_CLASSES ? coco[class_id] : NULL;
}

int vigil_coco_class(const char *label)
{
  for (int i = 0; label && i < VIGIL_COCO_CLASSES; i++)
    if (g_str_equal(coco[i], label))
      return i;
  return -1;
}

struct _VigilDetector {
  gint refs;
  const VigilDetectorBackend *backend;
  gchar *path;
  int input_size; /* asked of the backend; 0 = the model's own */
  int input_width, input_height;
  /* Idle instances; at most max_instances exist. */
  GMutex lock;
  GCond cond;
  GPtrArray *idle;
  guint instances, max_instances;
};

VigilDetector *vigil_detector_open(const char *name, const char *models_dir, GError **error)
{
  return vigil_detector_open_sized(name, models_dir, 0, error);
}

VigilDetector *vigil_detector_open_sized(const char *name, const char *models_dir, int input_size,
                                         GError **error)
{
  g_return_val_if_fail(name != NULL, NULL);
  g_return_val_if_fail(input_size >= 0, NULL);
  if (g_str_equal(name, "hog"))
    return vigil_detector_open_backend(&vigil_detector_hog, NULL, 0, error);
  g_autofree gchar *file = g_strconcat(name, ".onnx", NULL);
  g_autofree gchar *path = g_build_filename(models_dir ? models_dir : ".", file, NULL);
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND,
                "model file %s not found (make model creates it)", path);
    return NULL;
  }
  return vigil_detector_open_backend(&vigil_detector_dnn, path, input_size, error);
}

VigilDetector *vigil_detector_open_backend(const VigilDetectorBackend *backend, const char *path,
                                           int input_size, GError **error)
{
  g_return_val_if_fail(backend != NULL, NULL);
  /* The first instance now, so a broken model fails here, not per frame. */
  gpointer first = backend->open(path, input_size, error);
  if (!first)
    return NULL;
  VigilDetector *self = g_new0(VigilDetector, 1);
  self->refs = 1;
  self->backend = backend;
  self->path = g_strdup(path);
  self->input_size = input_size;
  g_mutex_init(&self->lock);
  g_cond_init(&self->cond);
  self->idle = g_ptr_array_new();
  g_ptr_array_add(self->idle, first);
  self->instances = 1;
  self->max_instances = MAX(1, g_get_num_processors());
  if (backend->input_size)
    backend->input_size(first, &self->input_width, &self->input_height);
  g_info("detector: %s backend%s%s, input %dx%d", backend->name, self->path ? " " : "",
         self->path ? self->path : "", self->input_width, self->input_height);
  return self;
}

VigilDetector *vigil_detector_ref(VigilDetector *self)
{
  g_atomic_int_inc(&self->refs);
  return self;
}

void vigil_detector_unref(VigilDetector *self)
{
  if (!self || !g_atomic_int_dec_and_test(&self->refs))
    return;
  /* No caller holds an instance any more: every one is idle. */
  for (guint i = 0; i < self->idle->len; i++)
    self->backend->close(self->idle->pdata[i]);
  g_ptr_array_unref(self->idle);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->cond);
  g_free(self->path);
  g_free(self);
}

const char *vigil_detector_backend(VigilDetector *self)
{
  return self->backend->name;
}

void vigil_detector_input_size(VigilDetector *self, int *width, int *height)
{
  *width = self->input_width;
  *height = self->input_height;
}

GArray *vigil_detector_detect(VigilDetector *self, const VigilRgbImage *image, GError **error)
{
  gpointer inst = NULL;
  g_mutex_lock(&self->lock);
  while (!inst) {
    if (self->idle->len > 0) {
      inst = g_ptr_array_steal_index_fast(self->idle, self->idle->len - 1);
    } else if (self->instances < self->max_instances) {
      self->instances++;
      g_mutex_unlock(&self->lock);
      inst = self->backend->open(self->path, self->input_size, error);
      g_mutex_lock(&self->lock);
      if (!inst) {
        self->instances--;
        g_mutex_unlock(&self->lock);
        return NULL;
      }
    } else {
      g_cond_wait(&self->cond, &self->lock);
    }
  }
  g_mutex_unlock(&self->lock);

  GArray *out = g_array_new(FALSE, FALSE, sizeof(VigilDetection));
  gboolean ok = self->backend->detect(inst, image, out, error);

  g_mutex_lock(&self->lock);
  g_ptr_array_add(self->idle, inst);
  g_cond_signal(&self->cond);
  g_mutex_unlock(&self->lock);
  if (!ok)
    g_clear_pointer(&out, g_array_unref);
  return out;
}

void vigil_detections_filter(GArray *dets, const char *const *classes, double min_score)
{
  guint kept = 0;
  for (guint i = 0; i < dets->len; i++) {
    VigilDetection *d = &g_array_index(dets, VigilDetection, i);
    gboolean keep = d->score >= min_score && d->label;
    if (keep && classes && classes[0])
      keep = g_strv_contains(classes, d->label);
    if (keep)
      g_array_index(dets, VigilDetection, kept++) = *d;
  }
  g_array_set_size(dets, kept);
}
