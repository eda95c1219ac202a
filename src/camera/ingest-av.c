/* libavformat front end for rtsps:// (and for rtsp:// with
 * VIGIL_RTSP_FRONTEND=libav): the RTSP/RTP stack ffmpeg
 * itself uses (TCP interleaved, UDP, Basic and Digest auth, keep-alives, TLS,
 * H.264/H.265/AAC depacketising), read by one thread per camera that hands
 * whole access units to the shared muxing in ingest.c. No jitterbuffer thread
 * and no thread hop: that is what makes it cheaper than rtspsrc
 * (bench/RESULTS.md, "ingest").
 *
 * libavformat's parser is off (AVFMT_FLAG_NOPARSE): the depacketiser hands
 * out NAL units (or fragments of them), and this file joins them into access
 * units, emitted when the first NAL unit of the next one arrives (live/annexb.c
 * tells from NAL headers, as the parser would, and the timestamp must change
 * too; timestamps alone cannot tell, as libavformat shifts them by a few ticks
 * when an RTCP sender report arrives mid-picture).
 * That is as early as the parser would emit it, skips its byte-by-byte scan,
 * and, unlike the parser, never passes on the half picture it holds when the
 * connection breaks.
 *
 * Stopping: vigil_ingest_stop() sets `abort`, which the interrupt callback
 * hands to libavformat (it polls it at least every 100 ms while waiting); the
 * teardown thread joins the reader, which closes its context itself. */
#define G_LOG_DOMAIN "vigil-camera"

#include <gio/gio.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <string.h>

#include "camera/camera.h"
#include "camera/ingest-private.h"
#include "core/error.h"
#include "live/annexb.h"
#include "vigil-config.h"

/* Connecting, DESCRIBE/SETUP/PLAY and the first picture must fit in this. */
#define OPEN_TIMEOUT_US (8 * G_USEC_PER_SEC)
/* Socket I/O timeout. A camera silent for VIGIL_CAMERA_SILENCE_US is gone:
 * the interrupt callback sees to that; this only bounds single calls. */
#define SOCKET_TIMEOUT_US "15000000"
/* With transport "auto", UDP that carries nothing falls back to TCP after
 * this long, within camera.c's 10 s patience. */
#define AUTO_UDP_TIMEOUT_US "4000000"
/* An access unit larger than this (a 8K intra picture is about 5 MiB) is
 * garbage: its excess is dropped, and the picture with it. */
#define MAX_ACCESS_UNIT (32 * 1024 * 1024)
/* TEARDOWN is sent on close, but never waited for longer than this. */
#define CLOSE_TIMEOUT_US (G_USEC_PER_SEC)

typedef struct {
  VigilIngest *ingest; /* alive until the teardown has joined this thread */
  gchar *url;          /* carries the credentials: never logged */
  gchar *escaped_password;
  VigilRtspTransport transport;
  AVFormatContext *fmt;
  gint64 deadline; /* monotonic µs, 0 = none; this thread only */
  gboolean closing;
  gchar *last_error; /* the last error line libavformat printed, scrubbed */

  gint64 last_packet_us; /* monotonic; 0 before the first */
  gboolean silent;       /* the watchdog ended a read: nothing came for 10 s */
  gboolean timed_out;    /* the deadline ended a call */

  int video, audio; /* stream indexes, -1 = none */
  GByteArray *au;   /* the access unit being gathered */
  gint64 au_ts;     /* its first piece's timestamp, in the stream's time base */
  gboolean au_has_slice;
  VigilVideoFeed *feed;
  VigilCodec codec;
  VigilAdts adts;
} Reader;

/* libavformat logs from the thread that called it: this tells the log
 * handler which camera (and which password to scrub) a line belongs to. */
static _Thread_local Reader *current_reader;

static gchar *scrub(Reader *r, const char *text)
{
  g_autofree gchar *once = vigil_ingest_scrub(r->ingest, text);
  if (!r->escaped_password || !*r->escaped_password || !strstr(once, r->escaped_password))
    return g_steal_pointer(&once);
  g_auto(GStrv) parts = g_strsplit(once, r->escaped_password, -1);
  return g_strjoinv("***", parts);
}

static void on_av_log(void *avcl, int level, const char *format, va_list args)
{
  if (level > AV_LOG_WARNING)
    return;
  char line[1024];
  int print_prefix = 1;
  av_log_format_line2(avcl, level, format, args, line, sizeof line, &print_prefix);
  g_strchomp(line);
  if (!*line)
    return;
  Reader *r = current_reader;
  if (!r) {
    g_debug("libav: %s", line);
    return;
  }
  g_autofree gchar *clean = scrub(r, line);
  g_debug("camera %s: libavformat: %s", r->ingest->camera_id, clean);
  if (level <= AV_LOG_ERROR) {
    g_free(r->last_error);
    r->last_error = g_steal_pointer(&clean);
  }
}

static gpointer install_log_handler(gpointer data)
{
  av_log_set_callback(on_av_log);
  return NULL;
}

static int on_interrupt(void *opaque)
{
  Reader *r = opaque;
  if (r->closing)
    return r->deadline && g_get_monotonic_time() > r->deadline;
  if (g_atomic_int_get(&r->ingest->abort))
    return 1;
  gint64 now = g_get_monotonic_time();
  if (r->last_packet_us && now - r->last_packet_us > VIGIL_CAMERA_SILENCE_US) {
    /* libavformat's own socket timeout ends only one read, after which the
     * RTSP demuxer reads on: the silence rule is kept here. */
    r->silent = TRUE;
    return 1;
  }
  if (r->deadline && now > r->deadline) {
    r->timed_out = TRUE;
    return 1;
  }
  return 0;
}

/* --- errors --- */

static gboolean last_error_has(Reader *r, const char *text)
{
  return r->last_error && strstr(r->last_error, text);
}

/* When connecting timed out, a plain TCP connect tells whether the host or
 * the RTSP server is the one not answering. */
static gchar *probe_connection(Reader *r)
{
  g_autoptr(GUri) uri = g_uri_parse(r->ingest->source, G_URI_FLAGS_NONE, NULL);
  if (!uri || !g_uri_get_host(uri))
    return g_strdup("host unreachable");
  int port = g_uri_get_port(uri);
  if (port <= 0)
    port = g_str_equal(g_uri_get_scheme(uri), "rtsps") ? 322 : 554;
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_timeout(client, 3);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection =
      g_socket_client_connect_to_host(client, g_uri_get_host(uri), port, NULL, &error);
  return g_strdup(vigil_ingest_word_connect_error(connection ? NULL : error));
}

/* Words libavformat's error @ret for users. @opening: before the first
 * packet. Sets *offline when the camera could not be reached or went away
 * (as opposed to one that answered with a problem). */
static gchar *describe(Reader *r, int ret, gboolean opening, gboolean *offline)
{
  *offline = FALSE;
  /* The log lines only speak for the handshake: later ones may be about a
   * keep-alive's retry that went well. */
  if (ret == AVERROR_HTTP_UNAUTHORIZED || (opening && last_error_has(r, "401 Unauthorized")))
    return g_strdup("camera refused the credentials");
  if (ret == AVERROR_HTTP_NOT_FOUND || (opening && last_error_has(r, "404 Not Found")))
    return g_strdup("the camera has no stream at this path (404)");
  if (ret == AVERROR_HTTP_FORBIDDEN)
    return g_strdup("the camera refused access to this stream (403)");
  if (ret == AVERROR_HTTP_BAD_REQUEST || ret == AVERROR_HTTP_OTHER_4XX)
    return g_strdup_printf("the camera rejected the request (%s)",
                           r->last_error ? r->last_error : "4xx");
  if (ret == AVERROR_PROTOCOL_NOT_FOUND)
    return g_strdup("this build of libavformat cannot open such a stream");
  *offline = TRUE;
  if (ret == AVERROR_HTTP_SERVER_ERROR)
    return g_strdup("the camera's RTSP server reported an internal error (5xx)");
  if (ret == AVERROR(ECONNREFUSED))
    return g_strdup("connection refused (is the camera on, and the port right?)");
  if (last_error_has(r, "resolve hostname"))
    return g_strdup("host name not found");
  if (ret == AVERROR(ENETUNREACH) || ret == AVERROR(EHOSTUNREACH))
    return g_strdup("host unreachable");
  /* libavformat words a reply that never came as "invalid data". */
  if (opening && (ret == AVERROR(ETIMEDOUT) || ret == AVERROR_EXIT || ret == AVERROR(EIO) ||
                  (ret == AVERROR_INVALIDDATA && r->timed_out)))
    return probe_connection(r);
  if (ret == AVERROR(ETIMEDOUT) || ret == AVERROR_EXIT)
    return g_strdup("no data from the camera for 10 s");
  if (ret == AVERROR_EOF || ret == AVERROR(ECONNRESET) || ret == AVERROR(EPIPE))
    return g_strdup(opening ? "the camera closed the connection" : "the camera ended the stream");
  if (ret == AVERROR_INVALIDDATA) {
    *offline = FALSE;
    return g_strdup(opening ? "the camera's answer is not valid RTSP (is this an RTSP port?)"
                            : "the camera sent a stream that could not be read");
  }
  char text[AV_ERROR_MAX_STRING_SIZE];
  av_strerror(ret, text, sizeof text);
  return g_strdup_printf("the camera's stream could not be read: %s", text);
}

/* --- opening --- */

static void set_options(Reader *r, AVDictionary **opts)
{
  const char *transport = r->transport == VIGIL_TRANSPORT_TCP   ? "tcp"
                          : r->transport == VIGIL_TRANSPORT_UDP ? "udp"
                                                                : "udp+tcp";
  av_dict_set(opts, "rtsp_transport", transport, 0);
  av_dict_set(opts, "timeout",
              r->transport == VIGIL_TRANSPORT_AUTO ? AUTO_UDP_TIMEOUT_US : SOCKET_TIMEOUT_US, 0);
  /* Only video and audio are set up: not ONVIF metadata, not back-channels. */
  av_dict_set(opts, "allowed_media_types", "video+audio", 0);
  av_dict_set(opts, "user_agent", "vigil/" VIGIL_VERSION, 0);
}

/* RTSP's extradata is the SDP's sprop-parameter-sets in Annex B form. */
static GBytes *parameter_sets(const AVCodecParameters *par)
{
  if (par->extradata_size > 4 && par->extradata[0] == 0 && par->extradata[1] == 0)
    return g_bytes_new(par->extradata, (gsize)par->extradata_size);
  return NULL;
}

/* Opens the camera and picks the tracks. On failure sets *message. The SDP
 * says all vigil needs: no avformat_find_stream_info(), which would decode a
 * picture and hold the first frames back. */
static gboolean open_input(Reader *r, gchar **message, gboolean *offline)
{
  VigilIngest *self = r->ingest;
  AVFormatContext *fmt = avformat_alloc_context();
  fmt->interrupt_callback.callback = on_interrupt;
  fmt->interrupt_callback.opaque = r;
  fmt->flags |= AVFMT_FLAG_NOPARSE | AVFMT_FLAG_NOFILLIN;
  AVDictionary *opts = NULL;
  set_options(r, &opts);
  r->deadline = g_get_monotonic_time() + OPEN_TIMEOUT_US;
  int ret = avformat_open_input(&fmt, r->url, NULL, &opts);
  av_dict_free(&opts);
  r->deadline = 0;
  if (ret < 0) {
    /* avformat_open_input() freed the context */
    if (!g_atomic_int_get(&self->abort))
      *message = describe(r, ret, TRUE, offline);
    return FALSE;
  }
  r->fmt = fmt;

  r->video = r->audio = -1;
  const AVCodecParameters *unsupported = NULL;
  for (unsigned i = 0; i < fmt->nb_streams; i++) {
    const AVCodecParameters *par = fmt->streams[i]->codecpar;
    fmt->streams[i]->discard = AVDISCARD_ALL;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO && r->video < 0) {
      if (par->codec_id == AV_CODEC_ID_H264 || par->codec_id == AV_CODEC_ID_HEVC)
        r->video = (int)i;
      else if (!unsupported)
        unsupported = par;
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO && r->audio < 0 &&
               par->codec_id == AV_CODEC_ID_AAC &&
               vigil_adts_init(&r->adts, par->extradata, (gsize)MAX(par->extradata_size, 0),
                               par->sample_rate, par->ch_layout.nb_channels)) {
      r->audio = (int)i;
    }
  }
  if (r->video < 0) {
    *offline = FALSE;
    *message = unsupported ? g_strdup_printf("unsupported video codec %s (vigil passes "
                                             "through H.264 and H.265)",
                                             avcodec_get_name(unsupported->codec_id))
                           : g_strdup("no video track");
    return FALSE;
  }
  const AVCodecParameters *video = fmt->streams[r->video]->codecpar;
  fmt->streams[r->video]->discard = AVDISCARD_DEFAULT;
  if (r->audio >= 0)
    fmt->streams[r->audio]->discard = AVDISCARD_DEFAULT;
  r->codec = video->codec_id == AV_CODEC_ID_HEVC ? VIGIL_CODEC_H265 : VIGIL_CODEC_H264;
  g_autoptr(GBytes) sets = parameter_sets(video);
  r->feed = vigil_video_feed_new(self, r->codec, sets);
  r->au = g_byte_array_sized_new(256 * 1024);
  r->au_ts = AV_NOPTS_VALUE;

  g_mutex_lock(&self->lock);
  self->video_linked = TRUE;
  self->audio_linked = self->expect_audio = r->audio >= 0;
  g_mutex_unlock(&self->lock);
  g_debug("camera %s: %s%s over libavformat", self->camera_id, vigil_codec_to_string(r->codec),
          r->audio >= 0 ? " + AAC" : "");
  return TRUE;
}

/* --- reading --- */

static gint64 to_ns(gint64 ts, AVRational time_base)
{
  return av_rescale_q(ts, time_base, (AVRational){1, 1000000000});
}

/* Hands the gathered access unit on. */
static gboolean emit_access_unit(Reader *r)
{
  if (r->au_ts == AV_NOPTS_VALUE)
    return TRUE;
  gint64 pts_ns = to_ns(r->au_ts, r->fmt->streams[r->video]->time_base);
  return vigil_video_feed_push(r->feed, r->au->data, r->au->len, pts_ns);
}

/* One depacketised piece of video: a NAL unit (with its start code), a few
 * of them, or a fragment of one. The first piece of the next access unit
 * completes the one being gathered. */
static gboolean on_video(Reader *r, AVPacket *pkt)
{
  gboolean running = TRUE, begins, slice;
  vigil_annexb_classify_piece(pkt->data, (gsize)pkt->size, r->codec, &begins, &slice);
  /* Two pictures never share a timestamp: a piece that looks like a new
   * picture's but carries the gathered one's timestamp belongs to it. */
  if (begins && r->au_has_slice && pkt->pts != r->au_ts) {
    running = emit_access_unit(r);
    g_byte_array_set_size(r->au, 0);
    r->au_has_slice = FALSE;
  }
  if (r->au->len == 0) {
    if (!begins && !slice)
      return running; /* the tail of a picture whose start was missed */
    r->au_ts = pkt->pts;
  }
  if (r->au_ts == AV_NOPTS_VALUE)
    r->au_ts = pkt->pts;
  if (r->au->len + (gsize)pkt->size <= MAX_ACCESS_UNIT)
    g_byte_array_append(r->au, pkt->data, (guint)pkt->size);
  r->au_has_slice = r->au_has_slice || slice;
  return running;
}

static void on_audio(Reader *r, AVPacket *pkt)
{
  if (pkt->pts == AV_NOPTS_VALUE || pkt->size <= 0)
    return;
  gint64 pts_ns = to_ns(pkt->pts, r->fmt->streams[r->audio]->time_base);
  vigil_adts_push(&r->adts, r->ingest, pkt->data, (gsize)pkt->size, pts_ns);
}

static void read_packets(Reader *r, gchar **message, gboolean *offline)
{
  AVPacket *pkt = av_packet_alloc();
  while (!g_atomic_int_get(&r->ingest->abort)) {
    int ret = av_read_frame(r->fmt, pkt);
    if (r->silent) {
      *message = g_strdup("no data from the camera for 10 s");
      *offline = TRUE;
      break;
    }
    if (ret < 0) {
      if (!g_atomic_int_get(&r->ingest->abort))
        *message = describe(r, ret, FALSE, offline);
      break;
    }
    r->last_packet_us = g_get_monotonic_time();
    gboolean running = TRUE;
    if (pkt->stream_index == r->video)
      running = on_video(r, pkt);
    else if (pkt->stream_index == r->audio)
      on_audio(r, pkt);
    av_packet_unref(pkt);
    if (!running)
      break;
  }
  av_packet_free(&pkt);
}

static void reader_free(Reader *r)
{
  if (r->url)
    memset(r->url, 0, strlen(r->url));
  g_free(r->url);
  g_free(r->escaped_password);
  g_free(r->last_error);
  if (r->au)
    g_byte_array_unref(r->au);
  vigil_video_feed_free(r->feed);
  g_free(r);
}

static gpointer reader_main(gpointer data)
{
  Reader *r = data;
  current_reader = r;
  g_autofree gchar *message = NULL;
  gboolean offline = TRUE;
  if (open_input(r, &message, &offline)) {
    r->last_packet_us = g_get_monotonic_time(); /* PLAY answered: the watchdog starts */
    g_clear_pointer(&r->last_error, g_free);
    read_packets(r, &message, &offline);
  }
  if (r->fmt) {
    /* A polite TEARDOWN, but never a hang on a dead connection. */
    r->closing = TRUE;
    r->deadline = g_get_monotonic_time() + CLOSE_TIMEOUT_US;
    avformat_close_input(&r->fmt);
  }
  if (message)
    vigil_ingest_report_failure(r->ingest, message, offline);
  current_reader = NULL;
  reader_free(r);
  return NULL;
}

/* The source URL with the configured credentials in it, percent-encoded as
 * libavformat expects (it decodes user:password once). Credentials already
 * in the URL stay when no fields are given. */
static gchar *url_with_credentials(const VigilCameraConfig *cfg)
{
  if (!cfg->username || !*cfg->username)
    return g_strdup(cfg->source);
  g_autoptr(GUri) uri = g_uri_parse(cfg->source, G_URI_FLAGS_ENCODED, NULL);
  if (!uri)
    return g_strdup(cfg->source);
  g_autofree gchar *user = g_uri_escape_string(cfg->username, NULL, FALSE);
  g_autofree gchar *password =
      cfg->password ? g_uri_escape_string(cfg->password, NULL, FALSE) : NULL;
  g_autofree gchar *userinfo = password ? g_strdup_printf("%s:%s", user, password) : g_strdup(user);
  g_autoptr(GUri) with = g_uri_build(G_URI_FLAGS_ENCODED, g_uri_get_scheme(uri), userinfo,
                                     g_uri_get_host(uri), g_uri_get_port(uri), g_uri_get_path(uri),
                                     g_uri_get_query(uri), g_uri_get_fragment(uri));
  if (password)
    memset(password, 0, strlen(password));
  return g_uri_to_string(with);
}

void vigil_ingest_init_av_log(void)
{
  static GOnce log_once = G_ONCE_INIT;
  g_once(&log_once, install_log_handler, NULL);
}

gboolean vigil_ingest_av_start(VigilIngest *self, const VigilCameraConfig *cfg, GError **error)
{
  vigil_ingest_init_av_log();

  Reader *r = g_new0(Reader, 1);
  r->ingest = self;
  r->url = url_with_credentials(cfg);
  r->transport = cfg->rtsp_transport;
  if (cfg->password && *cfg->password)
    r->escaped_password = g_uri_escape_string(cfg->password, NULL, FALSE);
  g_autofree gchar *name = g_strdup_printf("vigil-rtsp-%.5s", cfg->id);
  self->reader = g_thread_try_new(name, reader_main, r, error);
  if (!self->reader) {
    reader_free(r);
    return FALSE;
  }
  return TRUE;
}
