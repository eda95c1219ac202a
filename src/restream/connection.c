/* A connection of the RTSP server: its life, its bounded output queue
 * (RTSP answers and RTP; a client whose queue would pass the bound loses
 * its queued media and resumes at the next keyframe), the feed from the
 * camera's stream to RTP over the connection or UDP, and its input, with
 * rtsps told apart by the first byte and its TLS handshake. */
#define G_LOG_DOMAIN "vigil-restream"

#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "restream/packetize.h"
#include "restream/server-private.h"

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

static gboolean on_readable(GSocket *socket, GIOCondition condition, gpointer data);

/* A connection accepted by the listener, reading; @address is taken. */
Client *vigil_restream_client_new(VigilRestream *r, GSocketConnection *conn, gchar *address)
{
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
  c->address = address;
  c->in = g_byte_array_new();
  g_queue_init(&c->out);
  c->last_input_us = g_get_monotonic_time();
  c->in_source = g_socket_create_source(c->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback(c->in_source, G_SOURCE_FUNC(on_readable), c, NULL);
  g_source_attach(c->in_source, NULL);
  return c;
}

gboolean vigil_restream_client_free_idle(gpointer data)
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
void vigil_restream_client_close(Client *c)
{
  if (c->dead)
    return;
  c->dead = TRUE;
  vigil_restream_client_forget_check(c);
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
    c->free_idle = g_idle_add(vigil_restream_client_free_idle, c);
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
      vigil_restream_client_close(c);
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
    vigil_restream_client_close(c);
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

void vigil_restream_reply(Client *c, int status, const char *reason, const char *cseq,
                          const char *headers, const char *body)
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
void vigil_restream_reply_and_close(Client *c, int status, const char *reason)
{
  vigil_restream_reply(c, status, reason, NULL, NULL, NULL);
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

void vigil_restream_client_on_chunk(VigilChunk *chunk, gpointer data)
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
    c->free_idle = g_idle_add(vigil_restream_client_free_idle, c);
    return;
  }
  if (!ok) {
    g_info("RTSP client %s: TLS handshake failed: %s", c->address, error->message);
    vigil_restream_client_close(c);
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
    vigil_restream_client_close(c);
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
    vigil_restream_client_close(c);
    return G_SOURCE_CONTINUE; /* client_close destroyed this source */
  }
  c->last_input_us = g_get_monotonic_time();
  if (c->close_after_flush)
    return G_SOURCE_CONTINUE; /* ignore anything after a fatal answer */
  g_byte_array_append(c->in, buf, n);
  vigil_restream_client_resume(c);
  return G_SOURCE_CONTINUE;
}

void vigil_restream_client_resume(Client *c)
{
  vigil_restream_client_process(c);
  if (!c->dead && c->in->len > MAX_PENDING_INPUT) {
    vigil_restream_reply_and_close(c, 413, "Request Entity Too Large");
  }
  client_flush(c);
}
