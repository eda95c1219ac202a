/* /api/v1/health, /api/v1/system and /api/v1/settings. */
#define G_LOG_DOMAIN "vigil-http"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "analysis/analyzer.h"
#include "core/error.h"
#include "core/json.h"
#include "detect/service.h"
#include "http/access.h"
#include "http/api.h"
#include "store/recordings.h"
#include "vigil-config.h"

void vigil_api_health(VigilRequest *req)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "status", "ok");
  vigil_json_add_string(b, "version", VIGIL_VERSION);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

/* What vigil keeps on disk: the recordings (from the index, so no walk over
 * thousands of segment files on the main loop) plus the database and its WAL. */
static gint64 data_dir_usage(VigilApp *app)
{
  gint64 total = MAX(vigil_store_recordings_bytes(app->store), 0);
  static const char *const db_files[] = {"vigil.db", "vigil.db-wal", "vigil.db-shm"};
  for (gsize i = 0; i < G_N_ELEMENTS(db_files); i++) {
    g_autofree gchar *path = g_build_filename(app->data_dir, db_files[i], NULL);
    GStatBuf st;
    if (g_stat(path, &st) == 0)
      total += (gint64)st.st_blocks * 512;
  }
  return total;
}

static gint64 process_cpu_us(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (gint64)ru.ru_utime.tv_sec * G_USEC_PER_SEC + ru.ru_utime.tv_usec +
         (gint64)ru.ru_stime.tv_sec * G_USEC_PER_SEC + ru.ru_stime.tv_usec;
}

/* CPU use of vigil, in percent of one core, since the previous call (or
 * since start on the first call). */
static double cpu_percent(gint64 started_us)
{
  static gint64 last_wall, last_cpu;
  gint64 wall = g_get_monotonic_time();
  gint64 cpu = process_cpu_us();
  gint64 dwall = last_wall ? wall - last_wall : wall - started_us;
  gint64 dcpu = last_wall ? cpu - last_cpu : cpu;
  last_wall = wall;
  last_cpu = cpu;
  return dwall > 0 ? 100.0 * (double)dcpu / (double)dwall : 0;
}

static gint64 rss_bytes(void)
{
  g_autofree gchar *statm = NULL;
  if (!g_file_get_contents("/proc/self/statm", &statm, NULL, NULL))
    return 0;
  long pages_total = 0, pages_rss = 0;
  if (sscanf(statm, "%ld %ld", &pages_total, &pages_rss) != 2)
    return 0;
  return (gint64)pages_rss * sysconf(_SC_PAGESIZE);
}

/* The number of cameras this user may see (not how many exist). */
static gint64 visible_cameras(VigilRequest *req)
{
  GPtrArray *cameras = vigil_camera_manager_list(req->app->cameras);
  gint64 n = 0;
  for (guint i = 0; i < cameras->len; i++)
    n += vigil_request_can_see(req, vigil_camera_get_id(g_ptr_array_index(cameras, i)));
  return n;
}

/* A duration in ms to one decimal; null when nothing was measured. */
static void add_ms(JsonBuilder *b, const char *name, double ms, gboolean measured)
{
  if (measured)
    vigil_json_add_double(b, name, round(ms * 10) / 10);
  else
    vigil_json_add_null(b, name);
}

/* Object detection's scheduling: every camera's inferences together (the
 * last minute and since start), then per camera this user may see. */
static void add_detect(VigilRequest *req, JsonBuilder *b)
{
  VigilDetectSummary sum;
  vigil_detect_service_figures(&sum);
  gboolean any = sum.window_inferences > 0;
  vigil_json_begin_object(b, "detect");
  vigil_json_add_int(b, "window_s", VIGIL_DETECT_WINDOW_S);
  vigil_json_add_double(b, "inferences_per_s", round(sum.per_second * 100) / 100);
  add_ms(b, "inference_ms", sum.inference_ms_mean, any);
  add_ms(b, "queue_wait_ms", sum.wait_ms_mean, any);
  add_ms(b, "queue_wait_p95_ms", sum.wait_ms_p95, any);
  vigil_json_add_int(b, "inferences", (gint64)sum.inferences);
  vigil_json_begin_array(b, "cameras");
  GPtrArray *cameras = vigil_camera_manager_list(req->app->cameras); /* borrowed */
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *cam = g_ptr_array_index(cameras, i);
    VigilAnalyzer *analyzer = vigil_camera_get_analyzer(cam);
    if (!analyzer || !vigil_request_can_see(req, vigil_camera_get_id(cam)))
      continue;
    VigilAnalyzerStats st;
    vigil_analyzer_get_stats(analyzer, &st);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "camera", vigil_camera_get_id(cam));
    vigil_json_add_int(b, "inferences", (gint64)st.detected);
    vigil_json_add_int(b, "dropped", (gint64)st.detect_dropped);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

void vigil_api_system(VigilRequest *req)
{
  VigilApp *app = req->app;
  struct statvfs vfs;
  gboolean have_fs = statvfs(app->data_dir, &vfs) == 0;

  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "version", VIGIL_VERSION);
  vigil_json_add_int(b, "uptime_s", (g_get_monotonic_time() - app->started_us) / G_USEC_PER_SEC);

  vigil_json_begin_object(b, "disk");
  /* Where the data lives is the admin's business. */
  if (vigil_request_is_admin(req)) {
    vigil_json_add_string(b, "path", app->data_dir);
  }
  vigil_json_add_int(b, "total_bytes", have_fs ? (gint64)vfs.f_blocks * vfs.f_frsize : 0);
  vigil_json_add_int(b, "free_bytes", have_fs ? (gint64)vfs.f_bavail * vfs.f_frsize : 0);
  vigil_json_add_int(b, "used_by_vigil_bytes", data_dir_usage(app));
  json_builder_end_object(b);

  vigil_json_begin_object(b, "quota");
  if (app->settings->max_bytes < 0)
    vigil_json_add_null(b, "max_bytes");
  else
    vigil_json_add_int(b, "max_bytes", app->settings->max_bytes);
  vigil_json_add_double(b, "min_free_percent", app->settings->min_free_percent);
  json_builder_end_object(b);

  vigil_json_begin_object(b, "cpu");
  vigil_json_add_double(b, "process_percent", round(cpu_percent(app->started_us) * 10) / 10);
  vigil_json_add_int(b, "cores", g_get_num_processors());
  json_builder_end_object(b);

  vigil_json_begin_object(b, "memory");
  vigil_json_add_int(b, "rss_bytes", rss_bytes());
  json_builder_end_object(b);

  vigil_json_add_int(b, "cameras", visible_cameras(req));

  vigil_json_begin_object(b, "mqtt");
  const char *mqtt_error = NULL;
  vigil_json_add_string(b, "state", vigil_mqtt_get_state(app->mqtt, &mqtt_error));
  vigil_json_add_string_or_null(b, "error", mqtt_error);
  json_builder_end_object(b);

  vigil_json_begin_object(b, "rtsp_server");
  const char *rtsp_error = NULL;
  guint rtsp_clients = 0;
  vigil_json_add_string(b, "state",
                        vigil_restream_get_state(app->restream, &rtsp_error, &rtsp_clients));
  vigil_json_add_string_or_null(b, "error", rtsp_error);
  vigil_json_add_int(b, "clients", rtsp_clients);
  json_builder_end_object(b);
  add_detect(req, b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

static void reply_settings(VigilRequest *req)
{
  VigilDetectRuntime detect = {0};
  detect.available = vigil_detect_service_available(&detect.error);
  detect.input_size = vigil_detect_service_input_size();
  g_autoptr(JsonNode) node =
      vigil_settings_to_json(req->app->settings, &detect, vigil_request_is_admin(req));
  /* tls.active: whether this server speaks TLS now (changes apply at restart). */
  GUri *uri = soup_server_message_get_uri(req->msg);
  JsonObject *tls = json_object_get_object_member(json_node_get_object(node), "tls");
  if (tls)
    json_object_set_boolean_member(tls, "active",
                                   uri && g_strcmp0(g_uri_get_scheme(uri), "https") == 0);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

void vigil_api_settings_get(VigilRequest *req)
{
  reply_settings(req);
}

void vigil_api_settings_patch(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  g_autoptr(VigilSettings) next = vigil_settings_copy(req->app->settings);
  if (!vigil_settings_apply_json(next, body, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  if (next->tls_cert) {
    /* Refuse now what would stop the next start. */
    g_autoptr(GError) tls_error = NULL;
    g_autoptr(GTlsCertificate) cert =
        g_tls_certificate_new_from_files(next->tls_cert, next->tls_key, &tls_error);
    if (!cert) {
      vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                             "cannot load the TLS certificate and key: %s", tls_error->message);
      return;
    }
  }
  g_autofree gchar *stored = vigil_settings_serialize(next);
  if (!vigil_store_set_setting(req->app->store, "settings", stored, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  gboolean detector_changed =
      g_strcmp0(next->detect_model, req->app->settings->detect_model) != 0 ||
      next->detect_input_size != req->app->settings->detect_input_size;
  /* A new quota or free-space floor applies now, not at the next pass. */
  gboolean limits_changed = next->max_bytes != req->app->settings->max_bytes ||
                            next->min_free_percent != req->app->settings->min_free_percent;
  vigil_settings_free(req->app->settings);
  req->app->settings = g_steal_pointer(&next);
  g_info("settings changed by %s", req->user);
  if (detector_changed) {
    g_autofree gchar *models_dir = g_build_filename(req->app->data_dir, "models", NULL);
    vigil_detect_service_configure(req->app->settings->detect_model,
                                   req->app->settings->detect_input_size, models_dir);
  }
  if (limits_changed && req->app->retention)
    vigil_retention_kick(req->app->retention);
  vigil_mqtt_configure(req->app->mqtt, &req->app->settings->mqtt, req->app->settings->public_url);
  vigil_notify_configure(req->app->notify, req->app->settings);
  vigil_restream_configure(req->app->restream, &req->app->settings->rtsp_server,
                           req->app->settings->tls_cert, req->app->settings->tls_key);
  reply_settings(req);
}
