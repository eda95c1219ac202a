/* The segment writer's reports (segment.h's VigilWriterFunc): posted by the
 * pool thread running the writer, delivered in order on the writer's main
 * context, never after the writer is gone. Each report holds a reference,
 * so idles still queued when the writer is freed find nothing to call. */
#pragma once

#include <glib.h>

#include "record/segment.h"

G_BEGIN_DECLS

typedef struct _VigilWriterReports VigilWriterReports;

VigilWriterReports *vigil_writer_reports_new(GMainContext *context, VigilWriterFunc func,
                                             gpointer user_data);
/* Any thread: queues a report (@rec referenced, @segment copied; both may be
 * NULL) and wakes the context to deliver it. */
void vigil_writer_reports_post(VigilWriterReports *reports, VigilWriterEvent event,
                               VigilRecInfo *rec, const VigilSegment *segment, const char *message);
/* The writer's main context, once nothing posts any more: delivers what is
 * queued now, then no more, and drops the caller's reference. */
void vigil_writer_reports_close(VigilWriterReports *reports);

G_END_DECLS
