/* Snapshots: JPEGs of a camera's keyframes, made on GTask threads (never on
 * the main loop or in the analysis worker).
 *
 * VigilSnapshots keeps a camera's latest keyframe of each stream and the
 * latest detection's boxes, and answers GET .../snapshot.jpg: the latest
 * keyframe of the stream asked for (the other stream's until that one sent
 * one), decoded only when asked and cached, per stream, until the next
 * keyframe. set_keyframe is called
 * from the ingest's streaming thread; everything else on the main thread.
 * Refcounted: jobs in flight hold a reference.
 *
 * vigil_snapshot_jpeg_async makes one JPEG of a given keyframe: the
 * analyzer's event thumbnails. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "config/config.h"
#include "core/media.h"

G_BEGIN_DECLS

typedef struct _VigilSnapshots VigilSnapshots;

VigilSnapshots *vigil_snapshots_new(void);
VigilSnapshots *vigil_snapshots_ref(VigilSnapshots *snapshots);
void vigil_snapshots_unref(VigilSnapshots *snapshots);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSnapshots, vigil_snapshots_unref)

/* Any thread: @buffer (a keyframe access unit, a ref is taken) is the
 * latest of @stream. */
void vigil_snapshots_set_keyframe(VigilSnapshots *snapshots, GstBuffer *buffer, VigilCodec codec,
                                  VigilStreamChoice stream);
/* The keyframe snapshots are made of (a new ref; NULL when none arrived). */
GstBuffer *vigil_snapshots_get_keyframe(VigilSnapshots *snapshots, VigilCodec *codec);
/* The main stream's latest keyframe only (a new ref; NULL when none
 * arrived) and when it arrived (wall clock, µs). */
GstBuffer *vigil_snapshots_get_main_keyframe(VigilSnapshots *snapshots, VigilCodec *codec,
                                             gint64 *arrived_us);
/* The latest detection (GArray of VigilDetection, a ref is taken; NULL:
 * none), drawn by take_async with @boxes. */
void vigil_snapshots_set_boxes(VigilSnapshots *snapshots, GArray *dets);

/* A JPEG of @stream's latest keyframe (MAIN or SUB; the other's while that
 * one has none) at full size; with @boxes, the latest detection's boxes
 * drawn (not cached). Errors: NOT_FOUND before the first keyframe, FAILED
 * when it does not decode. */
void vigil_snapshots_take_async(VigilSnapshots *snapshots, VigilStreamChoice stream, gboolean boxes,
                                GAsyncReadyCallback callback, gpointer user_data);
GBytes *vigil_snapshots_take_finish(GAsyncResult *result, GError **error);

/* A JPEG of @keyframe (a ref is taken), @dets' boxes drawn (GArray of
 * VigilDetection, NULL: none), scaled down to at most @max_width wide (0:
 * full size). Finish with vigil_snapshots_take_finish. */
void vigil_snapshot_jpeg_async(GstBuffer *keyframe, VigilCodec codec, GArray *dets, int max_width,
                               GAsyncReadyCallback callback, gpointer user_data);

G_END_DECLS
