/* The RTSP server: listener, connections, requests, sessions, and the feed
 * from a camera's VigilStream to RTP over the connection (TCP interleaved)
 * or over UDP unicast to the client's own address.
 *
 * Everything runs on the main context: GIO's non-blocking sockets, one read
 * source per connection and a write source only while its output waits.
 * Stream chunks arrive through context subscribers (live/stream.h), so no
 * lock is needed; a connection's output queue is bounded, and a client
 * whose queue would pass the bound loses its queued media and resumes at the
 * next keyframe, so a stalled client never holds up the stream or other
 * clients. */
#define G_LOG_DOMAIN "vigil-restream"

#include "restream/restream.h"

#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/basic.h"
#include "auth/permissions.h"
#include "auth/ratelimit.h"
#include "auth/secret.h"
#include "auth/user.h"
#include "camera/camera.h"
#include "restream/packetize.h"
#include "restream/request.h"

#define SESSION_TIMEOUT_S 60
#define MAX_PER_ADDRESS   32
#define MAX_CLIENTS       512
#define OUT_MAX_BYTES     (8u * 1024 * 1024)
#define SNDBUF_BYTES      (512u * 1024)
#define MAX_VECTORS       32
#define MAX_PENDING_INPUT (VIGIL_RESTREAM_MAX_REQUEST + VIGIL_RESTREAM_MAX_BODY + 65536)

typedef struct {
  GBytes *data;
  gboolean media; /* RTP (may be dropped); else an RTSP answer (never) */
} OutItem;

typedef struct _Client Client;

/* One track's RTP stream (video trackID=0, audio trackID=1): over the
 * connection (interleaved on channel, RTCP on channel + 1) or UDP unicast,
 * where RTP goes from rtp_socket to rtp_dest (the RTSP peer's address, the
 * client's port) and the RTCP socket is read for keep-alive. */
typedef struct {
  gboolean set_up, udp;
  guint rate; /* RTP clock; audio only (video: 90 kHz) */
  guint8 channel;
  GSocket *rtp_socket, *rtcp_socket;
  GSocketAddress *rtp_dest, *rtcp_dest;
  GSource *rtcp_source;
  guint32 ssrc, rtptime0;
  /* RTCP sender reports: counts for them, time of the last one. */
  guint32 sent_packets, sent_octets;
  guint16 seq;
  gint64 last_report_us;
} Track;

struct _VigilRestream {
  VigilCameraManager *cameras;
  VigilStore *store;
  gboolean enabled;
  gchar *listen;
  GSocketService *service;
  gchar *error;
  GList *clients;          /* of Client */
  GList *dying;            /* of Client closed, waiting for their free idle */
  GHashTable *per_address; /* address → count */
  guint timer;
  gchar *tls_cert, *tls_key;
  /* The latest audio fmtp seen per stream ("cam" or "cam_sub"): the GOP
   * cache right after a keyframe may not hold an audio chunk yet. */
  GHashTable *audio_fmtp;
  GTlsCertificate *certificate; /* NULL: plain RTSP only */
};

struct _Client {
  VigilRestream *server;
  GSocketConnection *conn;
  GSocket *socket;
  /* rtsps: the TLS connection over conn once its first byte said so (I/O
   * then goes through its pollable streams); sniffed once that is known. */
  GIOStream *tls;
  gboolean sniffed, handshaking;
  GCancellable *cancel; /* of the handshake */
  gchar *address;
  GSource *in_source, *out_source;
  GByteArray *in;
  GQueue out; /* of OutItem */
  gsize out_offset, out_bytes;
  gint64 last_input_us;
  gboolean dead, close_after_flush;
  guint free_idle;

  /* The session (one per connection). */
  gchar *session;
  gchar *camera;
  gboolean sub;
  VigilStream *stream;
  VigilSubscriber *subscriber;
  VigilCodec codec;
  gboolean video; /* trackID=0 was set up */
  Track v;        /* the video's RTP stream (trackID=0) */
  guint64 udp_dropped;
  gboolean have_offset, waiting_keyframe, counted_viewer;
  gint64 pts0;
  guint64 dropped;
  Track audio;
};

/* The output bound; VIGIL_RESTREAM_QUEUE_BYTES overrides it (a test knob:
 * a stalled client then reaches it in seconds). */
static gsize out_max_bytes(void)
{
  static gsize max;
  if (!max) {
    const char *env = g_getenv("VIGIL_RESTREAM_QUEUE_BYTES");
    guint64 v = env ? g_ascii_strtoull(env, NULL, 10) : 0;
    max = v >= 65536 ? (gsize)v : OUT_MAX_BYTES;
  }
  return max;
}

static void out_item_free(gpointer p)
{
  OutItem *item = p;
  g_bytes_unref(item->data);
  g_free(item);
}

/* --- connection lifetime --- */

static gboolean free_client_idle(gpointer data)
{
  Client *c = data;
  if (c->server) /* NULL: the server went first (vigil_restream_free) */
    c->server->dying = g_list_remove(c->server->dying, c);
  g_clear_object(&c->cancel);
  if (c->subscriber)
    vigil_stream_unsubscribe(c->stream, c->subscriber);
  if (c->counted_viewer)
    vigil_stream_add_viewer(c->stream, -1);
  g_clear_pointer(&c->stream, vigil_stream_unref);
  g_clear_object(&c->v.rtp_socket);
  g_clear_object(&c->v.rtcp_socket);
  g_clear_object(&c->v.rtp_dest);
  g_clear_object(&c->v.rtcp_dest);
  g_clear_object(&c->audio.rtp_socket);
  g_clear_object(&c->audio.rtcp_socket);
  g_clear_object(&c->audio.rtp_dest);
  g_clear_object(&c->audio.rtcp_dest);
  g_queue_clear_full(&c->out, out_item_free);
  g_byte_array_unref(c->in);
  if (c->tls) {
    /* The socket first: no blocking close_notify towards a stalled peer. */
    g_socket_close(c->socket, NULL);
    g_io_stream_close(c->tls, NULL, NULL);
    g_object_unref(c->tls);
  }
  g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
  g_object_unref(c->conn);
  g_free(c->address);
  g_free(c->session);
  g_free(c->camera);
  g_free(c);
  return G_SOURCE_REMOVE;
}

/* Ends @c: it stops at once, and is freed from an idle (never while one of
 * its own callbacks, or the stream's, is running). */
static void client_close(Client *c)
{
  if (c->dead)
    return;
  c->dead = TRUE;
  VigilRestream *r = c->server;
  if (c->in_source) {
    g_source_destroy(c->in_source);
    g_clear_pointer(&c->in_source, g_source_unref);
  }
  if (c->out_source) {
    g_source_destroy(c->out_source);
    g_clear_pointer(&c->out_source, g_source_unref);
  }
  if (c->v.rtcp_source) {
    g_source_destroy(c->v.rtcp_source);
    g_clear_pointer(&c->v.rtcp_source, g_source_unref);
  }
  if (c->audio.rtcp_source) {
    g_source_destroy(c->audio.rtcp_source);
    g_clear_pointer(&c->audio.rtcp_source, g_source_unref);
  }
  r->clients = g_list_remove(r->clients, c);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(r->per_address, c->address));
  if (n > 1)
    g_hash_table_insert(r->per_address, g_strdup(c->address), GUINT_TO_POINTER(n - 1));
  else
    g_hash_table_remove(r->per_address, c->address);
  if (c->session)
    g_info("RTSP client %s left %s%s (%" G_GUINT64_FORMAT
           " access units skipped, %" G_GUINT64_FORMAT " UDP packets not sent)",
           c->address, c->camera ? c->camera : "-", c->sub ? " (sub)" : "", c->dropped,
           c->udp_dropped);
  r->dying = g_list_prepend(r->dying, c);
  if (c->handshaking)
    g_cancellable_cancel(c->cancel); /* on_handshake frees it */
  else
    c->free_idle = g_idle_add(free_client_idle, c);
}

static gboolean on_writable(GSocket *socket, GIOCondition condition, gpointer data);
static gboolean on_tls_writable(GObject *stream, gpointer data);

/* Writes what the socket takes now, vectored; waits for G_IO_OUT for the
 * rest. */
static void client_flush(Client *c)
{
  while (!c->dead && !g_queue_is_empty(&c->out)) {
    GOutputVector v[MAX_VECTORS];
    guint n = 0;
    for (GList *l = c->out.head; l && n < MAX_VECTORS; l = l->next, n++) {
      OutItem *item = l->data;
      gsize size;
      const guint8 *data = g_bytes_get_data(item->data, &size);
      gsize skip = n == 0 ? c->out_offset : 0;
      v[n].buffer = data + skip;
      v[n].size = size - skip;
    }
    g_autoptr(GError) error = NULL;
    gssize sent;
    if (c->tls) {
      gsize written = 0;
      GPollableReturn ret = g_pollable_output_stream_writev_nonblocking(
          G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(c->tls)), v, n, &written, NULL,
          &error);
      if (ret == G_POLLABLE_RETURN_WOULD_BLOCK)
        g_set_error_literal(&error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "would block");
      sent = ret == G_POLLABLE_RETURN_OK ? (gssize)written : -1;
    } else {
      sent = g_socket_send_message(c->socket, NULL, v, n, NULL, 0, G_SOCKET_MSG_NONE, NULL, &error);
    }
    if (sent < 0) {
      if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        if (!c->out_source) {
          if (c->tls) {
            c->out_source = g_pollable_output_stream_create_source(
                G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(c->tls)), NULL);
            g_source_set_callback(c->out_source, G_SOURCE_FUNC(on_tls_writable), c, NULL);
          } else {
            c->out_source = g_socket_create_source(c->socket, G_IO_OUT, NULL);
            g_source_set_callback(c->out_source, G_SOURCE_FUNC(on_writable), c, NULL);
          }
          g_source_attach(c->out_source, NULL);
        }
        return;
      }
      g_debug("RTSP client %s: %s", c->address, error->message);
      client_close(c);
      return;
    }
    gsize left = (gsize)sent;
    while (left && !g_queue_is_empty(&c->out)) {
      OutItem *item = g_queue_peek_head(&c->out);
      gsize rest = g_bytes_get_size(item->data) - c->out_offset;
      if (left < rest) {
        c->out_offset += left;
        c->out_bytes -= left;
        left = 0;
        break;
      }
      left -= rest;
      c->out_bytes -= rest;
      c->out_offset = 0;
      out_item_free(g_queue_pop_head(&c->out));
    }
  }
  if (c->dead)
    return;
  if (c->out_source) {
    g_source_destroy(c->out_source);
    g_clear_pointer(&c->out_source, g_source_unref);
  }
  if (c->close_after_flush)
    client_close(c);
}

static gboolean on_writable(G_GNUC_UNUSED GSocket *socket, G_GNUC_UNUSED GIOCondition condition,
                            gpointer data)
{
  Client *c = data;
  g_clear_pointer(&c->out_source, g_source_unref); /* removed by returning FALSE */
  client_flush(c);
  return G_SOURCE_REMOVE;
}

static gboolean on_tls_writable(G_GNUC_UNUSED GObject *stream, gpointer data)
{
  return on_writable(NULL, G_IO_OUT, data);
}

static void client_queue(Client *c, GBytes *data, gboolean media)
{
  OutItem *item = g_new0(OutItem, 1);
  item->data = data;
  item->media = media;
  c->out_bytes += g_bytes_get_size(data);
  g_queue_push_tail(&c->out, item);
}

/* --- answers --- */

static void reply(Client *c, int status, const char *reason, const char *cseq, const char *headers,
                  const char *body)
{
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "RTSP/1.0 %d %s\r\n", status, reason);
  if (cseq)
    g_string_append_printf(s, "CSeq: %s\r\n", cseq);
  g_string_append(s, "Server: vigil\r\n");
  if (headers)
    g_string_append(s, headers);
  if (body)
    g_string_append_printf(s, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
  else
    g_string_append(s, "\r\n");
  client_queue(c, g_string_free_to_bytes(s), FALSE);
}

/* A bad request: answer, then close once the answer is out. */
static void reply_and_close(Client *c, int status, const char *reason)
{
  reply(c, status, reason, NULL, NULL, NULL);
  c->close_after_flush = TRUE;
}

/* --- the feed --- */

/* UDP: each packet without its interleaved header; a packet the socket
 * does not take now is lost, as on any UDP path. */
static void send_udp(Client *c, GSocket *socket, GSocketAddress *dest, GByteArray *packets)
{
  for (gsize off = 0; off + 4 <= packets->len;) {
    gsize len = (packets->data[off + 2] << 8) | packets->data[off + 3];
    if (g_socket_send_to(socket, dest, (const gchar *)packets->data + off + 4, len, NULL, NULL) < 0)
      c->udp_dropped++;
    off += 4 + len;
  }
}

/* Drops queued media but the item being written (and every answer). */
static void drop_queued_media(Client *c)
{
  GList *l = c->out.head ? c->out.head->next : NULL;
  while (l) {
    GList *next = l->next;
    OutItem *item = l->data;
    if (item->media) {
      c->out_bytes -= g_bytes_get_size(item->data);
      out_item_free(item);
      g_queue_delete_link(&c->out, l);
    }
    l = next;
  }
}

/* Sends @packets (@n RTP packets of one access unit at @timestamp) on track
 * @t, by UDP or queued on the connection, with an RTCP sender report with
 * the first and then every 5 s (the clients' clock for the wall-clock time,
 * RFC 3550 6.4.1). FALSE when the connection's queue is full: nothing is
 * queued and the client's dropped count goes up. Takes @packets. */
static gboolean send_track(Client *c, Track *t, GByteArray *packets, guint n, guint32 timestamp,
                           gint64 wallclock_us)
{
  t->sent_packets += n;
  t->sent_octets += packets->len - n * 16; /* payload octets: no '$' or RTP headers */
  gint64 now = g_get_monotonic_time();
  gboolean report = !t->last_report_us || now - t->last_report_us >= 5 * G_USEC_PER_SEC;
  if (report)
    t->last_report_us = now;
  if (t->udp) {
    send_udp(c, t->rtp_socket, t->rtp_dest, packets);
    if (report) {
      g_autoptr(GByteArray) sr = g_byte_array_new();
      vigil_restream_sender_report(sr, 0, t->ssrc, wallclock_us, timestamp, t->sent_packets,
                                   t->sent_octets);
      g_socket_send_to(t->rtcp_socket, t->rtcp_dest, (const gchar *)sr->data + 4, sr->len - 4, NULL,
                       NULL);
    }
    g_byte_array_unref(packets);
    return TRUE;
  }
  if (report)
    vigil_restream_sender_report(packets, t->channel + 1, t->ssrc, wallclock_us, timestamp,
                                 t->sent_packets, t->sent_octets);
  if (c->out_bytes + packets->len > out_max_bytes()) {
    g_byte_array_unref(packets);
    c->dropped++;
    return FALSE;
  }
  client_queue(c, g_byte_array_free_to_bytes(packets), TRUE);
  client_flush(c);
  return TRUE;
}

/* An audio chunk: its ADTS frames as RFC 3640 packets at the sample rate,
 * on the video's time base (pts0). Skipped while the video waits for a
 * keyframe, so both resume together. */
static void on_audio_chunk(Client *c, VigilChunk *chunk)
{
  Track *a = &c->audio;
  if (!a->set_up || c->waiting_keyframe || (c->video && !c->have_offset))
    return;
  gsize size;
  const guint8 *ts = g_bytes_get_data(chunk->data, &size);
  g_autoptr(GBytes) es = vigil_restream_ts_audio(ts, size);
  if (!es)
    return;
  if (!c->have_offset) {
    c->have_offset = TRUE;
    c->pts0 = chunk->pts;
  }
  guint32 timestamp = a->rtptime0 + (guint32)((chunk->pts - c->pts0) * (gint64)a->rate / 90000);
  gsize es_size;
  const guint8 *es_data = g_bytes_get_data(es, &es_size);
  GByteArray *packets = g_byte_array_sized_new(es_size + 256);
  guint n = vigil_restream_packetize_aac(packets, es_data, es_size, a->channel, timestamp, a->ssrc,
                                         &a->seq);
  if (!send_track(c, a, packets, n, timestamp, chunk->wallclock_us) && c->video) {
    drop_queued_media(c);
    c->waiting_keyframe = TRUE;
  }
}

static void on_chunk(VigilChunk *chunk, gpointer data)
{
  Client *c = data;
  if (c->dead || c->close_after_flush)
    return;
  if (chunk->flags & VIGIL_CHUNK_AUDIO) {
    on_audio_chunk(c, chunk);
    return;
  }
  if (!c->video)
    return;
  gboolean key = vigil_chunk_is_keyframe(chunk);
  if (c->waiting_keyframe && !key) {
    c->dropped++;
    return;
  }
  c->waiting_keyframe = FALSE;
  gsize size;
  const guint8 *ts = g_bytes_get_data(chunk->data, &size);
  g_autoptr(GBytes) au = vigil_restream_ts_video(ts, size);
  if (!au)
    return;
  if (!c->have_offset) {
    c->have_offset = TRUE;
    c->pts0 = chunk->pts;
  }
  guint32 timestamp = c->v.rtptime0 + (guint32)(chunk->pts - c->pts0);
  gsize au_size;
  const guint8 *au_data = g_bytes_get_data(au, &au_size);
  GByteArray *packets = g_byte_array_sized_new(au_size + au_size / 64 + 64);
  guint n = vigil_restream_packetize(packets, c->codec, au_data, au_size, c->v.channel, timestamp,
                                     c->v.ssrc, &c->v.seq);
  if (!send_track(c, &c->v, packets, n, timestamp, chunk->wallclock_us)) {
    /* Stalled: drop queued media (but the item being written and every
     * answer) and resume at the next keyframe. */
    drop_queued_media(c);
    if (c->dropped == 1)
      g_info("RTSP client %s is not keeping up: skipping to the next keyframe", c->address);
    c->waiting_keyframe = TRUE;
  }
}

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

/* The user named by a Basic header whose password is the user's password
 * (cached like HTTP's) or one of the user's API tokens; NULL otherwise. */
static gchar *check_credentials(VigilRestream *r, const char *authorization, const char *name)
{
  g_autoptr(VigilUser) user = vigil_auth_basic(r->store, authorization);
  if (user)
    return g_strdup(user->name);
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

/* Authenticates the request and checks the view right on the path's
 * camera. Answers itself and returns FALSE when the request may not go on.
 * An unknown camera and one the user may not see get the same 404. */
static gboolean authorize(Client *c, const VigilRestreamRequest *req, const char *cseq,
                          const char *path, gchar **camera, gboolean *sub)
{
  VigilRestream *r = c->server;
  const char *authorization = vigil_restream_request_header(req, "Authorization");
  if (!authorization || g_ascii_strncasecmp(authorization, "Basic ", 6) != 0) {
    reply(c, 401, "Unauthorized", cseq, "WWW-Authenticate: Basic realm=\"vigil\"\r\n", NULL);
    return FALSE;
  }
  g_autofree gchar *name = vigil_auth_basic_name(authorization);
  gint64 wait = vigil_login_retry_after(name, c->address);
  if (wait > 0) {
    g_autofree gchar *h = g_strdup_printf("Retry-After: %" G_GINT64_FORMAT "\r\n", wait);
    reply(c, 503, "Service Unavailable", cseq, h, NULL);
    return FALSE;
  }
  g_autofree gchar *user = check_credentials(r, authorization, name);
  if (!user) {
    vigil_login_failed(name, c->address);
    /* Not the name: people type passwords into the name field. */
    g_info("failed RTSP authentication from %s", c->address);
    reply(c, 401, "Unauthorized", cseq, "WWW-Authenticate: Basic realm=\"vigil\"\r\n", NULL);
    return FALSE;
  }
  g_autoptr(VigilPermissions) perms = vigil_permissions_load(r->store, user);
  if (!camera_for_path(r, path, camera, sub) || !perms ||
      !vigil_permissions_has(perms, *camera, VIGIL_RIGHT_VIEW)) {
    g_clear_pointer(camera, g_free);
    reply(c, 404, "Not Found", cseq, NULL, NULL);
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

static void audio_format_free(gpointer p)
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
    reply(c, 503, "Service Unavailable", cseq, "Retry-After: 2\r\n", NULL);
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
  reply(c, 200, "OK", cseq, headers, sdp);
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
    reply(c, 461, "Unsupported Transport", cseq, NULL, NULL);
    return;
  }
  guint rate = 0, channels = 0;
  if (track == 1) {
    g_autofree gchar *afmtp = audio_fmtp(c->server, camera, sub, &rate, &channels);
    if (!afmtp) {
      reply(c, 404, "Not Found", cseq, NULL, NULL);
      return;
    }
  }
  if (c->session) {
    /* One session per connection, on one stream: a further SETUP adds the
     * other track or repeats one (perhaps with another transport), before
     * PLAY. */
    if (!session_matches(c, req) || g_strcmp0(camera, c->camera) != 0 || sub != c->sub) {
      reply(c, 459, "Aggregate Operation Not Allowed", cseq, NULL, NULL);
      return;
    }
    if (c->subscriber) {
      reply(c, 455, "Method Not Valid in This State", cseq, NULL, NULL);
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
      reply(c, 461, "Unsupported Transport", cseq, NULL, NULL);
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
      reply(c, 461, "Unsupported Transport", cseq, NULL, NULL);
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
  reply(c, 200, "OK", cseq, headers, NULL);
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
    reply(c, 454, "Session Not Found", cseq, NULL, NULL);
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
  reply(c, 200, "OK", cseq, headers, NULL);
  if (!c->subscriber) {
    /* The answer is queued first: RTP follows it on the wire. */
    c->subscriber =
        vigil_stream_subscribe(c->stream, TRUE, g_main_context_default(), on_chunk, c, NULL);
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
    reply_and_close(c, 400, "Bad Request");
    return;
  }
  g_autofree gchar *path =
      g_str_equal(req->url, "*") ? g_strdup("") : vigil_restream_url_path(req->url);
  if (!path) {
    reply(c, 400, "Bad Request", cseq, NULL, NULL);
    return;
  }
  const char *m = req->method;
  if (g_str_equal(m, "OPTIONS")) {
    reply(c, 200, "OK", cseq, "Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN\r\n",
          NULL);
  } else if (g_str_equal(m, "DESCRIBE")) {
    handle_describe(c, req, cseq, path);
  } else if (g_str_equal(m, "SETUP")) {
    handle_setup(c, req, cseq, path);
  } else if (g_str_equal(m, "PLAY")) {
    handle_play(c, req, cseq, path);
  } else if (g_str_equal(m, "GET_PARAMETER") || g_str_equal(m, "SET_PARAMETER")) {
    if (vigil_restream_request_header(req, "Session") && !session_matches(c, req)) {
      reply(c, 454, "Session Not Found", cseq, NULL, NULL);
      return;
    }
    reply(c, 200, "OK", cseq, NULL, NULL);
  } else if (g_str_equal(m, "TEARDOWN")) {
    reply(c, 200, "OK", cseq, NULL, NULL);
    c->close_after_flush = TRUE;
  } else {
    reply(c, 501, "Not Implemented", cseq, NULL, NULL);
  }
}

/* Consumes whole requests and interleaved frames (RTCP receiver reports)
 * from the input buffer. */
static void client_process(Client *c)
{
  while (!c->dead && !c->close_after_flush && c->in->len) {
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
      reply_and_close(c, 400, "Bad Request");
      return;
    }
    if (res == VIGIL_RESTREAM_PARSE_TOO_LARGE) {
      g_info("RTSP client %s: request too large, closing", c->address);
      reply_and_close(c, 413, "Request Entity Too Large");
      return;
    }
    handle_request(c, &req);
    vigil_restream_request_clear(&req);
    g_byte_array_remove_range(c->in, 0, length);
  }
}

static gboolean on_readable(GSocket *socket, GIOCondition condition, gpointer data);

static gboolean on_tls_readable(G_GNUC_UNUSED GObject *stream, gpointer data)
{
  return on_readable(NULL, G_IO_IN, data);
}

static void on_handshake(GObject *source, GAsyncResult *result, gpointer data)
{
  Client *c = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), result, &error);
  c->handshaking = FALSE;
  if (c->dead) {
    /* Closed while the handshake ran: its free waited for this. */
    c->free_idle = g_idle_add(free_client_idle, c);
    return;
  }
  if (!ok) {
    g_info("RTSP client %s: TLS handshake failed: %s", c->address, error->message);
    client_close(c);
    return;
  }
  c->last_input_us = g_get_monotonic_time();
  c->in_source = g_pollable_input_stream_create_source(
      G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(c->tls)), NULL);
  g_source_set_callback(c->in_source, G_SOURCE_FUNC(on_tls_readable), c, NULL);
  g_source_attach(c->in_source, NULL);
}

/* The first byte of a connection: 0x16 (a TLS handshake record) starts
 * TLS when a certificate is configured; anything else is plain RTSP.
 * FALSE when the connection went away or waits for its handshake. */
static gboolean sniff(Client *c)
{
  c->sniffed = TRUE;
  guint8 first = 0;
  GInputVector v = {&first, 1};
  gint flags = G_SOCKET_MSG_PEEK;
  gssize n = g_socket_receive_message(c->socket, NULL, &v, 1, NULL, NULL, &flags, NULL, NULL);
  if (n <= 0 || first != 0x16 || !c->server->certificate)
    return TRUE; /* the read that follows sees an end, an error or plain RTSP */
  g_autoptr(GError) error = NULL;
  c->tls = g_tls_server_connection_new(G_IO_STREAM(c->conn), c->server->certificate, &error);
  if (!c->tls) {
    g_warning("RTSP client %s: no TLS: %s", c->address, error->message);
    client_close(c);
    return FALSE;
  }
  g_source_destroy(c->in_source);
  g_clear_pointer(&c->in_source, g_source_unref);
  c->handshaking = TRUE;
  c->cancel = g_cancellable_new();
  g_tls_connection_handshake_async(G_TLS_CONNECTION(c->tls), G_PRIORITY_DEFAULT, c->cancel,
                                   on_handshake, c);
  return FALSE;
}

static gboolean on_readable(G_GNUC_UNUSED GSocket *socket, G_GNUC_UNUSED GIOCondition condition,
                            gpointer data)
{
  Client *c = data;
  if (!c->sniffed && !sniff(c))
    return G_SOURCE_REMOVE; /* its source is gone: closed, or TLS from now on */
  guint8 buf[16384];
  g_autoptr(GError) error = NULL;
  gssize n = c->tls ? g_pollable_input_stream_read_nonblocking(
                          G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(c->tls)), buf,
                          sizeof buf, NULL, &error)
                    : g_socket_receive(c->socket, (gchar *)buf, sizeof buf, NULL, &error);
  if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0) {
    client_close(c);
    return G_SOURCE_CONTINUE; /* client_close destroyed this source */
  }
  c->last_input_us = g_get_monotonic_time();
  if (c->close_after_flush)
    return G_SOURCE_CONTINUE; /* ignore anything after a fatal answer */
  g_byte_array_append(c->in, buf, n);
  client_process(c);
  if (!c->dead && c->in->len > MAX_PENDING_INPUT) {
    reply_and_close(c, 413, "Request Entity Too Large");
  }
  client_flush(c);
  return G_SOURCE_CONTINUE;
}

/* --- listener --- */

static gboolean on_incoming(G_GNUC_UNUSED GSocketService *service, GSocketConnection *conn,
                            G_GNUC_UNUSED GObject *source, gpointer data)
{
  VigilRestream *r = data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
  g_autofree gchar *address = NULL;
  if (remote && G_IS_INET_SOCKET_ADDRESS(remote))
    address =
        g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
  else
    address = g_strdup("?");
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(r->per_address, address));
  if (n >= MAX_PER_ADDRESS || g_list_length(r->clients) >= MAX_CLIENTS) {
    g_info("RTSP connection from %s refused: too many connections", address);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    return TRUE;
  }
  g_hash_table_insert(r->per_address, g_strdup(address), GUINT_TO_POINTER(n + 1));
  Client *c = g_new0(Client, 1);
  c->server = r;
  c->conn = g_object_ref(conn);
  c->socket = g_socket_connection_get_socket(conn);
  g_socket_set_blocking(c->socket, FALSE);
  g_socket_set_option(c->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  /* A fixed kernel buffer instead of autotuning (which grew to megabytes on
   * loopback): our queue's bound is then what decides, and a slow client
   * sees at most this much extra delay. 512 KiB carries 40 Mbit/s at 100 ms
   * round trip. */
  g_socket_set_option(c->socket, SOL_SOCKET, SO_SNDBUF, (gint)MIN(out_max_bytes(), SNDBUF_BYTES),
                      NULL);
  c->address = g_steal_pointer(&address);
  c->in = g_byte_array_new();
  g_queue_init(&c->out);
  c->last_input_us = g_get_monotonic_time();
  c->in_source = g_socket_create_source(c->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback(c->in_source, G_SOURCE_FUNC(on_readable), c, NULL);
  g_source_attach(c->in_source, NULL);
  r->clients = g_list_prepend(r->clients, c);
  return TRUE;
}

/* Closes connections silent for longer than the session timeout (RTSP
 * clients send RTCP reports or keep-alive requests well within it). */
static gboolean on_timer(gpointer data)
{
  VigilRestream *r = data;
  gint64 now = g_get_monotonic_time();
  GList *l = r->clients;
  while (l) {
    Client *c = l->data;
    l = l->next;
    if (now - c->last_input_us > SESSION_TIMEOUT_S * G_USEC_PER_SEC) {
      g_info("RTSP client %s timed out", c->address);
      client_close(c);
    }
  }
  return G_SOURCE_CONTINUE;
}

static void stop(VigilRestream *r)
{
  while (r->clients)
    client_close(r->clients->data);
  if (r->service) {
    g_socket_service_stop(r->service);
    g_socket_listener_close(G_SOCKET_LISTENER(r->service));
    g_clear_object(&r->service);
  }
  g_clear_handle_id(&r->timer, g_source_remove);
  g_clear_pointer(&r->error, g_free);
}

static void start(VigilRestream *r)
{
  g_autofree gchar *host = NULL;
  int port = 0;
  if (!vigil_rtsp_server_listen_parse(r->listen, &host, &port)) {
    r->error = g_strdup_printf("invalid listen address %s", r->listen);
    return;
  }
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(host);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(inet, port);
  r->service = g_socket_service_new();
  g_autoptr(GError) error = NULL;
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(r->service), addr, G_SOCKET_TYPE_STREAM,
                                     G_SOCKET_PROTOCOL_TCP, NULL, NULL, &error)) {
    r->error = g_strdup_printf("cannot listen on %s: %s", r->listen, error->message);
    g_warning("RTSP server: %s", r->error);
    g_clear_object(&r->service);
    return;
  }
  g_signal_connect(r->service, "incoming", G_CALLBACK(on_incoming), r);
  g_socket_service_start(r->service);
  r->timer = g_timeout_add_seconds(5, on_timer, r);
  g_info("RTSP server listening on %s", r->listen);
}

/* --- the door --- */

VigilRestream *vigil_restream_new(VigilCameraManager *cameras, VigilStore *store)
{
  VigilRestream *r = g_new0(VigilRestream, 1);
  r->cameras = cameras;
  r->store = store;
  r->per_address = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  r->audio_fmtp = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, audio_format_free);
  return r;
}

/* Loads a changed certificate pair (for new connections). */
static void configure_tls(VigilRestream *r, const char *cert, const char *key)
{
  if (g_strcmp0(cert, r->tls_cert) == 0 && g_strcmp0(key, r->tls_key) == 0)
    return;
  g_free(r->tls_cert);
  g_free(r->tls_key);
  r->tls_cert = g_strdup(cert);
  r->tls_key = g_strdup(key);
  g_clear_object(&r->certificate);
  if (!cert || !key)
    return;
  g_autoptr(GError) error = NULL;
  r->certificate = g_tls_certificate_new_from_files(cert, key, &error);
  if (!r->certificate)
    g_warning("RTSP server: no rtsps: cannot load the TLS certificate %s and key %s: %s", cert, key,
              error->message);
}

void vigil_restream_configure(VigilRestream *r, const VigilRtspServerSettings *settings,
                              const char *tls_cert, const char *tls_key)
{
  g_return_if_fail(r && settings);
  configure_tls(r, tls_cert, tls_key);
  if (settings->enabled == r->enabled && g_strcmp0(settings->listen, r->listen) == 0 &&
      (!r->enabled || r->service))
    return;
  stop(r);
  r->enabled = settings->enabled;
  g_free(r->listen);
  r->listen = g_strdup(settings->listen);
  if (r->enabled)
    start(r);
  else
    g_info("RTSP server off");
}

const char *vigil_restream_get_state(VigilRestream *r, const char **error, guint *clients)
{
  if (error)
    *error = r->error;
  if (clients)
    *clients = g_list_length(r->clients);
  if (!r->enabled)
    return "disabled";
  return r->service ? "listening" : "error";
}

void vigil_restream_free(VigilRestream *r)
{
  if (!r)
    return;
  stop(r);
  /* Freed now rather than from their idles: the loop may not run again. */
  while (r->dying) {
    Client *c = r->dying->data;
    if (c->handshaking) {
      /* Its cancelled handshake's callback frees it, if the loop runs. */
      c->server = NULL;
      r->dying = g_list_remove(r->dying, c);
      continue;
    }
    g_source_remove(c->free_idle);
    free_client_idle(c);
  }
  g_clear_object(&r->certificate);
  g_free(r->tls_cert);
  g_free(r->tls_key);
  g_hash_table_unref(r->per_address);
  g_hash_table_unref(r->audio_fmtp);
  g_free(r->listen);
  g_free(r);
}
