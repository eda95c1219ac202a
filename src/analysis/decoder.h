/* Keyframe decoding with libavcodec: a keyframe access unit (Annex B with its
 * parameter sets in front, as the ingest delivers it) in, a small packed GRAY8
 * picture (no row padding, as motion.c and zbar want it) or a JPEG out.
 *
 * libavcodec directly rather than a GStreamer pipeline: each keyframe is sent
 * and its picture taken at once (the decoder drained when it would hold it),
 * so the picture comes out with no reorder delay (a B-frame stream would
 * otherwise hold it until the next keyframe, a whole GOP later), and nothing
 * else runs per frame. Not thread-safe: one VigilDecoder per camera, used by
 * one thread at a time. */
#pragma once

#include <glib.h>

#include "core/media.h"

G_BEGIN_DECLS

/* Analysis pictures are at most this wide (aspect kept). */
#define VIGIL_ANALYSIS_WIDTH 640

typedef struct _VigilDecoder VigilDecoder;

VigilDecoder *vigil_decoder_new(VigilCodec codec, GError **error);
void vigil_decoder_free(VigilDecoder *decoder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDecoder, vigil_decoder_free)

VigilCodec vigil_decoder_get_codec(VigilDecoder *decoder);
/* The size of the last picture decoded (0 x 0 before the first). */
void vigil_decoder_get_size(VigilDecoder *decoder, int *width, int *height);

/* Decodes the keyframe @data and scales its luma to at most @max_width wide.
 * Returns the packed picture and its size; NULL with @error when the data does
 * not decode. The picture belongs to @decoder and stays valid until its next
 * decode_gray or its free: one buffer per decoder, not one per keyframe. */
const guint8 *vigil_decoder_decode_gray(VigilDecoder *decoder, const guint8 *data, gsize size,
                                        int max_width, int *width, int *height, GError **error);

/* The picture of the last successful decode_gray, scaled to fit within
 * @max_width x @max_height (aspect kept, never enlarged) as packed RGB24
 * (g_free). For object detection, which wants colour at its model's size;
 * only called when a detection is due. NULL when there is no picture. */
guint8 *vigil_decoder_scale_rgb(VigilDecoder *decoder, int max_width, int max_height, int *width,
                                int *height);

/* The same of the part @crop (x, y, w, h in fractions of the picture; NULL:
 * all of it), which is set to the part actually cut (edges on even pixels).
 * For detection on the main stream around where motion was seen. */
guint8 *vigil_decoder_crop_rgb(VigilDecoder *decoder, double crop[4], int max_width, int max_height,
                               int *width, int *height);

/* The one way vigil makes a JPEG (snapshots, event and recording
 * thumbnails), one-shot: decodes the keyframe @data, scales it down to at
 * most @max_width wide (aspect kept; 0 = full size), draws @n_boxes outlines
 * (@boxes: x, y, w, h fractions each; NULL for none) and encodes it. Any
 * thread; blocking (tens of ms at 1080p): never on the main loop. */
GBytes *vigil_decode_jpeg(VigilCodec codec, const guint8 *data, gsize size, int max_width,
                          const float *boxes, int n_boxes, GError **error);

G_END_DECLS
