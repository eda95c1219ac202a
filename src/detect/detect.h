/* The detect/ folder's door: object detection as one small interface (open
 * a model, detect objects in an RGB picture, close) over a backend vtable,
 * the COCO class names, and filtering of what was found. detector.c picks
 * the backend for a model name; backends.c has the two real ones, over
 * OpenCV's C face (opencv.h):
 *
 * - "dnn":  an ONNX model run by OpenCV's DNN module, with letterboxing,
 *           normalisation and box decoding in pure C (prepost.h);
 * - "hog":  OpenCV's built-in HOG + linear SVM person detector: needs no
 *           download, finds upright people only.
 * The unit tests plug in doubles (vigil_detector_open_backend); the
 * process's one shared detector is service.h's.
 *
 * A VigilDetector may be used from several threads at once: it keeps one
 * backend instance per concurrent caller (up to the number of cores), since
 * an OpenCV network is not re-entrant. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VIGIL_COCO_CLASSES 80

/* One detected object. The box is in fractions of the picture (0..1). */
typedef struct {
  int class_id;      /* COCO index, or -1 */
  const char *label; /* static string ("person") */
  float score;       /* 0..1 */
  float x, y, w, h;
} VigilDetection;

/* A packed RGB24 picture (stride = width * 3). */
typedef struct {
  const guint8 *rgb;
  int width, height;
} VigilRgbImage;

/* The COCO class name of @class_id, or NULL. */
const char *vigil_coco_label(int class_id);
/* The COCO index of @label, or -1. */
int vigil_coco_class(const char *label);

/* A backend: the vtable behind VigilDetector. @open returns the instance
 * state (NULL with @error), its model input @input_size pixels square (0:
 * the model's own size; backends without a model input ignore it);
 * @detect appends VigilDetection to @out. */
typedef struct {
  const char *name;
  gpointer (*open)(const char *path, int input_size, GError **error);
  void (*input_size)(gpointer instance, int *width, int *height);
  gboolean (*detect)(gpointer instance, const VigilRgbImage *image, GArray *out, GError **error);
  void (*close)(gpointer instance);
} VigilDetectorBackend;

extern const VigilDetectorBackend vigil_detector_hog;
extern const VigilDetectorBackend vigil_detector_dnn;

typedef struct _VigilDetector VigilDetector;

/* Opens the model @name: "hog", or NAME for the ONNX model
 * @models_dir/NAME.onnx (with its NAME.onnx.ini description, see prepost.h).
 * Fails with a message a user understands (missing file, unreadable model). */
VigilDetector *vigil_detector_open(const char *name, const char *models_dir, GError **error);
/* The same with the model run at an @input_size x @input_size input instead
 * of the size its .ini gives (0: that size): CenterNet is fully
 * convolutional, and a smaller input is quadratically cheaper. */
VigilDetector *vigil_detector_open_sized(const char *name, const char *models_dir, int input_size,
                                         GError **error);
/* The same over any @backend (the unit tests' doubles); @path and
 * @input_size go to its open. */
VigilDetector *vigil_detector_open_backend(const VigilDetectorBackend *backend, const char *path,
                                           int input_size, GError **error);
VigilDetector *vigil_detector_ref(VigilDetector *detector);
void vigil_detector_unref(VigilDetector *detector);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDetector, vigil_detector_unref)

/* The backend's name ("dnn", "hog"). */
const char *vigil_detector_backend(VigilDetector *detector);
/* The picture size the model wants (aspect kept inside it); 0 = any. */
void vigil_detector_input_size(VigilDetector *detector, int *width, int *height);

/* Any thread: every object found, best first, not yet filtered by class or
 * score beyond the backend's own floor. GArray of VigilDetection. */
GArray *vigil_detector_detect(VigilDetector *detector, const VigilRgbImage *image, GError **error);

/* Keeps the detections whose label is in @classes (NULL or empty = all) and
 * whose score is at least @min_score. In place. */
void vigil_detections_filter(GArray *detections, const char *const *classes, double min_score);

/* Intersection over union of two boxes. */
double vigil_box_iou(const VigilDetection *a, const VigilDetection *b);

G_END_DECLS
