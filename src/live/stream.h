/* VigilStream: one camera's MPEG-TS byte stream, the interface that live view,
 * recording and analysis all consume.
 *
 * The ingest pushes chunks: each chunk is the TS packets of one video access
 * unit (or one group of audio frames), shared read-only by every consumer via
 * refcounting, never copied per consumer. A keyframe chunk begins with PAT and
 * PMT, so every keyframe chunk is a valid start for a viewer or a file.
 *
 * The stream keeps the current GOP (the latest keyframe chunk and everything
 * after it). A subscriber that asks for it receives that GOP first, atomically
 * with its subscription, so it neither misses nor repeats a chunk and its first
 * byte is the start of a keyframe.
 *
 * The cache is bounded: when a camera sends no keyframe for more than
 * VIGIL_STREAM_GOP_MAX_BYTES or VIGIL_STREAM_GOP_MAX_CHUNKS, the cache is
 * dropped and stays empty until the next keyframe (new from_gop subscribers
 * then wait for that keyframe).
 *
 * Thread-safety: push from any one thread at a time (the ingest's), subscribe
 * and unsubscribe from any thread (context subscribers: see below). No lock is
 * held while a subscriber's function runs. */
#pragma once

#include <glib.h>

#include "live/tsmux.h"

G_BEGIN_DECLS

#define VIGIL_STREAM_GOP_MAX_BYTES  (16u * 1024 * 1024)
#define VIGIL_STREAM_GOP_MAX_CHUNKS 3000u
/* A context subscriber whose queue would pass this (its context is not
 * draining) loses its queue and resumes at the next keyframe. */
#define VIGIL_STREAM_QUEUE_MAX_BYTES (64u * 1024 * 1024)

typedef enum {
  VIGIL_CHUNK_KEYFRAME = 1 << 0, /* begins with PAT+PMT and a keyframe AU */
  VIGIL_CHUNK_AUDIO = 1 << 1,
  VIGIL_CHUNK_DISCONT = 1 << 2, /* first chunk after a reconnect */
} VigilChunkFlags;

typedef struct {
  GBytes *data; /* n * 188 bytes */
  VigilChunkFlags flags;
  gint64 pts;          /* 90 kHz, monotonic over the stream's whole life */
  gint64 wallclock_us; /* g_get_real_time() when the AU arrived */
  gint64 arrival_us;   /* g_get_monotonic_time() when the AU arrived */
  /* private */
  gint refcount;
} VigilChunk;

/* Takes a reference on @data. */
VigilChunk *vigil_chunk_new(GBytes *data, VigilChunkFlags flags, gint64 pts, gint64 wallclock_us,
                            gint64 arrival_us);
VigilChunk *vigil_chunk_ref(VigilChunk *chunk);
void vigil_chunk_unref(VigilChunk *chunk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilChunk, vigil_chunk_unref)

static inline gboolean vigil_chunk_is_keyframe(const VigilChunk *c)
{
  return (c->flags & VIGIL_CHUNK_KEYFRAME) != 0;
}

/* What the stream carries, measured from the chunks themselves (all pushed
 * chunks count, also those dropped while waiting for the first keyframe). fps
 * and bitrate use the chunks' pts over the last 5 s of pts and read 0 when no
 * chunk arrived (arrival_us) for 5 s. */
typedef struct {
  VigilCodec codec;
  int width, height; /* 0 when unknown */
  gboolean has_audio;
  double fps;                 /* video AUs per second over the last ~5 s */
  double bitrate_kbps;        /* TS bytes over the last ~5 s */
  double keyframe_interval_s; /* between the two latest keyframes, 0 = unknown */
  gint64 last_chunk_us;       /* monotonic time of the latest chunk, 0 = none */
  guint64 chunks, bytes;      /* totals since creation */
  guint subscribers;
  guint viewers; /* live viewers (see vigil_stream_add_viewer) */
} VigilStreamStats;

typedef struct _VigilStream VigilStream;
typedef struct _VigilSubscriber VigilSubscriber;

/* Called for each chunk, in order. @chunk is borrowed: ref it to keep it. */
typedef void (*VigilChunkFunc)(VigilChunk *chunk, gpointer user_data);

VigilStream *vigil_stream_new(const char *camera_id);
VigilStream *vigil_stream_ref(VigilStream *stream);
void vigil_stream_unref(VigilStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilStream, vigil_stream_unref)

const char *vigil_stream_get_camera_id(VigilStream *stream);

/* Called by the ingest when it knows the stream's format (after a (re)connect). */
void vigil_stream_set_format(VigilStream *stream, VigilCodec codec, int width, int height,
                             gboolean has_audio);

/* Hands @chunk (the stream takes its own reference) to every subscriber and to
 * the GOP cache. Chunks before the first keyframe (since creation or the last
 * reset) are dropped. Must not be called from a subscriber's function. */
void vigil_stream_push(VigilStream *stream, VigilChunk *chunk);

/* Forgets the GOP cache (camera lost); subscribers stay. Chunks are dropped
 * again until the next keyframe. */
void vigil_stream_reset(VigilStream *stream);

/* Subscribes @func. With @from_gop the current GOP is delivered first (nothing
 * if there is none yet; the next keyframe then starts the subscriber).
 *
 * With @context NULL, @func runs synchronously in the pushing thread and must
 * be quick and thread-safe. With a @context, chunks are queued and @func runs
 * in that context (one wake-up drains the queue), in order; such a subscriber
 * must be unsubscribed from that context's thread, after which @func is never
 * called again. @destroy, if set, frees @user_data on unsubscribe.
 *
 * Without @from_gop the subscriber gets every chunk pushed after this call,
 * whatever it is (not necessarily a keyframe first).
 *
 * A synchronous subscriber with @from_gop receives the GOP in the calling
 * thread before this returns (pushes wait meanwhile). Unsubscribing a
 * synchronous subscriber from another thread waits until a call to it in
 * progress has returned (so @func must not wait for a thread that may be
 * unsubscribing it); from inside @func it is allowed, and @destroy then runs
 * once @func has returned. */
VigilSubscriber *vigil_stream_subscribe(VigilStream *stream, gboolean from_gop,
                                        GMainContext *context, VigilChunkFunc func,
                                        gpointer user_data, GDestroyNotify destroy);
/* A context subscriber that needs no low latency (a recorder) gets its
 * chunks in batches, at most @delay_us after the first of a batch was pushed:
 * one wake-up of its context per batch instead of one per chunk (30-50 a
 * second per camera). 0, the default, wakes it for every chunk. */
void vigil_subscriber_set_delay(VigilSubscriber *subscriber, gint64 delay_us);

/* Stops delivery to @subscriber and drops its queued chunks; @destroy runs as
 * soon as no call to @func is in progress (normally before this returns). */
void vigil_stream_unsubscribe(VigilStream *stream, VigilSubscriber *subscriber);

/* Fills @stats with a consistent snapshot. */

void vigil_stream_get_stats(VigilStream *stream, VigilStreamStats *stats);

/* Live viewers (WebSocket, live.ts, HLS) count themselves here, so the
 * camera's status can tell them apart from internal subscribers such as the
 * recorder. @delta is +1 or -1. */
void vigil_stream_add_viewer(VigilStream *stream, int delta);

/* A new reference to each chunk of the current GOP, oldest first (for
 * snapshots and tests). Free with g_ptr_array_unref. */
GPtrArray *vigil_stream_get_gop(VigilStream *stream);

G_END_DECLS
