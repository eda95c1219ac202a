/* SDP (rtsp.h): reads what a camera's DESCRIBE answers into tracks, their
 * codecs and out-of-band parameter sets, and resolves track control URLs.
 * The text comes from the camera: every line and count is bounded. */
#define G_LOG_DOMAIN "vigil-rtsp"

#include <string.h>

#include "core/error.h"
#include "rtsp/rtsp.h"

#define MAX_MEDIA 64
/* Longer lines are ignored: a real SDP line, even one with parameter sets,
 * is a few hundred bytes. */
#define MAX_LINE        (16 * 1024)
#define MAX_FMTP_PARAMS 64

static void media_free(gpointer data)
{
  VigilSdpMedia *media = data;
  g_free(media->media);
  g_free(media->encoding);
  g_free(media->control);
  g_clear_pointer(&media->fmtp, g_hash_table_unref);
  g_free(media);
}

void vigil_sdp_free(VigilSdp *sdp)
{
  if (!sdp)
    return;
  g_free(sdp->control);
  g_ptr_array_unref(sdp->media);
  g_free(sdp);
}

static gboolean is_blank(char c)
{
  return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *p)
{
  while (is_blank(*p))
    p++;
  return p;
}

/* Reads a decimal number of at most @max at *@p and moves *@p past it. */
static gboolean read_uint(const char **p, guint max, guint *out)
{
  const char *s = *p;
  guint64 v = 0;
  if (!g_ascii_isdigit(*s))
    return FALSE;
  while (g_ascii_isdigit(*s)) {
    v = v * 10 + (guint64)(*s - '0');
    if (v > max)
      return FALSE;
    s++;
  }
  *p = s;
  *out = (guint)v;
  return TRUE;
}

/* The payload types whose meaning RFC 3551 fixes, so an SDP may omit their
 * rtpmap (cameras do for G.711). */
static void apply_static_payload(VigilSdpMedia *media)
{
  static const struct {
    int pt;
    const char *encoding;
    int clock_rate;
  } table[] = {
      {0, "PCMU", 8000},
      {8, "PCMA", 8000},
      {14, "MPA", 90000},
      {26, "JPEG", 90000},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(table); i++) {
    if (table[i].pt == media->payload_type) {
      media->encoding = g_strdup(table[i].encoding);
      media->clock_rate = table[i].clock_rate;
    }
  }
}

/* "m=<media> <port>[/<count>] <proto> <fmt> ...": NULL when malformed. */
static VigilSdpMedia *parse_media_line(const char *value)
{
  g_auto(GStrv) fields = g_strsplit_set(value, " \t", 0);
  const char *field[4] = {NULL};
  guint n = 0;
  for (guint i = 0; fields[i] && n < 4; i++) {
    if (*fields[i])
      field[n++] = fields[i];
  }
  if (n < 3)
    return NULL;
  VigilSdpMedia *media = g_new0(VigilSdpMedia, 1);
  media->media = g_strdup(field[0]);
  media->payload_type = -1;
  media->channels = 1;
  media->fmtp = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  const char *fmt = field[3];
  guint pt;
  if (fmt && read_uint(&fmt, 127, &pt) && *fmt == '\0') {
    media->payload_type = (int)pt;
    apply_static_payload(media);
  }
  return media;
}

/* "<pt> <rest>" of a=rtpmap and a=fmtp: the rest when <pt> is @media's. */
static const char *for_payload(const VigilSdpMedia *media, const char *value)
{
  guint pt;
  if (media->payload_type < 0 || !read_uint(&value, 127, &pt) || (int)pt != media->payload_type)
    return NULL;
  if (*value != '\0' && !is_blank(*value))
    return NULL;
  return skip_blanks(value);
}

/* "<encoding>/<clock rate>[/<channels>]" */
static void parse_rtpmap(VigilSdpMedia *media, const char *value)
{
  const char *slash = strchr(value, '/');
  gsize len = slash ? (gsize)(slash - value) : strlen(value);
  while (len > 0 && is_blank(value[len - 1]))
    len--;
  if (len == 0)
    return;
  g_free(media->encoding);
  media->encoding = g_ascii_strup(value, (gssize)len);
  media->clock_rate = 0;
  media->channels = 1;
  if (!slash)
    return;
  const char *p = slash + 1;
  guint clock_rate, channels;
  if (!read_uint(&p, G_MAXINT, &clock_rate))
    return;
  media->clock_rate = (int)clock_rate;
  if (*p != '/')
    return;
  p++;
  if (read_uint(&p, 255, &channels) && channels > 0)
    media->channels = (int)channels;
}

/* "name=value; name=value;..." (blanks around either allowed, as cameras
 * put them); names kept in lower case. */
static void parse_fmtp(VigilSdpMedia *media, const char *value)
{
  g_auto(GStrv) params = g_strsplit(value, ";", 0);
  for (guint i = 0; params[i]; i++) {
    if (g_hash_table_size(media->fmtp) >= MAX_FMTP_PARAMS)
      return;
    char *param = g_strstrip(params[i]);
    char *eq = strchr(param, '=');
    const char *param_value = "";
    if (eq) {
      *eq = '\0';
      param_value = g_strstrip(eq + 1);
      g_strstrip(param);
    }
    if (*param == '\0')
      continue;
    g_hash_table_insert(media->fmtp, g_ascii_strdown(param, -1), g_strdup(param_value));
  }
}

/* One "a=" line, at session level when @media is NULL. */
static void parse_attribute(VigilSdp *sdp, VigilSdpMedia *media, const char *attr)
{
  const char *colon = strchr(attr, ':');
  if (!colon)
    return;
  gsize name_len = (gsize)(colon - attr);
  const char *value = skip_blanks(colon + 1);
#define IS(name) (name_len == strlen(name) && g_ascii_strncasecmp(attr, name, name_len) == 0)
  if (IS("control")) {
    g_autofree gchar *control = g_strstrip(g_strdup(value));
    gchar **slot = media ? &media->control : &sdp->control;
    if (*control && !*slot)
      *slot = g_steal_pointer(&control);
  } else if (media && IS("rtpmap")) {
    const char *rest = for_payload(media, value);
    if (rest)
      parse_rtpmap(media, rest);
  } else if (media && IS("fmtp")) {
    const char *rest = for_payload(media, value);
    if (rest)
      parse_fmtp(media, rest);
  }
#undef IS
}

VigilSdp *vigil_sdp_parse(const char *text, gsize size, GError **error)
{
  g_return_val_if_fail(text != NULL || size == 0, NULL);
  g_autoptr(VigilSdp) sdp = g_new0(VigilSdp, 1);
  sdp->media = g_ptr_array_new_with_free_func(media_free);
  VigilSdpMedia *current = NULL;
  /* inside an m= section that is malformed or over the limit: its
   * attributes must not land on the session or the previous track */
  gboolean skipping = FALSE, seen_line = FALSE, seen_m = FALSE;

  gsize pos = 0;
  while (pos < size) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', size - pos);
    gsize len = nl ? (gsize)(nl - line) : size - pos;
    pos += len + (nl ? 1 : 0);
    while (len > 0 && (line[len - 1] == '\r' || is_blank(line[len - 1])))
      len--;
    if (len == 0)
      continue;
    if (!seen_line) {
      /* the first line must look like SDP ("v=0"), not like HTML or junk */
      if (len < 2 || !g_ascii_isalpha(line[0]) || line[1] != '=') {
        g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                    "The camera's stream description is not SDP");
        return NULL;
      }
      seen_line = TRUE;
    }
    if (len > MAX_LINE || len < 2 || line[1] != '=')
      continue;
    if (line[0] == 'm') {
      seen_m = TRUE;
      current = NULL;
      skipping = TRUE;
      if (sdp->media->len >= MAX_MEDIA)
        continue;
      g_autofree gchar *value = g_strndup(line + 2, len - 2);
      current = parse_media_line(value);
      if (current) {
        g_ptr_array_add(sdp->media, current);
        skipping = FALSE;
      }
    } else if (line[0] == 'a' && !skipping) {
      g_autofree gchar *attr = g_strndup(line + 2, len - 2);
      parse_attribute(sdp, current, attr);
    }
  }
  if (!seen_m || sdp->media->len == 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                "The camera's stream description (SDP) lists no media");
    return NULL;
  }
  return g_steal_pointer(&sdp);
}

const char *vigil_sdp_media_fmtp(const VigilSdpMedia *media, const char *name)
{
  g_return_val_if_fail(media != NULL && name != NULL, NULL);
  if (!media->fmtp)
    return NULL;
  return g_hash_table_lookup(media->fmtp, name);
}

static int base64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  /* the URL-safe alphabet too: harmless, and some encoders use it */
  if (c == '+' || c == '-')
    return 62;
  if (c == '/' || c == '_')
    return 63;
  return -1;
}

/* Decodes one base64 word (padding optional, as some cameras leave it out)
 * onto @out. FALSE when it is empty or not base64. */
static gboolean base64_append(GByteArray *out, const char *s, gsize len)
{
  gsize pad = 0;
  while (len > 0 && s[len - 1] == '=') {
    len--;
    pad++;
  }
  if (len == 0 || pad > 2 || len % 4 == 1)
    return FALSE;
  guint32 acc = 0;
  guint bits = 0;
  for (gsize i = 0; i < len; i++) {
    int v = base64_value(s[i]);
    if (v < 0)
      return FALSE;
    acc = (acc << 6) | (guint32)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      guint8 byte = (guint8)(acc >> bits);
      g_byte_array_append(out, &byte, 1);
    }
  }
  return TRUE;
}

/* Appends each NAL unit of a comma-separated base64 list after a start code. */
static gboolean append_nal_list(GByteArray *out, const char *list)
{
  static const guint8 start_code[] = {0, 0, 0, 1};
  const char *p = list;
  while (*p) {
    const char *comma = strchr(p, ',');
    const char *end = comma ? comma : p + strlen(p);
    const char *word = skip_blanks(p);
    while (end > word && is_blank(end[-1]))
      end--;
    if (end > word) {
      g_byte_array_append(out, start_code, sizeof start_code);
      if (!base64_append(out, word, (gsize)(end - word)))
        return FALSE;
    }
    if (!comma)
      break;
    p = comma + 1;
  }
  return TRUE;
}

GBytes *vigil_sdp_media_parameter_sets(const VigilSdpMedia *media)
{
  g_return_val_if_fail(media != NULL, NULL);
  static const char *const h264[] = {"sprop-parameter-sets", NULL};
  static const char *const h265[] = {"sprop-vps", "sprop-sps", "sprop-pps", NULL};
  gboolean is_h265 = media->encoding && g_str_equal(media->encoding, "H265");
  g_autoptr(GByteArray) out = g_byte_array_new();
  for (const char *const *name = is_h265 ? h265 : h264; *name; name++) {
    const char *list = vigil_sdp_media_fmtp(media, *name);
    if (list && !append_nal_list(out, list))
      return NULL;
  }
  if (out->len == 0)
    return NULL;
  return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

GBytes *vigil_sdp_media_aac_config(const VigilSdpMedia *media)
{
  g_return_val_if_fail(media != NULL, NULL);
  if (!media->encoding || !g_str_equal(media->encoding, "MPEG4-GENERIC"))
    return NULL;
  const char *hex = vigil_sdp_media_fmtp(media, "config");
  gsize len = hex ? strlen(hex) : 0;
  if (len == 0 || len % 2 != 0)
    return NULL;
  g_autoptr(GByteArray) out = g_byte_array_sized_new((guint)(len / 2));
  for (gsize i = 0; i < len; i += 2) {
    int hi = g_ascii_xdigit_value(hex[i]), lo = g_ascii_xdigit_value(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return NULL;
    guint8 byte = (guint8)(hi << 4 | lo);
    g_byte_array_append(out, &byte, 1);
  }
  return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

gchar *vigil_rtsp_resolve_control(const char *base, const char *control)
{
  g_return_val_if_fail(base != NULL, NULL);
  if (!control || !*control || g_str_equal(control, "*"))
    return g_strdup(base);
  if (g_ascii_strncasecmp(control, "rtsp://", 7) == 0 ||
      g_ascii_strncasecmp(control, "rtsps://", 8) == 0)
    return g_strdup(control);
  /* Appended even to a base with a query ("...?channel=1&subtype=0"):
   * cameras expect that, and ffmpeg does it. A leading '/' on the control
   * does not double the separator. */
  gsize len = strlen(base);
  gboolean base_slash = len > 0 && base[len - 1] == '/';
  if (control[0] == '/')
    return g_strconcat(base, base_slash ? control + 1 : control, NULL);
  return g_strconcat(base, base_slash ? "" : "/", control, NULL);
}
