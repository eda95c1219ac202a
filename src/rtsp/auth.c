/* RTSP authentication (rtsp.h): reads a camera's WWW-Authenticate challenge
 * and answers it with Basic or Digest (RFC 2617: MD5 and MD5-sess, qop=auth).
 * The challenge comes from the camera, so its parser takes any string. */
#define G_LOG_DOMAIN "vigil-rtsp"

#include "rtsp/rtsp.h"

#include <string.h>

static const char *skip_blanks(const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* RFC 7230 token characters, less strict: anything visible but the
 * separators that matter in a challenge. */
static gboolean is_token_char(char c)
{
  return (guchar)c > 0x20 && (guchar)c < 0x7f && strchr("=,\";", c) == NULL;
}

static gboolean token_is(const char *token, gsize len, const char *expected)
{
  return len == strlen(expected) && g_ascii_strncasecmp(token, expected, len) == 0;
}

/* A parameter's value at @p: a quoted string (backslash escapes any
 * character, an unterminated one runs to the end) or a bare value up to the
 * next comma, blanks around it removed. */
static gchar *read_value(const char **p)
{
  const char *s = *p;
  if (*s == '"') {
    GString *value = g_string_new(NULL);
    for (s++; *s && *s != '"'; s++) {
      if (*s == '\\' && s[1])
        s++;
      g_string_append_c(value, *s);
    }
    *p = *s ? s + 1 : s;
    return g_string_free(value, FALSE);
  }
  const char *end = s;
  while (*end && *end != ',')
    end++;
  *p = end;
  while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  return g_strndup(s, (gsize)(end - s));
}

/* "auth", "auth,auth-int", " auth-int , auth ": is "auth" one of them? */
static gboolean offers_auth(const char *qop)
{
  g_auto(GStrv) options = g_strsplit(qop, ",", -1);
  for (guint i = 0; options[i]; i++) {
    if (g_ascii_strcasecmp(g_strstrip(options[i]), "auth") == 0)
      return TRUE;
  }
  return FALSE;
}

gboolean vigil_rtsp_challenge_parse(const char *value, VigilRtspChallenge *out)
{
  g_return_val_if_fail(out != NULL, FALSE);
  memset(out, 0, sizeof *out);
  if (value == NULL)
    return FALSE;

  const char *p = skip_blanks(value), *scheme = p;
  while (is_token_char(*p))
    p++;
  if (token_is(scheme, (gsize)(p - scheme), "Digest"))
    out->digest = TRUE;
  else if (!token_is(scheme, (gsize)(p - scheme), "Basic"))
    return FALSE;

  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (*p == '\0')
      break;
    const char *name = p;
    while (is_token_char(*p))
      p++;
    gsize name_len = (gsize)(p - name);
    if (name_len == 0) {
      /* A stray '"', ';' or '=': step over it. */
      p++;
      continue;
    }
    p = skip_blanks(p);
    if (*p != '=') {
      /* A token followed by another, as in "Basic realm="a", Digest ...":
       * the next challenge of a combined header, which is not this one's. */
      if (is_token_char(*p))
        break;
      continue;
    }
    p = skip_blanks(p + 1);
    g_autofree gchar *v = read_value(&p);
    /* The first of a repeated parameter counts. */
    if (token_is(name, name_len, "realm") && out->realm == NULL)
      out->realm = g_steal_pointer(&v);
    else if (token_is(name, name_len, "nonce") && out->nonce == NULL)
      out->nonce = g_steal_pointer(&v);
    else if (token_is(name, name_len, "opaque") && out->opaque == NULL)
      out->opaque = g_steal_pointer(&v);
    else if (token_is(name, name_len, "algorithm") && out->algorithm == NULL)
      out->algorithm = g_steal_pointer(&v);
    else if (token_is(name, name_len, "qop"))
      out->qop_auth = out->qop_auth || offers_auth(v);
    else if (token_is(name, name_len, "stale"))
      out->stale = g_ascii_strcasecmp(v, "true") == 0;
  }
  return !out->digest || out->nonce != NULL;
}

void vigil_rtsp_challenge_clear(VigilRtspChallenge *challenge)
{
  g_return_if_fail(challenge != NULL);
  g_clear_pointer(&challenge->realm, g_free);
  g_clear_pointer(&challenge->nonce, g_free);
  g_clear_pointer(&challenge->opaque, g_free);
  g_clear_pointer(&challenge->algorithm, g_free);
  memset(challenge, 0, sizeof *challenge);
}

/* MD5 of the strings joined by ':', as 32 lower-case hex digits. */
G_GNUC_NULL_TERMINATED static gchar *md5_hex(const char *first, ...)
{
  g_autoptr(GChecksum) md5 = g_checksum_new(G_CHECKSUM_MD5);
  va_list args;
  va_start(args, first);
  for (const char *part = first; part; part = va_arg(args, const char *)) {
    if (part != first)
      g_checksum_update(md5, (const guchar *)":", 1);
    g_checksum_update(md5, (const guchar *)part, -1);
  }
  va_end(args);
  return g_strdup(g_checksum_get_string(md5));
}

/* name="value" with '"' and '\' escaped (RFC 2617's quoted-string), after a
 * comma unless it is the first parameter after "Digest ". */
static void append_quoted(GString *out, const char *name, const char *value)
{
  g_string_append_printf(out, "%s%s=\"", out->len > strlen("Digest ") ? ", " : "", name);
  for (const char *c = value; *c; c++) {
    if (*c == '"' || *c == '\\')
      g_string_append_c(out, '\\');
    g_string_append_c(out, *c);
  }
  g_string_append_c(out, '"');
}

/* A CR or LF would end the header line early and let what follows (a camera's
 * nonce, a configured user name) pass for headers of the request. */
static gboolean breaks_line(const char *value)
{
  return value != NULL && strpbrk(value, "\r\n") != NULL;
}

gchar *vigil_rtsp_authorization(const VigilRtspChallenge *challenge, const char *user,
                                const char *password, const char *method, const char *uri, guint nc,
                                const char *cnonce)
{
  g_return_val_if_fail(challenge != NULL, NULL);
  if (user == NULL)
    user = "";
  if (password == NULL)
    password = "";

  if (!challenge->digest) {
    g_autofree gchar *pair = g_strconcat(user, ":", password, NULL);
    g_autofree gchar *encoded = g_base64_encode((const guchar *)pair, strlen(pair));
    return g_strconcat("Basic ", encoded, NULL);
  }

  g_return_val_if_fail(method != NULL && uri != NULL, NULL);
  g_return_val_if_fail(challenge->nonce != NULL, NULL);
  gboolean sess = FALSE;
  if (challenge->algorithm != NULL) {
    if (g_ascii_strcasecmp(challenge->algorithm, "MD5-sess") == 0)
      sess = TRUE;
    else if (g_ascii_strcasecmp(challenge->algorithm, "MD5") != 0)
      return NULL;
  }
  g_return_val_if_fail(cnonce != NULL || (!sess && !challenge->qop_auth), NULL);
  const char *realm = challenge->realm ? challenge->realm : "";
  if (breaks_line(user) || breaks_line(realm) || breaks_line(challenge->nonce) ||
      breaks_line(challenge->opaque) || breaks_line(challenge->algorithm) || breaks_line(uri) ||
      breaks_line(cnonce))
    return NULL;

  g_autofree gchar *ha1 = md5_hex(user, realm, password, NULL);
  if (sess) {
    gchar *session = md5_hex(ha1, challenge->nonce, cnonce, NULL);
    g_free(ha1);
    ha1 = session;
  }
  g_autofree gchar *ha2 = md5_hex(method, uri, NULL);
  g_autofree gchar *response = NULL;
  gchar count[9];
  g_snprintf(count, sizeof count, "%08x", nc);
  if (challenge->qop_auth)
    response = md5_hex(ha1, challenge->nonce, count, cnonce, "auth", ha2, NULL);
  else
    response = md5_hex(ha1, challenge->nonce, ha2, NULL);

  GString *out = g_string_new("Digest ");
  append_quoted(out, "username", user);
  append_quoted(out, "realm", realm);
  append_quoted(out, "nonce", challenge->nonce);
  append_quoted(out, "uri", uri);
  append_quoted(out, "response", response);
  /* Echoed as the camera spelled it (only MD5 and MD5-sess get here), a
   * token, so unquoted. */
  if (challenge->algorithm != NULL)
    g_string_append_printf(out, ", algorithm=%s", challenge->algorithm);
  if (challenge->opaque != NULL)
    append_quoted(out, "opaque", challenge->opaque);
  if (challenge->qop_auth) {
    g_string_append_printf(out, ", qop=auth, nc=%s", count);
    append_quoted(out, "cnonce", cnonce);
  }
  return g_string_free(out, FALSE);
}
