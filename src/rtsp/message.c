/* RTSP messages on the wire (rtsp.h): tells interleaved RTP frames from
 * responses and server requests, and splits a message into status, headers
 * and body. Every byte comes from the camera: each read is bounded by the
 * size given and the limits in rtsp.h, and nothing waits without bound. */
#define G_LOG_DOMAIN "vigil-rtsp"

#include "rtsp/rtsp.h"

#include <string.h>

#include "core/error.h"

/* A server's request starts with a method token; real ones ("SET_PARAMETER")
 * are far shorter. A longer run of capitals is not taken for a method, so
 * that resynchronising after garbage never waits on one. */
#define MAX_METHOD 32

/* How many bytes of a bad first line an error message shows. */
#define EXCERPT 40

typedef enum {
  SCAN_INVALID = -1,
  SCAN_MORE = 0,
  SCAN_DONE = 1,
} Scan;

/* Where the parts of a message are, as offsets into its bytes. */
typedef struct {
  gboolean started; /* the first line is (the start of) a status or request line */
  gsize line_end;   /* just past the first line's LF */
  int status;       /* 0 for a request */
  gsize reason;     /* the reason phrase (status line) */
  gsize reason_len;
  gsize method_len; /* the method (request line), at offset 0 */
  gsize header_end; /* just past the blank line that ends the headers */
  gsize body_size;  /* Content-Length, 0 without one */
  const char *why;  /* what is wrong, when the scan is SCAN_INVALID */
  gboolean excerpt; /* ... and whether to quote the first line */
} Extent;

static gboolean is_blank(guint8 c)
{
  return c == ' ' || c == '\t';
}

static gboolean is_digit(guint8 c)
{
  return c >= '0' && c <= '9';
}

static gboolean is_method_char(guint8 c)
{
  return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

/* URIs are ASCII, but a camera may put UTF-8 in a path: any visible byte. */
static gboolean is_uri_char(guint8 c)
{
  return c > 0x20 && c != 0x7f;
}

/* What a reason phrase or header value may hold: no control characters but
 * tab, so a value echoed into a request (Session) cannot split its lines. */
static gboolean is_text_char(guint8 c)
{
  return c >= 0x20 || c == '\t';
}

/* Steps over a run of @accept characters, from @min to @max long, at d[*i]
 * on a line that ends at @end. When the run reaches @end: SCAN_MORE if the
 * line is not whole yet (it may go on), else the end just stops the run. */
static Scan run(const guint8 *d, gsize end, gboolean whole, gsize *i, gboolean (*accept)(guint8),
                gsize min, gsize max)
{
  gsize count = 0;
  while (*i < end && accept(d[*i])) {
    if (++count > max)
      return SCAN_INVALID;
    (*i)++;
  }
  if (*i == end && !whole)
    return SCAN_MORE;
  return count >= min ? SCAN_DONE : SCAN_INVALID;
}

/* Matches @lit at d[*i], or a prefix of it when the line is not whole yet. */
static Scan literal(const guint8 *d, gsize end, gboolean whole, gsize *i, const char *lit)
{
  for (; *lit; lit++, (*i)++) {
    if (*i == end)
      return whole ? SCAN_INVALID : SCAN_MORE;
    if (d[*i] != (guint8)*lit)
      return SCAN_INVALID;
  }
  return SCAN_DONE;
}

#define STEP(expr)                                                                                 \
  do {                                                                                             \
    Scan step_ = (expr);                                                                           \
    if (step_ != SCAN_DONE)                                                                        \
      return step_;                                                                                \
  } while (0)

/* "RTSP/1.0": the protocol and its version, at d[*i]. */
static Scan version(const guint8 *d, gsize end, gboolean whole, gsize *i)
{
  STEP(literal(d, end, whole, i, "RTSP/"));
  STEP(run(d, end, whole, i, is_digit, 1, 4));
  STEP(literal(d, end, whole, i, "."));
  return run(d, end, whole, i, is_digit, 1, 4);
}

/* "RTSP/1.0 200 OK" or "RTSP/1.0 200": the line up to @end (CR removed). */
static Scan status_line(const guint8 *d, gsize end, gboolean whole, Extent *ext)
{
  gsize i = 0;
  STEP(version(d, end, whole, &i));
  STEP(run(d, end, whole, &i, is_blank, 1, G_MAXSIZE));
  gsize code = i;
  /* No status class starts with 0, and status 0 stands for a request. */
  if (code < end && d[code] == '0')
    return SCAN_INVALID;
  STEP(run(d, end, whole, &i, is_digit, 3, 3));
  ext->status = (d[code] - '0') * 100 + (d[code + 1] - '0') * 10 + (d[code + 2] - '0');
  if (i < end)
    STEP(run(d, end, whole, &i, is_blank, 1, G_MAXSIZE));
  ext->reason = i;
  STEP(run(d, end, whole, &i, is_text_char, 0, G_MAXSIZE));
  if (i != end)
    return SCAN_INVALID;
  while (end > ext->reason && is_blank(d[end - 1]))
    end--;
  ext->reason_len = end - ext->reason;
  return SCAN_DONE;
}

/* "OPTIONS * RTSP/1.0": a request from the server. */
static Scan request_line(const guint8 *d, gsize end, gboolean whole, Extent *ext)
{
  gsize i = 0;
  STEP(run(d, end, whole, &i, is_method_char, 1, MAX_METHOD));
  ext->method_len = i;
  STEP(run(d, end, whole, &i, is_blank, 1, G_MAXSIZE));
  STEP(run(d, end, whole, &i, is_uri_char, 1, G_MAXSIZE));
  STEP(run(d, end, whole, &i, is_blank, 1, G_MAXSIZE));
  STEP(version(d, end, whole, &i));
  STEP(run(d, end, whole, &i, is_blank, 0, G_MAXSIZE));
  return i == end ? SCAN_DONE : SCAN_INVALID;
}

/* The first line, whole or (when @d ends inside it) as far as it goes: a
 * prefix that could still become a valid line is SCAN_MORE. */
static Scan first_line(const guint8 *d, gsize n, Extent *ext)
{
  gsize limit = MIN(n, (gsize)VIGIL_RTSP_MAX_HEADER);
  const guint8 *lf = memchr(d, '\n', limit);
  gboolean whole = lf != NULL;
  gsize end = whole ? (gsize)(lf - d) : limit;
  /* A CR is part of the line end; at the end of partial data it may be. */
  if (end > 0 && d[end - 1] == '\r')
    end--;
  ext->excerpt = TRUE;
  ext->why = "not an RTSP message";
  /* Both kinds start with a capital: anything else is garbage at once. */
  if (d[0] < 'A' || d[0] > 'Z')
    return SCAN_INVALID;
  Scan r = memcmp(d, "RTSP/", MIN(n, 5)) == 0 ? status_line(d, end, whole, ext)
                                              : request_line(d, end, whole, ext);
  if (r == SCAN_MORE && n >= VIGIL_RTSP_MAX_HEADER) {
    ext->excerpt = FALSE;
    ext->why = "the first line is longer than the 64 KiB header limit";
    return SCAN_INVALID;
  }
  if (r != SCAN_INVALID)
    ext->started = TRUE;
  if (r == SCAN_DONE)
    ext->line_end = (gsize)(lf - d) + 1;
  return r;
}

static gboolean is_name_char(guint8 c)
{
  return c > 0x20 && c < 0x7f && c != ':';
}

/* Splits the header line [@line, @line + @len) (no line end) into a name and
 * a value without surrounding blanks. FALSE for a line that is not a header:
 * no colon, no name, or a folded continuation (obsolete; no camera sends
 * them), which the parser skips rather than refuse the whole message. */
static gboolean split_header(const guint8 *line, gsize len, gsize *name_len, gsize *value,
                             gsize *value_len)
{
  gsize i = 0;
  while (i < len && is_name_char(line[i]))
    i++;
  *name_len = i;
  while (i < len && is_blank(line[i]))
    i++;
  if (*name_len == 0 || i == len || line[i] != ':')
    return FALSE;
  i++;
  while (i < len && is_blank(line[i]))
    i++;
  while (len > i && is_blank(line[len - 1]))
    len--;
  *value = i;
  *value_len = len - i;
  return TRUE;
}

static gboolean name_is(const guint8 *name, gsize len, const char *expected)
{
  return len == strlen(expected) && g_ascii_strncasecmp((const char *)name, expected, len) == 0;
}

/* A Content-Length value: digits only (no sign, no blanks inside), at most
 * VIGIL_RTSP_MAX_BODY; read without overflow however many digits it has. */
static gboolean content_length(const guint8 *v, gsize len, gsize *out, Extent *ext)
{
  gsize value = 0;
  ext->excerpt = FALSE;
  ext->why = "bad Content-Length";
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (!is_digit(v[i]))
      return FALSE;
    value = value * 10 + (gsize)(v[i] - '0');
    if (value > VIGIL_RTSP_MAX_BODY) {
      ext->why = "the body is larger than the 1 MiB limit (Content-Length)";
      return FALSE;
    }
  }
  *out = value;
  return TRUE;
}

/* Finds where the message at @d ends, checking it on the way: the first
 * line, characters in the headers, the limits and Content-Length. The parse
 * below and vigil_rtsp_next() both rely on it, so they agree on what a
 * message is. */
static Scan scan(const guint8 *d, gsize n, Extent *ext)
{
  memset(ext, 0, sizeof *ext);
  if (n == 0)
    return SCAN_MORE;
  Scan r = first_line(d, n, ext);
  if (r != SCAN_DONE)
    return r;

  ext->excerpt = FALSE;
  gboolean have_length = FALSE;
  gsize limit = MIN(n, (gsize)VIGIL_RTSP_MAX_HEADER);
  gsize pos = ext->line_end;
  for (;;) {
    gsize i = pos;
    for (; i < limit && d[i] != '\n'; i++) {
      /* CR only as part of a line end. */
      if (d[i] == '\r' ? i + 1 < n && d[i + 1] != '\n' : !is_text_char(d[i])) {
        ext->why = "a control character in the headers";
        return SCAN_INVALID;
      }
    }
    if (i == limit) {
      if (n < VIGIL_RTSP_MAX_HEADER)
        return SCAN_MORE;
      ext->why = "the headers are longer than 64 KiB";
      return SCAN_INVALID;
    }
    gsize end = i > pos && d[i - 1] == '\r' ? i - 1 : i;
    if (end == pos) {
      ext->header_end = i + 1;
      break;
    }
    gsize name_len, value, value_len, length;
    if (split_header(d + pos, end - pos, &name_len, &value, &value_len) &&
        name_is(d + pos, name_len, "Content-Length")) {
      if (!content_length(d + pos + value, value_len, &length, ext))
        return SCAN_INVALID;
      if (have_length && length != ext->body_size) {
        ext->why = "conflicting Content-Length headers";
        return SCAN_INVALID;
      }
      have_length = TRUE;
      ext->body_size = length;
    }
    pos = i + 1;
  }
  return n - ext->header_end < ext->body_size ? SCAN_MORE : SCAN_DONE;
}

/* A short, printable piece of what the server sent, for an error message:
 * never much of it, never raw control bytes. */
static gchar *excerpt(const guint8 *d, gsize n)
{
  GString *s = g_string_new(NULL);
  gsize i;
  for (i = 0; i < n && i < EXCERPT; i++)
    g_string_append_c(s, d[i] >= 0x20 && d[i] < 0x7f && d[i] != '"' ? (char)d[i] : '.');
  if (i < n)
    g_string_append(s, "...");
  return g_string_free(s, FALSE);
}

static void header_clear(gpointer data)
{
  VigilRtspHeader *header = data;
  g_free(header->name);
  g_free(header->value);
}

gssize vigil_rtsp_message_parse(const guint8 *data, gsize size, VigilRtspMessage *out,
                                GError **error)
{
  g_return_val_if_fail(data != NULL || size == 0, -1);
  g_return_val_if_fail(out != NULL, -1);
  g_return_val_if_fail(error == NULL || *error == NULL, -1);
  /* Zeroed whatever happens, so clearing it is always safe. */
  memset(out, 0, sizeof *out);

  Extent ext;
  Scan r = scan(data, size, &ext);
  if (r == SCAN_MORE)
    return 0;
  if (r == SCAN_INVALID) {
    if (ext.excerpt) {
      g_autofree gchar *shown = excerpt(data, size);
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "%s: \"%s\"", ext.why, shown);
    } else {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "RTSP message: %s", ext.why);
    }
    return -1;
  }

  out->status = ext.status;
  if (ext.status == 0) {
    out->method = g_strndup((const char *)data, ext.method_len);
    out->reason = g_strdup("");
  } else {
    out->reason = g_strndup((const char *)data + ext.reason, ext.reason_len);
  }
  out->headers = g_array_new(FALSE, FALSE, sizeof(VigilRtspHeader));
  g_array_set_clear_func(out->headers, header_clear);
  /* The scan checked every line; this walk only cuts them out. */
  for (gsize pos = ext.line_end; pos < ext.header_end;) {
    const guint8 *lf = memchr(data + pos, '\n', ext.header_end - pos);
    gsize i = (gsize)(lf - data);
    gsize end = i > pos && data[i - 1] == '\r' ? i - 1 : i;
    gsize name_len, value, value_len;
    if (end > pos && split_header(data + pos, end - pos, &name_len, &value, &value_len)) {
      VigilRtspHeader header = {
          .name = g_strndup((const char *)data + pos, name_len),
          .value = g_strndup((const char *)data + pos + value, value_len),
      };
      g_array_append_val(out->headers, header);
    }
    pos = i + 1;
  }
  if (ext.body_size > 0)
    out->body = g_bytes_new(data + ext.header_end, ext.body_size);
  return (gssize)(ext.header_end + ext.body_size);
}

void vigil_rtsp_message_clear(VigilRtspMessage *message)
{
  g_return_if_fail(message != NULL);
  g_clear_pointer(&message->reason, g_free);
  g_clear_pointer(&message->method, g_free);
  g_clear_pointer(&message->headers, g_array_unref);
  g_clear_pointer(&message->body, g_bytes_unref);
  message->status = 0;
}

const char *vigil_rtsp_message_header(const VigilRtspMessage *message, const char *name,
                                      guint index)
{
  g_return_val_if_fail(message != NULL, NULL);
  g_return_val_if_fail(name != NULL, NULL);
  if (message->headers == NULL)
    return NULL;
  for (guint i = 0; i < message->headers->len; i++) {
    const VigilRtspHeader *header = &g_array_index(message->headers, VigilRtspHeader, i);
    if (g_ascii_strcasecmp(header->name, name) == 0 && index-- == 0)
      return header->value;
  }
  return NULL;
}

/* Where garbage ends: at the next byte that may start something, a '$', an
 * "RTSP/" (or as much of it as @d holds), or an upper-case letter at the
 * start of a line. The last one is not in rtsp.h's promise, and only makes
 * garbage shorter: a camera that sends a stray CRLF before a request of its
 * own ("\r\nGET_PARAMETER rtsp://... RTSP/1.0") would otherwise lose that
 * request, skipped up to the "RTSP/" at its end. */
static gsize garbage_length(const guint8 *d, gsize n)
{
  static const char sync[] = "RTSP/";
  for (gsize p = 1; p < n; p++) {
    if (d[p] == '$' || (d[p - 1] == '\n' && d[p] >= 'A' && d[p] <= 'Z'))
      return p;
    gsize k = 0;
    while (k < sizeof sync - 1 && p + k < n && d[p + k] == (guint8)sync[k])
      k++;
    if (k == sizeof sync - 1 || p + k == n)
      return p;
  }
  return n;
}

/* FRAME and MESSAGE are only returned once @data holds all *@length bytes,
 * so the caller can always consume them; until then, MORE. */
VigilRtspNext vigil_rtsp_next(const guint8 *data, gsize size, gsize *length, guint8 *channel)
{
  gsize unused_length;
  guint8 unused_channel;
  g_return_val_if_fail(data != NULL || size == 0, VIGIL_RTSP_NEXT_MORE);
  if (length == NULL)
    length = &unused_length;
  if (channel == NULL)
    channel = &unused_channel;
  *length = 0;
  *channel = 0;
  if (size == 0)
    return VIGIL_RTSP_NEXT_MORE;

  if (data[0] == '$') {
    if (size < 4)
      return VIGIL_RTSP_NEXT_MORE;
    gsize frame = 4 + ((gsize)data[2] << 8 | data[3]);
    if (size < frame)
      return VIGIL_RTSP_NEXT_MORE;
    *channel = data[1];
    *length = frame;
    return VIGIL_RTSP_NEXT_FRAME;
  }

  Extent ext;
  switch (scan(data, size, &ext)) {
  case SCAN_MORE:
    return VIGIL_RTSP_NEXT_MORE;
  case SCAN_DONE:
    *length = ext.header_end + ext.body_size;
    return VIGIL_RTSP_NEXT_MESSAGE;
  case SCAN_INVALID:
    break;
  }
  /* A message that started well but broke a rule or a limit later: one byte,
   * and the next call looks for a new start after it. */
  *length = ext.started ? 1 : garbage_length(data, size);
  return VIGIL_RTSP_NEXT_GARBAGE;
}
