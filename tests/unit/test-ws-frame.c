/* WebSocket framing of the live endpoint (http/ws-frame.c): header sizes,
 * ping → pong, close echo, partial frames, protocol errors. */
#include <string.h>

#include "http/ws-frame.h"

/* A masked client frame with @payload. */
static void client_frame(GByteArray *out, guint8 opcode, const char *payload, gsize len)
{
  const guint8 mask[4] = {0x12, 0x34, 0x56, 0x78};
  guint8 h[10];
  gsize hl = vigil_ws_frame_header(h, opcode, len);
  h[1] |= 0x80;
  g_byte_array_append(out, h, (guint)hl);
  g_byte_array_append(out, mask, 4);
  for (gsize i = 0; i < len; i++) {
    guint8 c = (guint8)payload[i] ^ mask[i % 4];
    g_byte_array_append(out, &c, 1);
  }
}

static void test_header(void)
{
  guint8 h[10];
  g_assert_cmpuint(vigil_ws_frame_header(h, 0x2, 125), ==, 2);
  g_assert_cmphex(h[0], ==, 0x82);
  g_assert_cmphex(h[1], ==, 125);
  g_assert_cmpuint(vigil_ws_frame_header(h, 0x2, 126), ==, 4);
  g_assert_cmphex(h[1], ==, 126);
  g_assert_cmphex(h[2], ==, 0);
  g_assert_cmphex(h[3], ==, 126);
  g_assert_cmpuint(vigil_ws_frame_header(h, 0x2, 70000), ==, 10);
  g_assert_cmphex(h[1], ==, 127);
  g_assert_cmphex(h[7], ==, 0x01); /* 70000 = 0x011170 */
  g_assert_cmphex(h[8], ==, 0x11);
  g_assert_cmphex(h[9], ==, 0x70);
}

static void test_ping_close(void)
{
  g_autoptr(GByteArray) in = g_byte_array_new();
  g_autoptr(GByteArray) control = g_byte_array_new();
  gboolean closing = FALSE;
  client_frame(in, 0x9, "hello", 5);
  client_frame(in, 0x2, "data is ignored", 15);
  /* Only half of the close frame so far. */
  g_autoptr(GByteArray) close = g_byte_array_new();
  client_frame(close, 0x8,
               "\x03\xe8"
               "bye",
               5);
  g_byte_array_append(in, close->data, 4);
  g_assert_true(vigil_ws_parse_client(in, control, &closing));
  g_assert_false(closing);
  /* The pong, unmasked, with the ping's payload. */
  g_assert_cmpuint(control->len, ==, 7);
  g_assert_cmphex(control->data[0], ==, 0x8a);
  g_assert_cmpuint(control->data[1], ==, 5);
  g_assert_cmpmem(control->data + 2, 5, "hello", 5);
  g_assert_cmpuint(in->len, ==, 4);
  /* The rest of the close frame, then something after it (ignored). */
  g_byte_array_append(in, close->data + 4, close->len - 4);
  client_frame(in, 0x9, "late", 4);
  g_assert_true(vigil_ws_parse_client(in, control, &closing));
  g_assert_true(closing);
  /* The close echoes the status code only. */
  g_assert_cmpuint(control->len, ==, 7 + 4);
  g_assert_cmphex(control->data[7], ==, 0x88);
  g_assert_cmpuint(control->data[8], ==, 2);
  g_assert_cmphex(control->data[9], ==, 0x03);
  g_assert_cmphex(control->data[10], ==, 0xe8);
}

static void test_errors(void)
{
  g_autoptr(GByteArray) control = g_byte_array_new();
  gboolean closing = FALSE;
  /* Unmasked. */
  g_autoptr(GByteArray) a = g_byte_array_new();
  guint8 h[10];
  gsize hl = vigil_ws_frame_header(h, 0x9, 0);
  g_byte_array_append(a, h, (guint)hl);
  g_assert_false(vigil_ws_parse_client(a, control, &closing));
  /* Too large, refused from its header alone (no need to wait for it). */
  g_autoptr(GByteArray) b = g_byte_array_new();
  hl = vigil_ws_frame_header(h, 0x2, (guint64)1 << 40);
  h[1] |= 0x80;
  g_byte_array_append(b, h, (guint)hl);
  g_assert_false(vigil_ws_parse_client(b, control, &closing));
  /* A control frame over 125 bytes. */
  g_autoptr(GByteArray) c = g_byte_array_new();
  gchar big[200];
  memset(big, 'x', sizeof big);
  client_frame(c, 0x9, big, sizeof big);
  g_assert_false(vigil_ws_parse_client(c, control, &closing));
  g_assert_cmpuint(control->len, ==, 0);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/ws-frame/header", test_header);
  g_test_add_func("/ws-frame/ping-close", test_ping_close);
  g_test_add_func("/ws-frame/errors", test_errors);
  return g_test_run();
}
