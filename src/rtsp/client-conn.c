/* The RTSP client's connection: the TCP socket (connect, send, read in
 * large chunks), splitting what arrives into interleaved frames (handed to
 * client-media.c) and answers, one request and its answer with Basic or
 * Digest authentication, and the UDP port pairs SETUP asks for. */
#define G_LOG_DOMAIN "vigil-rtsp"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rtsp/client-private.h"
#include "vigil-config.h"

/* A message or frame larger than this cannot be buffered: the server is broken. */
#define MAX_BUFFERED (VIGIL_RTSP_MAX_HEADER + VIGIL_RTSP_MAX_BODY + VIGIL_RTSP_READ_CHUNK)
/* The kernel's UDP queue must hold a keyframe burst between two reads. */
#define UDP_RECEIVE_BUFFER (4 * 1024 * 1024)

gboolean vigil_rtsp_aborted(VigilRtspClient *c, GError **error)
{
  if (!c->abort || !g_atomic_int_get(c->abort))
    return FALSE;
  g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_ABORTED, "stopped");
  return TRUE;
}

/* --- connecting --- */

static gboolean wait_fd(VigilRtspClient *c, int fd, short events, gint64 until, GError **error)
{
  for (;;) {
    if (vigil_rtsp_aborted(c, error))
      return FALSE;
    gint64 now = g_get_monotonic_time();
    if (until && now >= until)
      return FALSE; /* the caller words the timeout */
    int slice = VIGIL_RTSP_ABORT_SLICE_MS;
    if (until && (until - now) / 1000 < slice)
      slice = (int)((until - now) / 1000) + 1;
    struct pollfd p = {fd, events, 0};
    int n = poll(&p, 1, slice);
    if (n > 0)
      return TRUE;
    if (n < 0 && errno != EINTR) {
      g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_CLOSED, "poll: %s", g_strerror(errno));
      return FALSE;
    }
  }
}

static void connect_error(int err, GError **error)
{
  if (err == ECONNREFUSED)
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_UNREACHABLE,
                        "connection refused (is the camera on, and the port right?)");
  else if (err == ETIMEDOUT)
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_UNREACHABLE,
                        "host unreachable (no answer)");
  else
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_UNREACHABLE, "host unreachable");
}

gboolean vigil_rtsp_conn_connect(VigilRtspClient *c, GError **error)
{
  if (!c->host) {
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_INVALID,
                        "the camera URL is not a valid rtsp:// URL");
    return FALSE;
  }
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
  struct addrinfo *list = NULL;
  g_autofree gchar *port = g_strdup_printf("%d", c->port);
  int rc = getaddrinfo(c->host, port, &hints, &list);
  if (rc != 0) {
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_HOST, "host name not found");
    return FALSE;
  }
  int last = ETIMEDOUT;
  for (struct addrinfo *ai = list; ai && c->fd < 0; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
      last = errno;
      close(fd);
      continue;
    }
    GError *wait_error = NULL;
    if (!wait_fd(c, fd, POLLOUT, c->deadline, &wait_error)) {
      close(fd);
      if (wait_error) {
        freeaddrinfo(list);
        g_propagate_error(error, wait_error);
        return FALSE;
      }
      last = ETIMEDOUT;
      break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      last = err;
      close(fd);
      continue;
    }
    c->fd = fd;
  }
  freeaddrinfo(list);
  if (c->fd < 0) {
    connect_error(last, error);
    return FALSE;
  }
  return TRUE;
}

static gboolean send_all(VigilRtspClient *c, const char *data, gsize size, GError **error)
{
  gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (size > 0) {
    ssize_t n = send(c->fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= (gsize)n;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR) && !c->closing) {
      if (!wait_fd(c, c->fd, POLLOUT, until, error)) {
        if (error && !*error)
          g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_NO_ANSWER,
                              "the camera stopped taking requests");
        return FALSE;
      }
    } else {
      g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_CLOSED,
                          "the camera closed the connection");
      return FALSE;
    }
  }
  return TRUE;
}

gboolean vigil_rtsp_conn_receive(VigilRtspClient *c, gsize *got, GError **error)
{
  *got = 0;
  if (c->in_size - c->in_len < VIGIL_RTSP_READ_CHUNK) {
    if (c->in_len + VIGIL_RTSP_READ_CHUNK > MAX_BUFFERED) {
      g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_INVALID,
                          "the camera sent a message too large to be RTSP");
      return FALSE;
    }
    c->in_size = c->in_len + VIGIL_RTSP_READ_CHUNK;
    c->in = g_realloc(c->in, c->in_size);
  }
  ssize_t n = recv(c->fd, c->in + c->in_len, c->in_size - c->in_len, 0);
  if (n > 0) {
    c->in_len += (gsize)n;
    *got = (gsize)n;
    return TRUE;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return TRUE;
  g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_CLOSED,
                      c->last_packet_us ? "the camera ended the stream"
                                        : "the camera closed the connection");
  return FALSE;
}

static void consume(VigilRtspClient *c, gsize n)
{
  if (n == 0)
    return;
  memmove(c->in, c->in + n, c->in_len - n);
  c->in_len -= n;
}

/* --- requests --- */

static gchar *printable(const char *text)
{
  GString *out = g_string_new(NULL);
  for (const char *p = text ? text : ""; *p && out->len < 60; p++)
    g_string_append_c(out, g_ascii_isprint(*p) ? *p : '?');
  return g_string_free(out, FALSE);
}

static void status_error(const char *method, const VigilRtspMessage *reply, GError **error)
{
  int status = reply->status;
  if (status == 401)
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_UNAUTHORIZED,
                        "camera refused the credentials");
  else if (status == 404)
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_NOT_FOUND,
                        "the camera has no stream at this path (404)");
  else if (status == 403)
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_FORBIDDEN,
                        "the camera refused access to this stream (403)");
  else if (status >= 500) {
    g_autofree gchar *reason = printable(reply->reason);
    g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_SERVER,
                "the camera's RTSP server reported an internal error (%s: %d %s)", method, status,
                reason);
  } else {
    g_autofree gchar *reason = printable(reply->reason);
    g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_REJECTED,
                "the camera rejected the request (%s: %d %s)", method, status, reason);
  }
}

gboolean vigil_rtsp_conn_send_request(VigilRtspClient *c, const char *method, const char *url,
                                      const char *headers, GError **error)
{
  GString *req = g_string_new(NULL);
  g_string_append_printf(req, "%s %s RTSP/1.0\r\nCSeq: %u\r\nUser-Agent: vigil/%s\r\n", method, url,
                         ++c->cseq, VIGIL_VERSION);
  if (c->has_challenge) {
    g_autofree gchar *cnonce = g_strdup_printf("%08x%08x", g_random_int(), g_random_int());
    g_autofree gchar *auth =
        vigil_rtsp_authorization(&c->challenge, c->user, c->password, method, url, ++c->nc, cnonce);
    if (auth)
      g_string_append_printf(req, "Authorization: %s\r\n", auth);
    if (auth)
      memset(auth, 0, strlen(auth));
  }
  if (c->session)
    g_string_append_printf(req, "Session: %s\r\n", c->session);
  g_string_append_printf(req, "%s\r\n", headers ? headers : "");
  gboolean ok = send_all(c, req->str, req->len, error);
  memset(req->str, 0, req->len);
  g_string_free(req, TRUE);
  return ok;
}

/* Takes the challenge of a 401 answer for the next requests: TRUE when
 * they should be tried (again) with it. A second 401 is a refusal, unless
 * the nonce merely went stale. */
static gboolean take_challenge(VigilRtspClient *c, const VigilRtspMessage *reply)
{
  /* Prefer Digest: Basic would send the password in clear. */
  VigilRtspChallenge best = {0};
  gboolean found = FALSE;
  const char *value;
  for (guint i = 0; (value = vigil_rtsp_message_header(reply, "WWW-Authenticate", i)); i++) {
    VigilRtspChallenge one = {0};
    if (vigil_rtsp_challenge_parse(value, &one) && (!found || (one.digest && !best.digest))) {
      vigil_rtsp_challenge_clear(&best);
      best = one;
      found = TRUE;
    } else {
      vigil_rtsp_challenge_clear(&one);
    }
  }
  if (!found || (c->has_challenge && !best.stale)) {
    vigil_rtsp_challenge_clear(&best);
    return FALSE;
  }
  vigil_rtsp_challenge_clear(&c->challenge);
  c->challenge = best;
  c->has_challenge = TRUE;
  c->nc = 0;
  return TRUE;
}

static gboolean blank(const guint8 *data, gsize size)
{
  for (gsize i = 0; i < size; i++)
    if (!g_ascii_isspace(data[i]))
      return FALSE;
  return TRUE;
}

int vigil_rtsp_conn_drain(VigilRtspClient *c, guint cseq, VigilRtspMessage *reply, GError **error)
{
  gsize pos = 0;
  int result = 0;
  while (pos < c->in_len && !c->stop) {
    gsize length = 0;
    guint8 channel = 0;
    VigilRtspNext next = vigil_rtsp_next(c->in + pos, c->in_len - pos, &length, &channel);
    if (next == VIGIL_RTSP_NEXT_MORE)
      break;
    if (next == VIGIL_RTSP_NEXT_FRAME) {
      vigil_rtsp_media_frame(c, channel, c->in + pos + 4, length - 4);
    } else if (next == VIGIL_RTSP_NEXT_MESSAGE) {
      VigilRtspMessage message = {0};
      gssize n = vigil_rtsp_message_parse(c->in + pos, c->in_len - pos, &message, NULL);
      if (n > 0) {
        const char *seq = vigil_rtsp_message_header(&message, "CSeq", 0);
        if (cseq && message.status > 0 && seq && strtoul(seq, NULL, 10) == cseq) {
          *reply = message;
          pos += (gsize)n;
          result = 1;
          break;
        }
        if (message.status == 401 && seq && c->keep_alive_cseq &&
            strtoul(seq, NULL, 10) == c->keep_alive_cseq && c->user && c->keep_alive_retries < 2 &&
            take_challenge(c, &message))
          c->keep_alive_again = TRUE; /* the nonce went stale while streaming */
        vigil_rtsp_message_clear(&message);
        length = (gsize)n;
      } else if (!c->video_func) {
        g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_INVALID,
                            "the camera's answer is not valid RTSP (is this an RTSP port?)");
        result = -1;
        break;
      }
    } else if (!c->video_func && cseq && !blank(c->in + pos, length)) {
      /* While opening, only RTSP is expected (and the odd stray line end). */
      g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_INVALID,
                          "the camera's answer is not valid RTSP (is this an RTSP port?)");
      result = -1;
      break;
    }
    pos += length;
  }
  consume(c, pos);
  return result;
}

gboolean vigil_rtsp_conn_request(VigilRtspClient *c, const char *method, const char *url,
                                 const char *headers, int allowed, VigilRtspMessage *reply,
                                 GError **error)
{
  for (int attempt = 0;; attempt++) {
    if (!vigil_rtsp_conn_send_request(c, method, url, headers, error))
      return FALSE;
    guint cseq = c->cseq;
    *reply = (VigilRtspMessage){0};
    int got;
    while ((got = vigil_rtsp_conn_drain(c, cseq, reply, error)) == 0) {
      gint64 until = c->deadline ? c->deadline : g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
      GError *wait_error = NULL;
      if (!wait_fd(c, c->fd, POLLIN, until, &wait_error)) {
        if (wait_error)
          g_propagate_error(error, wait_error);
        else
          g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_NO_ANSWER,
                              "the camera accepted the connection but its RTSP server did not "
                              "answer");
        return FALSE;
      }
      gsize n;
      if (!vigil_rtsp_conn_receive(c, &n, error))
        return FALSE;
    }
    if (got < 0)
      return FALSE;
    if (reply->status == 401 && attempt < 2 && c->user) {
      if (take_challenge(c, reply)) {
        vigil_rtsp_message_clear(reply);
        continue;
      }
    }
    if ((reply->status >= 200 && reply->status < 300) || reply->status == allowed)
      return TRUE;
    status_error(method, reply, error);
    vigil_rtsp_message_clear(reply);
    return FALSE;
  }
}

/* --- UDP ports --- */

int vigil_rtsp_conn_udp_pair(VigilRtspTrack *t, guint16 *port)
{
  /* An even port for RTP and the next for RTCP (RFC 3550 11). */
  for (int attempt = 0; attempt < 64; attempt++) {
    int rtp = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    gboolean v6 = rtp >= 0;
    if (!v6)
      rtp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (rtp < 0)
      return -1;
    int off = 0;
    if (v6)
      setsockopt(rtp, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    guint16 base = (guint16)(20000 + (g_random_int_range(0, 20000) & ~1));
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(base)};
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(base)};
    struct sockaddr *addr = v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4;
    socklen_t len = v6 ? sizeof a6 : sizeof a4;
    if (bind(rtp, addr, len) < 0) {
      close(rtp);
      continue;
    }
    int rtcp = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (v6)
      setsockopt(rtcp, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    a6.sin6_port = a4.sin_port = htons(base + 1);
    if (rtcp < 0 || bind(rtcp, addr, len) < 0) {
      close(rtp);
      if (rtcp >= 0)
        close(rtcp);
      continue;
    }
    int size = UDP_RECEIVE_BUFFER;
    /* Root may pass net.core.rmem_max; others get what it allows. */
    if (setsockopt(rtp, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
      setsockopt(rtp, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    socklen_t size_len = sizeof size;
    if (getsockopt(rtp, SOL_SOCKET, SO_RCVBUF, &size, &size_len) == 0)
      t->receive_buffer = size;
    t->rtp_fd = rtp;
    t->rtcp_fd = rtcp;
    *port = base;
    return 0;
  }
  return -1;
}
