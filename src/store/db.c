/* Opening the database: file creation with safe permissions, connection
 * pragmas, schema migrations and the shared statement/transaction helpers. */
#define G_LOG_DOMAIN "vigil-store"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "core/error.h"

#include "store/store-private.h"

/* The schema, one migration per entry, applied in order: entry i takes the
 * file from user_version i to i + 1. Never edit a released entry; append a new
 * one. Each runs in one transaction, and PRAGMA foreign_keys cannot change
 * inside a transaction, so a future migration that rebuilds a referenced table
 * must not rely on turning foreign keys off. */
static const char *const migrations[] = {
    /* 1: global settings, users, cameras. cameras.config is the API's camera
   * object as JSON without the password, which lives in its own column so it
   * never travels with the JSON. */
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"
    "CREATE TABLE users ("
    "  name TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),"
    "  password_hash TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL);"
    "CREATE TABLE cameras ("
    "  id TEXT PRIMARY KEY,"
    "  position INTEGER NOT NULL,"
    "  config TEXT NOT NULL,"
    "  password TEXT,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL);",

    /* 2: per-camera rights and API tokens. user_cameras.camera is a camera id
   * or '*' (all cameras), so it cannot reference cameras(id); deleting a
   * camera removes its rows explicitly. rights is a comma list of view,
   * playback, control. */
    "CREATE TABLE user_cameras ("
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,"
    "  camera TEXT NOT NULL,"
    "  rights TEXT NOT NULL,"
    "  PRIMARY KEY (user, camera));"
    "CREATE TABLE api_tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  name TEXT,"
    "  created_us INTEGER NOT NULL,"
    "  last_used_us INTEGER);",

    /* 3: the recordings index. recordings.path is relative to DATA/recordings
   * (camera/date/stamp); segment seq n is the file %06d.ts in it. Rows are
   * written only after their files are fsynced. */
    "CREATE TABLE recordings ("
    "  id INTEGER PRIMARY KEY,"
    "  camera TEXT NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  size_bytes INTEGER NOT NULL DEFAULT 0,"
    "  keep INTEGER NOT NULL DEFAULT 0,"
    "  path TEXT NOT NULL UNIQUE,"
    "  open INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX recordings_camera_start ON recordings (camera, start_us);"
    "CREATE INDEX recordings_start ON recordings (start_us);"
    "CREATE TABLE segments ("
    "  recording INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  duration_us INTEGER NOT NULL,"
    "  size_bytes INTEGER NOT NULL,"
    "  discont INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (recording, seq));",
    /* 4: login sessions. Only a SHA-256 of the session token is kept,
   * so a copy of the database does not log anyone in. */
    "CREATE TABLE sessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE ON UPDATE CASCADE,"
    "  created_us INTEGER NOT NULL,"
    "  last_used_us INTEGER NOT NULL);"
    "CREATE INDEX sessions_user ON sessions(user);",
    /* 5: events (motion, object, barcode, alarm). camera is NULL for system
   * alarms; recording points at the recording the event started (no foreign
   * key: recordings arrive in their own migration). */
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  camera TEXT,"
    "  type TEXT NOT NULL CHECK (type IN ('motion', 'object', 'barcode', 'alarm')),"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER,"
    "  score REAL,"
    "  label TEXT,"
    "  box_x REAL, box_y REAL, box_w REAL, box_h REAL,"
    "  data TEXT,"
    "  recording INTEGER);"
    "CREATE INDEX events_start ON events (start_us);"
    "CREATE INDEX events_camera_start ON events (camera, start_us);",
    /* 6: saved video walls. body is the wall's JSON (layout, tiles, effects)
   * as checked by http/api-walls.c; name is the slug in /wall/{name}. */
    "CREATE TABLE walls ("
    "  name TEXT PRIMARY KEY,"
    "  body TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL);",
    /* 7: a camera's sub stream may have its own password (docs/streams.md),
   * kept out of the JSON like the main one. */
    "ALTER TABLE cameras ADD COLUMN sub_password TEXT;",
    /* 8: record_stream "both": the sub stream's segments of a recording, the
   * files sub/%06d.ts in its directory (docs/recording.md). Their bytes count
   * in recordings.size_bytes; only the main stream's segments move end_us. */
    "CREATE TABLE sub_segments ("
    "  recording INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  duration_us INTEGER NOT NULL,"
    "  size_bytes INTEGER NOT NULL,"
    "  discont INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (recording, seq));",
    /* 9: a recording id is never given twice. Without AUTOINCREMENT SQLite
   * gives a new row the largest id + 1, so after retention deleted the
   * newest recording its id came back, and an old link or bookmark showed
   * another recording (bench/soak). recording_ids.last is the highest id
   * ever given (a trigger keeps it); store/recordings.c inserts last + 1. */
    "CREATE TABLE recording_ids (last INTEGER NOT NULL);"
    "INSERT INTO recording_ids SELECT COALESCE(MAX(id), 0) FROM recordings;"
    "CREATE TRIGGER recordings_last_id AFTER INSERT ON recordings BEGIN"
    "  UPDATE recording_ids SET last = NEW.id WHERE last < NEW.id;"
    "END;",
};

int vigil_store_latest_version(void)
{
  return (int)G_N_ELEMENTS(migrations);
}

void vigil_store_set_error(VigilStore *store, GError **error, const char *what)
{
  g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE, "%s: %s", what, sqlite3_errmsg(store->db));
}

sqlite3_stmt *vigil_store_prepare(VigilStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  /* Queued segment rows go first, so that every query sees them (inside a
   * transaction they were flushed by vigil_store_begin). */
  if (sqlite3_get_autocommit(store->db))
    vigil_store_flush_segments(store);
  if (sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    vigil_store_set_error(store, error, "preparing a database statement");
    sqlite3_finalize(stmt);
    return NULL;
  }
  return stmt;
}

gboolean vigil_store_bind_text(VigilStore *store, sqlite3_stmt *stmt, int index, const char *text,
                               GError **error)
{
  int rc = text ? sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT)
                : sqlite3_bind_null(stmt, index);

  if (rc != SQLITE_OK) {
    vigil_store_set_error(store, error, "binding a database parameter");
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_store_bind_camera_list(VigilStore *store, sqlite3_stmt *stmt, int index,
                                      const char *const *cameras, GError **error)
{
  if (!cameras)
    return vigil_store_bind_text(store, stmt, index, NULL, error);
  g_autoptr(JsonArray) array = json_array_new();
  for (const char *const *c = cameras; *c; c++)
    json_array_add_string_element(array, *c);
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(node, array);
  g_autofree gchar *text = json_to_string(node, FALSE);
  return vigil_store_bind_text(store, stmt, index, text, error);
}

gchar *vigil_store_column_dup(sqlite3_stmt *stmt, int column)
{
  const unsigned char *text = sqlite3_column_text(stmt, column);

  return text ? g_strdup((const char *)text) : NULL;
}

/* Runs constant SQL that returns no rows we need (pragmas, BEGIN, DDL). */
static gboolean exec_sql(VigilStore *store, const char *sql, const char *what, GError **error)
{
  if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    vigil_store_set_error(store, error, what);
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_store_begin(VigilStore *store, GError **error)
{
  if (sqlite3_get_autocommit(store->db))
    vigil_store_flush_segments(store);
  return exec_sql(store, "BEGIN IMMEDIATE", "starting a database transaction", error);
}

gboolean vigil_store_commit(VigilStore *store, GError **error)
{
  return exec_sql(store, "COMMIT", "committing a database transaction", error);
}

void vigil_store_rollback(VigilStore *store)
{
  /* After some errors (SQLITE_FULL, IOERR) SQLite has already rolled back. */
  if (sqlite3_get_autocommit(store->db))
    return;
  if (sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
    g_warning("rolling back a database transaction: %s", sqlite3_errmsg(store->db));
}

/* PRAGMA user_version, or -1 with @error set. */
static int read_version(VigilStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = vigil_store_prepare(store, "PRAGMA user_version", error);

  if (!stmt)
    return -1;
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    vigil_store_set_error(store, error, "reading the database schema version");
    return -1;
  }
  return sqlite3_column_int(stmt, 0);
}

gint64 vigil_store_memory_used(void)
{
  return sqlite3_memory_used();
}

int vigil_store_version(VigilStore *store)
{
  g_autoptr(GError) error = NULL;
  int version;

  g_return_val_if_fail(store != NULL, -1);

  version = read_version(store, &error);
  if (version < 0)
    g_warning("%s", error->message);
  return version;
}

static gboolean check_version(int version, GError **error)
{
  if (version > vigil_store_latest_version()) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE,
                "database schema version %d is newer than this vigil (%d); upgrade vigil", version,
                vigil_store_latest_version());
    return FALSE;
  }
  return TRUE;
}

/* Applies the missing migrations, one transaction each. The version is
 * re-read inside each transaction because another process may be migrating
 * the same file at the same time: the write lock serializes us and we skip
 * what it already did. */
static gboolean migrate(VigilStore *store, GError **error)
{
  int version = read_version(store, error);

  if (version < 0 || !check_version(version, error))
    return FALSE;

  while (version < vigil_store_latest_version()) {
    g_autofree gchar *set_version = NULL;
    g_autofree gchar *what = NULL;

    if (!vigil_store_begin(store, error))
      return FALSE;
    version = read_version(store, error);
    if (version < 0 || !check_version(version, error)) {
      vigil_store_rollback(store);
      return FALSE;
    }
    if (version == vigil_store_latest_version()) {
      vigil_store_rollback(store);
      break;
    }

    what = g_strdup_printf("migrating the database to schema version %d", version + 1);
    /* PRAGMA takes no bound parameters; the value is our own integer. */
    set_version = g_strdup_printf("PRAGMA user_version = %d", version + 1);
    if (!exec_sql(store, migrations[version], what, error) ||
        !exec_sql(store, set_version, what, error) || !vigil_store_commit(store, error)) {
      vigil_store_rollback(store);
      return FALSE;
    }
    g_debug("database %s migrated to schema version %d", store->path, version + 1);
    version++;
  }
  return TRUE;
}

/* Creates the file ourselves so it is born 0600 (SQLite would use the umask)
 * and tightens an existing one; SQLite gives the -wal and -shm files the main
 * file's mode. */
static gboolean prepare_file(const char *path, GError **error)
{
  struct stat st;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

  if (fd < 0) {
    int saved = errno;
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE, "cannot open database %s: %s", path,
                g_strerror(saved));
    return FALSE;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE,
                "cannot open database %s: not a regular file", path);
    close(fd);
    return FALSE;
  }
  if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
    int saved = errno;
    g_warning("cannot restrict the permissions of %s to 0600: %s", path, g_strerror(saved));
  }
  close(fd);
  return TRUE;
}

/* The first statement that reads the file; turns SQLite's terse "file is not a
 * database" into something a user can act on. */
static gboolean set_journal_mode(VigilStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *mode;
  int rc;

  /* Preparing already reads the schema, so NOTADB can come from either. */
  rc = sqlite3_prepare_v2(store->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(stmt);
  if ((rc & 0xff) == SQLITE_NOTADB) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE,
                "%s is not an SQLite database (or is damaged); move it away or restore a backup",
                store->path);
    return FALSE;
  }
  if (rc != SQLITE_ROW) {
    vigil_store_set_error(store, error, "setting the database journal mode");
    return FALSE;
  }
  mode = (const char *)sqlite3_column_text(stmt, 0);
  /* WAL is impossible on some file systems (no shared memory); SQLite then
   * keeps the old mode, which still works, only slower under concurrency. */
  if (!mode || g_ascii_strcasecmp(mode, "wal") != 0)
    g_warning("database %s: WAL journal mode unavailable, using %s", store->path,
              mode ? mode : "(unknown)");
  return TRUE;
}

VigilStore *vigil_store_open(const char *path, GError **error)
{
  g_autoptr(VigilStore) store = NULL;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (!prepare_file(path, error))
    return NULL;

  store = g_new0(VigilStore, 1);
  store->path = g_strdup(path);
  /* sqlite3_open_v2 may hand back a connection even on failure; the store's
   * close frees it either way. */
  if (sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE, "cannot open database %s: %s", path,
                store->db ? sqlite3_errmsg(store->db) : "out of memory");
    return NULL;
  }
  /* Extended codes tell a duplicate key (SQLITE_CONSTRAINT_PRIMARYKEY) apart
   * from other constraint failures. */
  sqlite3_extended_result_codes(store->db, 1);

  if (!exec_sql(store, "PRAGMA busy_timeout = 5000", "configuring the database", error) ||
      !set_journal_mode(store, error) ||
      !exec_sql(store, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                "configuring the database", error) ||
      !migrate(store, error))
    return NULL;

  store->ready = TRUE;
  return g_steal_pointer(&store);
}

void vigil_store_close(VigilStore *store)
{
  if (!store)
    return;
  if (store->db) {
    vigil_store_flush_segments(store);
    g_clear_handle_id(&store->flush_source, g_source_remove);
    g_clear_pointer(&store->pending_segments, g_array_unref);
    /* Cheap, and keeps the query planner's statistics useful over time; not
     * on a file we refused (damaged, or a newer schema) to leave it as is. */
    if (store->ready)
      sqlite3_exec(store->db, "PRAGMA optimize", NULL, NULL, NULL);
    /* Fails only when a statement was left unfinalized: a bug here. */
    if (sqlite3_close(store->db) != SQLITE_OK)
      g_critical("closing database %s: %s", store->path, sqlite3_errmsg(store->db));
  }
  g_free(store->path);
  g_free(store);
}
