/* Small facts about H.264/H.265 access units in Annex B form (start codes):
 * pure byte scanning, no allocation, safe on any input. */
#pragma once

#include <glib.h>

#include "live/tsmux.h"

G_BEGIN_DECLS

/* TRUE when the access unit carries its own parameter sets (an SPS for
 * H.264, a VPS or SPS for H.265) before its first picture slice, so that it
 * can be decoded on its own. Scans only up to that first slice. */
gboolean vigil_annexb_has_parameter_sets(const guint8 *data, gsize size, VigilCodec codec);

/* Offset of the NAL unit header after the next start code at or after @from
 * (00 00 01, or 00 00 00 01), or @size when there is none. */
gsize vigil_annexb_next_nal(const guint8 *data, gsize size, gsize from);

G_END_DECLS
