/* vigil's own RTSP client: the lean reader for rtsp:// cameras (issue 13).
 *
 * Why not libavformat's: it polls and reads twice per RTP packet over TCP
 * (the 4-byte interleave header, then the packet), about 2,000 system calls
 * a second for one 4 Mbit/s camera. This client reads the socket in large
 * chunks at a steady cadence and splits them in user space, so one camera
 * costs tens of system calls a second (bench/RESULTS.md, "ingest").
 *
 * The parsers below are pure (bytes in, values out, no I/O, no allocation
 * beyond their results) and each has a fuzz target in tests/fuzz/: they are
 * what a hostile or broken camera talks to. The client (client.c, with
 * client-conn.c and client-media.c behind client-private.h) owns the
 * sockets and runs on its caller's thread. Nothing here knows about cameras,
 * streams or GStreamer: camera/ingest-rtsp.c joins it to the rest. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------------
 * RTSP messages (message.c)
 * ------------------------------------------------------------------------ */

/* Limits on what a server may send: larger is an error, never an allocation. */
#define VIGIL_RTSP_MAX_HEADER (64 * 1024)   /* status line + headers */
#define VIGIL_RTSP_MAX_BODY   (1024 * 1024) /* an SDP body */

typedef struct {
  gchar *name;  /* as sent */
  gchar *value; /* leading and trailing blanks removed */
} VigilRtspHeader;

typedef struct {
  int status;      /* 200, 401, ...; 0 for a request from the server */
  gchar *reason;   /* "OK"; may be empty (always for a request) */
  gchar *method;   /* a request from the server ("OPTIONS", "ANNOUNCE"): its method, else NULL */
  GArray *headers; /* of VigilRtspHeader, in order */
  GBytes *body;    /* Content-Length bytes, or NULL when there are none */
} VigilRtspMessage;

/* Parses the RTSP message (a response, or a request the server sends) at the
 * start of @data. Returns the number of bytes it takes (> 0) and fills @out;
 * 0 when @data ends before the message does (read more, call again); -1 with
 * @error set when it is not RTSP or breaks a limit above. Accepts what
 * cameras send: LF or CRLF line ends, a status line without reason, header
 * names in any case, blanks around values. Clear @out with
 * vigil_rtsp_message_clear() after a successful call. */
gssize vigil_rtsp_message_parse(const guint8 *data, gsize size, VigilRtspMessage *out,
                                GError **error);
void vigil_rtsp_message_clear(VigilRtspMessage *message);

/* The value of the @index-th header called @name (case-insensitive), or NULL. */
const char *vigil_rtsp_message_header(const VigilRtspMessage *message, const char *name,
                                      guint index);

/* What comes next on an RTSP connection that also carries interleaved RTP
 * (RFC 2326 10.12): */
typedef enum {
  VIGIL_RTSP_NEXT_MORE,    /* incomplete: read more (nothing to consume yet) */
  VIGIL_RTSP_NEXT_FRAME,   /* an interleaved frame: '$', channel, 16-bit length, payload */
  VIGIL_RTSP_NEXT_MESSAGE, /* an RTSP message: hand the bytes to vigil_rtsp_message_parse() */
  VIGIL_RTSP_NEXT_GARBAGE, /* bytes that are neither: skip *length of them */
} VigilRtspNext;

/* Looks at the start of @data. FRAME and MESSAGE only once all *@length
 * bytes are in @data (MORE until then). For FRAME sets *@length to the whole
 * frame (4 + payload; the payload starts at offset 4) and *@channel; for
 * MESSAGE sets *@length to the message's whole length (headers and body);
 * for GARBAGE sets *@length to the bytes up to the next '$', "RTSP/" or
 * capital letter at the start of a line (at least 1). Never reads past @size. A message whose headers exceed
 * VIGIL_RTSP_MAX_HEADER or body VIGIL_RTSP_MAX_BODY is GARBAGE of 1 byte
 * (so the caller resynchronises instead of waiting forever). */
VigilRtspNext vigil_rtsp_next(const guint8 *data, gsize size, gsize *length, guint8 *channel);

/* ------------------------------------------------------------------------
 * Authentication (auth.c): Basic and Digest (RFC 2617, MD5, qop=auth)
 * ------------------------------------------------------------------------ */

typedef struct {
  gboolean digest; /* FALSE: Basic */
  gchar *realm;    /* NULL for a Basic challenge without one */
  gchar *nonce;
  gchar *opaque;     /* or NULL */
  gchar *algorithm;  /* "MD5", "MD5-sess", or NULL */
  gboolean qop_auth; /* the server offered qop "auth" */
  gboolean stale;
} VigilRtspChallenge;

/* Parses one WWW-Authenticate value ("Basic realm=..." or "Digest realm=...,
 * nonce=..."; quoted or bare values, any order, any case for names and the
 * scheme). FALSE for another scheme or a Digest without nonce. Clear @out
 * with vigil_rtsp_challenge_clear() either way. */
gboolean vigil_rtsp_challenge_parse(const char *value, VigilRtspChallenge *out);
void vigil_rtsp_challenge_clear(VigilRtspChallenge *challenge);

/* The Authorization header value answering @challenge for @method on @uri.
 * @nc counts requests made with this nonce (from 1), @cnonce is the
 * client's nonce (used with qop=auth and MD5-sess). NULL for a Digest
 * algorithm other than MD5 and MD5-sess, or when a value would put a line
 * break into the header. The result holds the password
 * (Basic) or a hash of it: never log it. */
gchar *vigil_rtsp_authorization(const VigilRtspChallenge *challenge, const char *user,
                                const char *password, const char *method, const char *uri, guint nc,
                                const char *cnonce);

/* ------------------------------------------------------------------------
 * SDP (sdp.c): what DESCRIBE answers
 * ------------------------------------------------------------------------ */

typedef struct {
  gchar *media;     /* "video", "audio", "application", ... */
  int payload_type; /* the first format of the m= line; -1 when not a number */
  gchar *encoding;  /* from a=rtpmap, upper case ("H264", "H265", "MPEG4-GENERIC"),
                      or from the static payload table (0 "PCMU", 8 "PCMA", 14 "MPA",
                      26 "JPEG"),
                      or NULL */
  int clock_rate;   /* from a=rtpmap or the static table; 0 when unknown */
  int channels;     /* from a=rtpmap; 1 when not given */
  gchar *control;   /* a=control as given (relative, absolute or "*"), or NULL */
  GHashTable *fmtp; /* a=fmtp parameters of that payload type, names lower case */
} VigilSdpMedia;

typedef struct {
  gchar *control;   /* session-level a=control, or NULL */
  GPtrArray *media; /* of VigilSdpMedia, in order */
} VigilSdp;

/* Parses an SDP description (LF or CRLF lines; unknown lines ignored; at
 * most 64 media). NULL with @error when it has no m= line or is not SDP. */
VigilSdp *vigil_sdp_parse(const char *text, gsize size, GError **error);
void vigil_sdp_free(VigilSdp *sdp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSdp, vigil_sdp_free)

/* The fmtp parameter @name (lower case), or NULL. */
const char *vigil_sdp_media_fmtp(const VigilSdpMedia *media, const char *name);

/* The out-of-band parameter sets of an H.264 (sprop-parameter-sets) or H.265
 * (sprop-vps, sprop-sps, sprop-pps, in that order) track, as Annex B: each
 * NAL unit after a 00 00 00 01 start code. NULL when there are none or they
 * are not valid base64. */
GBytes *vigil_sdp_media_parameter_sets(const VigilSdpMedia *media);

/* The AAC AudioSpecificConfig of an MPEG4-GENERIC track (fmtp "config", hex),
 * or NULL. */
GBytes *vigil_sdp_media_aac_config(const VigilSdpMedia *media);

/* The URL a track's control refers to (RFC 2326 C.1.1, as cameras read it):
 * an absolute rtsp:// or rtsps:// @control as it is; "*" or NULL: @base;
 * otherwise @base, a '/' unless @base ends with one, and @control. @base is
 * the DESCRIBE answer's Content-Base (or Content-Location, or the request URL). */
gchar *vigil_rtsp_resolve_control(const char *base, const char *control);

/* ------------------------------------------------------------------------
 * RTP and RTCP (rtp.c)
 * ------------------------------------------------------------------------ */

typedef struct {
  guint8 payload_type;
  gboolean marker;
  guint16 sequence;
  guint32 timestamp;
  guint32 ssrc;
  const guint8 *payload; /* inside the parsed packet */
  gsize payload_size;
} VigilRtpPacket;

/* Parses an RTP packet (version 2; CSRCs, header extension and padding
 * skipped). FALSE when it is not one. */
gboolean vigil_rtp_parse(const guint8 *data, gsize size, VigilRtpPacket *out);

/* Finds a sender report in an RTCP compound packet: the NTP time (64-bit,
 * seconds in the high 32 bits) that matches the RTP timestamp @rtp_time of
 * source @ssrc. FALSE when there is none. */
gboolean vigil_rtcp_sender_report(const guint8 *data, gsize size, guint32 *ssrc, guint64 *ntp,
                                  guint32 *rtp_time);

typedef enum {
  VIGIL_RTP_H264, /* RFC 6184: single NAL units, STAP-A, FU-A */
  VIGIL_RTP_H265, /* RFC 7798: single NAL units, AP, FU (no DONL) */
  VIGIL_RTP_AAC,  /* RFC 3640 mpeg4-generic, AAC-hbr and AAC-lbr */
} VigilRtpPayload;

/* Called with each whole unit a depacketiser completes.
 * Video: one access unit, every NAL unit after a 00 00 00 01 start code;
 * @damaged when a packet of it was lost (a sequence gap) or a fragment came
 * without its start; the data holds what arrived, whole NAL units only, and
 * may be empty (then always damaged: a picture lost whole).
 * Audio: one raw AAC frame (no ADTS header), @damaged FALSE.
 * @timestamp is the RTP timestamp (audio: of this frame, the packet's plus
 * 1024 per frame before it in the packet). The data is valid during the
 * call only. */
typedef void (*VigilRtpUnitFunc)(const guint8 *data, gsize size, guint32 timestamp,
                                 gboolean damaged, gpointer user_data);

typedef struct _VigilRtpDepay VigilRtpDepay;

/* @media gives AAC's sizelength, indexlength and indexdeltalength (fmtp;
 * 13/3/3 when absent); it may be NULL for video. Access units larger than
 * 32 MiB are dropped. */
VigilRtpDepay *vigil_rtp_depay_new(VigilRtpPayload payload, const VigilSdpMedia *media);
void vigil_rtp_depay_free(VigilRtpDepay *depay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRtpDepay, vigil_rtp_depay_free)

/* Feeds one packet (in arrival order; a sequence gap counts as loss). Video
 * completes an access unit on the marker bit, or when a packet with another
 * timestamp arrives (a lost marker). */
void vigil_rtp_depay_push(VigilRtpDepay *depay, const VigilRtpPacket *packet, VigilRtpUnitFunc func,
                          gpointer user_data);

/* Hands on a video access unit still being gathered (at end of stream). */
void vigil_rtp_depay_flush(VigilRtpDepay *depay, VigilRtpUnitFunc func, gpointer user_data);

/* ------------------------------------------------------------------------
 * The client (client.c, client-conn.c, client-media.c)
 * ------------------------------------------------------------------------ */

typedef enum {
  VIGIL_RTSP_LOWER_TCP,  /* RTP interleaved on the RTSP connection */
  VIGIL_RTSP_LOWER_UDP,  /* RTP and RTCP on UDP port pairs */
  VIGIL_RTSP_LOWER_AUTO, /* TCP; UDP when the server does not offer TCP */
} VigilRtspLower;

#define VIGIL_RTSP_ERROR (vigil_rtsp_error_quark())
GQuark vigil_rtsp_error_quark(void);

/* Why a session failed; the GError's message words it for users. */
typedef enum {
  VIGIL_RTSP_ERROR_UNAUTHORIZED, /* 401, or no credentials for a challenge */
  VIGIL_RTSP_ERROR_NOT_FOUND,    /* 404 */
  VIGIL_RTSP_ERROR_FORBIDDEN,    /* 403 */
  VIGIL_RTSP_ERROR_REJECTED,     /* another 4xx */
  VIGIL_RTSP_ERROR_SERVER,       /* 5xx */
  VIGIL_RTSP_ERROR_UNSUPPORTED,  /* no track vigil can pass through */
  VIGIL_RTSP_ERROR_INVALID,      /* what the server sent is not RTSP/SDP/RTP */
  VIGIL_RTSP_ERROR_HOST,         /* host name not found */
  VIGIL_RTSP_ERROR_UNREACHABLE,  /* connection refused, host unreachable */
  VIGIL_RTSP_ERROR_NO_ANSWER,    /* connected, but no RTSP answer in time */
  VIGIL_RTSP_ERROR_SILENT,       /* streaming, then nothing for the silence limit */
  VIGIL_RTSP_ERROR_CLOSED,       /* the server closed the connection */
  VIGIL_RTSP_ERROR_ABORTED,      /* *abort was set */
} VigilRtspErrorCode;

typedef struct _VigilRtspClient VigilRtspClient;

/* What PLAY will deliver, known after vigil_rtsp_client_open(). */
typedef struct {
  VigilRtpPayload video;  /* VIGIL_RTP_H264 or VIGIL_RTP_H265 */
  GBytes *parameter_sets; /* the SDP's, Annex B, or NULL */
  gboolean audio;         /* an AAC track was set up */
  GBytes *aac_config;     /* its AudioSpecificConfig, or NULL */
  int audio_rate;         /* its RTP clock rate (Hz) */
  int audio_channels;
  VigilRtspLower lower; /* TCP or UDP, as set up */
} VigilRtspTracks;

/* Whole units as they arrive, with presentation times in nanoseconds on one
 * timeline for both tracks (RTP-Info, else RTCP sender reports). Video: one
 * access unit (Annex B); return FALSE to stop. Audio: one raw AAC frame. */
typedef gboolean (*VigilRtspVideoFunc)(const guint8 *data, gsize size, gint64 pts_ns,
                                       gboolean damaged, gpointer user_data);
typedef void (*VigilRtspAudioFunc)(const guint8 *data, gsize size, gint64 pts_ns,
                                   gpointer user_data);

/* A client for @url (rtsp:// only). @user and @password, when set, replace
 * credentials in the URL; neither ever appears in an error message. The
 * client stops waiting and fails with ABORTED soon (within 100 ms) after
 * *@abort becomes non-zero. */
VigilRtspClient *vigil_rtsp_client_new(const char *url, const char *user, const char *password,
                                       VigilRtspLower lower, const gint *abort);

/* Connects and runs OPTIONS, DESCRIBE and SETUP, within @timeout_us. */
gboolean vigil_rtsp_client_open(VigilRtspClient *client, gint64 timeout_us, GError **error);
const VigilRtspTracks *vigil_rtsp_client_tracks(VigilRtspClient *client);

/* Sends PLAY and hands on what arrives until an error, *abort, or @video
 * returning FALSE (then it returns TRUE). Reads in large chunks every few
 * milliseconds; sends keep-alives; fails with SILENT after @silence_us
 * without a packet, or 5 s after PLAY's answer when no packet came at all. */
gboolean vigil_rtsp_client_play(VigilRtspClient *client, gint64 silence_us,
                                VigilRtspVideoFunc video, VigilRtspAudioFunc audio,
                                gpointer user_data, GError **error);

/* Sends TEARDOWN (without waiting for the answer) and closes everything. */
void vigil_rtsp_client_free(VigilRtspClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRtspClient, vigil_rtsp_client_free)

G_END_DECLS
