/* VigilExport: MP4 from recorded TS segments by remux (tsdemux → parser →
 * mp4mux, fragmented so it can stream), never re-encoded, never written to
 * a temporary file: the MP4 is handed out in pieces while it is produced.
 *
 * The pipeline runs on GStreamer's threads; pieces are delivered on the
 * main context. The producer waits while more than VIGIL_EXPORT_MAX_PENDING
 * bytes are delivered but not yet consumed, so a slow client never makes it
 * buffer the whole file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VIGIL_EXPORT_MAX_PENDING (4u * 1024 * 1024)

typedef struct _VigilExport VigilExport;

/* Main context. @data is the next piece of MP4; NULL once at the end, with
 * @error set if the remux failed. */
typedef void (*VigilExportFunc)(GBytes *data, const GError *error, gpointer user_data);

/* Starts remuxing @files (absolute paths of TS segments, in order). */
VigilExport *vigil_export_start(GPtrArray *files, VigilExportFunc func, gpointer user_data);
/* The consumer has sent @bytes of what it received (main thread). */
void vigil_export_consumed(VigilExport *export, gsize bytes);
/* Stops and frees the export; @func is not called again (main thread). */
void vigil_export_free(VigilExport *export);

G_END_DECLS
