/* What the RTSP client's files share; nothing outside src/rtsp/ includes it
 * (rtsp.h is the door). client.c runs the session (OPTIONS, DESCRIBE, SETUP,
 * PLAY, keep-alives, TEARDOWN); client-conn.c owns the sockets and the
 * request/answer exchange; client-media.c turns the RTP and RTCP that
 * arrive into timed units for the caller. All of it runs on the caller's
 * thread. */
#pragma once

#include "rtsp/rtsp.h"

G_BEGIN_DECLS

/* One read takes at most this much; a fuller queue (a keyframe, a backlog
 * after a stall) takes a few reads in a row. Each connection's buffer is
 * this much plus what a read left unparsed: more would be pages written
 * only by the rare largest backlog, RSS that creeps up for hours
 * (docs/soak.md, "Pages allocated, written later"). */
#define VIGIL_RTSP_READ_CHUNK (64 * 1024)
/* Waits are cut into slices this long to notice *abort. */
#define VIGIL_RTSP_ABORT_SLICE_MS 100

typedef struct {
  gboolean used;
  VigilRtpPayload payload;
  VigilRtpDepay *depay;
  gchar *url; /* SETUP's control URL */
  int clock_rate;
  guint8 channel;      /* interleaved RTP channel (TCP); RTCP is the next */
  int rtp_fd, rtcp_fd; /* UDP */
  int receive_buffer;  /* UDP: the RTP socket's queue, in bytes */

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
} VigilRtspTrack;

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

  guint8 *in;          /* received, not yet consumed: in[0 .. in_len) */
  guint8 *datagrams;   /* UDP_BATCH slots for recvmmsg(), or NULL */
  gsize datagram_size; /* ... of this many bytes each */
  gsize in_len, in_size;

  VigilRtspTrack video, audio;
  VigilRtspTracks tracks;
  gboolean synced;         /* audio aligned to video (RTP-Info or sender reports) */
  gint64 audio_wait_since; /* monotonic µs: the first audio before that */

  /* while playing */
  VigilRtspVideoFunc video_func;
  VigilRtspAudioFunc audio_func;
  gpointer user_data;
  gboolean stop;
  gboolean closing; /* sending TEARDOWN: never wait */
  gint64 last_packet_us;
  gboolean got_packet; /* an RTP packet came since PLAY */
  guint damaged;
  guint keep_alive_cseq;     /* the last keep-alive's CSeq */
  gboolean keep_alive_again; /* it met a stale nonce: send it again */
  guint keep_alive_retries;  /* ... at most twice */
};

/* --- client-conn.c: the connection --- */

/* TRUE, with ABORTED in @error, once *abort is set. */
gboolean vigil_rtsp_aborted(VigilRtspClient *c, GError **error);

/* Opens the TCP connection to the URL's host and port, by c->deadline. */
gboolean vigil_rtsp_conn_connect(VigilRtspClient *c, GError **error);

/* Appends what the socket holds to c->in. FALSE with @error when it is
 * closed; TRUE with *@got 0 when nothing was waiting. */
gboolean vigil_rtsp_conn_receive(VigilRtspClient *c, gsize *got, GError **error);

/* Sends one request (CSeq, credentials for the last challenge, Session, then
 * @headers: "Name: value\r\n" lines or NULL) without waiting for an answer. */
gboolean vigil_rtsp_conn_send_request(VigilRtspClient *c, const char *method, const char *url,
                                      const char *headers, GError **error);

/* Takes what the buffer holds: frames go to the tracks, messages are
 * parsed. Returns 1 and fills @reply with the answer to CSeq @cseq (0: any
 * answer is dropped), 0 when the buffer ran out, -1 on a broken stream. */
int vigil_rtsp_conn_drain(VigilRtspClient *c, guint cseq, VigilRtspMessage *reply, GError **error);

/* Sends a request and waits for its answer (frames that arrive meanwhile are
 * handed on), answering one authentication challenge. FALSE with @error for
 * anything but 2xx, except that a status in @allowed is returned as well. */
gboolean vigil_rtsp_conn_request(VigilRtspClient *c, const char *method, const char *url,
                                 const char *headers, int allowed, VigilRtspMessage *reply,
                                 GError **error);

/* Binds @t's UDP sockets for RTP and RTCP, an even port and the next, and
 * sets *@port to the first. -1 when no pair could be bound. */
int vigil_rtsp_conn_udp_pair(VigilRtspTrack *t, guint16 *port);

/* --- client-media.c: packets to units --- */

/* An interleaved frame from the RTSP connection, on @channel. */
void vigil_rtsp_media_frame(VigilRtspClient *c, guint8 channel, const guint8 *data, gsize size);

/* Reads every datagram waiting on @t's RTP socket @fd (or RTCP, @rtcp). */
void vigil_rtsp_media_read_udp(VigilRtspClient *c, VigilRtspTrack *t, int fd, gboolean rtcp);

/* RTP-Info: "url=...;seq=1;rtptime=2, url=...". Each track's rtptime is
 * where npt 0 is: the common origin of both tracks. */
void vigil_rtsp_media_rtp_info(VigilRtspClient *c, const char *value);

G_END_DECLS
