/* GET /metrics: Prometheus text exposition (version 0.0.4), authenticated like
 * the API. One block per subject; add your lines in a function of your own
 * and call it from vigil_api_metrics. */
#define G_LOG_DOMAIN "vigil-http"

#include "analysis/analyzer.h"
#include "core/file.h"
#include "core/heap.h"
#include "detect/service.h"
#include "events/events.h"
#include "http/api.h"

#include "live/viewer.h"
#include "record/segment.h"
#include "store/store.h"

/* Label values: backslash, quote and newline escaped. */
static void append_label(GString *out, const char *value)
{
  for (const char *p = value; *p; p++) {
    if (*p == '\\' || *p == '"')
      g_string_append_c(out, '\\');
    if (*p == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *p);
  }
}

static void metrics_cameras(VigilApp *app, GString *out)
{
  GPtrArray *cameras = vigil_camera_manager_list(app->cameras); /* borrowed */
  static const char *states[] = {"disabled", "connecting", "streaming", "offline", "error"};

  g_string_append(out, "# HELP vigil_camera_state 1 for the camera's current state.\n"
                       "# TYPE vigil_camera_state gauge\n");
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *cam = g_ptr_array_index(cameras, i);
    const char *current = vigil_camera_state_to_string(vigil_camera_get_state(cam));
    for (guint s = 0; s < G_N_ELEMENTS(states); s++) {
      g_string_append(out, "vigil_camera_state{camera=\"");
      append_label(out, vigil_camera_get_id(cam));
      g_string_append_printf(out, "\",state=\"%s\"} %d\n", states[s],
                             g_str_equal(states[s], current));
    }
  }

  g_string_append(out, "# HELP vigil_camera_bitrate_kbps Bitrate of the camera's stream.\n"
                       "# TYPE vigil_camera_bitrate_kbps gauge\n");
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *cam = g_ptr_array_index(cameras, i);
    VigilStreamStats st;
    vigil_stream_get_stats(vigil_camera_get_stream(cam), &st);
    g_string_append(out, "vigil_camera_bitrate_kbps{camera=\"");
    append_label(out, vigil_camera_get_id(cam));
    g_string_append_printf(out, "\"} %.1f\n", st.bitrate_kbps);
  }

  g_string_append(out, "# HELP vigil_live_viewers Live viewers by transport.\n"
                       "# TYPE vigil_live_viewers gauge\n");
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *cam = g_ptr_array_index(cameras, i);
    VigilViewerCounters c;
    vigil_viewer_get_counters(vigil_camera_get_id(cam), &c);
    for (int k = 0; k < VIGIL_VIEWER_N_KINDS; k++) {
      g_string_append(out, "vigil_live_viewers{camera=\"");
      append_label(out, vigil_camera_get_id(cam));
      g_string_append_printf(out, "\",transport=\"%s\"} %u\n", vigil_viewer_kind_to_string(k),
                             c.viewers[k]);
    }
  }

  g_string_append(out, "# HELP vigil_live_bytes_sent_total Live bytes written to viewers.\n"
                       "# TYPE vigil_live_bytes_sent_total counter\n");
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *cam = g_ptr_array_index(cameras, i);
    VigilViewerCounters c;
    vigil_viewer_get_counters(vigil_camera_get_id(cam), &c);
    for (int k = 0; k < VIGIL_VIEWER_N_KINDS; k++) {
      g_string_append(out, "vigil_live_bytes_sent_total{camera=\"");
      append_label(out, vigil_camera_get_id(cam));
      g_string_append_printf(out, "\",transport=\"%s\"} %" G_GUINT64_FORMAT "\n",
                             vigil_viewer_kind_to_string(k), c.bytes_sent[k]);
    }
  }

  g_string_append(out, "# HELP vigil_live_gops_dropped_total GOPs skipped for slow viewers.\n"
                       "# TYPE vigil_live_gops_dropped_total counter\n");
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *cam = g_ptr_array_index(cameras, i);
    VigilViewerCounters c;
    vigil_viewer_get_counters(vigil_camera_get_id(cam), &c);
    g_string_append(out, "vigil_live_gops_dropped_total{camera=\"");
    append_label(out, vigil_camera_get_id(cam));
    g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", c.gops_dropped);
  }

  g_string_append(out, "# HELP vigil_live_slow_disconnects_total Viewers closed for staying "
                       "too slow.\n"
                       "# TYPE vigil_live_slow_disconnects_total counter\n");
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *cam = g_ptr_array_index(cameras, i);
    VigilViewerCounters c;
    vigil_viewer_get_counters(vigil_camera_get_id(cam), &c);
    g_string_append(out, "vigil_live_slow_disconnects_total{camera=\"");
    append_label(out, vigil_camera_get_id(cam));
    g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", c.slow_disconnects);
  }
}

static void metrics_live_latency(GString *out)
{
  VigilViewerLatency lat;
  vigil_viewer_get_latency(&lat);
  g_string_append(out, "# HELP vigil_live_send_latency_seconds Server-added latency: chunk "
                       "arrival from the camera to its last byte written to a viewer's socket.\n"
                       "# TYPE vigil_live_send_latency_seconds histogram\n");
  guint64 cumulative = 0;
  for (guint i = 0; i < VIGIL_VIEWER_LATENCY_BUCKETS; i++) {
    cumulative += lat.buckets[i];
    if (vigil_viewer_latency_bounds_us[i] == G_MAXINT64)
      g_string_append(out, "vigil_live_send_latency_seconds_bucket{le=\"+Inf\"}");
    else
      g_string_append_printf(out, "vigil_live_send_latency_seconds_bucket{le=\"%g\"}",
                             (double)vigil_viewer_latency_bounds_us[i] / 1e6);
    g_string_append_printf(out, " %" G_GUINT64_FORMAT "\n", cumulative);
  }
  g_string_append_printf(out, "vigil_live_send_latency_seconds_sum %.6f\n",
                         (double)lat.sum_us / 1e6);
  g_string_append_printf(out, "vigil_live_send_latency_seconds_count %" G_GUINT64_FORMAT "\n",
                         lat.count);
}

static void metrics_events(GString *out)
{
  VigilEventCounters c;
  vigil_events_get_counters(&c);
  g_string_append(out, "# HELP vigil_events_total Events since vigil started, by type.\n"
                       "# TYPE vigil_events_total counter\n");
  const struct {
    const char *type;
    guint64 value;
  } rows[] = {
      {"motion", c.motion}, {"object", c.object}, {"barcode", c.barcode}, {"alarm", c.alarm}};
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++)
    g_string_append_printf(out, "vigil_events_total{type=\"%s\"} %" G_GUINT64_FORMAT "\n",
                           rows[i].type, rows[i].value);
  g_string_append_printf(out,
                         "# HELP vigil_event_stream_listeners Open GET /api/v1/events/stream.\n"
                         "# TYPE vigil_event_stream_listeners gauge\n"
                         "vigil_event_stream_listeners %" G_GUINT64_FORMAT "\n",
                         c.listeners);
}

/* Keyframe analysis and object detection, per camera: what ran, what was
 * dropped because the workers were busy, and where the time went. */
static void metrics_analysis(VigilApp *app, GString *out)
{
  GPtrArray *cameras = vigil_camera_manager_list(app->cameras); /* borrowed */
  GString *analysed = g_string_new(NULL), *dropped = g_string_new(NULL);
  GString *detected = g_string_new(NULL), *seconds = g_string_new(NULL);
  GString *scans = g_string_new(NULL), *cpu = g_string_new(NULL);
  GString *crops = g_string_new(NULL);
  GString *detect_dropped = g_string_new(NULL);
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *cam = g_ptr_array_index(cameras, i);
    VigilAnalyzer *analyzer = vigil_camera_get_analyzer(cam);
    if (!analyzer)
      continue;
    VigilAnalyzerStats st;
    vigil_analyzer_get_stats(analyzer, &st);
    g_autoptr(GString) label = g_string_new("camera=\"");
    append_label(label, vigil_camera_get_id(cam));
    g_string_append_c(label, '"');
    g_string_append_printf(analysed, "vigil_analysis_keyframes_total{%s} %" G_GUINT64_FORMAT "\n",
                           label->str, st.analysed);
    g_string_append_printf(dropped, "vigil_analysis_dropped_total{%s} %" G_GUINT64_FORMAT "\n",
                           label->str, st.dropped);
    g_string_append_printf(detected, "vigil_detect_runs_total{%s} %" G_GUINT64_FORMAT "\n",
                           label->str, st.detected);
    g_string_append_printf(crops, "vigil_detect_crop_runs_total{%s} %" G_GUINT64_FORMAT "\n",
                           label->str, st.detected_on_crops);
    g_string_append_printf(detect_dropped, "vigil_detect_dropped_total{%s} %" G_GUINT64_FORMAT "\n",
                           label->str, st.detect_dropped);
    g_string_append_printf(cpu, "vigil_analysis_cpu_seconds_total{%s} %.3f\n", label->str,
                           st.cpu_ms / 1000.0);
    g_string_append_printf(scans,
                           "vigil_analysis_barcode_keyframes_total{%s} %" G_GUINT64_FORMAT "\n",
                           label->str, st.barcode_scans);
    const struct {
      const char *stage;
      double ms;
    } stages[] = {{"decode", st.decode_ms},
                  {"motion", st.motion_ms},
                  {"barcodes", st.zbar_ms},
                  {"detect", st.detect_ms}};
    for (guint s = 0; s < G_N_ELEMENTS(stages); s++)
      g_string_append_printf(seconds, "vigil_analysis_seconds_total{%s,stage=\"%s\"} %.3f\n",
                             label->str, stages[s].stage, stages[s].ms / 1000.0);
  }
  g_string_append_printf(
      out,
      "# HELP vigil_analysis_keyframes_total Keyframes decoded and analysed.\n"
      "# TYPE vigil_analysis_keyframes_total counter\n%s"
      "# HELP vigil_analysis_dropped_total Keyframes skipped because the camera's last one was "
      "still being analysed.\n"
      "# TYPE vigil_analysis_dropped_total counter\n%s"
      "# HELP vigil_analysis_barcode_keyframes_total Main-stream keyframes decoded only to read "
      "barcodes (analysis on the sub stream).\n"
      "# TYPE vigil_analysis_barcode_keyframes_total counter\n%s"
      "# HELP vigil_analysis_cpu_seconds_total CPU time of the analysis (decoding, motion, "
      "barcodes, detection), all threads.\n"
      "# TYPE vigil_analysis_cpu_seconds_total counter\n%s"
      "# HELP vigil_detect_runs_total Object detector runs.\n"
      "# TYPE vigil_detect_runs_total counter\n%s"
      "# HELP vigil_detect_crop_runs_total Of them, runs on a crop of the main picture around "
      "motion (detect.main_crop).\n"
      "# TYPE vigil_detect_crop_runs_total counter\n%s"
      "# HELP vigil_detect_dropped_total Keyframes due for detection replaced by a newer one "
      "before the detector got to them.\n"
      "# TYPE vigil_detect_dropped_total counter\n%s"
      "# HELP vigil_analysis_seconds_total Wall-clock time spent per analysis stage.\n"
      "# TYPE vigil_analysis_seconds_total counter\n%s",
      analysed->str, dropped->str, scans->str, cpu->str, detected->str, crops->str,
      detect_dropped->str, seconds->str);
  g_string_free(analysed, TRUE);
  g_string_free(dropped, TRUE);
  g_string_free(detected, TRUE);
  g_string_free(crops, TRUE);
  g_string_free(scans, TRUE);
  g_string_free(cpu, TRUE);
  g_string_free(seconds, TRUE);
  g_string_free(detect_dropped, TRUE);
}

/* Object detection's scheduling over all cameras (the per-camera runs are
 * above): totals to take rates of, and the last minute's 95th percentile
 * of the wait, which a rate cannot give. */
static void metrics_detect(GString *out)
{
  VigilDetectSummary sum;
  vigil_detect_service_figures(&sum);
  g_string_append_printf(
      out,
      "# HELP vigil_detect_inferences_total Object detector inferences of every camera since "
      "vigil started.\n"
      "# TYPE vigil_detect_inferences_total counter\n"
      "vigil_detect_inferences_total %" G_GUINT64_FORMAT "\n"
      "# HELP vigil_detect_inference_seconds_total Wall-clock time of those inferences.\n"
      "# TYPE vigil_detect_inference_seconds_total counter\n"
      "vigil_detect_inference_seconds_total %.3f\n"
      "# HELP vigil_detect_queue_wait_seconds_total Time those keyframes waited from their "
      "arrival to the start of their inference.\n"
      "# TYPE vigil_detect_queue_wait_seconds_total counter\n"
      "vigil_detect_queue_wait_seconds_total %.3f\n"
      "# HELP vigil_detect_queue_wait_p95_seconds 95th percentile of that wait over the last "
      "%d s (0 without inferences).\n"
      "# TYPE vigil_detect_queue_wait_p95_seconds gauge\n"
      "vigil_detect_queue_wait_p95_seconds %.4f\n",
      sum.inferences, sum.inference_s_total, sum.wait_s_total, VIGIL_DETECT_WINDOW_S,
      sum.wait_ms_p95 / 1000.0);
}

/* What recording asks of the disk: segments completed and the fsyncs made
 * for them (docs/recording.md: 3 per segment), without strace. */
static void metrics_storage(GString *out)
{
  g_string_append_printf(
      out,
      "# HELP vigil_record_segments_total Recording segments completed (main and sub streams).\n"
      "# TYPE vigil_record_segments_total counter\n"
      "vigil_record_segments_total %" G_GUINT64_FORMAT "\n"
      "# HELP vigil_fsyncs_total fsync calls made for recordings, playlists, directories and "
      "settings files (not SQLite's own).\n"
      "# TYPE vigil_fsyncs_total counter\n"
      "vigil_fsyncs_total %" G_GUINT64_FORMAT "\n",
      vigil_segment_writer_segments_total(), vigil_fsync_count());
}

/* The heap as the allocator sees it, next to what the kernel counts: when
 * RSS rises while the bytes in use stay put, the difference is memory vigil
 * freed and the allocator kept (fragmentation), not memory vigil holds
 * (docs/soak.md). */
static void metrics_memory(GString *out)
{
  VigilHeapStats h;
  if (!vigil_heap_stats(&h))
    return; /* an allocator that does not say (AddressSanitizer's): no figures */
  g_string_append_printf(
      out,
      "# HELP vigil_heap_in_use_bytes Bytes of heap vigil holds (malloc'd and not freed).\n"
      "# TYPE vigil_heap_in_use_bytes gauge\n"
      "vigil_heap_in_use_bytes %" G_GSIZE_FORMAT "\n"
      "# HELP vigil_heap_held_bytes Bytes the allocator holds from the system, in use or free.\n"
      "# TYPE vigil_heap_held_bytes gauge\n"
      "vigil_heap_held_bytes %" G_GSIZE_FORMAT "\n"
      "# HELP vigil_heap_sqlite_bytes Bytes of the heap in use that SQLite holds (page caches).\n"
      "# TYPE vigil_heap_sqlite_bytes gauge\n"
      "vigil_heap_sqlite_bytes %" G_GINT64_FORMAT "\n",
      h.in_use, h.held, vigil_store_memory_used());
  if (h.active == 0)
    return; /* glibc's malloc: the two figures above are all it gives */
  /* jemalloc's breakdown of the difference between RSS and in_use. */
  static const struct {
    const char *name, *help;
    gsize offset;
  } parts[] = {
      {"active", "Bytes in pages with an allocation in them (in use and slab holes).",
       G_STRUCT_OFFSET(VigilHeapStats, active)},
      {"dirty", "Bytes of free pages the allocator has not handed back yet.",
       G_STRUCT_OFFSET(VigilHeapStats, dirty)},
      {"metadata", "Bytes of the allocator's own bookkeeping.",
       G_STRUCT_OFFSET(VigilHeapStats, metadata)},
      {"resident", "Bytes of the allocator's pages in memory, at most (pages never written count).",
       G_STRUCT_OFFSET(VigilHeapStats, resident)},
      {"retained", "Bytes of address space kept unmapped for reuse (not in RSS).",
       G_STRUCT_OFFSET(VigilHeapStats, retained)},
      {"cached", "Bytes of free objects in the threads' caches (counted in use).",
       G_STRUCT_OFFSET(VigilHeapStats, cached)},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(parts); i++)
    g_string_append_printf(out,
                           "# HELP vigil_heap_%s_bytes %s\n"
                           "# TYPE vigil_heap_%s_bytes gauge\n"
                           "vigil_heap_%s_bytes %" G_GSIZE_FORMAT "\n",
                           parts[i].name, parts[i].help, parts[i].name, parts[i].name,
                           G_STRUCT_MEMBER(gsize, &h, parts[i].offset));
}

void vigil_api_metrics(VigilRequest *req)
{
  VigilApp *app = req->app;
  SoupServerMessage *msg = req->msg;
  GString *out = g_string_new(NULL);
  g_string_append_printf(out,
                         "# HELP vigil_uptime_seconds Time since vigil started.\n"
                         "# TYPE vigil_uptime_seconds gauge\n"
                         "vigil_uptime_seconds %.1f\n",
                         (double)(g_get_monotonic_time() - app->started_us) / 1e6);
  metrics_cameras(app, out);
  metrics_analysis(app, out);
  metrics_detect(out);
  metrics_live_latency(out);
  metrics_events(out);
  metrics_storage(out);
  metrics_memory(out);
  gsize len = out->len;
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  soup_server_message_set_response(msg, "text/plain; version=0.0.4; charset=utf-8",
                                   SOUP_MEMORY_TAKE, g_string_free(out, FALSE), len);
}
