/* Tests for the SQLite store (src/store/): file creation and permissions,
 * pragmas, migrations and refusing foreign files, and the cameras, users and
 * settings tables. What the store wrote is checked with a raw sqlite3
 * connection, not only through the store's own API. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "store/recordings.h"
#include "store/store.h"

#define SOURCE "rtsp://192.0.2.10:554/stream1"

typedef struct {
  gchar *dir;
  gchar *path; /* dir/vigil.db, not created yet */
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp("vigil-test-store-XXXXXX", &error);
  g_assert_no_error(error);
  f->path = g_build_filename(f->dir, "vigil.db", NULL);
}

static void remove_tree(const char *path)
{
  GDir *dir = g_dir_open(path, 0, NULL);

  if (dir) {
    const char *name;
    while ((name = g_dir_read_name(dir))) {
      g_autofree gchar *child = g_build_filename(path, name, NULL);
      remove_tree(child);
    }
    g_dir_close(dir);
    g_assert_cmpint(g_rmdir(path), ==, 0);
  } else {
    g_assert_cmpint(g_unlink(path), ==, 0);
  }
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
  remove_tree(f->dir);
  g_free(f->path);
  g_free(f->dir);
}

/* --- raw SQLite helpers, to look at the file behind the store's back --- */

static sqlite3 *raw_open(const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), ==,
                  SQLITE_OK);
  return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
  char *message = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &message);

  if (rc != SQLITE_OK)
    g_error("%s: %s", sql, message);
}

/* The first column of the first row as text; NULL for no row or SQL NULL. */
static gchar *raw_text(sqlite3 *db, const char *sql, const char *param)
{
  sqlite3_stmt *stmt = NULL;
  gchar *result = NULL;

  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (param)
    sqlite3_bind_text(stmt, 1, param, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
    result = g_strdup((const char *)sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return result;
}

static gint64 raw_int(sqlite3 *db, const char *sql, const char *param)
{
  g_autofree gchar *text = raw_text(db, sql, param);

  g_assert_nonnull(text);
  return g_ascii_strtoll(text, NULL, 10);
}

static gboolean raw_has_table(sqlite3 *db, const char *table)
{
  return raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                 table) == 1;
}

/* --- camera helpers --- */

static VigilCameraConfig *camera_from_json(const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string(json, &error);
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();

  g_assert_no_error(error);
  g_assert_true(vigil_camera_config_apply_json(cfg, node, TRUE, &error));
  g_assert_no_error(error);
  return g_steal_pointer(&cfg);
}

static VigilCameraConfig *camera_new(const char *id, const char *name)
{
  g_autofree gchar *json =
      g_strdup_printf("{\"id\": \"%s\", \"name\": \"%s\", \"source\": \"" SOURCE "\"}", id, name);

  return camera_from_json(json);
}

/* The API form, which covers every field: equal strings mean equal configs
 * (apart from the password, which to_json leaves out). */
static gchar *camera_api_json(const VigilCameraConfig *cfg)
{
  g_autoptr(JsonNode) node = vigil_camera_config_to_json(cfg);

  return json_to_string(node, FALSE);
}

static void assert_camera_ids(GPtrArray *cameras, const char *const *ids)
{
  g_assert_nonnull(cameras);
  g_assert_cmpuint(cameras->len, ==, g_strv_length((gchar **)ids));
  for (guint i = 0; i < cameras->len; i++)
    g_assert_cmpstr(((VigilCameraConfig *)cameras->pdata[i])->id, ==, ids[i]);
}

static VigilCameraConfig *find_camera(GPtrArray *cameras, const char *id)
{
  for (guint i = 0; i < cameras->len; i++) {
    VigilCameraConfig *cfg = cameras->pdata[i];
    if (g_str_equal(cfg->id, id))
      return cfg;
  }
  return NULL;
}

/* --- opening, pragmas, migrations --- */

static void test_open_creates(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = NULL;
  g_autofree gchar *wal = g_strconcat(f->path, "-wal", NULL);
  g_autofree gchar *mode = NULL;
  struct stat st;
  sqlite3 *raw;
  mode_t old_umask;

  g_assert_cmpint(vigil_store_latest_version(), >=, 2);

  /* With a permissive umask the file would be 0644 if SQLite created it. */
  old_umask = umask(022);
  store = vigil_store_open(f->path, &error);
  umask(old_umask);
  g_assert_no_error(error);
  g_assert_nonnull(store);

  g_assert_cmpint(g_stat(f->path, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 07777, ==, 0600);
  g_assert_cmpint(vigil_store_version(store), ==, vigil_store_latest_version());

  raw = raw_open(f->path);
  mode = raw_text(raw, "PRAGMA journal_mode", NULL);
  g_assert_cmpstr(mode, ==, "wal");
  g_assert_cmpint(raw_int(raw, "PRAGMA user_version", NULL), ==, vigil_store_latest_version());
  for (const char *const *t = (const char *const[]){"settings", "users", "cameras", "user_cameras",
                                                    "api_tokens", NULL};
       *t; t++)
    g_assert_true(raw_has_table(raw, *t));
  sqlite3_close(raw);

  /* SQLite gives the WAL file the database's mode, so it is private too. */
  g_assert_true(vigil_store_set_setting(store, "k", "1", &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_stat(wal, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 07777, ==, 0600);
}

static void test_open_tightens_mode(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = NULL;
  struct stat st;
  int fd = g_open(f->path, O_WRONLY | O_CREAT, 0644);

  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(fchmod(fd, 0644), ==, 0);
  close(fd);

  store = vigil_store_open(f->path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_stat(f->path, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 07777, ==, 0600);
  g_assert_cmpint(vigil_store_version(store), ==, vigil_store_latest_version());
}

static void test_reopen(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilCameraConfig) cam = camera_new("porch", "Porch");
  g_autoptr(GPtrArray) cameras = NULL;
  g_autoptr(VigilUser) user = NULL;
  g_autofree gchar *setting = NULL;
  VigilStore *store;
  VigilStore *other;

  store = vigil_store_open(f->path, &error);
  g_assert_no_error(error);
  g_assert_true(vigil_store_insert_camera(store, cam, &error));
  g_assert_true(vigil_store_insert_user(store, "admin", "admin", "$argon2id$x", &error));
  g_assert_true(vigil_store_set_setting(store, "storage", "{\"max_bytes\": null}", &error));
  g_assert_no_error(error);

  /* A second connection on the same file (WAL allows it) sees the data. */
  other = vigil_store_open(f->path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(vigil_store_count_users(other), ==, 1);
  vigil_store_close(other);
  vigil_store_close(store);

  /* Reopening migrates nothing and loses nothing. */
  for (int i = 0; i < 2; i++) {
    store = vigil_store_open(f->path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(vigil_store_version(store), ==, vigil_store_latest_version());
    cameras = vigil_store_list_cameras(store, &error);
    g_assert_no_error(error);
    assert_camera_ids(cameras, (const char *const[]){"porch", NULL});
    g_clear_pointer(&cameras, g_ptr_array_unref);
    g_assert_cmpint(vigil_store_count_users(store), ==, 1);
    user = vigil_store_get_user(store, "admin");
    g_assert_nonnull(user);
    g_clear_pointer(&user, vigil_user_free);
    setting = vigil_store_get_setting(store, "storage");
    g_assert_cmpstr(setting, ==, "{\"max_bytes\": null}");
    g_clear_pointer(&setting, g_free);
    vigil_store_close(store);
  }
}

/* Schema 1 exactly as migration 1 creates it, written by hand so the test
 * does not depend on the code it checks. */
static const char schema_v1[] =
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE users (name TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),"
    "  password_hash TEXT NOT NULL, created_us INTEGER NOT NULL);"
    "CREATE TABLE cameras (id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
    "  config TEXT NOT NULL, password TEXT, created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL);"
    "INSERT INTO cameras VALUES ('old-cam', 1,"
    "  '{\"id\": \"old-cam\", \"name\": \"Old cam\", \"source\": \"" SOURCE "\"}',"
    "  'old-secret', 1000, 1000);"
    "INSERT INTO users VALUES ('root', 'admin', '$argon2id$old', 1000);"
    "PRAGMA user_version = 1;";

static void test_migrate_from_v1(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = NULL;
  g_autoptr(GPtrArray) cameras = NULL;
  g_autoptr(VigilUser) user = NULL;
  sqlite3 *raw = raw_open(f->path);

  raw_exec(raw, schema_v1);
  g_assert_false(raw_has_table(raw, "user_cameras"));
  sqlite3_close(raw);

  store = vigil_store_open(f->path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(vigil_store_version(store), ==, vigil_store_latest_version());

  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  assert_camera_ids(cameras, (const char *const[]){"old-cam", NULL});
  g_assert_cmpstr(((VigilCameraConfig *)cameras->pdata[0])->name, ==, "Old cam");
  g_assert_cmpstr(((VigilCameraConfig *)cameras->pdata[0])->password, ==, "old-secret");
  user = vigil_store_get_user(store, "root");
  g_assert_nonnull(user);
  g_assert_cmpstr(user->role, ==, "admin");

  raw = raw_open(f->path);
  g_assert_cmpint(raw_int(raw, "PRAGMA user_version", NULL), ==, vigil_store_latest_version());
  g_assert_true(raw_has_table(raw, "user_cameras"));
  g_assert_true(raw_has_table(raw, "api_tokens"));
  /* The new table works and references users. */
  raw_exec(raw, "INSERT INTO user_cameras VALUES ('root', '*', 'view,playback')");
  g_assert_cmpint(raw_int(raw, "SELECT COUNT(*) FROM user_cameras", NULL), ==, 1);
  sqlite3_close(raw);
}

static void test_future_version(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = NULL;
  g_autofree gchar *expected = NULL;
  sqlite3 *raw = raw_open(f->path);

  raw_exec(raw, "CREATE TABLE future (x); PRAGMA user_version = 999;");
  sqlite3_close(raw);

  store = vigil_store_open(f->path, &error);
  g_assert_null(store);
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE);
  expected = g_strdup_printf("database schema version 999 is newer than this vigil (%d); "
                             "upgrade vigil",
                             vigil_store_latest_version());
  g_assert_cmpstr(error->message, ==, expected);

  /* Left alone: no tables of ours added, version unchanged. */
  raw = raw_open(f->path);
  g_assert_cmpint(raw_int(raw, "PRAGMA user_version", NULL), ==, 999);
  g_assert_false(raw_has_table(raw, "cameras"));
  sqlite3_close(raw);
}

static void test_garbage_file(Fixture *f, gconstpointer data)
{
  /* Long enough to hold a header, and shorter than one. */
  const gsize sizes[] = {8192, 5};

  for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(VigilStore) store = NULL;
    g_autofree gchar *garbage = g_malloc(sizes[i]);
    g_autofree gchar *after = NULL;
    gsize after_len = 0;

    memset(garbage, 'x', sizes[i]);
    g_assert_true(g_file_set_contents(f->path, garbage, sizes[i], NULL));

    store = vigil_store_open(f->path, &error);
    g_assert_null(store);
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE);
    g_assert_nonnull(strstr(error->message, "is not an SQLite database"));
    g_assert_nonnull(strstr(error->message, f->path));

    /* The file is not overwritten. */
    g_assert_true(g_file_get_contents(f->path, &after, &after_len, NULL));
    g_assert_cmpmem(after, after_len, garbage, sizes[i]);
  }
}

static void test_not_a_file(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = NULL;
  g_autofree gchar *missing = g_build_filename(f->dir, "no", "such", "dir", "vigil.db", NULL);

  /* A directory where the file should be. */
  store = vigil_store_open(f->dir, &error);
  g_assert_null(store);
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE);
  g_clear_error(&error);

  store = vigil_store_open(missing, &error);
  g_assert_null(store);
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE);
  g_assert_nonnull(strstr(error->message, missing));
}

/* --- cameras --- */

static void test_cameras_crud(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  g_autoptr(GPtrArray) cameras = NULL;
  g_autoptr(VigilCameraConfig) zulu = camera_new("zulu", "Zulu");
  g_autoptr(VigilCameraConfig) alpha = camera_new("alpha", "Alpha");
  g_autoptr(VigilCameraConfig) mike = camera_new("mike", "Mike");
  g_autoptr(VigilCameraConfig) again = camera_new("zulu", "Another zulu");
  g_autoptr(VigilCameraConfig) ghost = camera_new("ghost", "Ghost");
  g_autoptr(VigilCameraConfig) xray = camera_new("xray", "X-ray");
  g_autofree gchar *want = NULL;
  g_autofree gchar *got = NULL;

  g_assert_no_error(error);
  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  assert_camera_ids(cameras, (const char *const[]){NULL});
  g_clear_pointer(&cameras, g_ptr_array_unref);

  /* Creation order, not alphabetical. */
  g_assert_true(vigil_store_insert_camera(store, zulu, &error));
  g_assert_true(vigil_store_insert_camera(store, alpha, &error));
  g_assert_true(vigil_store_insert_camera(store, mike, &error));
  g_assert_no_error(error);
  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  assert_camera_ids(cameras, (const char *const[]){"zulu", "alpha", "mike", NULL});
  /* Every field survives the trip through the JSON column. */
  want = camera_api_json(alpha);
  got = camera_api_json(cameras->pdata[1]);
  g_assert_cmpstr(got, ==, want);
  g_clear_pointer(&want, g_free);
  g_clear_pointer(&got, g_free);
  g_clear_pointer(&cameras, g_ptr_array_unref);

  /* Duplicate id: conflict, and the stored camera is untouched. */
  g_assert_false(vigil_store_insert_camera(store, again, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT);
  g_clear_error(&error);

  /* Update keeps the position and changes what was changed. */
  g_free(alpha->name);
  alpha->name = g_strdup("Alpha renamed");
  alpha->retain_days = 7;
  alpha->enabled = FALSE;
  alpha->record = VIGIL_RECORD_CONTINUOUS;
  g_assert_true(vigil_store_update_camera(store, alpha, &error));
  g_assert_no_error(error);
  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  assert_camera_ids(cameras, (const char *const[]){"zulu", "alpha", "mike", NULL});
  g_assert_cmpstr(((VigilCameraConfig *)cameras->pdata[0])->name, ==, "Zulu");
  g_assert_cmpstr(((VigilCameraConfig *)cameras->pdata[1])->name, ==, "Alpha renamed");
  g_assert_cmpint(((VigilCameraConfig *)cameras->pdata[1])->retain_days, ==, 7);
  g_assert_false(((VigilCameraConfig *)cameras->pdata[1])->enabled);
  g_assert_cmpint(((VigilCameraConfig *)cameras->pdata[1])->record, ==, VIGIL_RECORD_CONTINUOUS);
  want = camera_api_json(alpha);
  got = camera_api_json(cameras->pdata[1]);
  g_assert_cmpstr(got, ==, want);
  g_clear_pointer(&cameras, g_ptr_array_unref);

  /* Unknown ids. */
  g_assert_false(vigil_store_update_camera(store, ghost, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(vigil_store_delete_camera(store, "ghost", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* Delete, then a new camera goes to the end, after the survivors. */
  g_assert_true(vigil_store_delete_camera(store, "zulu", &error));
  g_assert_no_error(error);
  g_assert_false(vigil_store_delete_camera(store, "zulu", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_true(vigil_store_insert_camera(store, xray, &error));
  g_assert_no_error(error);
  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  assert_camera_ids(cameras, (const char *const[]){"alpha", "mike", "xray", NULL});
  g_clear_pointer(&cameras, g_ptr_array_unref);

  /* A deleted id can be used again; it goes to the end. */
  g_assert_true(vigil_store_insert_camera(store, zulu, &error));
  g_assert_no_error(error);
  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  assert_camera_ids(cameras, (const char *const[]){"alpha", "mike", "xray", "zulu", NULL});
}

static void test_camera_password(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  g_autoptr(VigilCameraConfig) cam =
      camera_from_json("{\"id\": \"gate\", \"name\": \"Gate\", \"source\": \"" SOURCE "\","
                       " \"username\": \"viewer\", \"password\": \"Pa55-w0rd'\\\"x\","
                       " \"sub_source\": \"" SOURCE "\", \"sub_password\": \"Sub-5ecret\"}");
  g_autoptr(GPtrArray) cameras = NULL;
  g_autofree gchar *column = NULL;
  g_autofree gchar *stored_password = NULL;
  VigilCameraConfig *loaded;
  sqlite3 *raw;

  g_assert_no_error(error);
  g_assert_cmpstr(cam->password, ==, "Pa55-w0rd'\"x");
  g_assert_true(vigil_store_insert_camera(store, cam, &error));
  g_assert_no_error(error);

  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  loaded = find_camera(cameras, "gate");
  g_assert_nonnull(loaded);
  g_assert_cmpstr(loaded->password, ==, "Pa55-w0rd'\"x");
  g_assert_cmpstr(loaded->username, ==, "viewer");
  g_assert_cmpstr(loaded->sub_password, ==, "Sub-5ecret");
  g_clear_pointer(&cameras, g_ptr_array_unref);

  raw = raw_open(f->path);
  column = raw_text(raw, "SELECT config FROM cameras WHERE id = ?1", "gate");
  g_assert_nonnull(column);
  g_assert_nonnull(strstr(column, "\"viewer\""));
  g_assert_null(strstr(column, "Pa55"));
  g_assert_null(strstr(column, "password"));
  g_assert_null(strstr(column, "5ecret"));
  stored_password = raw_text(raw, "SELECT password FROM cameras WHERE id = ?1", "gate");
  g_assert_cmpstr(stored_password, ==, "Pa55-w0rd'\"x");
  g_clear_pointer(&stored_password, g_free);
  stored_password = raw_text(raw, "SELECT sub_password FROM cameras WHERE id = ?1", "gate");
  g_assert_cmpstr(stored_password, ==, "Sub-5ecret");
  g_clear_pointer(&stored_password, g_free);

  /* Clearing the password clears the column. */
  g_clear_pointer(&cam->password, g_free);
  g_assert_true(vigil_store_update_camera(store, cam, &error));
  g_assert_no_error(error);
  stored_password = raw_text(raw, "SELECT password FROM cameras WHERE id = ?1", "gate");
  g_assert_null(stored_password);
  g_assert_cmpint(raw_int(raw, "SELECT password IS NULL FROM cameras WHERE id = ?1", "gate"), ==,
                  1);
  sqlite3_close(raw);

  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  loaded = find_camera(cameras, "gate");
  g_assert_nonnull(loaded);
  g_assert_null(loaded->password);
}

/* Every kind of field (nested objects, arrays, doubles, enums, nulls) comes
 * back as it went in. */
static void test_camera_full_roundtrip(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  g_autoptr(VigilCameraConfig) cam = camera_from_json(
      "{\"id\": \"drive-way\", \"name\": \"Drive way \u00e9\", \"enabled\": false,"
      " \"source\": \"" SOURCE "\", \"username\": \"op\", \"password\": \"pw\","
      " \"rtsp_transport\": \"udp\", \"record\": \"continuous\", \"pre_roll_s\": 3,"
      " \"post_roll_s\": 20, \"retain_days\": 9,"
      " \"motion\": {\"enabled\": true, \"threshold\": 0.123456789,"
      "   \"zones\": [{\"name\": \"door\", \"x\": 0.1, \"y\": 0.2, \"w\": 0.3, \"h\": 0.5,"
      "               \"threshold\": 0.05}]},"
      " \"detect\": {\"enabled\": true, \"classes\": [\"person\", \"car\"], \"min_score\": 0.6,"
      "   \"interval_s\": 10, \"record_on\": [\"person\"]},"
      " \"barcodes\": true}");
  g_autoptr(GPtrArray) cameras = NULL;
  g_autofree gchar *want = camera_api_json(cam);
  g_autofree gchar *got = NULL;
  VigilCameraConfig *loaded;

  g_assert_no_error(error);
  g_assert_true(vigil_store_insert_camera(store, cam, &error));
  g_assert_no_error(error);
  cameras = vigil_store_list_cameras(store, &error);
  g_assert_no_error(error);
  assert_camera_ids(cameras, (const char *const[]){"drive-way", NULL});
  loaded = cameras->pdata[0];
  got = camera_api_json(loaded);
  g_assert_cmpstr(got, ==, want);
  g_assert_cmpstr(loaded->password, ==, "pw");
  g_assert_cmpuint(loaded->motion.zones->len, ==, 1);
  g_assert_cmpfloat(loaded->motion.threshold, ==, 0.123456789);
  g_assert_cmpint(loaded->rtsp_transport, ==, VIGIL_TRANSPORT_UDP);
  g_assert_true(loaded->barcodes);
}

typedef struct {
  GPtrArray *messages;
} Captured;

/* Keeps the store's warnings to look at them. */
static void capture_warning(const gchar *domain, GLogLevelFlags level, const gchar *message,
                            gpointer data)
{
  Captured *captured = data;

  g_ptr_array_add(captured->messages, g_strdup(message));
}

static void test_corrupt_rows_skipped(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  g_autoptr(VigilCameraConfig) good = camera_new("good", "Good");
  g_autoptr(VigilCameraConfig) later = camera_new("later", "Later");
  g_autoptr(GPtrArray) cameras = NULL;
  Captured captured = {g_ptr_array_new_with_free_func(g_free)};
  const char *const bad_ids[] = {"bad-json", "bad-member", "bad-array", "bad-mismatch",
                                 "bad-value"};
  GLogLevelFlags old_fatal;
  guint handler;
  sqlite3 *raw;

  g_assert_no_error(error);
  g_assert_true(vigil_store_insert_camera(store, good, &error));
  g_assert_no_error(error);

  raw = raw_open(f->path);
  raw_exec(raw,
           "INSERT INTO cameras (id, position, config, password, created_us, updated_us) VALUES"
           " ('bad-json', 10, '{\"id\": \"bad-json\", \"name\":', 'hunter2-secret', 1, 1),"
           " ('bad-member', 11, '{\"id\": \"bad-member\", \"name\": \"B\","
           "   \"source\": \"" SOURCE "\", \"password_set\": true}', 'hunter2-secret', 1, 1),"
           " ('bad-array', 12, '[1, 2]', 'hunter2-secret', 1, 1),"
           " ('bad-mismatch', 13, '{\"id\": \"other\", \"name\": \"B\","
           "   \"source\": \"" SOURCE "\"}', 'hunter2-secret', 1, 1),"
           " ('bad-value', 14, '{\"id\": \"bad-value\", \"name\": \"B\","
           "   \"source\": \"" SOURCE "\", \"retain_days\": -5}', 'hunter2-secret', 1, 1)");
  sqlite3_close(raw);
  g_assert_true(vigil_store_insert_camera(store, later, &error));
  g_assert_no_error(error);

  /* GTest makes warnings fatal; these ones are expected. */
  old_fatal = g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL);
  handler = g_log_set_handler("vigil-store", G_LOG_LEVEL_WARNING, capture_warning, &captured);
  cameras = vigil_store_list_cameras(store, &error);
  g_log_remove_handler("vigil-store", handler);
  g_log_set_always_fatal(old_fatal);

  g_assert_no_error(error);
  assert_camera_ids(cameras, (const char *const[]){"good", "later", NULL});
  g_assert_cmpuint(captured.messages->len, ==, G_N_ELEMENTS(bad_ids));
  for (guint i = 0; i < captured.messages->len; i++) {
    const char *message = captured.messages->pdata[i];
    g_assert_nonnull(strstr(message, bad_ids[i]));
    g_assert_null(strstr(message, "hunter2"));
  }
  g_ptr_array_unref(captured.messages);
}

static void test_delete_camera_drops_rights(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  g_autoptr(VigilCameraConfig) cam = camera_new("yard", "Yard");
  sqlite3 *raw;

  g_assert_no_error(error);
  g_assert_true(vigil_store_insert_camera(store, cam, &error));
  g_assert_true(vigil_store_insert_user(store, "bob", "viewer", "$argon2id$x", &error));
  g_assert_no_error(error);
  raw = raw_open(f->path);
  raw_exec(raw, "INSERT INTO user_cameras VALUES ('bob', 'yard', 'view'), ('bob', '*', 'view')");

  g_assert_true(vigil_store_delete_camera(store, "yard", &error));
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(raw, "SELECT COUNT(*) FROM user_cameras WHERE camera = 'yard'", NULL), ==,
                  0);
  g_assert_cmpint(raw_int(raw, "SELECT COUNT(*) FROM user_cameras WHERE camera = '*'", NULL), ==,
                  1);
  sqlite3_close(raw);
}

/* --- users --- */

static void test_users(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  g_autoptr(VigilUser) alice = NULL;
  g_autoptr(VigilUser) nobody = NULL;
  gint64 before = g_get_real_time();

  g_assert_no_error(error);
  g_assert_cmpint(vigil_store_count_users(store), ==, 0);

  g_assert_true(vigil_store_insert_user(store, "alice", "viewer", "$argon2id$hash-a", &error));
  g_assert_no_error(error);
  g_assert_cmpint(vigil_store_count_users(store), ==, 1);

  alice = vigil_store_get_user(store, "alice");
  g_assert_nonnull(alice);
  g_assert_cmpstr(alice->name, ==, "alice");
  g_assert_cmpstr(alice->role, ==, "viewer");
  g_assert_cmpstr(alice->password_hash, ==, "$argon2id$hash-a");
  g_assert_cmpint(alice->created_us, >=, before);
  g_assert_cmpint(alice->created_us, <=, g_get_real_time());

  /* Names are exact: no case folding, no prefix match. */
  nobody = vigil_store_get_user(store, "Alice");
  g_assert_null(nobody);
  nobody = vigil_store_get_user(store, "alic");
  g_assert_null(nobody);

  g_assert_false(vigil_store_insert_user(store, "alice", "admin", "$argon2id$other", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT);
  g_clear_error(&error);
  g_clear_pointer(&alice, vigil_user_free);
  alice = vigil_store_get_user(store, "alice");
  g_assert_cmpstr(alice->role, ==, "viewer");
  g_assert_cmpstr(alice->password_hash, ==, "$argon2id$hash-a");

  g_assert_false(vigil_store_insert_user(store, "carol", "root", "$argon2id$x", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_clear_error(&error);

  g_assert_true(vigil_store_insert_user(store, "dave", "admin", "$argon2id$d", &error));
  g_assert_true(vigil_store_insert_user(store, "erin", "operator", "$argon2id$e", &error));
  g_assert_no_error(error);
  g_assert_cmpint(vigil_store_count_users(store), ==, 3);

  vigil_user_free(NULL);
}

/* --- settings --- */

static void test_settings(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  g_autofree gchar *value = NULL;

  g_assert_no_error(error);
  value = vigil_store_get_setting(store, "storage");
  g_assert_null(value);

  g_assert_true(vigil_store_set_setting(store, "storage",
                                        "{\"max_bytes\": null, \"min_free_percent\": 10}", &error));
  g_assert_no_error(error);
  value = vigil_store_get_setting(store, "storage");
  g_assert_cmpstr(value, ==, "{\"max_bytes\": null, \"min_free_percent\": 10}");
  g_clear_pointer(&value, g_free);

  g_assert_true(vigil_store_set_setting(store, "storage", "{\"max_bytes\": 1000}", &error));
  g_assert_true(vigil_store_set_setting(store, "detect", "{\"model\": null}", &error));
  g_assert_no_error(error);
  value = vigil_store_get_setting(store, "storage");
  g_assert_cmpstr(value, ==, "{\"max_bytes\": 1000}");
  g_clear_pointer(&value, g_free);
  value = vigil_store_get_setting(store, "detect");
  g_assert_cmpstr(value, ==, "{\"model\": null}");
  g_clear_pointer(&value, g_free);

  /* Not JSON: refused, the old value stays. */
  g_assert_false(vigil_store_set_setting(store, "storage", "{\"max_bytes\": ", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(vigil_store_set_setting(store, "storage", "", &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_clear_error(&error);
  value = vigil_store_get_setting(store, "storage");
  g_assert_cmpstr(value, ==, "{\"max_bytes\": 1000}");
}

/* --- hostile strings are data, never SQL --- */

static void test_injection(Fixture *f, gconstpointer data)
{
  const char *const nasty[] = {
      "o'brien",
      "x'); DROP TABLE users; --",
      "'; DROP TABLE cameras; --",
      "\"; DELETE FROM settings; --",
      "a' OR '1'='1",
      "%s%n\\",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  sqlite3 *raw;

  g_assert_no_error(error);
  raw = raw_open(f->path);
  for (gsize i = 0; i < G_N_ELEMENTS(nasty); i++) {
    g_autoptr(VigilUser) user = NULL;
    g_autoptr(VigilCameraConfig) cam = vigil_camera_config_new();
    g_autofree gchar *value = NULL;
    g_autofree gchar *json = NULL;
    g_autofree gchar *stored_id = NULL;
    g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), nasty[i]);

    g_assert_true(vigil_store_insert_user(store, nasty[i], "viewer", nasty[i], &error));
    g_assert_no_error(error);
    user = vigil_store_get_user(store, nasty[i]);
    g_assert_nonnull(user);
    g_assert_cmpstr(user->name, ==, nasty[i]);
    g_assert_cmpstr(user->password_hash, ==, nasty[i]);

    json = json_to_string(node, FALSE);
    g_assert_true(vigil_store_set_setting(store, nasty[i], json, &error));
    g_assert_no_error(error);
    value = vigil_store_get_setting(store, nasty[i]);
    g_assert_cmpstr(value, ==, json);

    /* The config layer would refuse such an id; the store must still treat
     * it as a plain value. */
    cam->id = g_strdup(nasty[i]);
    cam->name = g_strdup(nasty[i]);
    cam->source = g_strdup(SOURCE);
    cam->password = g_strdup(nasty[i]);
    g_assert_true(vigil_store_insert_camera(store, cam, &error));
    g_assert_no_error(error);
    stored_id = raw_text(raw, "SELECT id FROM cameras WHERE id = ?1", nasty[i]);
    g_assert_cmpstr(stored_id, ==, nasty[i]);
    g_assert_true(vigil_store_update_camera(store, cam, &error));
    g_assert_no_error(error);
    g_assert_true(vigil_store_delete_camera(store, nasty[i], &error));
    g_assert_no_error(error);
  }

  g_assert_cmpint(vigil_store_count_users(store), ==, G_N_ELEMENTS(nasty));
  g_assert_cmpint(raw_int(raw, "SELECT COUNT(*) FROM settings", NULL), ==, G_N_ELEMENTS(nasty));
  g_assert_cmpint(raw_int(raw, "SELECT COUNT(*) FROM cameras", NULL), ==, 0);
  for (const char *const *t =
           (const char *const[]){"settings", "users", "cameras", "user_cameras", NULL};
       *t; t++)
    g_assert_true(raw_has_table(raw, *t));
  sqlite3_close(raw);
}

/* A recording id is never given twice: after the newest recording is
 * deleted, the next one gets a new id (SQLite alone would give the same). A
 * file from before migration 9 starts after its largest id. */
static void test_recording_ids_not_reused(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilStore) store = vigil_store_open(f->path, &error);
  g_assert_no_error(error);
  gint64 ids[3];
  for (int i = 0; i < 3; i++) {
    g_autofree gchar *path = g_strdup_printf("cam/2026-12-05/%d", i);
    VigilRecording rec = {
        .camera = "cam", .start_us = i, .end_us = i, .reason = "manual", .path = path};
    ids[i] = vigil_store_insert_recording(store, &rec, &error);
    g_assert_no_error(error);
    if (i == 1) {
      g_assert_true(vigil_store_delete_recording(store, ids[1], &error));
      g_assert_no_error(error);
    }
  }
  g_assert_cmpint(ids[1], ==, ids[0] + 1);
  g_assert_cmpint(ids[2], ==, ids[1] + 1);
  g_clear_pointer(&store, vigil_store_close);

  /* Reopened: still the next one. */
  store = vigil_store_open(f->path, &error);
  g_assert_no_error(error);
  g_assert_true(vigil_store_delete_recording(store, ids[2], &error));
  VigilRecording rec = {
      .camera = "cam", .start_us = 9, .end_us = 9, .reason = "manual", .path = "cam/2026-12-05/9"};
  g_assert_cmpint(vigil_store_insert_recording(store, &rec, &error), ==, ids[2] + 1);
  g_assert_no_error(error);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD("/store/open/creates", test_open_creates);
  ADD("/store/open/tightens-mode", test_open_tightens_mode);
  ADD("/store/open/reopen", test_reopen);
  ADD("/store/open/migrate-from-v1", test_migrate_from_v1);
  ADD("/store/open/future-version", test_future_version);
  ADD("/store/open/garbage", test_garbage_file);
  ADD("/store/open/not-a-file", test_not_a_file);
  ADD("/store/cameras/crud", test_cameras_crud);
  ADD("/store/cameras/password", test_camera_password);
  ADD("/store/cameras/full-roundtrip", test_camera_full_roundtrip);
  ADD("/store/cameras/corrupt-rows", test_corrupt_rows_skipped);
  ADD("/store/cameras/delete-drops-rights", test_delete_camera_drops_rights);
  ADD("/store/users", test_users);
  ADD("/store/settings", test_settings);
  ADD("/store/injection", test_injection);
  ADD("/store/recordings/ids-not-reused", test_recording_ids_not_reused);
#undef ADD

  return g_test_run();
}
