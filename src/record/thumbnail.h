/* Recording thumbnails: thumbnail.jpg in a recording's directory, a JPEG
 * about VIGIL_RECORDING_THUMBNAIL_WIDTH wide of its first keyframe, served by
 * GET /api/v1/recordings/{id}/thumbnail.jpg. The segment writer makes it when
 * the recording's first segment is on disk. Blocking (decode, fsync): any
 * thread but the main loop's. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VIGIL_RECORDING_THUMBNAIL_WIDTH 320

/* Decodes the keyframe in @ts (a keyframe chunk: PAT, PMT, one picture) and
 * writes its JPEG to @path (atomically). */
gboolean vigil_thumbnail_write(GBytes *ts, const char *path, GError **error);

G_END_DECLS
