/* libFuzzer target: what a camera sends on an RTSP connection, split as the
 * client does (vigil_rtsp_next in a loop) and parsed (vigil_rtsp_message_parse).
 * Invariants: no crash or overread (ASan); every step consumes at least one
 * byte and no more than there is; a frame is its 4-byte header plus its
 * length; what vigil_rtsp_next calls a message parses to exactly that length,
 * and one byte less is incomplete, not an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "rtsp/rtsp.h"

static void check_message(const VigilRtspMessage *m, gssize consumed, size_t size)
{
  if (consumed <= 0 || (size_t)consumed > size)
    abort();
  if ((m->status == 0) != (m->method != NULL) || m->reason == NULL || m->headers == NULL)
    abort();
  if (m->status != 0 && (m->status < 100 || m->status > 999))
    abort();
  if (m->body &&
      (g_bytes_get_size(m->body) == 0 || g_bytes_get_size(m->body) > VIGIL_RTSP_MAX_BODY))
    abort();
  for (guint i = 0; i < m->headers->len; i++) {
    const VigilRtspHeader *h = &g_array_index(m->headers, VigilRtspHeader, i);
    /* Values never hold a line break (they may be echoed into requests). */
    if (h->name[0] == '\0' || strpbrk(h->value, "\r\n") || strpbrk(h->name, "\r\n: "))
      abort();
    if (vigil_rtsp_message_header(m, h->name, 0) == NULL)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* The client loop. */
  size_t pos = 0;
  while (pos < size) {
    gsize length = 0;
    guint8 channel = 0;
    VigilRtspNext kind = vigil_rtsp_next(data + pos, size - pos, &length, &channel);
    if (kind == VIGIL_RTSP_NEXT_MORE) {
      if (length != 0)
        abort();
      break;
    }
    if (length == 0 || length > size - pos)
      abort();
    if (kind == VIGIL_RTSP_NEXT_FRAME) {
      const uint8_t *f = data + pos;
      if (f[0] != '$' || channel != f[1] || length != 4 + ((gsize)f[2] << 8 | f[3]))
        abort();
    } else if (kind == VIGIL_RTSP_NEXT_MESSAGE) {
      VigilRtspMessage m;
      GError *error = NULL;
      gssize consumed = vigil_rtsp_message_parse(data + pos, length, &m, &error);
      if (consumed != (gssize)length || error)
        abort();
      check_message(&m, consumed, length);
      vigil_rtsp_message_clear(&m);
      if (vigil_rtsp_message_parse(data + pos, length - 1, &m, &error) != 0 || error)
        abort();
      vigil_rtsp_message_clear(&m);
    } else if (kind != VIGIL_RTSP_NEXT_GARBAGE) {
      abort();
    }
    pos += length;
  }

  /* The parser on its own, from the first byte. */
  VigilRtspMessage m;
  GError *error = NULL;
  gssize consumed = vigil_rtsp_message_parse(data, size, &m, &error);
  if (consumed > 0) {
    if (error)
      abort();
    check_message(&m, consumed, size);
    gsize length = 0;
    if (vigil_rtsp_next(data, size, &length, NULL) != VIGIL_RTSP_NEXT_MESSAGE ||
        length != (gsize)consumed)
      abort();
  } else if (consumed == 0) {
    if (error || m.headers || m.reason)
      abort();
  } else {
    if (consumed != -1 || error == NULL || error->domain != VIGIL_ERROR ||
        error->code != VIGIL_ERROR_INVALID || strlen(error->message) > 200)
      abort();
    g_error_free(error);
  }
  vigil_rtsp_message_clear(&m);
  return 0;
}
