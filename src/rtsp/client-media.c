/* The RTSP client's media: RTP from the connection (interleaved) or from
 * UDP sockets into the tracks' depayloaders, and the units that come out
 * handed to the caller with presentation times on one timeline for video
 * and audio (RTP-Info, else the first RTCP sender reports). */
#define G_LOG_DOMAIN "vigil-rtsp"

#include <sys/socket.h>

#include "rtsp/client-private.h"

#define UDP_BATCH 32
/* A slot takes one datagram. Cameras send RTP in datagrams that fit the
 * network's MTU, so slots start that small: 32 of them are 64 KiB, all of
 * it written within the first bursts. Slots for the largest datagram, from
 * the start, were 2 MiB per camera of which a few pages were written at
 * first and more with every larger burst, for hours (docs/soak.md, "Pages
 * allocated, written later"). A camera that sends a datagram too large for
 * its slot (IP fragments) loses that one and gets slots for any size. */
#define UDP_SLOT         2048
#define UDP_MAX_DATAGRAM 65536
/* How long audio waits for sender reports to place it next to video. */
#define AUDIO_SYNC_WAIT_US (6 * G_USEC_PER_SEC)

/* --- timeline --- */

static gint64 track_time(VigilRtspTrack *t, guint32 ts)
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
static void on_sender_report(VigilRtspClient *c, VigilRtspTrack *t, const guint8 *data, gsize size)
{
  guint32 ssrc, rtp;
  guint64 ntp;
  if (c->synced || !vigil_rtcp_sender_report(data, size, &ssrc, &ntp, &rtp))
    return;
  t->has_sr = TRUE;
  t->sr_ntp = ntp;
  t->sr_rtp = rtp;
  VigilRtspTrack *v = &c->video, *a = &c->audio;
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

static void on_rtp(VigilRtspClient *c, VigilRtspTrack *t, const guint8 *data, gsize size)
{
  VigilRtpPacket packet;
  if (!t->depay || !vigil_rtp_parse(data, size, &packet))
    return;
  c->last_packet_us = g_get_monotonic_time();
  c->got_packet = TRUE;
  vigil_rtp_depay_push(t->depay, &packet, t == &c->video ? on_video_unit : on_audio_unit, c);
}

void vigil_rtsp_media_frame(VigilRtspClient *c, guint8 channel, const guint8 *data, gsize size)
{
  if (!c->video_func)
    return; /* before PLAY */
  for (VigilRtspTrack *t = &c->video; t <= &c->audio; t++) {
    if (!t->used)
      continue;
    if (channel == t->channel)
      on_rtp(c, t, data, size);
    else if (channel == t->channel + 1)
      on_sender_report(c, t, data, size);
  }
}

/* --- RTP-Info (PLAY's answer) --- */

void vigil_rtsp_media_rtp_info(VigilRtspClient *c, const char *value)
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
    VigilRtspTrack *t = NULL;
    for (VigilRtspTrack *k = &c->video; k <= &c->audio; k++) {
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

/* --- UDP --- */

void vigil_rtsp_media_read_udp(VigilRtspClient *c, VigilRtspTrack *t, int fd, gboolean rtcp)
{
  if (!c->datagrams) {
    c->datagram_size = UDP_SLOT;
    c->datagrams = g_malloc((gsize)UDP_BATCH * UDP_SLOT);
  }
  struct mmsghdr msgs[UDP_BATCH];
  struct iovec iov[UDP_BATCH];
  for (;;) {
    gsize slot = c->datagram_size;
    for (int i = 0; i < UDP_BATCH; i++) {
      iov[i] = (struct iovec){c->datagrams + (gsize)i * slot, slot};
      msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    int n = recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    gboolean truncated = FALSE;
    for (int i = 0; i < n && !c->stop; i++) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
        truncated = TRUE; /* its end is lost: as if the packet were */
      else if (rtcp)
        on_sender_report(c, t, iov[i].iov_base, msgs[i].msg_len);
      else
        on_rtp(c, t, iov[i].iov_base, msgs[i].msg_len);
    }
    if (truncated && slot < UDP_MAX_DATAGRAM) {
      /* The host only: a URL's query can hold a password. */
      g_message("the camera at %s sends UDP datagrams over %" G_GSIZE_FORMAT
                " bytes: one lost, larger ones taken from now on",
                c->host, slot);
      g_free(c->datagrams);
      c->datagram_size = UDP_MAX_DATAGRAM;
      c->datagrams = g_malloc((gsize)UDP_BATCH * UDP_MAX_DATAGRAM);
    }
    if (n < UDP_BATCH)
      return;
  }
}
