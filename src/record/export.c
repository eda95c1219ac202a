/* MP4 export by remux. appsrc reads the segment files in order (in its own
 * streaming thread), tsdemux splits them, each elementary stream goes
 * through its parser and a queue into mp4mux (fragmented, 1 s fragments),
 * and appsink's pieces go to the main context. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/export.h"

#include <errno.h>
#include <fcntl.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <unistd.h>

#include "core/error.h"

#define READ_BLOCK (256 * 1024)

typedef struct {
  GBytes *data;
  GError *error;
  gboolean last;
} Piece;

struct _VigilExport {
  gint refcount;
  GstElement *pipeline;
  GstElement *mux;
  GPtrArray *files;
  guint file_index; /* streaming thread (appsrc) only */
  int fd;
  gint streams; /* linked into the muxer, atomic */

  GMutex lock;
  GCond cond;
  gsize pending; /* delivered, not consumed */
  gboolean cancelled;
  gboolean finished; /* the last piece was queued */
  GQueue pieces;     /* Piece*, under lock */

  VigilExportFunc func; /* main thread */
  gpointer user_data;
  gboolean alive; /* main thread: FALSE once freed by the consumer */
};

static VigilExport *export_ref(VigilExport *self)
{
  g_atomic_int_inc(&self->refcount);
  return self;
}

static void piece_free(Piece *p)
{
  if (p->data)
    g_bytes_unref(p->data);
  g_clear_error(&p->error);
  g_free(p);
}

static void export_unref(gpointer data)
{
  VigilExport *self = data;
  if (!g_atomic_int_dec_and_test(&self->refcount))
    return;
  if (self->fd >= 0)
    close(self->fd);
  g_ptr_array_unref(self->files);
  g_queue_clear_full(&self->pieces, (GDestroyNotify)piece_free);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->cond);
  g_free(self);
}

static gboolean deliver(gpointer data)
{
  VigilExport *self = data;
  for (;;) {
    g_mutex_lock(&self->lock);
    Piece *p = g_queue_pop_head(&self->pieces);
    g_mutex_unlock(&self->lock);
    if (!p)
      break;
    if (self->alive) {
      if (p->last)
        self->func(NULL, p->error, self->user_data);
      else
        self->func(p->data, NULL, self->user_data);
    }
    piece_free(p);
  }
  return G_SOURCE_REMOVE;
}

/* Any thread: queues a piece for the main context (once the last one is
 * queued, nothing more goes). */
static void queue_piece(VigilExport *self, GBytes *data, GError *error, gboolean last)
{
  g_mutex_lock(&self->lock);
  if (self->finished) {
    g_mutex_unlock(&self->lock);
    if (data)
      g_bytes_unref(data);
    g_clear_error(&error);
    return;
  }
  Piece *p = g_new0(Piece, 1);
  p->data = data;
  p->error = error;
  p->last = last;
  if (last)
    self->finished = TRUE;
  g_queue_push_tail(&self->pieces, p);
  g_mutex_unlock(&self->lock);
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, deliver, export_ref(self), export_unref);
}

static void on_need_data(GstAppSrc *src, guint length, gpointer data)
{
  VigilExport *self = data;
  for (;;) {
    if (self->fd < 0) {
      if (self->file_index >= self->files->len) {
        gst_app_src_end_of_stream(src);
        return;
      }
      const char *path = g_ptr_array_index(self->files, self->file_index++);
      self->fd = open(path, O_RDONLY | O_CLOEXEC);
      if (self->fd < 0) {
        g_warning("export: cannot open %s: %s", path, g_strerror(errno));
        continue; /* deleted meanwhile (retention): skip it */
      }
    }
    GstBuffer *buffer = gst_buffer_new_allocate(NULL, READ_BLOCK, NULL);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    ssize_t n;
    do
      n = read(self->fd, map.data, READ_BLOCK);
    while (n < 0 && errno == EINTR);
    gst_buffer_unmap(buffer, &map);
    if (n <= 0) {
      gst_buffer_unref(buffer);
      close(self->fd);
      self->fd = -1;
      continue;
    }
    gst_buffer_set_size(buffer, n);
    gst_app_src_push_buffer(src, buffer);
    return;
  }
}

static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer data)
{
  VigilExport *self = data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
  if (!sample)
    return GST_FLOW_EOS;
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  gsize size = gst_buffer_get_size(buffer);
  GBytes *bytes = g_bytes_new_take(g_malloc(size), size);
  gst_buffer_extract(buffer, 0, (gpointer)g_bytes_get_data(bytes, NULL), size);

  g_mutex_lock(&self->lock);
  /* Backpressure: wait for the client rather than buffer the file. */
  while (self->pending > VIGIL_EXPORT_MAX_PENDING && !self->cancelled)
    g_cond_wait(&self->cond, &self->lock);
  gboolean cancelled = self->cancelled;
  self->pending += size;
  g_mutex_unlock(&self->lock);
  if (cancelled) {
    g_bytes_unref(bytes);
    return GST_FLOW_FLUSHING;
  }
  queue_piece(self, bytes, NULL, FALSE);
  return GST_FLOW_OK;
}

static void on_eos(GstAppSink *sink, gpointer data)
{
  queue_piece(data, NULL, NULL, TRUE);
}

static GstBusSyncReply on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) gerr = NULL;
    g_autofree gchar *debug = NULL;
    gst_message_parse_error(msg, &gerr, &debug);
    g_warning("export: %s (%s)", gerr->message, debug ? debug : "");
    queue_piece(data, NULL,
                g_error_new(VIGIL_ERROR, VIGIL_ERROR_FAILED, "export failed: %s", gerr->message),
                TRUE);
  }
  return GST_BUS_DROP;
}

/* tsdemux found a stream: parser + queue into the muxer. */
static void on_pad_added(GstElement *demux, GstPad *pad, gpointer data)
{
  VigilExport *self = data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
  if (!caps)
    caps = gst_pad_query_caps(pad, NULL);
  const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  const char *parser_name = NULL;
  const char *mux_pad = "video_%u";
  if (g_str_equal(name, "video/x-h264"))
    parser_name = "h264parse";
  else if (g_str_equal(name, "video/x-h265"))
    parser_name = "h265parse";
  else if (g_str_equal(name, "audio/mpeg")) {
    parser_name = "aacparse";
    mux_pad = "audio_%u";
  }
  if (!parser_name)
    return;
  GstElement *queue = gst_element_factory_make("queue", NULL);
  GstElement *parser = gst_element_factory_make(parser_name, NULL);
  g_object_set(queue, "max-size-buffers", 0, "max-size-time", (guint64)0, "max-size-bytes",
               32u * 1024 * 1024, NULL);
  gst_bin_add_many(GST_BIN(self->pipeline), queue, parser, NULL);
  g_autoptr(GstPad) sink = gst_element_get_static_pad(queue, "sink");
  g_autoptr(GstPad) src = gst_element_get_static_pad(parser, "src");
  g_autoptr(GstPad) muxpad = gst_element_request_pad_simple(self->mux, mux_pad);
  if (!gst_element_link(queue, parser) || gst_pad_link(pad, sink) != GST_PAD_LINK_OK || !muxpad ||
      gst_pad_link(src, muxpad) != GST_PAD_LINK_OK) {
    g_warning("export: cannot link %s", name);
    return;
  }
  gst_element_sync_state_with_parent(parser);
  gst_element_sync_state_with_parent(queue);
  g_atomic_int_inc(&self->streams);
}

/* EOS into the demuxer with no stream found (files gone, or not TS): the
 * muxer would wait for ever, so end the export with an error here. */
static GstPadProbeReturn on_demux_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VigilExport *self = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && g_atomic_int_get(&self->streams) == 0)
    queue_piece(self, NULL,
                g_error_new_literal(VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND,
                                    "the recording's files hold no video"),
                TRUE);
  return GST_PAD_PROBE_OK;
}

VigilExport *vigil_export_start(GPtrArray *files, VigilExportFunc func, gpointer user_data)
{
  VigilExport *self = g_new0(VigilExport, 1);
  self->refcount = 1;
  self->fd = -1;
  self->files = g_ptr_array_ref(files);
  self->func = func;
  self->user_data = user_data;
  self->alive = TRUE;
  g_mutex_init(&self->lock);
  g_cond_init(&self->cond);
  g_queue_init(&self->pieces);

  self->pipeline = gst_pipeline_new("export");
  GstElement *src = gst_element_factory_make("appsrc", NULL);
  GstElement *demux = gst_element_factory_make("tsdemux", NULL);
  self->mux = gst_element_factory_make("mp4mux", NULL);
  GstElement *sink = gst_element_factory_make("appsink", NULL);
  g_autoptr(GstCaps) caps = gst_caps_from_string("video/mpegts,systemstream=true,packetsize=188");
  g_object_set(src, "caps", caps, "format", GST_FORMAT_BYTES, "max-bytes",
               (guint64)(2 * READ_BLOCK), NULL);
  /* Fragmented MP4 (moov first, then 1 s moof/mdat pairs) can be written
   * front to back, so it streams. */
  g_object_set(self->mux, "fragment-duration", 1000, "streamable", TRUE, NULL);
  g_object_set(sink, "sync", FALSE, "max-buffers", 8, NULL);
  gst_bin_add_many(GST_BIN(self->pipeline), src, demux, self->mux, sink, NULL);
  gst_element_link(src, demux);
  gst_element_link(self->mux, sink);
  g_signal_connect(demux, "pad-added", G_CALLBACK(on_pad_added), self);
  g_autoptr(GstPad) demux_sink = gst_element_get_static_pad(demux, "sink");
  gst_pad_add_probe(demux_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_demux_event, self, NULL);

  GstAppSrcCallbacks src_cb = {.need_data = on_need_data};
  gst_app_src_set_callbacks(GST_APP_SRC(src), &src_cb, self, NULL);
  GstAppSinkCallbacks sink_cb = {.eos = on_eos, .new_sample = on_new_sample};
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &sink_cb, self, NULL);
  g_autoptr(GstBus) bus = gst_element_get_bus(self->pipeline);
  gst_bus_set_sync_handler(bus, on_bus, self, NULL);
  gst_element_set_state(self->pipeline, GST_STATE_PLAYING);
  return self;
}

void vigil_export_consumed(VigilExport *self, gsize bytes)
{
  g_mutex_lock(&self->lock);
  self->pending = self->pending > bytes ? self->pending - bytes : 0;
  g_cond_broadcast(&self->cond);
  g_mutex_unlock(&self->lock);
}

void vigil_export_free(VigilExport *self)
{
  if (!self)
    return;
  self->alive = FALSE;
  g_mutex_lock(&self->lock);
  self->cancelled = TRUE;
  self->finished = TRUE;
  g_cond_broadcast(&self->cond);
  g_mutex_unlock(&self->lock);
  /* With the producer woken, stopping the pipeline returns promptly. */
  gst_element_set_state(self->pipeline, GST_STATE_NULL);
  g_clear_object(&self->pipeline);
  export_unref(self);
}
