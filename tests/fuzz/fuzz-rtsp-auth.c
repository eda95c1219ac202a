/* libFuzzer target: a camera's WWW-Authenticate value (vigil_rtsp_challenge_parse)
 * and the answer to it (vigil_rtsp_authorization). Invariants: no crash or
 * overread (ASan); a Digest challenge has a nonce; an MD5 challenge is
 * always answered, on one line; the answer's quoting reads back to the
 * challenge's realm and nonce. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp/rtsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree gchar *value = g_strndup((const char *)data, size);
  VigilRtspChallenge c;
  gboolean ok = vigil_rtsp_challenge_parse(value, &c);
  if (!ok) {
    vigil_rtsp_challenge_clear(&c);
    return 0;
  }
  if (c.digest && c.nonce == NULL)
    abort();

  /* A user name that needs quoting. */
  g_autofree gchar *answer = vigil_rtsp_authorization(&c, "ad\"m\\in", "pass:word", "DESCRIBE",
                                                      "rtsp://cam/s", 1, "0a4f113b");
  gboolean known = c.algorithm == NULL || g_ascii_strcasecmp(c.algorithm, "MD5") == 0 ||
                   g_ascii_strcasecmp(c.algorithm, "MD5-sess") == 0;
  gboolean breaks = (c.realm && strpbrk(c.realm, "\r\n")) ||
                    strpbrk(c.nonce ? c.nonce : "", "\r\n") ||
                    (c.opaque && strpbrk(c.opaque, "\r\n"));
  if (!c.digest) {
    if (answer == NULL || !g_str_has_prefix(answer, "Basic "))
      abort();
  } else if (known && !breaks) {
    if (answer == NULL || !g_str_has_prefix(answer, "Digest ") || strpbrk(answer, "\r\n"))
      abort();
    /* The answer has the challenge's syntax: parsed back, the same realm and
     * nonce (escaping undone). */
    VigilRtspChallenge back;
    if (!vigil_rtsp_challenge_parse(answer, &back))
      abort();
    if (g_strcmp0(back.nonce, c.nonce) != 0 || g_strcmp0(back.realm, c.realm ? c.realm : "") != 0)
      abort();
    vigil_rtsp_challenge_clear(&back);
  } else if (answer != NULL) {
    abort();
  }
  vigil_rtsp_challenge_clear(&c);
  return 0;
}
