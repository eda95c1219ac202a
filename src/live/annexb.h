/* Small facts about H.264/H.265 access units in Annex B form (start codes):
 * pure byte scanning, no allocation, safe on any input. */
#pragma once

#include <glib.h>

#include "core/media.h"

G_BEGIN_DECLS

/* TRUE when the access unit carries its own parameter sets (an SPS for
 * H.264, a VPS or SPS for H.265) before its first picture slice, so that it
 * can be decoded on its own. Scans only up to that first slice. */
gboolean vigil_annexb_has_parameter_sets(const guint8 *data, gsize size, VigilCodec codec);

/* TRUE when the access unit's first picture slice is an IDR picture (H.264)
 * or an IRAP picture (H.265, NAL types 16-23): a place to start decoding. */
gboolean vigil_annexb_is_keyframe(const guint8 *data, gsize size, VigilCodec codec);

/* TRUE when the access unit's first picture slice is an IDR picture (H.264
 * type 5, H.265 IDR_W_RADL or IDR_N_LP): there a decoder drops every earlier
 * picture by itself, which H.265's CRA and BLA pictures do not promise. */
gboolean vigil_annexb_is_idr(const guint8 *data, gsize size, VigilCodec codec);

/* FALSE when the access unit holds no NAL unit, or one whose header no
 * encoder writes: forbidden_zero_bit set, an H.264 type 0 or 24-31 (the
 * latter exist only inside RTP packets), an H.265 type 41-63 (reserved,
 * unspecified, or RTP's) or nuh_temporal_id_plus1 0. Random bytes fail this
 * nearly always; a camera's stream, even one that lost packets, never. */
gboolean vigil_annexb_is_valid(const guint8 *data, gsize size, VigilCodec codec);

/* For gathering access units from an RTP depacketiser's pieces (one or more
 * NAL units each with a start code, or a fragment of one, without). Sets
 * *@begins when the piece can only start a new access unit if the one being
 * gathered already holds a slice: an access unit delimiter, a parameter set,
 * an SEI, or the first slice of a picture (H.264 first_mb_in_slice 0, H.265
 * first_slice_segment_in_pic_flag). Sets *@has_slice when it carries the
 * start of a slice. A fragment that continues a NAL unit sets neither. */
void vigil_annexb_classify_piece(const guint8 *data, gsize size, VigilCodec codec, gboolean *begins,
                                 gboolean *has_slice);

/* Offset of the NAL unit header after the next start code at or after @from
 * (00 00 01, or 00 00 00 01), or @size when there is none. */
gsize vigil_annexb_next_nal(const guint8 *data, gsize size, gsize from);

/* The parameter sets (H.264 SPS and PPS; H.265 VPS, SPS and PPS) that come
 * before the access unit's first picture slice, each appended to @out with a
 * 4-byte start code and without trailing zero bytes: what to compare with
 * the last keyframe's to tell whether they changed. Returns the offset of
 * the first slice's start code (@size when there is no slice). */
gsize vigil_annexb_parameter_sets(const guint8 *data, gsize size, VigilCodec codec,
                                  GByteArray *out);

G_END_DECLS
