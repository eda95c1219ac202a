/* RTSP requests as a client sends them to our server: pure parsing with
 * hard limits, for the untrusted bytes of any peer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VIGIL_RESTREAM_MAX_REQUEST 8192 /* request line + headers */
#define VIGIL_RESTREAM_MAX_BODY    4096 /* a client has no reason to send more */

typedef struct {
  gchar *method;
  gchar *url;
  GPtrArray *names, *values; /* headers, in order */
  gsize body_size;           /* Content-Length (the body itself is skipped) */
} VigilRestreamRequest;

typedef enum {
  VIGIL_RESTREAM_PARSE_OK,
  VIGIL_RESTREAM_PARSE_MORE,     /* incomplete: read more */
  VIGIL_RESTREAM_PARSE_BAD,      /* not an RTSP/1.0 request: 400 */
  VIGIL_RESTREAM_PARSE_TOO_LARGE /* over a limit above: 413 */
} VigilRestreamParse;

/* Parses the request at the start of @data. On OK fills @out (clear it with
 * vigil_restream_request_clear) and sets *@length to the bytes it takes,
 * body included. */
VigilRestreamParse vigil_restream_request_parse(const guint8 *data, gsize size,
                                                VigilRestreamRequest *out, gsize *length);
void vigil_restream_request_clear(VigilRestreamRequest *request);

/* The value of header @name (case-insensitive), or NULL. */
const char *vigil_restream_request_header(const VigilRestreamRequest *request, const char *name);

/* The path of an rtsp:// or rtsps:// URL (or of an absolute path) without the leading
 * '/', query, and trailing '/': "cam", "cam_sub/trackID=0". NULL when @url
 * is neither. */
gchar *vigil_restream_url_path(const char *url);

/* The interleaved channel pair of a Transport header for TCP
 * ("RTP/AVP/TCP;unicast;interleaved=2-3"): TRUE with *@channel = 2 (0 when
 * interleaved= is missing); FALSE when the header asks for no TCP
 * transport. */
gboolean vigil_restream_transport_tcp(const char *transport, guint8 *channel);

/* The client's RTP and RTCP ports of a Transport header for UDP unicast
 * ("RTP/AVP;unicast;client_port=5000-5001", also "RTP/AVP/UDP"): TRUE with
 * the ports (RTCP: the second, or RTP + 1 when only one is given); FALSE
 * when it offers no UDP unicast transport with a valid port (multicast is
 * not served). */
gboolean vigil_restream_transport_udp(const char *transport, guint16 *rtp_port, guint16 *rtcp_port);

G_END_DECLS
