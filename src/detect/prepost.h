/* Pre- and post-processing of the ONNX detector, pure C (no OpenCV), so it
 * is unit-tested on synthetic data and on a tiny model with planted outputs:
 * letterboxing an RGB picture into the model's input, normalising it into a
 * float NCHW tensor, decoding the model's output maps into boxes, and
 * non-maximum suppression.
 *
 * A model is described by a small key file next to it (NAME.onnx.ini):
 *
 *   [model]
 *   decoder=centernet          # the only decoder so far
 *   input_width=512
 *   input_height=512
 *   channels=rgb               # or bgr
 *   mean=0;0;0                 # per channel, subtracted first
 *   scale=1;1;1                # then multiplied
 *   stride=4                   # input pixels per output cell
 *   fit=32                     # see below (default 32; 0 = always the whole input)
 *   heatmap=heatmap            # output names
 *   boxes=wh
 *   labels=coco                # class index = COCO index
 *   min_score=0.3              # floor below which nothing is reported
 *
 * fit: a fully convolutional model runs at any input whose sides are
 * multiples of its total downsampling (32 for CenterNet's backbone). With
 * fit=N, a picture is scaled to fit the input_width x input_height box and
 * the input is that size rounded up to multiples of N, not the whole box:
 * a 16:9 camera picture in a 384x384 model runs at 384x224 (about 0.6 of the
 * cost, the same pixels of picture; the rest would be black borders). */
#pragma once

#include <glib.h>

#include "detect/detect.h"

G_BEGIN_DECLS

typedef struct {
  gchar *decoder;
  int input_width, input_height;
  gboolean bgr;
  float mean[3], scale[3];
  int stride;
  int fit; /* 0: the input is always input_width x input_height */
  gchar *heatmap_name, *boxes_name;
  float min_score;
} VigilModelSpec;

/* Reads @path (the .ini). */
VigilModelSpec *vigil_model_spec_load(const char *path, GError **error);
/* The same from the file's text (@length bytes, or -1 if NUL-terminated);
 * @path only names it in messages. */
VigilModelSpec *vigil_model_spec_parse(const char *text, gsize length, const char *path,
                                       GError **error);
void vigil_model_spec_free(VigilModelSpec *spec);
/* Runs the model at a @size x @size input instead of the .ini's size (the
 * model's native one): fully convolutional models take other sizes, with an
 * output grid of size / stride. @size must be 8-4096 and a multiple of the
 * stride, else FALSE with @error and @spec unchanged. */
gboolean vigil_model_spec_set_input_size(VigilModelSpec *spec, int size, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilModelSpec, vigil_model_spec_free)

/* Where a picture went in the model input: scaled by @scale, then placed at
 * (@pad_x, @pad_y). */
typedef struct {
  double scale;
  int pad_x, pad_y;
  int src_width, src_height;
} VigilLetterbox;

/* The input size for a @width x @height picture: the spec's, or with
 * spec->fit the picture's scaled size rounded up to multiples of fit
 * (never more than the spec's). */
void vigil_model_input_for(const VigilModelSpec *spec, int width, int height, int *input_width,
                           int *input_height);

/* Letterboxes @image into an @input_width x @input_height input (aspect
 * kept, centred, bilinear, borders black), normalises each channel ((v -
 * mean) * scale, in the spec's channel order) and writes NCHW floats into
 * @out (3*w*h). */
void vigil_letterbox(const VigilRgbImage *image, const VigilModelSpec *spec, int input_width,
                     int input_height, float *out, VigilLetterbox *box);

/* CenterNet decoding. @heatmap: [classes][gh][gw] scores (after sigmoid);
 * @edges: [4][gh][gw] distances in input pixels from the cell's centre point
 * (stride * cell) to the left, top, right and bottom edges. A cell is an
 * object when its score is at least @min_score and the largest in its 3x3
 * neighbourhood of that class. Boxes are mapped back through @lb to fractions
 * of the original picture and clipped. Appends VigilDetection to @out. */
void vigil_centernet_decode(const float *heatmap, const float *edges, int classes, int gh, int gw,
                            int stride, float min_score, const VigilLetterbox *lb, GArray *out);

/* Greedy non-maximum suppression per class: sorts @dets by score (best
 * first) and drops every box overlapping a better one of its class by more
 * than @iou. In place. */
void vigil_nms(GArray *dets, double iou);

G_END_DECLS
