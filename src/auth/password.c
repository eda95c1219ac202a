/* Password hashing with Argon2id (libargon2) and random passwords, both fed
 * by the kernel's CSPRNG through getrandom(2). */
#define G_LOG_DOMAIN "vigil-auth"

#include <argon2.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "auth/password.h"
#include "core/error.h"

/* t=3, m=64 MiB, p=1: one hash took ~145 ms on the 2-core development
 * machine (Debian 12, libargon2 20171227), under the ~300 ms a login may
 * cost, and above OWASP's minimum (m=19 MiB, t=2, p=1). Verifying uses the
 * parameters stored in each hash, so changing these later keeps old hashes
 * valid. */
#define VIGIL_ARGON2_T_COST      3
#define VIGIL_ARGON2_M_COST_KIB  (64 * 1024)
#define VIGIL_ARGON2_PARALLELISM 1
#define VIGIL_ARGON2_SALT_LEN    16
#define VIGIL_ARGON2_HASH_LEN    32

/* Unambiguous when read aloud or copied by hand: no 0/O, 1/l/I. 57 symbols. */
static const char alphabet[] = "abcdefghijkmnopqrstuvwxyz"
                               "ABCDEFGHJKLMNPQRSTUVWXYZ"
                               "23456789";

/* Fills @buf from the CSPRNG; getrandom may return short reads for large
 * requests or be interrupted by a signal. */
static gboolean fill_random(void *buf, size_t len, GError **error)
{
  guint8 *p = buf;

  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);

    if (n < 0) {
      int saved = errno;
      if (saved == EINTR)
        continue;
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED,
                  "cannot read random bytes from the system: %s", g_strerror(saved));
      return FALSE;
    }
    p += n;
    len -= (size_t)n;
  }
  return TRUE;
}

gchar *vigil_password_hash(const char *password, GError **error)
{
  guint8 salt[VIGIL_ARGON2_SALT_LEN];
  size_t password_len;
  size_t encoded_len;
  g_autofree gchar *encoded = NULL;
  int rc;

  g_return_val_if_fail(password != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  password_len = strlen(password);
  if (password_len > ARGON2_MAX_PWD_LENGTH) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "password too long");
    return NULL;
  }
  if (!fill_random(salt, sizeof salt, error))
    return NULL;

  encoded_len =
      argon2_encodedlen(VIGIL_ARGON2_T_COST, VIGIL_ARGON2_M_COST_KIB, VIGIL_ARGON2_PARALLELISM,
                        sizeof salt, VIGIL_ARGON2_HASH_LEN, Argon2_id);
  encoded = g_malloc0(encoded_len);
  rc = argon2id_hash_encoded(VIGIL_ARGON2_T_COST, VIGIL_ARGON2_M_COST_KIB, VIGIL_ARGON2_PARALLELISM,
                             password, password_len, salt, sizeof salt, VIGIL_ARGON2_HASH_LEN,
                             encoded, encoded_len);
  if (rc != ARGON2_OK) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "cannot hash the password: %s",
                argon2_error_message(rc));
    return NULL;
  }
  return g_steal_pointer(&encoded);
}

gboolean vigil_password_verify(const char *encoded_hash, const char *password)
{
  size_t password_len;

  if (!encoded_hash || !password)
    return FALSE;
  /* argon2id_verify would refuse another variant too; this also turns away
   * empty and obviously foreign strings before libargon2 parses them. */
  if (!g_str_has_prefix(encoded_hash, "$argon2id$"))
    return FALSE;
  password_len = strlen(password);
  if (password_len > ARGON2_MAX_PWD_LENGTH)
    return FALSE;
  /* Compares the computed and stored hashes in constant time. Any parse or
   * parameter error is simply "no match". */
  return argon2id_verify(encoded_hash, password, password_len) == ARGON2_OK;
}

/* --- off the main loop --- */

typedef struct {
  gboolean new_hash; /* hash @password; else check it against @hash */
  gchar *hash;       /* NULL: the dummy */
  gchar *password;
} PasswordJob;

static void password_job_free(PasswordJob *job)
{
  memset(job->password, 0, strlen(job->password));
  g_free(job->password);
  g_free(job->hash);
  g_free(job);
}

/* The password thread: one job at a time. */
static void password_job_run(gpointer data, gpointer unused)
{
  GTask *task = data;
  PasswordJob *job = g_task_get_task_data(task);
  if (job->new_hash) {
    GError *error = NULL;
    gchar *hash = vigil_password_hash(job->password, &error);
    if (hash)
      g_task_return_pointer(task, hash, g_free);
    else
      g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  static gchar *dummy_hash; /* this thread's only */
  if (!job->hash && !dummy_hash)
    dummy_hash = vigil_password_hash("vigil-dummy-password", NULL);
  gboolean ok = vigil_password_verify(job->hash ? job->hash : dummy_hash, job->password);
  g_task_return_boolean(task, ok && job->hash != NULL);
  g_object_unref(task);
}

/* Queues @job on the password thread; when the queue is full, answers
 * @task with an error at once instead. */
static void password_job_push(GTask *task, PasswordJob *job)
{
  static GThreadPool *pool;
  if (!pool)
    pool = g_thread_pool_new(password_job_run, NULL, 1, FALSE, NULL);
  if (g_thread_pool_unprocessed(pool) >= VIGIL_PASSWORD_QUEUE_MAX) {
    password_job_free(job);
    g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_BUSY,
                            "too many password checks waiting");
    g_object_unref(task);
    return;
  }
  g_task_set_task_data(task, job, (GDestroyNotify)password_job_free);
  g_thread_pool_push(pool, task, NULL);
}

void vigil_password_verify_async(const char *encoded_hash, const char *password,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, NULL, callback, user_data);
  g_task_set_source_tag(task, vigil_password_verify_async);
  if (!password) {
    g_task_return_boolean(task, FALSE);
    g_object_unref(task);
    return;
  }
  PasswordJob *job = g_new0(PasswordJob, 1);
  job->hash = g_strdup(encoded_hash);
  job->password = g_strdup(password);
  password_job_push(task, job);
}

gboolean vigil_password_verify_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

void vigil_password_hash_async(const char *password, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_return_if_fail(password != NULL);
  GTask *task = g_task_new(NULL, NULL, callback, user_data);
  g_task_set_source_tag(task, vigil_password_hash_async);
  PasswordJob *job = g_new0(PasswordJob, 1);
  job->new_hash = TRUE;
  job->password = g_strdup(password);
  password_job_push(task, job);
}

gchar *vigil_password_hash_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

gchar *vigil_password_generate(guint length)
{
  /* Largest multiple of the alphabet size that fits a byte: bytes at or above
   * it are thrown away so every symbol is equally likely (no modulo bias). */
  const guint n = sizeof alphabet - 1;
  const guint limit = 256 - 256 % n;
  g_autofree gchar *out = g_malloc(length + 1);
  guint8 pool[64];
  gsize used = sizeof pool;
  guint filled = 0;

  while (filled < length) {
    if (used == sizeof pool) {
      g_autoptr(GError) error = NULL;
      /* The kernel's CSPRNG does not fail once the system has booted; there
       * is no safe fallback for a secret, so stop rather than weaken it. */
      if (!fill_random(pool, sizeof pool, &error))
        g_error("%s", error->message);
      used = 0;
    }
    if (pool[used] < limit)
      out[filled++] = alphabet[pool[used] % n];
    used++;
  }
  out[length] = '\0';
  explicit_bzero(pool, sizeof pool);
  return g_steal_pointer(&out);
}
