/* The RTSP client (rtsp.h): connects, authenticates, DESCRIBE/SETUP/PLAY,
 * then reads RTP (interleaved on the RTSP connection, or UDP) and hands
 * whole access units and AAC frames to its caller, on the caller's thread.
 * This file is the session and its reading loop; client-conn.c has the
 * sockets and requests, client-media.c the RTP to units (client-private.h).
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
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rtsp/client-private.h"

/* How long the thread sleeps between reads while streaming. */
#define READ_INTERVAL_NS (20 * 1000 * 1000)
/* Over UDP, when the kernel would not give the socket a queue of at least
 * UDP_ROOMY_BUFFER (not root, and net.core.rmem_max left at its default):
 * a keyframe burst must not overflow it between two reads. */
#define UDP_SHORT_INTERVAL_NS (5 * 1000 * 1000)
#define UDP_ROOMY_BUFFER      (1024 * 1024)
/* A camera that answered PLAY sends its first packet within a frame
 * interval. One that has sent nothing this long after will not: better to
 * give up on this session and set up a new one than to wait out the whole
 * silence limit (a session can come up dead, e.g. the first one after a
 * network blackout, docs/soak.md). */
#define FIRST_PACKET_US (5 * G_USEC_PER_SEC)

/* clang-format off */
G_DEFINE_QUARK(vigil-rtsp-error-quark, vigil_rtsp_error)
/* clang-format on */

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
  g_autoptr(GUri) uri = g_uri_parse(
      url, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_ENCODED_QUERY, NULL);
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

static gboolean setup(VigilRtspClient *c, VigilRtspTrack *t, const char *base,
                      const VigilSdpMedia *m, VigilRtpPayload payload, GError **error)
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
      if (t->rtp_fd < 0 && vigil_rtsp_conn_udp_pair(t, &port) < 0) {
        g_set_error_literal(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_UNREACHABLE,
                            "no UDP ports free to receive the camera on");
        return FALSE;
      }
      transport =
          g_strdup_printf("Transport: RTP/AVP;unicast;client_port=%u-%u\r\n", port, port + 1);
    }
    VigilRtspMessage reply;
    /* 461: the server does not do this transport. */
    int allowed = c->lower == VIGIL_RTSP_LOWER_AUTO && t == &c->video ? 461 : 0;
    if (!vigil_rtsp_conn_request(c, "SETUP", t->url, transport, allowed, &reply, error))
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
  if (!vigil_rtsp_conn_connect(c, error))
    return FALSE;

  VigilRtspMessage reply;
  if (!vigil_rtsp_conn_request(c, "OPTIONS", c->url, NULL, 0, &reply, error))
    return FALSE;
  const char *public = vigil_rtsp_message_header(&reply, "Public", 0);
  c->get_parameter = public && strstr(public, "GET_PARAMETER");
  vigil_rtsp_message_clear(&reply);

  if (!vigil_rtsp_conn_request(c, "DESCRIBE", c->url, "Accept: application/sdp\r\n", 0, &reply,
                               error))
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

static gboolean keep_alive(VigilRtspClient *c, GError **error)
{
  /* Answers come back among the frames and are dropped by vigil_rtsp_conn_drain(), but
   * for a stale nonce's 401, which has it sent again. */
  c->keep_alive_again = FALSE;
  if (!vigil_rtsp_conn_send_request(c, c->get_parameter ? "GET_PARAMETER" : "OPTIONS", c->url, NULL,
                                    error))
    return FALSE;
  c->keep_alive_cseq = c->cseq;
  return TRUE;
}

gboolean vigil_rtsp_client_play(VigilRtspClient *c, gint64 silence_us, VigilRtspVideoFunc video,
                                VigilRtspAudioFunc audio, gpointer user_data, GError **error)
{
  VigilRtspMessage reply;
  if (!vigil_rtsp_conn_request(c, "PLAY", c->url, "Range: npt=0.000-\r\n", 0, &reply, error))
    return FALSE;
  vigil_rtsp_media_rtp_info(c, vigil_rtsp_message_header(&reply, "RTP-Info", 0));
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
  gint64 first_packet_us = MIN(silence_us, FIRST_PACKET_US);

  /* Frames that came with PLAY's answer. */
  if (vigil_rtsp_conn_drain(c, 0, &reply, error) < 0)
    return FALSE;
  while (!c->stop) {
    if (vigil_rtsp_aborted(c, error))
      return FALSE;
    gint64 now = g_get_monotonic_time();
    if (!c->got_packet && now - c->last_packet_us > first_packet_us) {
      g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_SILENT,
                  "the camera sent no video for %d s after PLAY",
                  (int)(first_packet_us / G_USEC_PER_SEC));
      return FALSE;
    }
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
      if (!vigil_rtsp_conn_receive(c, &got, error))
        return FALSE;
      if (got == 0) {
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, VIGIL_RTSP_ABORT_SLICE_MS) < 0 && errno != EINTR) {
          g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_CLOSED, "poll: %s",
                      g_strerror(errno));
          return FALSE;
        }
        continue;
      }
      more = got >= VIGIL_RTSP_READ_CHUNK;
      if (vigil_rtsp_conn_drain(c, 0, &reply, error) < 0)
        return FALSE;
      /* Let packets gather: the next read takes all of them at once. */
      if (!more && !c->stop)
        nap(interval);
      continue;
    }
    /* UDP: one poll for the RTSP connection and every RTP and RTCP socket. */
    struct pollfd fds[5] = {{c->fd, POLLIN, 0}};
    nfds_t nfds = 1;
    for (VigilRtspTrack *t = &c->video; t <= &c->audio; t++) {
      if (t->used) {
        fds[nfds++] = (struct pollfd){t->rtp_fd, POLLIN, 0};
        fds[nfds++] = (struct pollfd){t->rtcp_fd, POLLIN, 0};
      }
    }
    int n = poll(fds, nfds, VIGIL_RTSP_ABORT_SLICE_MS);
    if (n < 0 && errno != EINTR) {
      g_set_error(error, VIGIL_RTSP_ERROR, VIGIL_RTSP_ERROR_CLOSED, "poll: %s", g_strerror(errno));
      return FALSE;
    }
    if (n <= 0)
      continue;
    if (fds[0].revents) {
      gsize got;
      if (!vigil_rtsp_conn_receive(c, &got, error))
        return FALSE;
      if (vigil_rtsp_conn_drain(c, 0, &reply, error) < 0)
        return FALSE;
    }
    for (nfds_t i = 1; i < nfds; i++) {
      if (!fds[i].revents)
        continue;
      VigilRtspTrack *t =
          fds[i].fd == c->video.rtp_fd || fds[i].fd == c->video.rtcp_fd ? &c->video : &c->audio;
      vigil_rtsp_media_read_udp(c, t, fds[i].fd, fds[i].fd == t->rtcp_fd);
    }
    if (!c->stop)
      nap(interval);
  }
  return TRUE;
}

/* --- closing --- */

static void track_clear(VigilRtspTrack *t)
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
      vigil_rtsp_conn_send_request(c, "TEARDOWN", c->url, NULL, &ignored);
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
