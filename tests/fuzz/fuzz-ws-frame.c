/* libFuzzer target: what a WebSocket client may send to the live endpoint
 * (vigil_ws_parse_client), fed in two pieces to exercise partial frames.
 * Invariants: no crash or overread (ASan); consumed input never grows; every
 * reply is a whole, unmasked control frame. */
#include <stdint.h>

#include "http/ws-frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  GByteArray *in = g_byte_array_new();
  GByteArray *control = g_byte_array_new();
  gboolean closing = FALSE, ok = TRUE;
  size_t cut = size ? data[0] % (size + 1) : 0;
  g_byte_array_append(in, data, (guint)cut);
  ok = vigil_ws_parse_client(in, control, &closing);
  if (in->len > cut)
    __builtin_trap();
  if (ok && !closing) {
    guint before = in->len;
    g_byte_array_append(in, data + cut, (guint)(size - cut));
    ok = vigil_ws_parse_client(in, control, &closing);
    if (in->len > before + (size - cut))
      __builtin_trap();
  }
  /* Walk the replies: each a pong or close, unmasked, payload <= 125. */
  gsize pos = 0;
  while (pos < control->len) {
    if (control->len - pos < 2)
      __builtin_trap();
    guint8 op = control->data[pos] & 0x0f, len = control->data[pos + 1];
    if ((op != 0xA && op != 0x8) || len > 125 || pos + 2 + len > control->len)
      __builtin_trap();
    pos += 2 + (gsize)len;
  }
  (void)ok;
  g_byte_array_unref(in);
  g_byte_array_unref(control);
  return 0;
}
