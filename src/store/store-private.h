/* What the store's files share, and nothing outside src/store/ includes: the
 * VigilStore struct and the helpers db.c defines around prepared
 * statements, binding, transactions and errors. The table-group files that
 * use it: settings.c, cameras.c, users.c and accounts.c, events.c,
 * recordings.c, walls.c. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#include "store/store.h"

G_BEGIN_DECLS

struct _VigilStore {
  sqlite3 *db;
  gchar *path;
  gboolean ready; /* opened and migrated */
  /* Segment rows waiting for their batch's commit (recordings.c), while
   * batching is on: VigilSegment, in order. */
  GArray *pending_segments;
  guint batch_ms; /* 0: every segment commits at once */
  guint flush_source;
  gboolean flushing;
};

/* Commits the segment rows waiting for their batch (recordings.c); run
 * before any other statement so every query sees them. */
void vigil_store_flush_segments(VigilStore *store);

/* Statements are finalized on scope exit so an early return never leaks one
 * (an unfinalized statement would also make sqlite3_close fail). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

/* Sets VIGIL_ERROR_STORAGE "@what: <sqlite3_errmsg>" from the connection's
 * last error. */
void vigil_store_set_error(VigilStore *store, GError **error, const char *what);

/* Prepares constant @sql (never built from user input: values are bound).
 * NULL with @error set on failure. */
sqlite3_stmt *vigil_store_prepare(VigilStore *store, const char *sql, GError **error);

/* Binds @text (may be NULL for SQL NULL) to parameter @index; the text is
 * copied by SQLite. */
gboolean vigil_store_bind_text(VigilStore *store, sqlite3_stmt *stmt, int index, const char *text,
                               GError **error);
/* Binds @cameras (NULL-terminated; NULL = no filter, bound as NULL) as a JSON
 * array, for "(?N IS NULL OR camera IN (SELECT value FROM json_each(?N)))". */
gboolean vigil_store_bind_camera_list(VigilStore *store, sqlite3_stmt *stmt, int index,
                                      const char *const *cameras, GError **error);

/* Column text duplicated with g_strdup (NULL for SQL NULL). */
gchar *vigil_store_column_dup(sqlite3_stmt *stmt, int column);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Immediate so a writer takes the write
 * lock up front and waits on busy_timeout instead of failing on upgrade. */
gboolean vigil_store_begin(VigilStore *store, GError **error);
gboolean vigil_store_commit(VigilStore *store, GError **error);
/* Rolls back if a transaction is open; never fails (errors are logged) so it
 * can run on any error path without hiding the original error. */
void vigil_store_rollback(VigilStore *store);

G_END_DECLS
