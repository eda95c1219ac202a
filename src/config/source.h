/* Camera source URLs: which schemes vigil accepts, and how a URL is shown in
 * logs and errors without its secrets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_SOURCE_RTSP, /* rtsp://, rtsps:// */
  VIGIL_SOURCE_SRT,  /* srt:// */
  VIGIL_SOURCE_HLS,  /* http(s)://....m3u8 */
  VIGIL_SOURCE_FILE, /* file:///absolute/path, looped */
  VIGIL_SOURCE_V4L2, /* v4l2:///dev/videoN */
  VIGIL_SOURCE_TEST, /* test:// (built-in pattern) */
} VigilSourceKind;

/* Validates @url (scheme, host, port range, path, length <= 2048, no control
 * characters or spaces) and tells its kind. Errors are VIGIL_ERROR_INVALID with
 * a message a user understands, never containing a password. */
gboolean vigil_source_parse(const char *url, VigilSourceKind *kind, GError **error);

/* @url with any password in its userinfo replaced by "***"
 * ("rtsp://user:***@host/..."); a copy of @url when there is none. Safe on any
 * string, including unparsable ones. */
gchar *vigil_source_mask(const char *url);

/* For file:// and v4l2:// the local path; NULL for other kinds. */
gchar *vigil_source_local_path(const char *url);

G_END_DECLS
