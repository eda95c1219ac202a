/* The demo camera of `vigil --demo`: runs vigil-fakecam's demo scene as a
 * child process and points the camera "demo" at its main and sub streams.
 * Everything here runs on the main thread. */
#define G_LOG_DOMAIN "vigil-camera"

#include "camera/demo.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/error.h"
#include "core/json.h"
#include "vigil-config.h"

#define DEMO_ID         "demo"
#define DEMO_SETTING    "demo_added" /* set once the demo camera was added */
#define FAKECAM_NAME    "vigil-fakecam"
#define STOP_TIMEOUT_US (5 * G_USEC_PER_SEC)
/* A vigil-fakecam that exits is started again after 1 s, 2 s, 4 s ... 60 s;
 * one that ran for a minute starts the series again. */
#define RESTART_MIN_S 1
#define RESTART_MAX_S 60
#define STEADY_US     (60 * G_USEC_PER_SEC)

/* Reference-counted (g_rc_box): the pending read of the child's output holds
 * a reference, so its callback may run after vigil_demo_stop(). */
struct _VigilDemo {
  VigilStore *store;           /* borrowed */
  VigilCameraManager *cameras; /* borrowed */
  gboolean first;              /* add the camera (else move the existing one) */
  GSubprocess *child;
  GDataInputStream *output; /* the child's stdout */
  GCancellable *cancel;     /* cancelled by vigil_demo_stop() */
  gchar *url, *sub_url;     /* as vigil-fakecam printed them */
  gchar *path;              /* of vigil-fakecam */
  gint64 spawned_us;        /* monotonic */
  guint restart_s;          /* the next restart's delay */
  guint restart_id;         /* the pending restart's timeout */
};

static void demo_clear(gpointer data)
{
  VigilDemo *demo = data;
  g_clear_object(&demo->child);
  g_clear_object(&demo->output);
  g_clear_object(&demo->cancel);
  g_free(demo->url);
  g_free(demo->sub_url);
  g_free(demo->path);
}

static void demo_unref(VigilDemo *demo)
{
  g_rc_box_release_full(demo, demo_clear);
}

/* TRUE for what vigil --demo itself puts in a demo camera's @url: a
 * vigil-fakecam on loopback, serving @path. */
static gboolean is_fakecam_url(const char *url, const char *path)
{
  if (!url)
    return FALSE;
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  return uri && g_strcmp0(g_uri_get_scheme(uri), "rtsp") == 0 && !g_uri_get_userinfo(uri) &&
         g_strcmp0(g_uri_get_host(uri), "127.0.0.1") == 0 && g_str_equal(g_uri_get_path(uri), path);
}

/* The demo camera is still ours to move when the user has not pointed it
 * elsewhere. */
static gboolean is_ours(const VigilCameraConfig *cfg)
{
  return is_fakecam_url(cfg->source, "/cam1") &&
         (!cfg->sub_source || is_fakecam_url(cfg->sub_source, "/cam1_sub"));
}

/* $VIGIL_FAKECAM_BIN, else vigil-fakecam next to this binary: in the build
 * tree (build/src/vigil, build/tools/fakecam/vigil-fakecam) or installed in
 * the same bin directory. NULL with @error set when there is none. */
static gchar *find_fakecam(GError **error)
{
  const char *env = g_getenv("VIGIL_FAKECAM_BIN");
  if (env && *env) {
    if (g_file_test(env, G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup(env);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "VIGIL_FAKECAM_BIN=%s is not an executable file", env);
    return NULL;
  }
  g_autofree gchar *exe = g_file_read_link("/proc/self/exe", NULL);
  g_autofree gchar *dir = exe ? g_path_get_dirname(exe) : NULL;
  g_autofree gchar *in_build =
      dir ? g_build_filename(dir, "..", "tools", "fakecam", FAKECAM_NAME, NULL) : NULL;
  g_autofree gchar *beside = dir ? g_build_filename(dir, FAKECAM_NAME, NULL) : NULL;
  g_autofree gchar *installed = g_build_filename(VIGIL_BINDIR, FAKECAM_NAME, NULL);
  const char *candidates[] = {in_build, beside, installed};
  for (guint i = 0; i < G_N_ELEMENTS(candidates); i++)
    if (candidates[i] && g_file_test(candidates[i], G_FILE_TEST_IS_EXECUTABLE))
      return g_canonicalize_filename(candidates[i], NULL);
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
              "not found beside vigil nor in %s; set VIGIL_FAKECAM_BIN", VIGIL_BINDIR);
  return NULL;
}

static void mark_added(VigilDemo *demo)
{
  g_autoptr(GError) error = NULL;
  if (!vigil_store_set_setting(demo->store, DEMO_SETTING, "true", &error))
    g_warning("could not remember that the demo camera was added: %s", error->message);
}

/* The demo camera as JSON: all of it (@full) or just its streams; no
 * "sub_source" when @sub_source is NULL. */
static JsonNode *camera_body(const char *source, const char *sub_source, gboolean full)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  if (full) {
    vigil_json_add_string(b, "id", DEMO_ID);
    vigil_json_add_string(b, "name", "Demo camera");
  }
  vigil_json_add_string(b, "source", source);
  if (sub_source) {
    vigil_json_add_string(b, "sub_source", sub_source);
  }
  if (full) {
    /* What the scene is made to show: a motion event now and then that gets
     * recorded, a QR code, and a person when the detection model is there
     * (without it, detection simply does not run). Recordings of a demo
     * need not stay long. */
    vigil_json_add_string(b, "record", "events");
    vigil_json_add_int(b, "retain_days", 1);
    vigil_json_begin_object(b, "motion");
    vigil_json_add_bool(b, "enabled", TRUE);
    json_builder_end_object(b);
    vigil_json_add_bool(b, "barcodes", TRUE);
    vigil_json_begin_object(b, "detect");
    vigil_json_add_bool(b, "enabled", TRUE);
    vigil_json_add_int(b, "interval_s", 5);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* Without vigil-fakecam: the test pattern vigil encodes itself (test://),
 * as before there was a fakecam demo; it costs more CPU. */
static void add_test_pattern(VigilDemo *demo)
{
  g_autoptr(JsonNode) body =
      json_from_string("{\"id\": \"demo\", \"name\": \"Demo camera\", \"source\": \"test://\","
                       " \"record\": \"off\"}",
                       NULL);
  g_autoptr(GError) error = NULL;
  if (!vigil_camera_manager_create(demo->cameras, body, &error) &&
      !g_error_matches(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT)) {
    g_warning("could not add the demo camera: %s", error->message);
    return;
  }
  mark_added(demo);
}

/* vigil-fakecam serves: add the camera, or move the existing one to the new
 * port (unless the user changed or deleted it meanwhile). */
static void apply_urls(VigilDemo *demo)
{
  g_info("demo camera: %s serves %s and %s", FAKECAM_NAME, demo->url, demo->sub_url);
  g_autoptr(GError) error = NULL;
  if (demo->first) {
    g_autoptr(JsonNode) body = camera_body(demo->url, demo->sub_url, TRUE);
    if (vigil_camera_manager_create(demo->cameras, body, &error) ||
        g_error_matches(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT))
      mark_added(demo);
    else
      g_warning("could not add the demo camera: %s", error->message);
    return;
  }
  VigilCamera *camera = vigil_camera_manager_lookup(demo->cameras, DEMO_ID);
  if (!camera || !is_ours(vigil_camera_get_config(camera)))
    return;
  /* A sub stream the user turned off stays off. */
  gboolean has_sub = vigil_camera_get_config(camera)->sub_source != NULL;
  g_autoptr(JsonNode) body = camera_body(demo->url, has_sub ? demo->sub_url : NULL, FALSE);
  if (!vigil_camera_manager_patch(demo->cameras, DEMO_ID, body, &error))
    g_warning("could not move the demo camera to %s: %s", demo->url, error->message);
}

static void read_line(VigilDemo *demo);

/* One line of vigil-fakecam's stdout: "vigil-fakecam: serving URL (...)",
 * main streams first, then sub streams. */
static void on_line(GObject *source, GAsyncResult *result, gpointer user_data)
{
  VigilDemo *demo = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *line =
      g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(source), result, NULL, &error);
  if (g_cancellable_is_cancelled(demo->cancel)) {
    demo_unref(demo);
    return;
  }
  if (!line) {
    g_warning("%s stopped before serving the demo scene%s%s", FAKECAM_NAME, error ? ": " : "",
              error ? error->message : "");
    if (demo->first)
      add_test_pattern(demo);
    demo_unref(demo);
    return;
  }
  const char *serving = strstr(line, "serving ");
  if (serving) {
    g_autofree gchar *url = g_strndup(serving + 8, strcspn(serving + 8, " "));
    if (!demo->url && g_str_has_suffix(url, "/cam1"))
      demo->url = g_steal_pointer(&url);
    else if (!demo->sub_url && g_str_has_suffix(url, "/cam1_sub"))
      demo->sub_url = g_steal_pointer(&url);
  }
  if (demo->url && demo->sub_url) {
    apply_urls(demo);
    demo_unref(demo); /* nothing more to read: it logs to stderr */
    return;
  }
  read_line(demo);
}

static void read_line(VigilDemo *demo)
{
  g_data_input_stream_read_line_async(demo->output, G_PRIORITY_DEFAULT, demo->cancel, on_line,
                                      demo);
}

/* Runs in the child between fork and exec: it gets SIGTERM when vigil dies,
 * even by SIGKILL. If vigil died before the prctl, the signal never comes:
 * then the parent has changed and the child gives up. */
static void child_setup(gpointer user_data)
{
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != (pid_t)GPOINTER_TO_INT(user_data))
    _exit(1);
}

static void watch(VigilDemo *demo);

/* Starts vigil-fakecam, reads the URLs it serves and watches it exit. */
static gboolean spawn(VigilDemo *demo, GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup(launcher, child_setup, GINT_TO_POINTER(getpid()), NULL);
  /* Its stderr is vigil's: its startup lines land in vigil's log. */
  demo->child = g_subprocess_launcher_spawn(launcher, error, demo->path, "--port", "0", "--scene",
                                            "demo", NULL);
  if (!demo->child)
    return FALSE;
  demo->spawned_us = g_get_monotonic_time();
  demo->output = g_data_input_stream_new(g_subprocess_get_stdout_pipe(demo->child));
  g_info("demo camera: started %s (pid %s), encoding the demo scene", demo->path,
         g_subprocess_get_identifier(demo->child));
  read_line(g_rc_box_acquire(demo));
  watch(demo);
  return TRUE;
}

static void schedule_restart(VigilDemo *demo);

/* Starts vigil-fakecam again and moves the camera to its new port, as long
 * as the camera "demo" is still the demo's (not repointed or deleted since). */
static gboolean restart(gpointer user_data)
{
  VigilDemo *demo = user_data;
  demo->restart_id = 0;
  VigilCamera *camera = vigil_camera_manager_lookup(demo->cameras, DEMO_ID);
  if (!camera || !is_ours(vigil_camera_get_config(camera))) {
    g_info("demo camera: no longer on %s, not restarting it", FAKECAM_NAME);
    return G_SOURCE_REMOVE;
  }
  g_clear_object(&demo->child);
  g_clear_object(&demo->output);
  g_clear_pointer(&demo->url, g_free);
  g_clear_pointer(&demo->sub_url, g_free);
  demo->first = FALSE;
  g_autoptr(GError) error = NULL;
  if (!spawn(demo, &error)) {
    g_warning("demo camera: cannot run %s (%s)", FAKECAM_NAME, error->message);
    schedule_restart(demo);
  }
  return G_SOURCE_REMOVE;
}

static void schedule_restart(VigilDemo *demo)
{
  g_warning("demo camera: starting %s again in %u s", FAKECAM_NAME, demo->restart_s);
  demo->restart_id = g_timeout_add_seconds(demo->restart_s, restart, demo);
  demo->restart_s = MIN(demo->restart_s * 2, RESTART_MAX_S);
}

static void on_child_exit(GObject *source, GAsyncResult *result, gpointer user_data)
{
  VigilDemo *demo = user_data;
  GSubprocess *child = G_SUBPROCESS(source);
  gboolean done = g_subprocess_wait_finish(child, result, NULL);
  if (!done || g_cancellable_is_cancelled(demo->cancel) || child != demo->child) {
    demo_unref(demo);
    return;
  }
  if (g_subprocess_get_if_signaled(child))
    g_warning("%s (the demo camera) was killed by signal %d", FAKECAM_NAME,
              g_subprocess_get_term_sig(child));
  else
    g_warning("%s (the demo camera) exited with status %d", FAKECAM_NAME,
              g_subprocess_get_exit_status(child));
  if (g_get_monotonic_time() - demo->spawned_us >= STEADY_US)
    demo->restart_s = RESTART_MIN_S;
  schedule_restart(demo);
  demo_unref(demo);
}

/* Holds a reference until the child exits or the demo stops. */
static void watch(VigilDemo *demo)
{
  g_subprocess_wait_async(demo->child, demo->cancel, on_child_exit, g_rc_box_acquire(demo));
}

VigilDemo *vigil_demo_start(VigilStore *store, VigilCameraManager *cameras)
{
  g_return_val_if_fail(store != NULL && cameras != NULL, NULL);

  VigilDemo *demo = g_rc_box_new0(VigilDemo);
  demo->store = store;
  demo->cameras = cameras;
  demo->cancel = g_cancellable_new();
  demo->restart_s = RESTART_MIN_S;

  g_autofree gchar *added = vigil_store_get_setting(store, DEMO_SETTING);
  VigilCamera *camera = vigil_camera_manager_lookup(cameras, DEMO_ID);
  demo->first = !added && !camera;
  if (!demo->first && !(camera && is_ours(vigil_camera_get_config(camera)))) {
    /* Deleted or repointed by the user, or the user's own camera "demo":
     * leave it alone, and never add the demo again. */
    if (!added)
      mark_added(demo);
    demo_unref(demo);
    return NULL;
  }

  g_autoptr(GError) error = NULL;
  demo->path = find_fakecam(&error);
  if (!demo->path || !spawn(demo, &error)) {
    g_warning("demo camera: cannot run %s (%s)%s", FAKECAM_NAME, error->message,
              demo->first ? ": it shows a test pattern encoded by vigil instead" : "");
    if (demo->first)
      add_test_pattern(demo);
    demo_unref(demo);
    return NULL;
  }
  return demo;
}

void vigil_demo_stop(VigilDemo *demo)
{
  if (!demo)
    return;
  g_cancellable_cancel(demo->cancel);
  g_clear_handle_id(&demo->restart_id, g_source_remove);
  if (demo->child && g_subprocess_get_identifier(demo->child)) {
    g_subprocess_send_signal(demo->child, SIGTERM);
    /* GLib reaps the child on its worker thread; the identifier goes away
     * then. The main loop has ended, so poll rather than wait on it. */
    gint64 deadline = g_get_monotonic_time() + STOP_TIMEOUT_US;
    while (g_subprocess_get_identifier(demo->child) && g_get_monotonic_time() < deadline)
      g_usleep(20 * 1000);
    if (g_subprocess_get_identifier(demo->child)) {
      g_warning("%s did not stop within 5 s: killing it", FAKECAM_NAME);
      g_subprocess_force_exit(demo->child);
    }
  }
  demo_unref(demo);
}
