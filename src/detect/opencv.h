/* The C face of the one C++ file (opencv.cc): OpenCV's DNN network and HOG
 * person detector, with nothing of C++ or OpenCV's types showing. Errors come
 * back as a malloc'ed message (free()). */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct VigilCvNet VigilCvNet;

/* Loads an ONNX model. NULL with *error set on failure. */
VigilCvNet *vigil_cv_net_load(const char *path, char **error);
void vigil_cv_net_free(VigilCvNet *net);

/* Runs @input (NCHW float, 1 x 3 x h x w) and points @outputs[i] at the
 * outputs named @names[0..n), with their 4 dimensions in @dims[i] (missing
 * leading ones are 1). The arrays belong to @net and stay valid until its
 * next forward pass (one thread uses a net at a time). Returns 0, or -1 with
 * *error. */
int vigil_cv_net_forward(VigilCvNet *net, const float *input, int h, int w,
                         const char *const *names, int n, const float **outputs, int (*dims)[4],
                         char **error);

/* OpenCV's own worker threads per call (global to the process). */
void vigil_cv_set_threads(int n);

typedef struct {
  int x, y, w, h; /* pixels */
  double weight;  /* SVM margin */
} VigilCvRect;

typedef struct VigilCvHog VigilCvHog;
VigilCvHog *vigil_cv_hog_new(void);
void vigil_cv_hog_free(VigilCvHog *hog);
/* People in a packed RGB24 picture: a malloc'ed array of *n rects. */
VigilCvRect *vigil_cv_hog_detect(VigilCvHog *hog, const uint8_t *rgb, int width, int height, int *n,
                                 char **error);

#ifdef __cplusplus
}
#endif
