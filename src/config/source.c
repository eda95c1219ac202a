/* Camera source URLs: a small, strict splitter for the schemes vigil accepts
 * (see SPEC "Camera sources"), and masking of secrets for logs and errors.
 *
 * The URL is split by hand rather than with GUri because GUri splits the
 * userinfo at the first '@' (so "user:p@ss@host" leaks "ss" as the host) and
 * quotes URL pieces in its error messages, which could carry a password.
 * Error messages here therefore never quote any part of the URL except the
 * scheme. */
#include "config/source.h"

#include <string.h>

#include "core/error.h"

#define SOURCE_MAX_LEN 2048

/* The pieces of a URL, as byte ranges into the original string (not
 * NUL-terminated, not decoded). */
typedef struct {
  const char *scheme;
  size_t scheme_len;
  gboolean has_authority; /* "//" follows the scheme */
  const char *userinfo;   /* NULL when there is no '@' in the authority */
  size_t userinfo_len;
  const char *host; /* without brackets for IPv6 literals */
  size_t host_len;
  gboolean host_bracketed;
  const char *port; /* NULL when there is no ':' after the host */
  size_t port_len;
  const char *path;
  size_t path_len;
  const char *query; /* after '?', NULL when absent */
  size_t query_len;
  gboolean has_fragment;
} SourceParts;

static gboolean set_invalid(GError **error, const char *message)
{
  g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, message);
  return FALSE;
}

static gboolean scheme_char(char c, gboolean first)
{
  if (first)
    return g_ascii_isalpha(c);
  return g_ascii_isalnum(c) || c == '+' || c == '-' || c == '.';
}

/* Splits @url per RFC 3986 (with the userinfo running to the last '@' of the
 * authority). Only fails when there is no scheme. */
static gboolean split_url(const char *url, SourceParts *parts)
{
  memset(parts, 0, sizeof *parts);

  const char *p = url;
  while (scheme_char(*p, p == url))
    p++;
  if (p == url || *p != ':')
    return FALSE;
  parts->scheme = url;
  parts->scheme_len = (size_t)(p - url);
  p++;

  if (p[0] == '/' && p[1] == '/') {
    parts->has_authority = TRUE;
    const char *auth = p + 2;
    size_t auth_len = strcspn(auth, "/?#");
    const char *auth_end = auth + auth_len;

    const char *host = auth;
    for (const char *q = auth_end; q > auth; q--) {
      if (q[-1] == '@') {
        parts->userinfo = auth;
        parts->userinfo_len = (size_t)(q - 1 - auth);
        host = q;
        break;
      }
    }

    const char *port_colon = NULL;
    if (*host == '[') {
      const char *close = memchr(host, ']', (size_t)(auth_end - host));
      parts->host_bracketed = TRUE;
      if (close == NULL) {
        /* Unterminated literal: let the host check reject it. */
        parts->host = host;
        parts->host_len = (size_t)(auth_end - host);
      } else {
        parts->host = host + 1;
        parts->host_len = (size_t)(close - host - 1);
        if (close + 1 < auth_end) {
          if (close[1] == ':')
            port_colon = close + 1;
          else
            parts->host_len = (size_t)(auth_end - host - 1); /* junk after ']' */
        }
      }
    } else {
      port_colon = memchr(host, ':', (size_t)(auth_end - host));
      parts->host = host;
      parts->host_len = (size_t)((port_colon ? port_colon : auth_end) - host);
    }
    if (port_colon != NULL) {
      parts->port = port_colon + 1;
      parts->port_len = (size_t)(auth_end - parts->port);
    }
    p = auth_end;
  }

  parts->path = p;
  parts->path_len = strcspn(p, "?#");
  p += parts->path_len;
  if (*p == '?') {
    parts->query = p + 1;
    parts->query_len = strcspn(parts->query, "#");
    p = parts->query + parts->query_len;
  }
  parts->has_fragment = *p == '#';
  return TRUE;
}

static gboolean range_has_char(const char *s, size_t len, char c)
{
  return len > 0 && memchr(s, c, len) != NULL;
}

static gboolean check_host(const SourceParts *parts, GError **error)
{
  if (parts->host_len == 0)
    return set_invalid(error, "the source URL needs a host name or address");

  if (parts->host_bracketed) {
    /* IPv6 literal, optionally with a zone ("fe80::1%25eth0"). */
    gboolean colon = FALSE;
    for (size_t i = 0; i < parts->host_len; i++) {
      char c = parts->host[i];
      if (c == '%') {
        if (i + 3 >= parts->host_len || strncmp(parts->host + i, "%25", 3) != 0)
          return set_invalid(error, "the source URL has an invalid IPv6 address");
        for (i += 3; i < parts->host_len; i++) {
          if (!g_ascii_isalnum(parts->host[i]) && parts->host[i] != '-' && parts->host[i] != '.' &&
              parts->host[i] != '_')
            return set_invalid(error, "the source URL has an invalid IPv6 address");
        }
        break;
      }
      if (c == ':')
        colon = TRUE;
      else if (!g_ascii_isxdigit(c) && c != '.')
        return set_invalid(error, "the source URL has an invalid IPv6 address");
    }
    if (!colon)
      return set_invalid(error, "the source URL has an invalid IPv6 address");
    return TRUE;
  }

  for (size_t i = 0; i < parts->host_len; i++) {
    char c = parts->host[i];
    if (!g_ascii_isalnum(c) && c != '-' && c != '.' && c != '_')
      return set_invalid(error, "the source URL has an invalid host name");
  }
  return TRUE;
}

/* @required: the scheme needs a port. @hint_password: the URL has an '@'
 * outside the authority, so a "port" that is not a number is likely a
 * password with an unencoded '/', '?' or '#'. */
static gboolean check_port(const SourceParts *parts, gboolean required, gboolean hint_password,
                           GError **error)
{
  if (parts->port == NULL) {
    if (required)
      return set_invalid(error, "the source URL needs a port (host:port)");
    return TRUE;
  }

  guint64 value = 0;
  gboolean ok = parts->port_len > 0 && parts->port_len <= 5;
  for (size_t i = 0; ok && i < parts->port_len; i++) {
    if (!g_ascii_isdigit(parts->port[i]))
      ok = FALSE;
    else
      value = value * 10 + (guint64)(parts->port[i] - '0');
  }
  if (!ok || value < 1 || value > 65535) {
    if (hint_password)
      return set_invalid(error, "the source URL has an invalid port; if it contains a "
                                "password, put the password in the password field");
    if (range_has_char(parts->port, parts->port_len, ':'))
      return set_invalid(error, "IPv6 addresses in the source URL must be in brackets, "
                                "e.g. rtsp://[2001:db8::1]:554/stream");
    return set_invalid(error, "the source port must be a number between 1 and 65535");
  }
  return TRUE;
}

static gboolean has_suffix_ci(const char *s, size_t len, const char *suffix)
{
  size_t slen = strlen(suffix);
  return len >= slen && g_ascii_strncasecmp(s + len - slen, suffix, slen) == 0;
}

static gboolean parse_network(const SourceParts *parts, VigilSourceKind kind, gboolean is_hls,
                              GError **error)
{
  if (!parts->has_authority)
    return set_invalid(error, "the source URL needs \"//\" and a host after the scheme");

  /* An '@' beyond the authority hints at a password holding '/', '?' or '#'. */
  gboolean stray_at = strchr(parts->host + parts->host_len, '@') != NULL;

  if (parts->userinfo != NULL) {
    if (kind == VIGIL_SOURCE_SRT)
      return set_invalid(error, "srt:// URLs take no user name or password; "
                                "use ?passphrase=... for encryption");
    if (range_has_char(parts->userinfo, parts->userinfo_len, '@'))
      return set_invalid(error, "the user name or password in the source URL contains "
                                "'@'; write it as %40, or better use the username and "
                                "password fields");
  }
  if (!check_host(parts, error))
    return FALSE;
  if (!check_port(parts, kind == VIGIL_SOURCE_SRT, stray_at, error))
    return FALSE;
  if (parts->has_fragment)
    return set_invalid(error, "the source URL must not have a fragment (#...)");

  if (kind == VIGIL_SOURCE_SRT &&
      !(parts->path_len == 0 || (parts->path_len == 1 && parts->path[0] == '/')))
    return set_invalid(error, "srt:// URLs have no path: srt://host:port?options");

  if (is_hls && !has_suffix_ci(parts->path, parts->path_len, ".m3u8"))
    return set_invalid(error, "http(s) sources must be HLS playlists: the path must end "
                              "in .m3u8");
  return TRUE;
}

static gboolean parse_file(const SourceParts *parts, GError **error)
{
  if (!parts->has_authority || parts->userinfo != NULL || parts->port != NULL ||
      (parts->host_len != 0 &&
       !(parts->host_len == 9 && g_ascii_strncasecmp(parts->host, "localhost", 9) == 0)))
    return set_invalid(error, "file sources must look like file:///absolute/path.mp4 "
                              "(local files only)");
  if (parts->path_len < 2 || parts->path[0] != '/')
    return set_invalid(error, "file sources need an absolute path: file:///path/video.mp4");
  if (parts->query != NULL || parts->has_fragment)
    return set_invalid(error, "file sources take no query or fragment");

  static const char *const extensions[] = {".mp4", ".mkv", ".ts", ".m2ts", ".mov"};
  for (size_t i = 0; i < G_N_ELEMENTS(extensions); i++) {
    if (has_suffix_ci(parts->path, parts->path_len, extensions[i]))
      return TRUE;
  }
  return set_invalid(error, "file sources must be .mp4, .mkv, .ts, .m2ts or .mov files");
}

static gboolean parse_v4l2(const SourceParts *parts, GError **error)
{
  static const char prefix[] = "/dev/video";
  const size_t plen = sizeof prefix - 1;
  gboolean ok = parts->has_authority && parts->userinfo == NULL && parts->host_len == 0 &&
                !parts->host_bracketed && parts->port == NULL && parts->query == NULL &&
                !parts->has_fragment && parts->path_len > plen && parts->path_len <= plen + 3 &&
                strncmp(parts->path, prefix, plen) == 0;
  for (size_t i = plen; ok && i < parts->path_len; i++)
    ok = g_ascii_isdigit(parts->path[i]);
  if (!ok)
    return set_invalid(error, "webcam sources must look like v4l2:///dev/video0");
  return TRUE;
}

static gboolean parse_test(const SourceParts *parts, GError **error)
{
  /* test:// or test://PATTERN (a videotestsrc pattern name such as "smpte"). */
  gboolean ok = parts->has_authority && parts->userinfo == NULL && !parts->host_bracketed &&
                parts->port == NULL && parts->host_len <= 32 && parts->path_len == 0 &&
                parts->query == NULL && !parts->has_fragment;
  for (size_t i = 0; ok && i < parts->host_len; i++) {
    char c = parts->host[i];
    ok = g_ascii_islower(c) || g_ascii_isdigit(c) || c == '-';
  }
  if (!ok)
    return set_invalid(error, "test sources must look like test:// or test://smpte");
  return TRUE;
}

static gboolean scheme_is(const SourceParts *parts, const char *name)
{
  return parts->scheme_len == strlen(name) &&
         g_ascii_strncasecmp(parts->scheme, name, parts->scheme_len) == 0;
}

gboolean vigil_source_parse(const char *url, VigilSourceKind *kind, GError **error)
{
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (url == NULL || *url == '\0')
    return set_invalid(error, "the source URL is empty");

  size_t len = strnlen(url, SOURCE_MAX_LEN + 1);
  if (len > SOURCE_MAX_LEN)
    return set_invalid(error, "the source URL is too long (at most 2048 characters)");

  for (size_t i = 0; i < len; i++) {
    guchar c = (guchar)url[i];
    if (c <= 0x20 || c == 0x7f)
      return set_invalid(error, "the source URL must not contain spaces or control "
                                "characters");
    /* ASCII only: non-ASCII (including invisible or bidi characters) belongs
     * percent-encoded in a URL. */
    if (c >= 0x80)
      return set_invalid(error, "the source URL must be plain ASCII; percent-encode "
                                "other characters");
    if (c == '%' && !(g_ascii_isxdigit(url[i + 1]) && g_ascii_isxdigit(url[i + 2])))
      return set_invalid(error, "the source URL has an invalid %-escape");
    if (c == '%' && url[i + 1] == '0' && url[i + 2] == '0')
      return set_invalid(error, "the source URL must not contain %00");
  }

  SourceParts parts;
  if (!split_url(url, &parts))
    return set_invalid(error, "the source must be a URL such as rtsp://192.0.2.10/stream1");

  VigilSourceKind k;
  gboolean ok;
  if (scheme_is(&parts, "rtsp") || scheme_is(&parts, "rtsps")) {
    k = VIGIL_SOURCE_RTSP;
    ok = parse_network(&parts, k, FALSE, error);
  } else if (scheme_is(&parts, "srt")) {
    k = VIGIL_SOURCE_SRT;
    ok = parse_network(&parts, k, FALSE, error);
  } else if (scheme_is(&parts, "http") || scheme_is(&parts, "https")) {
    k = VIGIL_SOURCE_HLS;
    ok = parse_network(&parts, k, TRUE, error);
  } else if (scheme_is(&parts, "file")) {
    k = VIGIL_SOURCE_FILE;
    ok = parse_file(&parts, error);
  } else if (scheme_is(&parts, "v4l2")) {
    k = VIGIL_SOURCE_V4L2;
    ok = parse_v4l2(&parts, error);
  } else if (scheme_is(&parts, "test")) {
    k = VIGIL_SOURCE_TEST;
    ok = parse_test(&parts, error);
  } else {
    /* The scheme is [A-Za-z][A-Za-z0-9+.-]*, safe to quote; a long one is
     * more likely garbage than a scheme worth echoing. */
    if (parts.scheme_len <= 16)
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                  "unsupported source scheme \"%.*s\" (use rtsp, rtsps, srt, "
                  "http(s) .m3u8, file, v4l2 or test)",
                  (int)parts.scheme_len, parts.scheme);
    else
      set_invalid(error, "unsupported source scheme (use rtsp, rtsps, srt, "
                         "http(s) .m3u8, file, v4l2 or test)");
    return FALSE;
  }
  if (!ok)
    return FALSE;

  /* A last opinion from GLib's own RFC 3986 parser; its message is not used
   * because it may quote a piece of the userinfo. */
  if (!g_uri_is_valid(url, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED, NULL))
    return set_invalid(error, "the source is not a valid URL");

  if (kind != NULL)
    *kind = k;
  return TRUE;
}

/* Query parameter names whose values are secrets. */
static gboolean is_secret_param(const char *name, size_t len)
{
  static const char *const names[] = {
      "password", "passwd", "pass",   "pwd",          "passphrase", "token",
      "key",      "secret", "apikey", "access_token", "api_key",    "auth",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    if (strlen(names[i]) == len && g_ascii_strncasecmp(name, names[i], len) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Appends @query (the text after '?', up to but excluding '#') to @out with
 * the values of secret parameters replaced by "***". */
static void append_masked_query(GString *out, const char *query, size_t len)
{
  const char *end = query + len;
  const char *p = query;
  while (p < end) {
    const char *sep = p;
    while (sep < end && *sep != '&' && *sep != ';')
      sep++;
    const char *eq = memchr(p, '=', (size_t)(sep - p));
    if (eq != NULL && is_secret_param(p, (size_t)(eq - p))) {
      g_string_append_len(out, p, eq + 1 - p);
      g_string_append(out, "***");
    } else {
      g_string_append_len(out, p, sep - p);
    }
    if (sep < end)
      g_string_append_c(out, *sep++);
    p = sep;
  }
}

gchar *vigil_source_mask(const char *url)
{
  if (url == NULL)
    return NULL;

  /* Purely textual so that it works on anything, including strings that
   * vigil_source_parse() rejects: those are exactly the ones that end up in
   * logs. When unsure, mask more. */
  const char *auth = strstr(url, "//");
  auth = auth ? auth + 2 : url;
  const char *auth_end = auth + strcspn(auth, "/?#");

  /* Userinfo: up to the last '@' of the RFC 3986 authority. */
  const char *at = NULL;
  for (const char *q = auth_end; q > auth; q--) {
    if (q[-1] == '@') {
      at = q - 1;
      break;
    }
  }
  /* No '@' there, but a "user:xxx" whose "xxx" is not a port, followed later
   * by '@': most likely a password with an unencoded '/', '?' or '#'. */
  if (at == NULL) {
    const char *colon = memchr(auth, ':', (size_t)(auth_end - auth));
    const char *later_at = strchr(auth_end, '@');
    if (colon != NULL && later_at != NULL) {
      gboolean port = colon + 1 < auth_end;
      for (const char *q = colon + 1; q < auth_end; q++)
        port = port && g_ascii_isdigit(*q);
      if (!port && *auth != '[') {
        /* The host then runs from that '@' to the next delimiter; like the
         * regular case, the userinfo ends at the last '@' before it. */
        const char *host_end = later_at + 1 + strcspn(later_at + 1, "/?#");
        for (const char *q = later_at; q < host_end; q++) {
          if (*q == '@')
            at = q;
        }
      }
    }
  }

  GString *out = g_string_sized_new(strlen(url) + 8);
  const char *rest = url;
  if (at != NULL) {
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon != NULL) {
      g_string_append_len(out, url, colon + 1 - url);
      g_string_append(out, "***");
      rest = at;
    }
  }

  /* The query: from the first '?' after the userinfo, up to '#'. */
  const char *qmark = strchr(rest, '?');
  if (qmark != NULL) {
    g_string_append_len(out, rest, qmark + 1 - rest);
    size_t qlen = strcspn(qmark + 1, "#");
    append_masked_query(out, qmark + 1, qlen);
    g_string_append(out, qmark + 1 + qlen);
  } else {
    g_string_append(out, rest);
  }
  return g_string_free(out, FALSE);
}

gchar *vigil_source_local_path(const char *url)
{
  VigilSourceKind kind;
  if (!vigil_source_parse(url, &kind, NULL))
    return NULL;
  if (kind != VIGIL_SOURCE_FILE && kind != VIGIL_SOURCE_V4L2)
    return NULL;

  SourceParts parts;
  if (!split_url(url, &parts))
    return NULL;
  g_autofree gchar *raw = g_strndup(parts.path, parts.path_len);
  /* Decoded, since the file system knows nothing of %-escapes; "/" stays
   * illegal so an escaped slash cannot change the path's structure. */
  return g_uri_unescape_string(raw, "/");
}
