/* WebSocket framing (RFC 6455) for the live endpoint, kept apart from the
 * sockets so that it can be unit-tested and fuzzed: server frame headers,
 * and the parser of what a browser sends us (we honour ping and close, and
 * ignore data frames). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Client frames larger than this close the connection: a live viewer sends
 * only control frames. */
#define VIGIL_WS_MAX_CLIENT_FRAME 4096

/* Writes the header of an unmasked, final frame with @opcode and a payload
 * of @len bytes into @h; returns its length (2, 4 or 10). */
gsize vigil_ws_frame_header(guint8 h[10], guint8 opcode, guint64 len);

/* Consumes every complete client frame at the start of @in (a partial one
 * stays for later), appending the replies to @control: a pong for a ping, the
 * close frame echoing the status code for a close (and sets *@closing).
 * Returns FALSE on a protocol error (unmasked frame, frame over
 * VIGIL_WS_MAX_CLIENT_FRAME): close the connection at once. */
gboolean vigil_ws_parse_client(GByteArray *in, GByteArray *control, gboolean *closing);

G_END_DECLS
