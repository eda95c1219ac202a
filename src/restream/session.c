/* The RTSP server's requests: OPTIONS, DESCRIBE, SETUP (TCP interleaved or
 * UDP unicast), PLAY, GET_PARAMETER and TEARDOWN, each authenticated (Basic,
 * vigil's users and API tokens) and checked against the view right of the
 * path's camera. */
#define G_LOG_DOMAIN "vigil-restream"

#include <gio/gio.h>
#include <string.h>

#include "auth/basic.h"
#include "auth/permissions.h"
#include "auth/ratelimit.h"
#include "auth/secret.h"
#include "auth/user.h"
#include "restream/packetize.h"
#include "restream/server-private.h"

/* --- requests --- */

static gboolean camera_for_path(VigilRestream *r, const char *path, gchar **camera, gboolean *sub)
{
  if (!*path || strchr(path, '/'))
    return FALSE;
  if (vigil_camera_manager_lookup(r->cameras, path)) {
    *camera = g_strdup(path);
    *sub = FALSE;
    return TRUE;
  }
  if (g_str_has_suffix(path, "_sub")) {
    g_autofree gchar *base = g_strndup(path, strlen(path) - 4);
    VigilCamera *cam = vigil_camera_manager_lookup(r->cameras, base);
    if (cam && vigil_camera_get_sub_stream(cam)) {
      *camera = g_steal_pointer(&base);
      *sub = TRUE;
      return TRUE;
    }
  }
  return FALSE;
}

/* The name, when the password of the Basic header @authorization is one
 * of that user's API tokens; NULL otherwise. */
static gchar *token_owner(VigilRestream *r, const char *authorization, const char *name)
{
  const char *b64 = authorization + 6;
  while (*b64 == ' ')
    b64++;
  if (!name || strlen(b64) > 1024)
    return NULL;
  gsize len = 0;
  g_autofree guchar *raw = g_base64_decode(b64, &len);
  g_autofree gchar *text = raw ? g_strndup((const char *)raw, len) : NULL;
  const char *colon = text ? strchr(text, ':') : NULL;
  gchar *found = NULL;
  if (colon && colon[1] && strlen(colon + 1) <= 256) {
    g_autofree gchar *hash = vigil_secret_sha256(colon + 1);
    g_autofree gchar *owner = vigil_store_lookup_token(r->store, hash, g_get_real_time());
    if (owner && g_str_equal(owner, name))
      found = g_steal_pointer(&owner);
  }
  if (text)
    memset(text, 0, strlen(text));
  return found;
}

/* The user named by a Basic header whose password is one of the user's API
 * tokens or the user's password (cached like HTTP's); NULL otherwise. */
static gchar *check_credentials(VigilRestream *r, const char *authorization, const char *name)
{
  gchar *owner = token_owner(r, authorization, name);
  if (owner)
    return owner;
  g_autoptr(VigilUser) user = vigil_auth_basic(r->store, authorization);
  return user ? g_strdup(user->name) : NULL;
}

/* --- Basic checks off the main loop --- */

/* A check in flight; @client NULL once the client is gone. */
typedef struct _BasicCheck {
  Client *client;
} BasicCheck;

void vigil_restream_client_forget_check(Client *c)
{
  if (c->check) {
    c->check->client = NULL;
    c->check = NULL;
  }
}

static void on_basic_checked(GObject *source, GAsyncResult *result, gpointer data)
{
  BasicCheck *k = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilUser) user = vigil_auth_basic_finish(result, &error);
  Client *c = k->client;
  g_free(k);
  if (!c)
    return;
  c->check = NULL;
  c->basic_verdict = error ? -2 : user ? 1 : -1;
  vigil_restream_client_resume(c);
}

/* TRUE (and the check started) when @req would make authorize() hash a
 * password: Basic credentials that are neither cached nor an API token, for
 * a request that authenticates, from a client not rate-limited. An
 * Argon2id check takes ~145 ms: the main loop serves everyone else
 * meanwhile, and this client's request runs again with the answer. */
static gboolean check_off_loop(Client *c, const VigilRestreamRequest *req)
{
  VigilRestream *r = c->server;
  const char *m = req->method;
  if (c->basic_verdict != 0 ||
      !(g_str_equal(m, "DESCRIBE") || g_str_equal(m, "SETUP") || g_str_equal(m, "PLAY")))
    return FALSE;
  const char *authorization = vigil_restream_request_header(req, "Authorization");
  if (!authorization || g_ascii_strncasecmp(authorization, "Basic ", 6) != 0 ||
      vigil_auth_basic_is_cached(r->store, authorization))
    return FALSE;
  g_autofree gchar *name = vigil_auth_basic_name(authorization);
  g_autofree gchar *owner = token_owner(r, authorization, name);
  if (owner || vigil_login_retry_after(name, c->address) > 0)
    return FALSE;
  BasicCheck *k = g_new0(BasicCheck, 1);
  k->client = c;
  c->check = k;
  vigil_auth_basic_async(r->store, authorization, c->address, on_basic_checked, k);
  return TRUE;
}

/* Authenticates the request and checks the view right on the path's
 * camera. Answers itself and returns FALSE when the request may not go on.
 * An unknown camera and one the user may not see get the same 404. */
static gboolean authorize(Client *c, const VigilRestreamRequest *req, const char *cseq,
                          const char *path, gchar **camera, gboolean *sub)
{
  VigilRestream *r = c->server;
  const char *authorization = vigil_restream_request_header(req, "Authorization");
  if (!authorization || g_ascii_strncasecmp(authorization, "Basic ", 6) != 0) {
    vigil_restream_reply(c, 401, "Unauthorized", cseq,
                         "WWW-Authenticate: Basic realm=\"vigil\"\r\n", NULL);
    return FALSE;
  }
  g_autofree gchar *name = vigil_auth_basic_name(authorization);
  gint64 wait = vigil_login_retry_after(name, c->address);
  if (wait > 0) {
    g_autofree gchar *h = g_strdup_printf("Retry-After: %" G_GINT64_FORMAT "\r\n", wait);
    vigil_restream_reply(c, 503, "Service Unavailable", cseq, h, NULL);
    return FALSE;
  }
  if (c->basic_verdict == -2) {
    vigil_restream_reply(c, 503, "Service Unavailable", cseq, "Retry-After: 1\r\n", NULL);
    return FALSE;
  }
  /* Checked off the main loop just now (check_off_loop): a wrong password
   * is not hashed again, and was counted then. */
  gboolean checked_wrong = c->basic_verdict == -1;
  g_autofree gchar *user = checked_wrong ? NULL : check_credentials(r, authorization, name);
  if (!user) {
    if (!checked_wrong)
      vigil_login_failed(name, c->address);
    /* Not the name: people type passwords into the name field. */
    g_info("failed RTSP authentication from %s", c->address);
    vigil_restream_reply(c, 401, "Unauthorized", cseq,
                         "WWW-Authenticate: Basic realm=\"vigil\"\r\n", NULL);
    return FALSE;
  }
  g_autoptr(VigilPermissions) perms = vigil_permissions_load(r->store, user);
  if (!camera_for_path(r, path, camera, sub) || !perms ||
      !vigil_permissions_has(perms, *camera, VIGIL_RIGHT_VIEW)) {
    g_clear_pointer(camera, g_free);
    vigil_restream_reply(c, 404, "Not Found", cseq, NULL, NULL);
    return FALSE;
  }
  return TRUE;
}

static VigilStream *stream_of(VigilRestream *r, const char *camera, gboolean sub)
{
  VigilCamera *cam = vigil_camera_manager_lookup(r->cameras, camera);
  if (!cam)
    return NULL;
  return sub ? vigil_camera_get_sub_stream(cam) : vigil_camera_get_stream(cam);
}

typedef struct {
  gchar *fmtp;
  guint rate, channels;
} AudioFormat;

void vigil_restream_audio_format_free(gpointer p)
{
  AudioFormat *f = p;
  g_free(f->fmtp);
  g_free(f);
}

/* The AAC fmtp of a stream's audio (from an audio chunk of its GOP cache,
 * else the one seen last) and its rate and channels; NULL when the stream
 * has no audio (or none seen yet). */
static gchar *audio_fmtp(VigilRestream *r, const char *camera, gboolean sub, guint *rate,
                         guint *channels)
{
  VigilStream *stream = stream_of(r, camera, sub);
  VigilStreamStats stats;
  vigil_stream_get_stats(stream, &stats);
  if (!stats.has_audio)
    return NULL;
  g_autofree gchar *key = g_strdup_printf("%s%s", camera, sub ? "_sub" : "");
  g_autoptr(GPtrArray) gop = vigil_stream_get_gop(stream);
  for (guint i = 0; i < gop->len; i++) {
    VigilChunk *chunk = gop->pdata[i];
    if (!(chunk->flags & VIGIL_CHUNK_AUDIO))
      continue;
    gsize size;
    const guint8 *ts = g_bytes_get_data(chunk->data, &size);
    g_autoptr(GBytes) es = vigil_restream_ts_audio(ts, size);
    gchar *fmtp = es ? vigil_restream_aac_fmtp(g_bytes_get_data(es, NULL), g_bytes_get_size(es),
                                               rate, channels)
                     : NULL;
    if (fmtp) {
      AudioFormat *f = g_new0(AudioFormat, 1);
      f->fmtp = g_strdup(fmtp);
      f->rate = *rate;
      f->channels = *channels;
      g_hash_table_insert(r->audio_fmtp, g_steal_pointer(&key), f);
      return fmtp;
    }
  }
  AudioFormat *f = g_hash_table_lookup(r->audio_fmtp, key);
  if (!f)
    return NULL;
  *rate = f->rate;
  *channels = f->channels;
  return g_strdup(f->fmtp);
}

static void handle_describe(Client *c, const VigilRestreamRequest *req, const char *cseq,
                            const char *path)
{
  g_autofree gchar *camera = NULL;
  gboolean sub = FALSE;
  if (!authorize(c, req, cseq, path, &camera, &sub))
    return;
  VigilStream *stream = stream_of(c->server, camera, sub);
  VigilStreamStats stats;
  vigil_stream_get_stats(stream, &stats);
  g_autoptr(GPtrArray) gop = vigil_stream_get_gop(stream);
  g_autofree gchar *fmtp = NULL;
  for (guint i = 0; i < gop->len && !fmtp; i++) {
    VigilChunk *chunk = gop->pdata[i];
    if (!vigil_chunk_is_keyframe(chunk))
      continue;
    gsize size;
    const guint8 *ts = g_bytes_get_data(chunk->data, &size);
    g_autoptr(GBytes) au = vigil_restream_ts_video(ts, size);
    if (au)
      fmtp = vigil_restream_fmtp(g_bytes_get_data(au, NULL), g_bytes_get_size(au), stats.codec);
  }
  if (!fmtp || (stats.codec != VIGIL_CODEC_H264 && stats.codec != VIGIL_CODEC_H265)) {
    vigil_restream_reply(c, 503, "Service Unavailable", cseq, "Retry-After: 2\r\n", NULL);
    return;
  }
  guint rate = 0, channels = 0;
  g_autofree gchar *afmtp = audio_fmtp(c->server, camera, sub, &rate, &channels);
  g_autofree gchar *audio =
      afmtp ? g_strdup_printf("m=audio 0 RTP/AVP %d\r\n"
                              "a=rtpmap:%d MPEG4-GENERIC/%u/%u\r\n"
                              "a=fmtp:%d %s\r\n"
                              "a=control:trackID=1\r\n",
                              VIGIL_RESTREAM_AUDIO_PAYLOAD_TYPE, VIGIL_RESTREAM_AUDIO_PAYLOAD_TYPE,
                              rate, channels, VIGIL_RESTREAM_AUDIO_PAYLOAD_TYPE, afmtp)
            : g_strdup("");
  g_autofree gchar *sdp = g_strdup_printf(
      "v=0\r\n"
      "o=- %u 1 IN IP4 0.0.0.0\r\n"
      "s=vigil %s\r\n"
      "c=IN IP4 0.0.0.0\r\n"
      "t=0 0\r\n"
      "a=tool:vigil\r\n"
      "a=range:npt=now-\r\n"
      "a=control:*\r\n"
      "m=video 0 RTP/AVP %d\r\n"
      "a=rtpmap:%d %s/90000\r\n"
      "a=fmtp:%d %s\r\n"
      "a=control:trackID=0\r\n"
      "%s",
      g_random_int(), path, VIGIL_RESTREAM_PAYLOAD_TYPE, VIGIL_RESTREAM_PAYLOAD_TYPE,
      stats.codec == VIGIL_CODEC_H265 ? "H265" : "H264", VIGIL_RESTREAM_PAYLOAD_TYPE, fmtp, audio);
  g_autofree gchar *headers = g_strdup_printf("Content-Type: application/sdp\r\n"
                                              "Content-Base: %s/\r\n",
                                              req->url);
  vigil_restream_reply(c, 200, "OK", cseq, headers, sdp);
}

/* The path of a SETUP or PLAY URL without the track part; *@track: 1 for
 * the audio track, else 0. */
static gchar *base_path(const char *path, int *track)
{
  const char *slash = strrchr(path, '/');
  *track = 0;
  if (slash && (g_str_equal(slash + 1, "trackID=0") || g_str_equal(slash + 1, "trackID=1"))) {
    *track = slash[9] - '0';
    return g_strndup(path, slash - path);
  }
  return g_strdup(path);
}

/* authorize() for SETUP and PLAY, whose path may name a track. */
static gboolean authorize_track(Client *c, const VigilRestreamRequest *req, const char *cseq,
                                const char *path, int *track, gchar **camera, gboolean *sub)
{
  g_autofree gchar *base = base_path(path, track);
  return authorize(c, req, cseq, base, camera, sub);
}

static gboolean session_matches(Client *c, const VigilRestreamRequest *req)
{
  const char *s = vigil_restream_request_header(req, "Session");
  if (!s || !c->session)
    return FALSE;
  gsize n = strcspn(s, "; ");
  return n == strlen(c->session) && strncmp(s, c->session, n) == 0;
}

static gboolean on_rtcp(GSocket *socket, G_GNUC_UNUSED GIOCondition condition, gpointer data)
{
  Client *c = data;
  gchar buf[2048];
  while (g_socket_receive(socket, buf, sizeof buf, NULL, NULL) > 0)
    c->last_input_us = g_get_monotonic_time(); /* receiver reports: the client is there */
  return G_SOURCE_CONTINUE;
}

/* Two UDP sockets on the connection's local address, any ports, RTP sent to
 * the RTSP peer's address only (never to a third party a request names). */
static gboolean setup_udp(Client *c, guint16 rtp_port, guint16 rtcp_port, GSocket **rtp_socket,
                          GSocket **rtcp_socket, GSocketAddress **rtp_dest,
                          GSocketAddress **rtcp_dest, GSource **rtcp_source)
{
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address(c->conn, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(c->conn, NULL);
  if (!G_IS_INET_SOCKET_ADDRESS(local) || !G_IS_INET_SOCKET_ADDRESS(remote))
    return FALSE;
  GInetAddress *local_ip = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local));
  GSocket *sockets[2] = {NULL, NULL};
  for (int i = 0; i < 2; i++) {
    sockets[i] = g_socket_new(g_inet_address_get_family(local_ip), G_SOCKET_TYPE_DATAGRAM,
                              G_SOCKET_PROTOCOL_UDP, NULL);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(local_ip, 0);
    if (!sockets[i] || !g_socket_bind(sockets[i], any, FALSE, NULL)) {
      g_clear_object(&sockets[0]);
      g_clear_object(&sockets[1]);
      return FALSE;
    }
    g_socket_set_blocking(sockets[i], FALSE);
  }
  *rtp_socket = sockets[0];
  *rtcp_socket = sockets[1];
  *rtp_dest = g_inet_socket_address_new(
      g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)), rtp_port);
  *rtcp_dest = g_inet_socket_address_new(
      g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)), rtcp_port);
  *rtcp_source = g_socket_create_source(*rtcp_socket, G_IO_IN, NULL);
  g_source_set_callback(*rtcp_source, G_SOURCE_FUNC(on_rtcp), c, NULL);
  g_source_attach(*rtcp_source, NULL);
  return TRUE;
}

static guint16 local_port(GSocket *socket)
{
  g_autoptr(GSocketAddress) a = g_socket_get_local_address(socket, NULL);
  return a ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(a)) : 0;
}

static void clear_udp(GSocket **rtp_socket, GSocket **rtcp_socket, GSocketAddress **rtp_dest,
                      GSocketAddress **rtcp_dest, GSource **rtcp_source)
{
  if (*rtcp_source) {
    g_source_destroy(*rtcp_source);
    g_clear_pointer(rtcp_source, g_source_unref);
  }
  g_clear_object(rtp_socket);
  g_clear_object(rtcp_socket);
  g_clear_object(rtp_dest);
  g_clear_object(rtcp_dest);
}

static void handle_setup(Client *c, const VigilRestreamRequest *req, const char *cseq,
                         const char *path)
{
  int track = 0;
  g_autofree gchar *camera = NULL;
  gboolean sub = FALSE;
  if (!authorize_track(c, req, cseq, path, &track, &camera, &sub))
    return;
  const char *transport = vigil_restream_request_header(req, "Transport");
  guint8 channel = 0;
  guint16 rtp_port = 0, rtcp_port = 0;
  gboolean tcp = vigil_restream_transport_tcp(transport, &channel);
  /* The client's order of preference: TCP when it is offered first. */
  const char *first = transport ? transport : "";
  while (*first == ' ')
    first++;
  /* rtsps: TCP interleaved only (UDP would leave the TLS channel). */
  gboolean udp = !c->tls && !(tcp && g_ascii_strncasecmp(first, "RTP/AVP/TCP", 11) == 0) &&
                 vigil_restream_transport_udp(transport, &rtp_port, &rtcp_port);
  if (!tcp && !udp) {
    vigil_restream_reply(c, 461, "Unsupported Transport", cseq, NULL, NULL);
    return;
  }
  guint rate = 0, channels = 0;
  if (track == 1) {
    g_autofree gchar *afmtp = audio_fmtp(c->server, camera, sub, &rate, &channels);
    if (!afmtp) {
      vigil_restream_reply(c, 404, "Not Found", cseq, NULL, NULL);
      return;
    }
  }
  if (c->session) {
    /* One session per connection, on one stream: a further SETUP adds the
     * other track or repeats one (perhaps with another transport), before
     * PLAY. */
    if (!session_matches(c, req) || g_strcmp0(camera, c->camera) != 0 || sub != c->sub) {
      vigil_restream_reply(c, 459, "Aggregate Operation Not Allowed", cseq, NULL, NULL);
      return;
    }
    if (c->subscriber) {
      vigil_restream_reply(c, 455, "Method Not Valid in This State", cseq, NULL, NULL);
      return;
    }
  } else {
    VigilStream *stream = stream_of(c->server, camera, sub);
    c->session = g_strdup_printf("%08X%08X", g_random_int(), g_random_int());
    c->camera = g_steal_pointer(&camera);
    c->sub = sub;
    c->stream = vigil_stream_ref(stream);
    c->v.ssrc = g_random_int();
    c->v.seq = (guint16)g_random_int();
    c->v.rtptime0 = g_random_int();
    c->audio.ssrc = g_random_int();
    c->audio.seq = (guint16)g_random_int();
    c->audio.rtptime0 = g_random_int();
  }
  g_autofree gchar *transport_reply = NULL;
  if (track == 1) {
    Track *a = &c->audio;
    clear_udp(&a->rtp_socket, &a->rtcp_socket, &a->rtp_dest, &a->rtcp_dest, &a->rtcp_source);
    a->udp = udp && setup_udp(c, rtp_port, rtcp_port, &a->rtp_socket, &a->rtcp_socket, &a->rtp_dest,
                              &a->rtcp_dest, &a->rtcp_source);
    if (udp && !a->udp && !tcp) {
      vigil_restream_reply(c, 461, "Unsupported Transport", cseq, NULL, NULL);
      return;
    }
    a->set_up = TRUE;
    a->rate = rate;
    a->channel = channel;
    transport_reply =
        a->udp ? g_strdup_printf("RTP/AVP;unicast;client_port=%u-%u;server_port=%u-%u;ssrc=%08X",
                                 rtp_port, rtcp_port, local_port(a->rtp_socket),
                                 local_port(a->rtcp_socket), a->ssrc)
               : g_strdup_printf("RTP/AVP/TCP;unicast;interleaved=%u-%u;ssrc=%08X", channel,
                                 channel + 1, a->ssrc);
  } else {
    clear_udp(&c->v.rtp_socket, &c->v.rtcp_socket, &c->v.rtp_dest, &c->v.rtcp_dest,
              &c->v.rtcp_source);
    c->v.udp = udp && setup_udp(c, rtp_port, rtcp_port, &c->v.rtp_socket, &c->v.rtcp_socket,
                                &c->v.rtp_dest, &c->v.rtcp_dest, &c->v.rtcp_source);
    if (udp && !c->v.udp && !tcp) {
      vigil_restream_reply(c, 461, "Unsupported Transport", cseq, NULL, NULL);
      return;
    }
    c->video = TRUE;
    c->v.channel = channel;
    transport_reply =
        c->v.udp ? g_strdup_printf("RTP/AVP;unicast;client_port=%u-%u;server_port=%u-%u;ssrc=%08X",
                                   rtp_port, rtcp_port, local_port(c->v.rtp_socket),
                                   local_port(c->v.rtcp_socket), c->v.ssrc)
                 : g_strdup_printf("RTP/AVP/TCP;unicast;interleaved=%u-%u;ssrc=%08X", channel,
                                   channel + 1, c->v.ssrc);
  }
  g_autofree gchar *headers = g_strdup_printf("Transport: %s\r\nSession: %s;timeout=%d\r\n",
                                              transport_reply, c->session, SESSION_TIMEOUT_S);
  vigil_restream_reply(c, 200, "OK", cseq, headers, NULL);
}

static void handle_play(Client *c, const VigilRestreamRequest *req, const char *cseq,
                        const char *path)
{
  int track = 0;
  g_autofree gchar *camera = NULL;
  gboolean sub = FALSE;
  if (!authorize_track(c, req, cseq, path, &track, &camera, &sub))
    return;
  if (!session_matches(c, req)) {
    vigil_restream_reply(c, 454, "Session Not Found", cseq, NULL, NULL);
    return;
  }
  VigilStreamStats stats;
  vigil_stream_get_stats(c->stream, &stats);
  c->codec = stats.codec;
  gsize url_len = strlen(req->url);
  if (g_str_has_suffix(req->url, "/trackID=0") || g_str_has_suffix(req->url, "/trackID=1"))
    url_len -= strlen("/trackID=0");
  g_autofree gchar *url = g_strndup(req->url, url_len);
  GString *info = g_string_new(NULL);
  if (c->video)
    g_string_append_printf(info, "url=%s/trackID=0;seq=%u;rtptime=%u", url, c->v.seq,
                           c->v.rtptime0);
  if (c->audio.set_up)
    g_string_append_printf(info, "%surl=%s/trackID=1;seq=%u;rtptime=%u", c->video ? "," : "", url,
                           c->audio.seq, c->audio.rtptime0);
  g_autofree gchar *rtp_info = g_string_free(info, FALSE);
  g_autofree gchar *headers = g_strdup_printf("Session: %s;timeout=%d\r\n"
                                              "Range: npt=now-\r\n"
                                              "RTP-Info: %s\r\n",
                                              c->session, SESSION_TIMEOUT_S, rtp_info);
  vigil_restream_reply(c, 200, "OK", cseq, headers, NULL);
  if (!c->subscriber) {
    /* The answer is queued first: RTP follows it on the wire. */
    c->subscriber = vigil_stream_subscribe(c->stream, TRUE, g_main_context_default(),
                                           vigil_restream_client_on_chunk, c, NULL);
    vigil_stream_add_viewer(c->stream, +1);
    c->counted_viewer = TRUE;
    g_info("RTSP client %s plays %s%s over %s%s", c->address, c->camera, c->sub ? " (sub)" : "",
           c->v.udp ? "UDP"
           : c->tls ? "TLS"
                    : "TCP",
           c->audio.set_up ? " with audio" : "");
  }
}

static void handle_request(Client *c, const VigilRestreamRequest *req)
{
  const char *cseq = vigil_restream_request_header(req, "CSeq");
  if (!cseq || strlen(cseq) > 16) {
    vigil_restream_reply_and_close(c, 400, "Bad Request");
    return;
  }
  g_autofree gchar *path =
      g_str_equal(req->url, "*") ? g_strdup("") : vigil_restream_url_path(req->url);
  if (!path) {
    vigil_restream_reply(c, 400, "Bad Request", cseq, NULL, NULL);
    return;
  }
  const char *m = req->method;
  if (g_str_equal(m, "OPTIONS")) {
    vigil_restream_reply(c, 200, "OK", cseq,
                         "Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN\r\n",
                         NULL);
  } else if (g_str_equal(m, "DESCRIBE")) {
    handle_describe(c, req, cseq, path);
  } else if (g_str_equal(m, "SETUP")) {
    handle_setup(c, req, cseq, path);
  } else if (g_str_equal(m, "PLAY")) {
    handle_play(c, req, cseq, path);
  } else if (g_str_equal(m, "GET_PARAMETER") || g_str_equal(m, "SET_PARAMETER")) {
    if (vigil_restream_request_header(req, "Session") && !session_matches(c, req)) {
      vigil_restream_reply(c, 454, "Session Not Found", cseq, NULL, NULL);
      return;
    }
    vigil_restream_reply(c, 200, "OK", cseq, NULL, NULL);
  } else if (g_str_equal(m, "TEARDOWN")) {
    vigil_restream_reply(c, 200, "OK", cseq, NULL, NULL);
    c->close_after_flush = TRUE;
  } else {
    vigil_restream_reply(c, 501, "Not Implemented", cseq, NULL, NULL);
  }
}

/* Consumes whole requests and interleaved frames (RTCP receiver reports)
 * from the input buffer. */
void vigil_restream_client_process(Client *c)
{
  /* c->check: a request waits for its password check, and the rest after it. */
  while (!c->dead && !c->close_after_flush && !c->check && c->in->len) {
    if (c->in->data[0] == '$') {
      if (c->in->len < 4)
        return;
      gsize len = 4 + ((c->in->data[2] << 8) | c->in->data[3]);
      if (c->in->len < len)
        return;
      g_byte_array_remove_range(c->in, 0, len);
      continue;
    }
    if (c->in->data[0] == '\r' || c->in->data[0] == '\n') {
      /* Blank lines between requests (some clients' keep-alive). */
      g_byte_array_remove_range(c->in, 0, 1);
      continue;
    }
    VigilRestreamRequest req;
    gsize length = 0;
    VigilRestreamParse res = vigil_restream_request_parse(c->in->data, c->in->len, &req, &length);
    if (res == VIGIL_RESTREAM_PARSE_MORE)
      return;
    if (res == VIGIL_RESTREAM_PARSE_BAD) {
      g_info("RTSP client %s: malformed request, closing", c->address);
      vigil_restream_reply_and_close(c, 400, "Bad Request");
      return;
    }
    if (res == VIGIL_RESTREAM_PARSE_TOO_LARGE) {
      g_info("RTSP client %s: request too large, closing", c->address);
      vigil_restream_reply_and_close(c, 413, "Request Entity Too Large");
      return;
    }
    if (check_off_loop(c, &req)) {
      vigil_restream_request_clear(&req);
      return; /* on_basic_checked resumes with this request */
    }
    handle_request(c, &req);
    c->basic_verdict = 0;
    vigil_restream_request_clear(&req);
    g_byte_array_remove_range(c->in, 0, length);
  }
}
