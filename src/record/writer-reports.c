/* The segment writer's reports to the main context (see writer-reports.h). */
#define G_LOG_DOMAIN "vigil-record"

#include "record/writer-reports.h"

/* Outlives the writer; alive tells the main context whether the writer is
 * still there. Main context reads and clears alive. */
struct _VigilWriterReports {
  gint refcount;
  gboolean alive;
  GMainContext *context;
  GAsyncQueue *queue; /* Report*, in order */
  VigilWriterFunc func;
  gpointer user_data;
};

typedef struct {
  VigilWriterEvent event;
  VigilRecInfo *rec;
  VigilSegment segment;
  gchar *message;
} Report;

static void report_free(Report *r)
{
  vigil_rec_info_unref(r->rec);
  g_free(r->message);
  g_free(r);
}

VigilWriterReports *vigil_writer_reports_new(GMainContext *context, VigilWriterFunc func,
                                             gpointer user_data)
{
  VigilWriterReports *self = g_new0(VigilWriterReports, 1);
  self->refcount = 1;
  self->alive = TRUE;
  self->context = g_main_context_ref(context ? context : g_main_context_default());
  self->queue = g_async_queue_new();
  self->func = func;
  self->user_data = user_data;
  return self;
}

static void reports_unref(gpointer data)
{
  VigilWriterReports *self = data;
  if (!g_atomic_int_dec_and_test(&self->refcount))
    return;
  g_async_queue_unref(self->queue);
  g_main_context_unref(self->context);
  g_free(self);
}

/* Delivers the oldest queued report. The queue keeps the order;
 * vigil_writer_reports_close delivers what is left synchronously. */
static void dispatch_one(VigilWriterReports *self)
{
  Report *r = g_async_queue_try_pop(self->queue);
  if (!r)
    return;
  if (self->alive)
    self->func(r->event, r->rec, r->event == VIGIL_WRITER_SEGMENT ? &r->segment : NULL, r->message,
               self->user_data);
  report_free(r);
}

static gboolean on_dispatch(gpointer data)
{
  dispatch_one(data);
  return G_SOURCE_REMOVE;
}

void vigil_writer_reports_post(VigilWriterReports *self, VigilWriterEvent event, VigilRecInfo *rec,
                               const VigilSegment *segment, const char *message)
{
  Report *r = g_new0(Report, 1);
  r->event = event;
  r->rec = rec ? vigil_rec_info_ref(rec) : NULL;
  if (segment)
    r->segment = *segment;
  r->message = g_strdup(message);
  g_async_queue_push(self->queue, r);
  g_atomic_int_inc(&self->refcount);
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, on_dispatch, self, reports_unref);
  g_source_attach(source, self->context);
  g_source_unref(source);
}

void vigil_writer_reports_close(VigilWriterReports *self)
{
  while (g_async_queue_length(self->queue) > 0)
    dispatch_one(self);
  self->alive = FALSE;
  reports_unref(self);
}
