/* Detections on many pictures, for the evaluation set (tests/detect-eval):
 * opens MODEL from MODELS_DIR as the daemon does and runs it once on each
 * picture of a list, printing everything the detector returns (its own
 * score floor, no class filter) as JSON, boxes in fractions of the picture.
 *
 * Each line of LIST: NAME PATH WIDTH HEIGHT [X Y W H], PATH a raw RGB24
 * picture of WIDTH x HEIGHT. With X Y W H (pixels), only that crop of the
 * picture is given to the detector and its boxes are mapped back to
 * fractions of the whole picture (the crop gain of bench/detect/eval.py).
 * OpenCV's thread count comes from VIGIL_DETECT_THREADS (default 1).
 * INPUT_SIZE runs the model at that size as detect.input_size does;
 * "default" is the daemon's default (VIGIL_DETECT_DEFAULT_INPUT_SIZE), 0 or
 * none the .ini's size.
 *
 * Usage: detect-eval MODELS_DIR MODEL LIST [INPUT_SIZE] */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "detect/service.h"

typedef struct {
  char *name, *path;
  int width, height;
  int cx, cy, cw, ch; /* the crop, or the whole picture */
} Picture;

static gboolean parse_line(const char *line, Picture *p)
{
  g_autofree gchar *copy = g_strstrip(g_strdup(line));
  g_auto(GStrv) f = g_strsplit_set(copy, " \t", -1);
  g_autoptr(GPtrArray) words = g_ptr_array_new();
  for (char **w = f; *w; w++)
    if (**w)
      g_ptr_array_add(words, *w);
  if (words->len != 4 && words->len != 8)
    return FALSE;
  char **w = (char **)words->pdata;
  p->name = g_strdup(w[0]);
  p->path = g_strdup(w[1]);
  p->width = atoi(w[2]);
  p->height = atoi(w[3]);
  p->cx = 0, p->cy = 0, p->cw = p->width, p->ch = p->height;
  if (words->len == 8)
    p->cx = atoi(w[4]), p->cy = atoi(w[5]), p->cw = atoi(w[6]), p->ch = atoi(w[7]);
  return p->width > 0 && p->height > 0 && p->cx >= 0 && p->cy >= 0 && p->cw > 0 && p->ch > 0 &&
         p->cx + p->cw <= p->width && p->cy + p->ch <= p->height;
}

/* Runs @det on @p's picture (or its crop); prints its JSON entry. */
static gboolean detect_one(VigilDetector *det, const Picture *p, gboolean first, GError **error)
{
  g_autofree gchar *rgb = NULL;
  gsize len = 0;
  if (!g_file_get_contents(p->path, &rgb, &len, error))
    return FALSE;
  if (len != (gsize)p->width * p->height * 3) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a %dx%d RGB24 picture", p->path,
                p->width, p->height);
    return FALSE;
  }
  g_autofree guint8 *crop = g_malloc((gsize)p->cw * p->ch * 3);
  for (int y = 0; y < p->ch; y++)
    memcpy(crop + (gsize)y * p->cw * 3, rgb + ((gsize)(p->cy + y) * p->width + p->cx) * 3,
           (gsize)p->cw * 3);
  VigilRgbImage img = {crop, p->cw, p->ch};
  GArray *found = vigil_detector_detect(det, &img, error);
  if (!found)
    return FALSE;
  printf("%s\"%s\": [", first ? "" : ",\n", p->name);
  for (guint i = 0; i < found->len; i++) {
    VigilDetection *d = &g_array_index(found, VigilDetection, i);
    double x = (p->cx + d->x * p->cw) / p->width, y = (p->cy + d->y * p->ch) / p->height;
    double w = d->w * p->cw / p->width, h = d->h * p->ch / p->height;
    printf("%s{\"label\": \"%s\", \"score\": %.4f, \"x\": %.5f, \"y\": %.5f, \"w\": %.5f, "
           "\"h\": %.5f}",
           i ? ", " : "", d->label ? d->label : "?", d->score, x, y, w, h);
  }
  printf("]");
  g_array_unref(found);
  return TRUE;
}

int main(int argc, char **argv)
{
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s MODELS_DIR MODEL LIST [INPUT_SIZE|default]\n", argv[0]);
    return 2;
  }
  int input_size = argc < 5                          ? 0
                   : g_str_equal(argv[4], "default") ? VIGIL_DETECT_DEFAULT_INPUT_SIZE
                                                     : atoi(argv[4]);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *list = NULL;
  if (!g_file_get_contents(argv[3], &list, NULL, &error)) {
    fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  g_autoptr(VigilDetector) det = vigil_detector_open_sized(argv[2], argv[1], input_size, &error);
  if (!det) {
    fprintf(stderr, "%s\n", error->message);
    return 1;
  }
  g_auto(GStrv) lines = g_strsplit(list, "\n", -1);
  gboolean first = TRUE;
  printf("{");
  for (char **line = lines; *line; line++) {
    if (!**line || **line == '#')
      continue;
    Picture p = {0};
    if (!parse_line(*line, &p)) {
      fprintf(stderr, "%s: bad line: %s\n", argv[3], *line);
      return 1;
    }
    gboolean ok = detect_one(det, &p, first, &error);
    g_free(p.name);
    g_free(p.path);
    if (!ok) {
      fprintf(stderr, "%s\n", error->message);
      return 1;
    }
    first = FALSE;
  }
  printf("}\n");
  return 0;
}
