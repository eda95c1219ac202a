/* The RTSP client: connects, authenticates, DESCRIBE/SETUP/PLAY, then reads
 * RTP (interleaved on the RTSP connection, or UDP) and hands whole access
 * units and AAC frames to its caller, on the caller's thread.
 *
 * What makes it cheap is the reading cadence: the socket is read in large
 * chunks (everything the kernel holds), then the thread sleeps a few
 * milliseconds so the next read finds dozens of packets waiting. One
 * 4 Mbit/s camera costs ~150 system calls a second instead of the ~2,000 of
 * a read per packet; the sleep adds at most READ_INTERVAL_NS to live latency.
 *
 * Not handled (documented in docs/architecture.md): RTP reordering over UDP
 * (packets are taken in arrival order; a LAN does not reorder), RTCP
 * receiver reports (sessions are kept alive with RTSP requests, which every
 * server honours), rtsps:// (libavformat's front end reads those). */
#define G_LOG_DOMAIN "vigil-rtsp"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rtsp/rtsp.h"
#include "vigil-config.h"

/* How long the thread sleeps between reads while streaming. */
#define READ_INTERVAL_NS (20 * 1000 * 1000)
/* Over UDP, when the kernel would not give the socket a queue of at least
 * UDP_ROOMY_BUFFER (not root, and net.core.rmem_max left at its default):
 * a keyframe burst must not overflow it between two reads. */
#define UDP_SHORT_INTERVAL_NS (5 * 1000 * 1000)
#define UDP_ROOMY_BUFFER (1024 * 1024)
/* One read takes at most this much (the kernel's whole receive queue). */
#define READ_CHUNK (256 * 1024)
/* A message or frame larger than this cannot be buffered: the server is broken. */
#define MAX_BUFFERED (VIGIL_RTSP_MAX_HEADER + VIGIL_RTSP_MAX_BODY + READ_CHUNK)
/* The kernel's UDP queue must hold a keyframe burst between two reads. */
#define UDP_RECEIVE_BUFFER (4 * 1024 * 1024)
/* Waits are cut into slices this long to notice *abort. */
#define ABORT_SLICE_MS 100
#define UDP_BATCH 32
/* How long audio waits for sender reports to place it next to video. */
#define AUDIO_SYNC_WAIT_US (6 * G_USEC_PER_SEC)
#define UDP_MAX_DATAGRAM 65536

G_DEFINE_QUARK(vigil-rtsp-error-quark, vigil_rtsp_error)

typedef struct {
  gboolean used;
  VigilRtpPayload payload;
  VigilRtpDepay *depay;
  gchar *url; /* SETUP's control URL */
  int clock_rate;
  guint8 channel; /* interleaved RTP channel (TCP); RTCP is the next */
  int rtp_fd, rtcp_fd; /* UDP */
  int receive_buffer;   /* UDP: the RTP socket's queue, in bytes */

  /* Timeline: ns = ext * 1e9 / clock_rate + shift_ns, where ext is the RTP
   * timestamp unwrapped, counted from `base`. */
  gboolean has_base;
  guint32 base;
  gboolean started;
  guint32 last_ts;
  gint64 ext;
  gint64 shift_ns;
  gboolean has_sr;
  guint64 sr_ntp;
  guint32 sr_rtp;
} Track;

struct _VigilRtspClient {
  gchar *url; /* without credentials */
  gchar *host;
  int port;
  gchar *user, *password;
  VigilRtspLower lower;
  const gint *abort;

  int fd;
  gint64 deadline; /* monotonic µs while opening, 0 while streaming */
  guint cseq;
  gchar *session;
  int session_timeout; /* seconds */
  gboolean get_parameter;
  VigilRtspChallenge challenge;
  gboolean has_challenge;
  guint nc;

  guint8 *in; /* received, not yet consumed: in[0 .. in_len) */
  guint8 *datagrams; /* UDP_BATCH slots for recvmmsg(), or NULL */
  gsize in_len, in_size;

  Track video, audio;
  VigilRtspTracks tracks;
  gboolean synced; /* audio aligned to video (RTP-Info or sender reports) */
  gint64 audio_wait_since; /* monotonic µs: the first audio before that */

  /* while playing */
  VigilRtspVideoFunc video_func;
  VigilRtspAudioFunc audio_func;
  gpointer user_data;
  gboolean stop;
  gboolean closing; /* sending TEARDOWN: never wait */
  gint64 last_packet_us;
  guint damaged;
  guint keep_alive_cseq;   /* the last keep-alive's CSeq */
  gboolean keep_alive_again; /* it met a stale nonce: send it again */
  guint keep_alive_retries;  /* ... at most twice */
};

static gboolean aborted(VigilRtspClient *c, GError **error)
{
  if (!c->abort || !g_atomic_int_get(c->abort))
    return FALSE;
  g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_ABORTED, "stopped");
  return TRUE;
}

static void nap(long ns)
{
  struct timespec ts = {0, ns};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* --- URL --- */

VigilRtspClient *vigil_rtsp_client_new(const char *url, const char *user, const char *password,
                                       VigilRtspLower lower, const gint *abort)
{
  VigilRtspClient *c = g_new0(VigilRtspClient, 1);
  c->fd = -1;
  c->video.rtp_fd = c->video.rtcp_fd = c->audio.rtp_fd = c->audio.rtcp_fd = -1;
  c->lower = lower;
  c->abort = abort;
  c->session_timeout = 60;
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_PATH |
                                             G_URI_FLAGS_ENCODED_QUERY,
                                    NULL);
  if (uri && g_uri_get_host(uri) && *g_uri_get_host(uri)) {
    const char *host = g_uri_get_host(uri);
    c->host = g_strdup(host);
    c->port = g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : 554;
    const char *path = g_uri_get_path(uri);
    const char *query = g_uri_get_query(uri);
    /* The request URL: the camera's, without credentials or fragment. */
    GString *request = g_string_new("rtsp://");
    if (strchr(host, ':'))
      g_string_append_printf(request, "[%s]", host);
    else
      g_string_append(request, host);
    if (g_uri_get_port(uri) > 0)
      g_string_append_printf(request, ":%d", g_uri_get_port(uri));
    g_string_append(request, *path ? path : "/");
    if (query)
      g_string_append_printf(request, "?%s", query);
    c->url = g_string_free(request, FALSE);
    c->user = g_strdup(g_uri_get_user(uri));
    c->password = g_strdup(g_uri_get_password(uri));
  }
  if (user && *user) {
    g_free(c->user);
    c->user = g_strdup(user);
    if (c->password)
      memset(c->password, 0, strlen(c->password));
    g_free(c->password);
    c->password = g_strdup(password ? password : "");
  }
  return c;
}

/* --- connecting --- */

static gboolean wait_fd(VigilRtspClient *c, int fd, short events, gint64 until, GError **error)
{
  for (;;) {
    if (aborted(c, error))
      return FALSE;
    gint64 now = g_get_monotonic_time();
    if (until && now >= until)
      return FALSE; /* the caller words the timeout */
    int slice = ABORT_SLICE_MS;
    if (until && (until - now) / 1000 < slice)
      slice = (int)((until - now) / 1000) + 1;
    struct pollfd p = {fd, events, 0};
    int n = poll(&p, 1, slice);
    if (n > 0)
      return TRUE;
    if (n < 0 && errno != EINTR) {
      g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_CLOSED, "poll: %s",
                  g_strerror(errno));
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

static gboolean connect_to(VigilRtspClient *c, GError **error)
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

/* Appends what the socket holds. FALSE with @error when it is closed; TRUE
 * with *@got 0 when nothing was waiting. */
static gboolean receive(VigilRtspClient *c, gsize *got, GError **error)
{
  *got = 0;
  if (c->in_size - c->in_len < READ_CHUNK) {
    if (c->in_len + READ_CHUNK > MAX_BUFFERED) {
      g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_INVALID,
                          "the camera sent a message too large to be RTSP");
      return FALSE;
    }
    c->in_size = c->in_len + READ_CHUNK;
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

/* --- timeline --- */

static gint64 track_time(Track *t, guint32 ts)
{
  if (!t->started) {
    t->started = TRUE;
    if (!t->has_base) {
      t->has_base = TRUE;
      t->base = ts;
    }
    t->ext = (gint32)(ts - t->base);
  } else {
    t->ext += (gint32)(ts - t->last_ts);
  }
  t->last_ts = ts;
  return t->ext * G_GINT64_CONSTANT(1000000000) / t->clock_rate + t->shift_ns;
}

/* Without RTP-Info, the first sender report of each track aligns audio to
 * video (once: a later jump would tear the audio). */
static void on_sender_report(VigilRtspClient *c, Track *t, const guint8 *data, gsize size)
{
  guint32 ssrc, rtp;
  guint64 ntp;
  if (c->synced || !vigil_rtcp_sender_report(data, size, &ssrc, &ntp, &rtp))
    return;
  t->has_sr = TRUE;
  t->sr_ntp = ntp;
  t->sr_rtp = rtp;
  Track *v = &c->video, *a = &c->audio;
  if (!v->has_sr || !a->has_sr || !v->started || !a->started)
    return;
  gint64 v_ext = v->ext + (gint32)(v->sr_rtp - v->last_ts);
  gint64 a_ext = a->ext + (gint32)(a->sr_rtp - a->last_ts);
  gint64 v_ns = v_ext * G_GINT64_CONSTANT(1000000000) / v->clock_rate + v->shift_ns;
  double delta_ns = (double)(gint64)(a->sr_ntp - v->sr_ntp) / 4294967296.0 * 1e9;
  gint64 a_ns = a_ext * G_GINT64_CONSTANT(1000000000) / a->clock_rate;
  a->shift_ns = v_ns + (gint64)delta_ns - a_ns;
  c->synced = TRUE;
  g_debug("audio aligned to video by sender reports (%+" G_GINT64_FORMAT " ms)",
          a->shift_ns / 1000000);
}

/* --- units --- */

static void on_video_unit(const guint8 *data, gsize size, guint32 timestamp, gboolean damaged,
                          gpointer user_data)
{
  VigilRtspClient *c = user_data;
  gint64 pts = track_time(&c->video, timestamp);
  if (damaged)
    c->damaged++;
  if (!c->stop && !c->video_func(data, size, pts, damaged, c->user_data))
    c->stop = TRUE;
}

static void on_audio_unit(const guint8 *data, gsize size, guint32 timestamp, gboolean damaged,
                          gpointer user_data)
{
  VigilRtspClient *c = user_data;
  gint64 pts = track_time(&c->audio, timestamp);
  if (!c->synced) {
    /* Audio whose place next to video is not known yet (no RTP-Info, no
     * sender reports so far) waits: aligning it later would move it back
     * in time. A server that sends no reports at all gets its audio timed
     * from the first packets after AUDIO_SYNC_WAIT_US. */
    gint64 now = g_get_monotonic_time();
    if (!c->audio_wait_since)
      c->audio_wait_since = now;
    if (now - c->audio_wait_since < AUDIO_SYNC_WAIT_US)
      return;
    c->synced = TRUE;
    g_debug("no RTP-Info and no sender reports: audio timed from its first packet");
  }
  if (!c->stop && c->audio_func)
    c->audio_func(data, size, pts, c->user_data);
}

static void on_rtp(VigilRtspClient *c, Track *t, const guint8 *data, gsize size)
{
  VigilRtpPacket packet;
  if (!t->depay || !vigil_rtp_parse(data, size, &packet))
    return;
  c->last_packet_us = g_get_monotonic_time();
  vigil_rtp_depay_push(t->depay, &packet, t == &c->video ? on_video_unit : on_audio_unit, c);
}

static void on_frame(VigilRtspClient *c, guint8 channel, const guint8 *data, gsize size)
{
  if (!c->video_func)
    return; /* before PLAY */
  for (Track *t = &c->video; t <= &c->audio; t++) {
    if (!t->used)
      continue;
    if (channel == t->channel)
      on_rtp(c, t, data, size);
    else if (channel == t->channel + 1)
      on_sender_report(c, t, data, size);
  }
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

static gboolean send_request(VigilRtspClient *c, const char *method, const char *url,
                             const char *headers, GError **error)
{
  GString *req = g_string_new(NULL);
  g_string_append_printf(req, "%s %s RTSP/1.0\r\nCSeq: %u\r\nUser-Agent: vigil/%s\r\n", method,
                         url, ++c->cseq, VIGIL_VERSION);
  if (c->has_challenge) {
    g_autofree gchar *cnonce = g_strdup_printf("%08x%08x", g_random_int(), g_random_int());
    g_autofree gchar *auth = vigil_rtsp_authorization(&c->challenge, c->user, c->password,
                                                      method, url, ++c->nc, cnonce);
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

/* Takes what the buffer holds: frames go to the tracks, messages are
 * parsed. Returns 1 and fills @reply with the answer to CSeq @cseq (0: any
 * answer is dropped), 0 when the buffer ran out, -1 on a broken stream. */
static int drain(VigilRtspClient *c, guint cseq, VigilRtspMessage *reply, GError **error)
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
      on_frame(c, channel, c->in + pos + 4, length - 4);
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
            strtoul(seq, NULL, 10) == c->keep_alive_cseq && c->user &&
            c->keep_alive_retries < 2 && take_challenge(c, &message))
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

/* Sends a request and waits for its answer (frames that arrive meanwhile are
 * handed on), answering one authentication challenge. FALSE with @error for
 * anything but 2xx, except that a status in @allowed is returned as well. */
static gboolean request(VigilRtspClient *c, const char *method, const char *url,
                        const char *headers, int allowed, VigilRtspMessage *reply,
                        GError **error)
{
  for (int attempt = 0;; attempt++) {
    if (!send_request(c, method, url, headers, error))
      return FALSE;
    guint cseq = c->cseq;
    *reply = (VigilRtspMessage){0};
    int got;
    while ((got = drain(c, cseq, reply, error)) == 0) {
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
      if (!receive(c, &n, error))
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

/* --- opening --- */

static const VigilSdpMedia *pick(const VigilSdp *sdp, const char *type, const char **encodings,
                                 const VigilSdpMedia **other)
{
  for (guint i = 0; i < sdp->media->len; i++) {
    const VigilSdpMedia *m = g_ptr_array_index(sdp->media, i);
    if (g_strcmp0(m->media, type) != 0)
      continue;
    for (const char **e = encodings; *e; e++)
      if (g_strcmp0(m->encoding, *e) == 0)
        return m;
    if (other && !*other)
      *other = m;
  }
  return NULL;
}

static int open_udp_pair(Track *t, guint16 *port)
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

/* The id part of a Session header ("id;timeout=60"), and its timeout. */
static void take_session(VigilRtspClient *c, const char *value)
{
  if (!value || c->session)
    return;
  const char *semi = strchr(value, ';');
  c->session = g_strstrip(g_strndup(value, semi ? (gsize)(semi - value) : strlen(value)));
  const char *timeout = semi ? strstr(semi, "timeout=") : NULL;
  if (timeout) {
    long seconds = strtol(timeout + 8, NULL, 10);
    if (seconds >= 2 && seconds <= 3600)
      c->session_timeout = (int)seconds;
  }
}

static gboolean setup(VigilRtspClient *c, Track *t, const char *base, const VigilSdpMedia *m,
                      VigilRtpPayload payload, GError **error)
{
  t->url = vigil_rtsp_resolve_control(base, m->control);
  t->payload = payload;
  t->clock_rate = m->clock_rate > 0 ? m->clock_rate : 90000;
  for (;;) {
    g_autofree gchar *transport = NULL;
    gboolean tcp = c->lower != VIGIL_RTSP_LOWER_UDP;
    if (tcp) {
      t->channel = t == &c->video ? 0 : 2;
      transport = g_strdup_printf("Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d\r\n",
                                  t->channel, t->channel + 1);
    } else {
      guint16 port = 0;
      if (t->rtp_fd < 0 && open_udp_pair(t, &port) < 0) {
        g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_UNREACHABLE,
                            "no UDP ports free to receive the camera on");
        return FALSE;
      }
      transport = g_strdup_printf("Transport: RTP/AVP;unicast;client_port=%u-%u\r\n", port,
                                  port + 1);
    }
    VigilRtspMessage reply;
    /* 461: the server does not do this transport. */
    int allowed = c->lower == VIGIL_RTSP_LOWER_AUTO && t == &c->video ? 461 : 0;
    if (!request(c, "SETUP", t->url, transport, allowed, &reply, error))
      return FALSE;
    if (reply.status == 461) {
      vigil_rtsp_message_clear(&reply);
      g_debug("the camera does not offer RTP over TCP: UDP");
      c->lower = VIGIL_RTSP_LOWER_UDP;
      continue;
    }
    take_session(c, vigil_rtsp_message_header(&reply, "Session", 0));
    const char *answer = vigil_rtsp_message_header(&reply, "Transport", 0);
    const char *interleaved = answer ? strstr(answer, "interleaved=") : NULL;
    if (tcp && interleaved) {
      long channel = strtol(interleaved + 12, NULL, 10);
      if (channel >= 0 && channel < 255)
        t->channel = (guint8)channel;
    }
    if (c->lower == VIGIL_RTSP_LOWER_AUTO)
      c->lower = VIGIL_RTSP_LOWER_TCP; /* every track goes the same way */
    vigil_rtsp_message_clear(&reply);
    break;
  }
  t->depay = vigil_rtp_depay_new(payload, m);
  t->used = TRUE;
  return TRUE;
}

gboolean vigil_rtsp_client_open(VigilRtspClient *c, gint64 timeout_us, GError **error)
{
  c->deadline = g_get_monotonic_time() + timeout_us;
  if (!connect_to(c, error))
    return FALSE;

  VigilRtspMessage reply;
  if (!request(c, "OPTIONS", c->url, NULL, 0, &reply, error))
    return FALSE;
  const char *public = vigil_rtsp_message_header(&reply, "Public", 0);
  c->get_parameter = public && strstr(public, "GET_PARAMETER");
  vigil_rtsp_message_clear(&reply);

  if (!request(c, "DESCRIBE", c->url, "Accept: application/sdp\r\n", 0, &reply, error))
    return FALSE;
  const char *base = vigil_rtsp_message_header(&reply, "Content-Base", 0);
  if (!base)
    base = vigil_rtsp_message_header(&reply, "Content-Location", 0);
  g_autofree gchar *base_url = g_strdup(base ? base : c->url);
  g_autoptr(VigilSdp) sdp = NULL;
  if (reply.body) {
    gsize size;
    const char *text = g_bytes_get_data(reply.body, &size);
    sdp = vigil_sdp_parse(text, size, NULL);
  }
  vigil_rtsp_message_clear(&reply);
  if (!sdp) {
    g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_INVALID,
                        "the camera's stream description (SDP) could not be read");
    return FALSE;
  }
  if (sdp->control && !g_str_equal(sdp->control, "*")) {
    g_autofree gchar *session_base = vigil_rtsp_resolve_control(base_url, sdp->control);
    g_free(base_url);
    base_url = g_steal_pointer(&session_base);
  }

  const char *video_codecs[] = {"H264", "H265", NULL};
  const char *audio_codecs[] = {"MPEG4-GENERIC", NULL};
  const VigilSdpMedia *other = NULL;
  const VigilSdpMedia *video = pick(sdp, "video", video_codecs, &other);
  const VigilSdpMedia *audio = pick(sdp, "audio", audio_codecs, NULL);
  if (!video) {
    if (other && other->encoding)
      g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_UNSUPPORTED,
                  "unsupported video codec %s (vigil passes through H.264 and H.265)",
                  other->encoding);
    else
      g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_UNSUPPORTED, "no video track");
    return FALSE;
  }
  VigilRtpPayload payload = g_str_equal(video->encoding, "H265") ? VIGIL_RTP_H265 : VIGIL_RTP_H264;
  if (!setup(c, &c->video, base_url, video, payload, error))
    return FALSE;
  c->tracks.video = payload;
  c->tracks.parameter_sets = vigil_sdp_media_parameter_sets(video);
  if (audio) {
    GError *audio_error = NULL;
    if (setup(c, &c->audio, base_url, audio, VIGIL_RTP_AAC, &audio_error)) {
      c->tracks.audio = TRUE;
      c->tracks.aac_config = vigil_sdp_media_aac_config(audio);
      c->tracks.audio_rate = c->audio.clock_rate;
      c->tracks.audio_channels = audio->channels;
    } else if (g_error_matches(audio_error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_REJECTED) ||
               g_error_matches(audio_error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_NOT_FOUND)) {
      /* A camera that lists audio it will not send still has video. */
      g_debug("audio track refused: %s", audio_error->message);
      g_clear_error(&audio_error);
      c->audio.used = FALSE;
      g_clear_pointer(&c->audio.depay, vigil_rtp_depay_free);
    } else {
      g_propagate_error(error, audio_error);
      return FALSE;
    }
  }
  c->tracks.lower = c->lower == VIGIL_RTSP_LOWER_UDP ? VIGIL_RTSP_LOWER_UDP : VIGIL_RTSP_LOWER_TCP;
  return TRUE;
}

const VigilRtspTracks *vigil_rtsp_client_tracks(VigilRtspClient *c)
{
  return &c->tracks;
}

/* --- playing --- */

/* RTP-Info: "url=...;seq=1;rtptime=2, url=...". Each track's rtptime is
 * where npt 0 is: the common origin of both tracks. */
static void take_rtp_info(VigilRtspClient *c, const char *value)
{
  if (!value)
    return;
  g_auto(GStrv) entries = g_strsplit(value, ",", 16);
  guint n = g_strv_length(entries);
  guint found = 0;
  for (guint i = 0; i < n; i++) {
    const char *url = NULL, *rtptime = NULL;
    g_auto(GStrv) params = g_strsplit(entries[i], ";", 8);
    for (gchar **p = params; *p; p++) {
      g_strstrip(*p);
      if (g_str_has_prefix(*p, "url="))
        url = *p + 4;
      else if (g_str_has_prefix(*p, "rtptime="))
        rtptime = *p + 8;
    }
    if (!rtptime)
      continue;
    Track *t = NULL;
    for (Track *k = &c->video; k <= &c->audio; k++) {
      if (!k->used || k->has_base || !url)
        continue;
      if (g_str_has_suffix(k->url, url) || g_str_has_suffix(url, k->url))
        t = k;
      else if (strrchr(url, '/') && g_str_has_suffix(k->url, strrchr(url, '/')))
        t = k;
    }
    if (!t && n == 1 && !c->audio.used)
      t = &c->video;
    if (t) {
      t->base = (guint32)strtoull(rtptime, NULL, 10);
      t->has_base = TRUE;
      found++;
    }
  }
  c->synced = found > 0 && c->video.has_base && (!c->audio.used || c->audio.has_base);
}

static gboolean keep_alive(VigilRtspClient *c, GError **error)
{
  /* Answers come back among the frames and are dropped by drain(), but
   * for a stale nonce's 401, which has it sent again. */
  c->keep_alive_again = FALSE;
  if (!send_request(c, c->get_parameter ? "GET_PARAMETER" : "OPTIONS", c->url, NULL, error))
    return FALSE;
  c->keep_alive_cseq = c->cseq;
  return TRUE;
}

static void read_udp(VigilRtspClient *c, Track *t, int fd, gboolean rtcp)
{
  /* Only the pages datagrams land in are ever touched. */
  if (!c->datagrams)
    c->datagrams = g_malloc((gsize)UDP_BATCH * UDP_MAX_DATAGRAM);
  guint8 *buffers = c->datagrams;
  struct mmsghdr msgs[UDP_BATCH];
  struct iovec iov[UDP_BATCH];
  for (;;) {
    for (int i = 0; i < UDP_BATCH; i++) {
      iov[i] = (struct iovec){buffers + (gsize)i * UDP_MAX_DATAGRAM, UDP_MAX_DATAGRAM};
      msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    int n = recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    for (int i = 0; i < n && !c->stop; i++) {
      if (rtcp)
        on_sender_report(c, t, iov[i].iov_base, msgs[i].msg_len);
      else
        on_rtp(c, t, iov[i].iov_base, msgs[i].msg_len);
    }
    if (n < UDP_BATCH)
      return;
  }
}

gboolean vigil_rtsp_client_play(VigilRtspClient *c, gint64 silence_us, VigilRtspVideoFunc video,
                                 VigilRtspAudioFunc audio, gpointer user_data, GError **error)
{
  VigilRtspMessage reply;
  if (!request(c, "PLAY", c->url, "Range: npt=0.000-\r\n", 0, &reply, error))
    return FALSE;
  take_rtp_info(c, vigil_rtsp_message_header(&reply, "RTP-Info", 0));
  vigil_rtsp_message_clear(&reply);
  c->deadline = 0;
  c->video_func = video;
  c->audio_func = audio;
  c->user_data = user_data;
  c->last_packet_us = g_get_monotonic_time();
  gboolean udp = c->tracks.lower == VIGIL_RTSP_LOWER_UDP;
  long interval = READ_INTERVAL_NS;
  if (udp && c->video.receive_buffer < UDP_ROOMY_BUFFER) {
    interval = UDP_SHORT_INTERVAL_NS;
    g_debug("UDP receive queue of %d bytes only: reading every 5 ms", c->video.receive_buffer);
  }
  gint64 keep_alive_us = (gint64)MAX(c->session_timeout / 2, 1) * G_USEC_PER_SEC;
  gint64 next_keep_alive = g_get_monotonic_time() + keep_alive_us;

  /* Frames that came with PLAY's answer. */
  if (drain(c, 0, &reply, error) < 0)
    return FALSE;
  while (!c->stop) {
    if (aborted(c, error))
      return FALSE;
    gint64 now = g_get_monotonic_time();
    if (now - c->last_packet_us > silence_us) {
      g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_SILENT,
                  "no data from the camera for %d s", (int)(silence_us / G_USEC_PER_SEC));
      return FALSE;
    }
    if (now >= next_keep_alive || c->keep_alive_again) {
      c->keep_alive_retries = c->keep_alive_again ? c->keep_alive_retries + 1 : 0;
      if (!keep_alive(c, error))
        return FALSE;
      next_keep_alive = now + keep_alive_us;
    }
    gboolean more = FALSE;
    if (!udp) {
      /* Streaming over TCP, the socket nearly always has something after a
       * nap: read first, and poll only when it had nothing. */
      gsize got;
      if (!receive(c, &got, error))
        return FALSE;
      if (got == 0) {
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, ABORT_SLICE_MS) < 0 && errno != EINTR) {
          g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_CLOSED, "poll: %s",
                      g_strerror(errno));
          return FALSE;
        }
        continue;
      }
      more = got >= READ_CHUNK;
      if (drain(c, 0, &reply, error) < 0)
        return FALSE;
      /* Let packets gather: the next read takes all of them at once. */
      if (!more && !c->stop)
        nap(interval);
      continue;
    }
    /* UDP: one poll for the RTSP connection and every RTP and RTCP socket. */
    struct pollfd fds[5] = {{c->fd, POLLIN, 0}};
    nfds_t nfds = 1;
    for (Track *t = &c->video; t <= &c->audio; t++) {
      if (t->used) {
        fds[nfds++] = (struct pollfd){t->rtp_fd, POLLIN, 0};
        fds[nfds++] = (struct pollfd){t->rtcp_fd, POLLIN, 0};
      }
    }
    int n = poll(fds, nfds, ABORT_SLICE_MS);
    if (n < 0 && errno != EINTR) {
      g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_CLOSED, "poll: %s",
                  g_strerror(errno));
      return FALSE;
    }
    if (n <= 0)
      continue;
    if (fds[0].revents) {
      gsize got;
      if (!receive(c, &got, error))
        return FALSE;
      if (drain(c, 0, &reply, error) < 0)
        return FALSE;
    }
    for (nfds_t i = 1; i < nfds; i++) {
      if (!fds[i].revents)
        continue;
      Track *t = fds[i].fd == c->video.rtp_fd || fds[i].fd == c->video.rtcp_fd ? &c->video
                                                                                : &c->audio;
      read_udp(c, t, fds[i].fd, fds[i].fd == t->rtcp_fd);
    }
    if (!c->stop)
      nap(interval);
  }
  return TRUE;
}

/* --- closing --- */

static void track_clear(Track *t)
{
  g_clear_pointer(&t->depay, vigil_rtp_depay_free);
  g_free(t->url);
  if (t->rtp_fd >= 0)
    close(t->rtp_fd);
  if (t->rtcp_fd >= 0)
    close(t->rtcp_fd);
}

void vigil_rtsp_client_free(VigilRtspClient *c)
{
  if (!c)
    return;
  if (c->fd >= 0) {
    if (c->session) {
      /* Polite, but never waited for: a dead camera must not hold a stop. */
      GError *ignored = NULL;
      c->closing = TRUE;
      send_request(c, "TEARDOWN", c->url, NULL, &ignored);
      g_clear_error(&ignored);
    }
    close(c->fd);
  }
  track_clear(&c->video);
  track_clear(&c->audio);
  g_clear_pointer(&c->tracks.parameter_sets, g_bytes_unref);
  g_clear_pointer(&c->tracks.aac_config, g_bytes_unref);
  vigil_rtsp_challenge_clear(&c->challenge);
  g_free(c->in);
  g_free(c->datagrams);
  g_free(c->url);
  g_free(c->host);
  g_free(c->user);
  if (c->password)
    memset(c->password, 0, strlen(c->password));
  g_free(c->password);
  g_free(c->session);
  g_free(c);
}
