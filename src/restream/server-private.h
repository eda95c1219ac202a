/* The RTSP server's parts (server.c: the listener and the door;
 * connection.c: a connection's life, output queue, feed and input, TLS
 * included; session.c: requests, authorization and sessions) and what they
 * share. Private to src/restream/. */
#pragma once

#include <gio/gio.h>

#include "camera/camera.h"
#include "restream/request.h"
#include "restream/restream.h"

G_BEGIN_DECLS

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
  /* Basic credentials being checked on the password thread (session.c):
   * the request stays in @in, and input waits, until the answer. Then
   * @basic_verdict says what it was for that request: 0 none, 1 right, -1
   * wrong (already counted by the rate limit), -2 not checked (too many
   * checks waiting). */
  struct _BasicCheck *check;
  int basic_verdict;

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

/* connection.c */
/* A connection accepted by the listener, reading; @address is taken. */
Client *vigil_restream_client_new(VigilRestream *r, GSocketConnection *conn, gchar *address);
/* Closes the connection now; freed from an idle (it may be on the stack). */
void vigil_restream_client_close(Client *c);
gboolean vigil_restream_client_free_idle(gpointer data);
/* An RTSP answer, queued before any RTP that follows. */
void vigil_restream_reply(Client *c, int status, const char *reason, const char *cseq,
                          const char *headers, const char *body);
void vigil_restream_reply_and_close(Client *c, int status, const char *reason);
/* session.c: a closing client's password check answers no one. */
void vigil_restream_client_forget_check(Client *c);
/* Goes on with @c's input after a pause (a password check): the waiting
 * requests, then what they answered. */
void vigil_restream_client_resume(Client *c);
/* The stream subscriber's callback: a chunk to send as RTP. */
void vigil_restream_client_on_chunk(VigilChunk *chunk, gpointer data);

/* session.c */
/* Handles the complete requests in the connection's input. */
void vigil_restream_client_process(Client *c);
/* For VigilRestream.audio_fmtp's values. */
void vigil_restream_audio_format_free(gpointer p);

G_END_DECLS
