/* vigil: argument parsing, start and stop. Everything else lives in the
 * modules; this file only wires them together (see src/app.h). */
#define G_LOG_DOMAIN "vigil"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/password.h"
#include "camera/demo.h"
#include "camera/ingest.h"
#include "core/heap.h"
#include "core/json.h"
#include "core/log.h"
#include "core/sdnotify.h"
#include "detect/service.h"
#include "events/events.h"
#include "events/reports.h"
#include "events/thumbnail.h"
#include "http/app.h"
#include "http/http.h"
#include "mqtt/mqtt.h"
#include "notify/notify.h"
#include "record/recorder.h"
#include "record/repair.h"
#include "record/retention.h"
#include "vigil-config.h"

static gboolean on_quit_signal(gpointer user_data)
{
  g_info("stopping");
  g_main_loop_quit(user_data);
  return G_SOURCE_REMOVE;
}

/* Writes @text to @path readable by the owner only. */
static gboolean write_private_file(const char *path, const char *text, GError **error)
{
  int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    int saved = errno;
    if (fd >= 0)
      close(fd);
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot write %s: %s", path,
                g_strerror(saved));
    return FALSE;
  }
  gsize len = strlen(text);
  gboolean ok = write(fd, text, len) == (gssize)len && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (!ok)
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot write %s: %s", path,
                g_strerror(saved));
  return ok;
}

/* First start: create "admin" with VIGIL_ADMIN_PASSWORD or a random password
 * that is shown once and kept in DATA/initial-admin-password. */
static gboolean ensure_admin(VigilApp *app, GError **error)
{
  if (vigil_store_count_users(app->store) > 0)
    return TRUE;
  const char *given = g_getenv("VIGIL_ADMIN_PASSWORD");
  g_autofree gchar *password = given && *given ? g_strdup(given) : vigil_password_generate(16);
  g_autofree gchar *hash = vigil_password_hash(password, error);
  if (!hash || !vigil_store_insert_user(app->store, "admin", "admin", hash, error))
    return FALSE;
  if (given && *given) {
    g_info("created user \"admin\" with the password from VIGIL_ADMIN_PASSWORD");
    return TRUE;
  }
  g_autofree gchar *path = g_build_filename(app->data_dir, "initial-admin-password", NULL);
  g_autofree gchar *line = g_strdup_printf("%s\n", password);
  if (!write_private_file(path, line, error))
    return FALSE;
  /* SPEC: the generated password is shown once, so the first user can log in. */
  g_message("created user \"admin\" with password %s (also in %s)", password, path);
  return TRUE;
}

/* Recorder alarms become alarm events; a full disk also wakes retention.
 * disk-low concerns the whole data directory, so it has no camera. */
static void on_record_alarm(const char *camera, const char *alarm, gboolean active,
                            const char *message, gpointer data)
{
  const char *camera_or_system = g_str_equal(alarm, "disk-low") ? NULL : camera;
  if (active) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, message ? message : "");
    json_builder_end_object(b);
    g_autoptr(JsonNode) node = json_builder_get_root(b);
    g_autofree gchar *json = vigil_json_to_string(node);
    vigil_alarm_raise(camera_or_system, alarm, json);
    vigil_retention_kick(data);
  } else {
    vigil_alarm_clear(camera_or_system, alarm);
  }
}

/* Retention reads the settings as they are now (PUT /api/v1/settings
 * replaces them), splits through the camera's recorder, and expires event
 * thumbnails with the recordings. */
static void retention_limits(gint64 *max_bytes, double *min_free_percent, gpointer data)
{
  VigilApp *app = data;
  *max_bytes = app->settings->max_bytes;
  *min_free_percent = app->settings->min_free_percent;
}

static void retention_split(const char *camera, gpointer data)
{
  VigilApp *app = data;
  VigilCamera *cam = vigil_camera_manager_lookup(app->cameras, camera);
  VigilRecorder *recorder = cam ? vigil_camera_get_recorder(cam) : NULL;
  if (!recorder)
    return;
  g_info("retention: camera %s: splitting the recording being written to free its older part",
         camera);
  vigil_recorder_split(recorder);
}

static void retention_expire(GHashTable *retain_days, gint64 now_us, gpointer data)
{
  vigil_event_thumbnails_expire(retain_days, now_us);
}

/* systemd's STATUS= line (sd_notify; nothing without NOTIFY_SOCKET): the
 * number of cameras and where vigil listens, sent again when it changes. */
typedef struct {
  VigilCameraManager *cameras;
  const char *url;
  gchar *sent;
} ServiceStatus;

static gboolean service_status_update(gpointer data)
{
  ServiceStatus *status = data;
  guint n = vigil_camera_manager_count(status->cameras);
  g_autofree gchar *text =
      g_strdup_printf("%u camera%s, listening on %s", n, n == 1 ? "" : "s", status->url);
  if (g_strcmp0(text, status->sent) != 0) {
    vigil_sd_notifyf("STATUS=%s", text);
    g_free(status->sent);
    status->sent = g_steal_pointer(&text);
  }
  return G_SOURCE_CONTINUE;
}

static VigilSettings *load_settings(VigilStore *store)
{
  VigilSettings *settings = vigil_settings_new();
  g_autofree gchar *stored = vigil_store_get_setting(store, "settings");
  if (stored) {
    g_autoptr(JsonNode) node = json_from_string(stored, NULL);
    g_autoptr(GError) error = NULL;
    if (!node || !vigil_settings_apply_json(settings, node, &error))
      g_warning("stored settings ignored: %s", error ? error->message : "not JSON");
  }
  return settings;
}

static gboolean trim_heap(gpointer data)
{
  (void)data;
  vigil_heap_trim();
  return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
  vigil_heap_init();
  g_autofree gchar *data_dir = NULL;
  g_autofree gchar *listen = NULL;
  g_autofree gchar *log_level = NULL;
  gboolean demo = FALSE;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
      {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
       "Where vigil keeps everything (default ./vigil-data)", "DIR"},
      {"listen", 0, 0, G_OPTION_ARG_STRING, &listen,
       "Address and port of the web UI and API (default 127.0.0.1:8080)", "ADDR:PORT"},
      {"demo", 0, 0, G_OPTION_ARG_NONE, &demo,
       "Add a demo camera (vigil-fakecam's demo scene) on first start", NULL},
      {"log-level", 0, 0, G_OPTION_ARG_STRING, &log_level,
       "error, warning, info (default) or debug", "LEVEL"},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
      G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) options = g_option_context_new("- network video recorder");
  g_option_context_add_main_entries(options, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(options, &argc, &argv, &error)) {
    fprintf(stderr, "vigil: %s (see vigil --help)\n", error->message);
    return 2;
  }
  if (version) {
    printf("vigil %s\n", VIGIL_VERSION);
    return 0;
  }
  VigilLogLevel level = VIGIL_LOG_INFO;
  if (log_level && !vigil_log_level_parse(log_level, &level)) {
    fprintf(stderr, "vigil: --log-level must be error, warning, info or debug\n");
    return 2;
  }
  vigil_log_init(level);
  gst_init(NULL, NULL);
  vigil_ingest_init_av_log();

  VigilApp app = {0};
  app.started_us = g_get_monotonic_time();
  app.data_dir = g_canonicalize_filename(data_dir ? data_dir : "vigil-data", NULL);
  if (g_mkdir_with_parents(app.data_dir, 0700) != 0) {
    g_critical("cannot create the data directory %s: %s", app.data_dir, g_strerror(errno));
    return 1;
  }
  g_autofree gchar *db_path = g_build_filename(app.data_dir, "vigil.db", NULL);
  app.store = vigil_store_open(db_path, &error);
  if (!app.store) {
    g_critical("cannot open %s: %s", db_path, error->message);
    return 1;
  }
  if (!ensure_admin(&app, &error)) {
    g_critical("cannot create the admin user: %s", error->message);
    return 1;
  }
  app.settings = load_settings(app.store);
  vigil_events_init(app.store);
  /* Object detection: DATA/models (make model puts the default there); the
   * daemon runs on without a model. */
  g_autofree gchar *models_dir = g_build_filename(app.data_dir, "models", NULL);
  vigil_detect_service_configure(app.settings->detect_model, app.settings->detect_input_size,
                                 models_dir);
  vigil_event_thumbnails_init(app.data_dir);
  vigil_analyzer_set_report_funcs(vigil_events_analyzer_reports(), NULL);

  app.recordings_dir = g_build_filename(app.data_dir, "recordings", NULL);
  if (g_mkdir_with_parents(app.recordings_dir, 0755) != 0) {
    g_critical("cannot create %s: %s", app.recordings_dir, g_strerror(errno));
    return 1;
  }
  if (!vigil_record_repair(app.store, app.recordings_dir, NULL, &error)) {
    g_critical("cannot repair the recordings index: %s", error->message);
    return 1;
  }
  /* Index rows of all cameras' segments in one transaction a second: one
   * per segment cost ~14 KB of WAL each, 3-6 % of a 1-2 Mbit/s camera's
   * bytes (bench/soak); crash repair adds back what a crash leaves out. */
  vigil_store_set_segment_batch(app.store, VIGIL_STORE_SEGMENT_BATCH_MS);

  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  app.cameras = vigil_camera_manager_new(app.store);
  vigil_camera_manager_set_recordings_dir(app.cameras, app.recordings_dir);
  const VigilRetentionFuncs retention_funcs = {
      .get_limits = retention_limits,
      .split = retention_split,
      .expire = retention_expire,
  };
  VigilRetention *retention =
      vigil_retention_new(app.store, app.recordings_dir, &retention_funcs, &app);
  vigil_recorder_set_alarm_func(on_record_alarm, retention);
  app.retention = retention;
  VigilHttp *http = vigil_http_new(&app);
  if (!vigil_http_listen(http, listen ? listen : "127.0.0.1:8080", &error)) {
    g_critical("cannot listen on %s: %s", listen ? listen : "127.0.0.1:8080", error->message);
    return 1;
  }
  if (!vigil_camera_manager_load(app.cameras, &error)) {
    g_critical("cannot load cameras: %s", error->message);
    return 1;
  }
  g_autoptr(VigilDemo) demo_camera = demo ? vigil_demo_start(app.store, app.cameras) : NULL;
  app.notify = vigil_notify_new(app.cameras);
  vigil_notify_configure(app.notify, app.settings);
  app.mqtt = vigil_mqtt_new(app.cameras, app.store);
  vigil_mqtt_configure(app.mqtt, &app.settings->mqtt, app.settings->public_url);
  app.restream = vigil_restream_new(app.cameras, app.store);
  vigil_restream_configure(app.restream, &app.settings->rtsp_server, app.settings->tls_cert,
                           app.settings->tls_key);

  g_autofree gchar *url = vigil_http_get_url(http);
  g_info("vigil %s ready at %s (data in %s, malloc: %s)", VIGIL_VERSION, url, app.data_dir,
         vigil_heap_allocator());
  /* Before READY=1: a stop asked for right after it is a clean stop. */
  g_unix_signal_add(SIGINT, on_quit_signal, loop);
  g_unix_signal_add(SIGTERM, on_quit_signal, loop);
  /* Type=notify: ready once the HTTP server listens and the cameras are
   * loaded; the watchdog is fed from this loop, so a stuck loop is restarted. */
  ServiceStatus service_status = {.cameras = app.cameras, .url = url};
  service_status_update(&service_status);
  vigil_sd_notify("READY=1");
  guint status_timer = 0;
  guint watchdog_timer = 0;
  if (g_getenv("NOTIFY_SOCKET")) {
    status_timer = g_timeout_add_seconds(2, service_status_update, &service_status);
    watchdog_timer = vigil_sd_watchdog_start();
  }

  guint trim_timer = g_timeout_add_seconds(60, trim_heap, NULL);

  g_main_loop_run(loop);

  vigil_sd_notify("STOPPING=1");
  g_source_remove(trim_timer);
  if (status_timer)
    g_source_remove(status_timer);
  if (watchdog_timer)
    g_source_remove(watchdog_timer);
  g_free(service_status.sent);
  vigil_http_free(http);
  /* Before the cameras: says "offline" while it still can. */
  g_clear_pointer(&app.mqtt, vigil_mqtt_free);
  g_clear_pointer(&app.notify, vigil_notify_free);
  g_clear_pointer(&app.restream, vigil_restream_free); /* its streams belong to the cameras */
  g_clear_pointer(&app.retention, vigil_retention_free);
  vigil_recorder_set_alarm_func(NULL, NULL);
  vigil_camera_manager_free(app.cameras);
  vigil_analyzer_set_report_funcs(NULL, NULL);
  vigil_event_thumbnails_flush();
  vigil_events_shutdown();
  vigil_detect_service_shutdown();
  if (!vigil_ingest_wait_stopped(5 * G_USEC_PER_SEC))
    g_warning("some camera pipelines did not stop within 5 s");
  /* After the cameras: the demo camera does not see its source vanish. */
  g_clear_pointer(&demo_camera, vigil_demo_stop);
  vigil_settings_free(app.settings);
  vigil_store_close(app.store);
  g_free(app.data_dir);
  g_free(app.recordings_dir);
  g_info("stopped");
  return 0;
}
