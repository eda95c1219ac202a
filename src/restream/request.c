/* RTSP request parsing for the server (restream/request.h). */
#include "restream/request.h"

#include <stdlib.h>
#include <string.h>

void vigil_restream_request_clear(VigilRestreamRequest *r)
{
  g_clear_pointer(&r->method, g_free);
  g_clear_pointer(&r->url, g_free);
  g_clear_pointer(&r->names, g_ptr_array_unref);
  g_clear_pointer(&r->values, g_ptr_array_unref);
  r->body_size = 0;
}

static gboolean token_ok(const char *s)
{
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isupper(*s) && *s != '_' && *s != '-')
      return FALSE;
  return TRUE;
}

static gboolean text_ok(const char *s)
{
  for (; *s; s++)
    if ((guchar)*s < 0x20 && *s != '\t')
      return FALSE;
  return TRUE;
}

VigilRestreamParse vigil_restream_request_parse(const guint8 *data, gsize size,
                                                VigilRestreamRequest *out, gsize *length)
{
  memset(out, 0, sizeof *out);
  /* The end of the headers: an empty line (CRLF or LF). */
  gsize head = 0;
  gsize limit = MIN(size, (gsize)VIGIL_RESTREAM_MAX_REQUEST);
  for (gsize i = 0; i < limit && !head; i++) {
    if (data[i] == '\0')
      return VIGIL_RESTREAM_PARSE_BAD;
    if (data[i] != '\n')
      continue;
    if (i + 1 < size && data[i + 1] == '\n')
      head = i + 2;
    else if (i + 2 < size && data[i + 1] == '\r' && data[i + 2] == '\n')
      head = i + 3;
  }
  if (!head)
    return size >= VIGIL_RESTREAM_MAX_REQUEST ? VIGIL_RESTREAM_PARSE_TOO_LARGE
                                              : VIGIL_RESTREAM_PARSE_MORE;
  if (head > VIGIL_RESTREAM_MAX_REQUEST)
    return VIGIL_RESTREAM_PARSE_TOO_LARGE;
  g_autofree gchar *text = g_strndup((const char *)data, head);
  if (!g_utf8_validate(text, -1, NULL))
    return VIGIL_RESTREAM_PARSE_BAD;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  VigilRestreamRequest r = {0};
  r.names = g_ptr_array_new_with_free_func(g_free);
  r.values = g_ptr_array_new_with_free_func(g_free);
  gboolean ok = TRUE;
  for (guint i = 0; lines[i] && ok; i++) {
    gchar *line = lines[i];
    gsize n = strlen(line);
    if (n && line[n - 1] == '\r')
      line[--n] = '\0';
    if (i == 0) {
      g_auto(GStrv) parts = g_strsplit(line, " ", -1);
      ok = g_strv_length(parts) == 3 && token_ok(parts[0]) && *parts[1] && text_ok(parts[1]) &&
           g_str_equal(parts[2], "RTSP/1.0");
      if (ok) {
        r.method = g_strdup(parts[0]);
        r.url = g_strdup(parts[1]);
      }
      continue;
    }
    if (!n)
      break;
    const char *colon = strchr(line, ':');
    ok = colon && colon != line && text_ok(line);
    if (ok) {
      g_ptr_array_add(r.names, g_strndup(line, colon - line));
      g_ptr_array_add(r.values, g_strstrip(g_strdup(colon + 1)));
    }
  }
  if (!ok || !r.method) {
    vigil_restream_request_clear(&r);
    return VIGIL_RESTREAM_PARSE_BAD;
  }
  const char *cl = vigil_restream_request_header(&r, "Content-Length");
  if (cl) {
    char *end = NULL;
    guint64 v = g_ascii_strtoull(cl, &end, 10);
    if (!*cl || !g_ascii_isdigit(*cl) || *end) {
      vigil_restream_request_clear(&r);
      return VIGIL_RESTREAM_PARSE_BAD;
    }
    if (v > VIGIL_RESTREAM_MAX_BODY) {
      vigil_restream_request_clear(&r);
      return VIGIL_RESTREAM_PARSE_TOO_LARGE;
    }
    r.body_size = v;
  }
  if (size - head < r.body_size) {
    vigil_restream_request_clear(&r);
    return VIGIL_RESTREAM_PARSE_MORE;
  }
  *out = r;
  *length = head + r.body_size;
  return VIGIL_RESTREAM_PARSE_OK;
}

const char *vigil_restream_request_header(const VigilRestreamRequest *r, const char *name)
{
  if (!r->names)
    return NULL;
  for (guint i = 0; i < r->names->len; i++)
    if (g_ascii_strcasecmp(r->names->pdata[i], name) == 0)
      return r->values->pdata[i];
  return NULL;
}

gchar *vigil_restream_url_path(const char *url)
{
  const char *p = url;
  gsize scheme = g_ascii_strncasecmp(p, "rtsp://", 7) == 0    ? 7
                 : g_ascii_strncasecmp(p, "rtsps://", 8) == 0 ? 8
                                                              : 0;
  if (scheme) {
    p = strchr(p + scheme, '/');
    if (!p)
      return g_strdup("");
  } else if (*p != '/') {
    return NULL;
  }
  while (*p == '/')
    p++;
  gsize n = strcspn(p, "?#");
  while (n && p[n - 1] == '/')
    n--;
  return g_strndup(p, n);
}

gboolean vigil_restream_transport_tcp(const char *transport, guint8 *channel)
{
  if (!transport)
    return FALSE;
  /* A client may offer several transports, comma-separated: take the first
   * over TCP. */
  g_auto(GStrv) specs = g_strsplit(transport, ",", 16);
  for (guint i = 0; specs[i]; i++) {
    g_auto(GStrv) params = g_strsplit(specs[i], ";", 32);
    if (!params[0] || g_ascii_strcasecmp(g_strstrip(params[0]), "RTP/AVP/TCP") != 0)
      continue;
    *channel = 0;
    for (guint j = 1; params[j]; j++) {
      const char *v = g_strstrip(params[j]);
      if (g_ascii_strncasecmp(v, "interleaved=", 12) == 0) {
        char *end = NULL;
        guint64 c = g_ascii_strtoull(v + 12, &end, 10);
        if (end != v + 12 && c <= 254)
          *channel = (guint8)c;
      }
    }
    return TRUE;
  }
  return FALSE;
}

gboolean vigil_restream_transport_udp(const char *transport, guint16 *rtp_port, guint16 *rtcp_port)
{
  if (!transport)
    return FALSE;
  g_auto(GStrv) specs = g_strsplit(transport, ",", 16);
  for (guint i = 0; specs[i]; i++) {
    g_auto(GStrv) params = g_strsplit(specs[i], ";", 32);
    const char *proto = params[0] ? g_strstrip(params[0]) : "";
    if (g_ascii_strcasecmp(proto, "RTP/AVP") != 0 && g_ascii_strcasecmp(proto, "RTP/AVP/UDP") != 0)
      continue;
    gboolean multicast = FALSE;
    guint64 rtp = 0, rtcp = 0;
    for (guint j = 1; params[j]; j++) {
      const char *v = g_strstrip(params[j]);
      if (g_ascii_strcasecmp(v, "multicast") == 0)
        multicast = TRUE;
      if (g_ascii_strncasecmp(v, "client_port=", 12) != 0)
        continue;
      char *end = NULL;
      rtp = g_ascii_strtoull(v + 12, &end, 10);
      if (end == v + 12)
        rtp = 0;
      else if (*end == '-')
        rtcp = g_ascii_strtoull(end + 1, NULL, 10);
    }
    if (multicast || rtp == 0 || rtp > 65534)
      continue;
    if (rtcp == 0 || rtcp > 65535)
      rtcp = rtp + 1;
    *rtp_port = (guint16)rtp;
    *rtcp_port = (guint16)rtcp;
    return TRUE;
  }
  return FALSE;
}
