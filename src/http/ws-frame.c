/* WebSocket framing: see ws-frame.h. */
#include "http/ws-frame.h"

gsize vigil_ws_frame_header(guint8 h[10], guint8 opcode, guint64 len)
{
  h[0] = 0x80 | opcode; /* FIN */
  if (len < 126) {
    h[1] = (guint8)len;
    return 2;
  }
  if (len <= 0xffff) {
    h[1] = 126;
    h[2] = (guint8)(len >> 8);
    h[3] = (guint8)len;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++)
    h[2 + i] = (guint8)(len >> (56 - 8 * i));
  return 10;
}

static void queue_control(GByteArray *control, guint8 opcode, const guint8 *payload, gsize len)
{
  guint8 h[10];
  gsize hl = vigil_ws_frame_header(h, opcode, len);
  g_byte_array_append(control, h, (guint)hl);
  if (len)
    g_byte_array_append(control, payload, (guint)len);
}

gboolean vigil_ws_parse_client(GByteArray *in, GByteArray *control, gboolean *closing)
{
  while (!*closing) {
    guint8 *b = in->data;
    gsize n = in->len;
    if (n < 2)
      return TRUE;
    guint8 opcode = b[0] & 0x0f;
    gboolean masked = (b[1] & 0x80) != 0;
    guint64 len = b[1] & 0x7f;
    gsize pos = 2;
    if (len == 126) {
      if (n < 4)
        return TRUE;
      len = ((guint64)b[2] << 8) | b[3];
      pos = 4;
    } else if (len == 127) {
      if (n < 10)
        return TRUE;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = (len << 8) | b[2 + i];
      pos = 10;
    }
    if (!masked || len > VIGIL_WS_MAX_CLIENT_FRAME)
      return FALSE; /* RFC 6455: clients mask; we expect no large messages */
    /* Control frames carry at most 125 bytes (RFC 6455 5.5). */
    if ((opcode & 0x8) && len > 125)
      return FALSE;
    if (n < pos + 4 + len)
      return TRUE;
    guint8 *mask = b + pos;
    guint8 *payload = b + pos + 4;
    for (guint64 i = 0; i < len; i++)
      payload[i] ^= mask[i % 4];
    if (opcode == 0x8) {
      /* Echo the status code; the caller closes once it is written. */
      queue_control(control, 0x8, payload, len >= 2 ? 2 : 0);
      *closing = TRUE;
    } else if (opcode == 0x9) {
      queue_control(control, 0xA, payload, len);
    }
    g_byte_array_remove_range(in, 0, (guint)(pos + 4 + len));
  }
  return TRUE;
}
