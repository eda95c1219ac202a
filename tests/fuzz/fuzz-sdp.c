/* libFuzzer target: what a camera answers to DESCRIBE (rtsp/sdp.c). Input:
 * an optional base URL and a NUL, then the SDP. Everything parsed goes
 * through every accessor and the control resolution. Invariants: no crash
 * or overread (ASan); the limits hold (1-64 media, 64 fmtp parameters);
 * names are in the case promised; parameter sets start with a start code;
 * a resolved control is the base, the control, or the two joined. */
#include <stdint.h>
#include <string.h>

#include "rtsp/rtsp.h"

static void check_lower(const char *s)
{
  for (; *s; s++) {
    if (g_ascii_isupper(*s))
      __builtin_trap();
  }
}

static void check_resolve(const char *base, const char *control)
{
  g_autofree gchar *url = vigil_rtsp_resolve_control(base, control);
  if (!url)
    __builtin_trap();
  if (!control || !*control || strcmp(control, "*") == 0) {
    if (strcmp(url, base) != 0)
      __builtin_trap();
  } else if (g_ascii_strncasecmp(control, "rtsp://", 7) == 0 ||
             g_ascii_strncasecmp(control, "rtsps://", 8) == 0) {
    if (strcmp(url, control) != 0)
      __builtin_trap();
  } else {
    /* base, at most one '/', then the control without its leading '/' */
    const char *tail = control[0] == '/' ? control + 1 : control;
    gsize base_len = strlen(base), url_len = strlen(url), tail_len = strlen(tail);
    if (strncmp(url, base, base_len) != 0 || url_len < base_len + tail_len ||
        url_len > base_len + tail_len + 1 || strcmp(url + url_len - tail_len, tail) != 0)
      __builtin_trap();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr(data, 0, size);
  g_autofree gchar *base = NULL;
  const char *text = (const char *)data;
  if (nul) {
    base = g_strndup((const char *)data, (gsize)(nul - data));
    text = (const char *)nul + 1;
    size -= (gsize)(nul - data) + 1;
  } else {
    base = g_strdup("rtsp://192.0.2.1:554/cam/realmonitor?channel=1&subtype=0");
  }

  g_autoptr(GError) error = NULL;
  g_autoptr(VigilSdp) sdp = vigil_sdp_parse(text, size, &error);
  if (!sdp) {
    if (!error)
      __builtin_trap();
    return 0;
  }
  if (error || !sdp->media || sdp->media->len == 0 || sdp->media->len > 64)
    __builtin_trap();
  check_resolve(base, sdp->control);
  for (guint i = 0; i < sdp->media->len; i++) {
    const VigilSdpMedia *media = g_ptr_array_index(sdp->media, i);
    if (!media->media || !media->fmtp || media->payload_type < -1 || media->payload_type > 127 ||
        media->channels < 1 || media->clock_rate < 0 || g_hash_table_size(media->fmtp) > 64)
      __builtin_trap();
    if (media->encoding) {
      for (const char *c = media->encoding; *c; c++) {
        if (g_ascii_islower(*c))
          __builtin_trap();
      }
    }
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init(&iter, media->fmtp);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
      check_lower(key);
      if (!value || vigil_sdp_media_fmtp(media, key) != value)
        __builtin_trap();
    }
    g_autoptr(GBytes) sets = vigil_sdp_media_parameter_sets(media);
    if (sets) {
      gsize n;
      const guint8 *p = g_bytes_get_data(sets, &n);
      if (n <= 4 || memcmp(p, "\0\0\0\1", 4) != 0)
        __builtin_trap();
    }
    g_autoptr(GBytes) config = vigil_sdp_media_aac_config(media);
    if (config && g_bytes_get_size(config) == 0)
      __builtin_trap();
    check_resolve(base, media->control);
    /* a control as the base of the next one's: bases of any shape */
    const VigilSdpMedia *next =
        i + 1 < sdp->media->len ? g_ptr_array_index(sdp->media, i + 1) : NULL;
    if (media->control)
      check_resolve(media->control, next ? next->control : sdp->control);
  }
  return 0;
}
