/* Recording thumbnails (see thumbnail.h): the TS keyframe chunk's picture
 * through the one JPEG path, analysis/decoder.h. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/thumbnail.h"

#include "analysis/decoder.h"
#include "core/error.h"
#include "core/file.h"
#include "live/tsmux.h"

gboolean vigil_thumbnail_write(GBytes *ts, const char *path, GError **error)
{
  /* libavcodec directly, one picture: a GStreamer decodebin here mapped
   * ~20 MiB more of plugins and libraries (gst-libav pulls in libavfilter and
   * its dependencies) and left the writer threads' malloc arenas holding
   * what it had allocated (bench/RESULTS.md, "Memory per camera"). */
  gsize size;
  const guint8 *data = g_bytes_get_data(ts, &size);
  VigilCodec codec;
  g_autoptr(GBytes) unit = vigil_ts_read_video_unit(data, size, &codec);
  if (!unit) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "no picture in the first keyframe");
    return FALSE;
  }
  const guint8 *unit_data = g_bytes_get_data(unit, &size);
  g_autoptr(GBytes) jpeg =
      vigil_decode_jpeg(codec, unit_data, size, VIGIL_RECORDING_THUMBNAIL_WIDTH, NULL, 0, error);
  if (!jpeg)
    return FALSE;
  return vigil_file_replace(path, g_bytes_get_data(jpeg, NULL), g_bytes_get_size(jpeg), error);
}
