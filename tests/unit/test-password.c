/* Tests for auth/password.c: Argon2id hashing and verification, and the
 * random password generator. */
#include <string.h>

#include "auth/password.h"

static void test_hash_verify(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *hash = vigil_password_hash("correct horse battery staple", &error);

  g_assert_no_error(error);
  g_assert_nonnull(hash);
  g_assert_true(g_str_has_prefix(hash, "$argon2id$v=19$"));
  /* The cost parameters chosen in password.c (64 MiB, t=3, p=1). */
  g_assert_nonnull(strstr(hash, "$m=65536,t=3,p=1$"));
  g_assert_true(vigil_password_verify(hash, "correct horse battery staple"));
  g_assert_false(vigil_password_verify(hash, "correct horse battery stapl"));
  g_assert_false(vigil_password_verify(hash, "correct horse battery staple "));
  g_assert_false(vigil_password_verify(hash, "Correct horse battery staple"));
  g_assert_false(vigil_password_verify(hash, ""));
  g_assert_false(vigil_password_verify(hash, NULL));
}

static void test_salted(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *a = vigil_password_hash("same", &error);
  g_autofree gchar *b = NULL;

  g_assert_no_error(error);
  b = vigil_password_hash("same", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(a, !=, b);
  g_assert_true(vigil_password_verify(a, "same"));
  g_assert_true(vigil_password_verify(b, "same"));
}

static void test_empty_and_unicode(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *empty = vigil_password_hash("", &error);
  g_autofree gchar *unicode = NULL;

  g_assert_no_error(error);
  g_assert_true(vigil_password_verify(empty, ""));
  g_assert_false(vigil_password_verify(empty, " "));

  unicode = vigil_password_hash("pässwörd ☃", &error);
  g_assert_no_error(error);
  g_assert_true(vigil_password_verify(unicode, "pässwörd ☃"));
  g_assert_false(vigil_password_verify(unicode, "passwoerd ☃"));
}

static void test_malformed(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *good = vigil_password_hash("secret", &error);
  g_autofree gchar *truncated = NULL;
  g_autofree gchar *other_variant = NULL;
  g_autofree gchar *flipped = NULL;
  gsize len;
  const char *const bad[] = {
      "",
      "secret",
      "$argon2id$",
      "$argon2id$v=19$",
      "$argon2id$v=19$m=65536,t=3,p=1$",
      "$argon2id$v=19$m=65536,t=3,p=1$$",
      "$argon2id$v=19$m=abc,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
      "$argon2id$v=19$m=65536,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=65536,t=3,p=1$!!!!$????",
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
  };

  g_assert_no_error(error);
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_false(vigil_password_verify(bad[i], "secret"));
  g_assert_false(vigil_password_verify(NULL, "secret"));
  g_assert_false(vigil_password_verify(NULL, NULL));

  /* A real hash cut short or with its tag altered no longer verifies. */
  len = strlen(good);
  truncated = g_strndup(good, len - 5);
  g_assert_false(vigil_password_verify(truncated, "secret"));
  flipped = g_strdup(good);
  flipped[len - 2] = flipped[len - 2] == 'A' ? 'B' : 'A';
  g_assert_false(vigil_password_verify(flipped, "secret"));

  /* Same salt and tag under another Argon2 variant: refused. */
  other_variant = g_strconcat("$argon2i$", good + strlen("$argon2id$"), NULL);
  g_assert_false(vigil_password_verify(other_variant, "secret"));

  /* The untouched hash still verifies: the cases above failed for a reason. */
  g_assert_true(vigil_password_verify(good, "secret"));
}

#define ALPHABET "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

static void test_generate(void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  guint counts[256] = {0};
  guint total = 0;
  const guint lengths[] = {0, 1, 12, 20, 64, 300};

  for (gsize i = 0; i < G_N_ELEMENTS(lengths); i++) {
    g_autofree gchar *p = vigil_password_generate(lengths[i]);
    g_assert_nonnull(p);
    g_assert_cmpuint(strlen(p), ==, lengths[i]);
  }

  for (int i = 0; i < 500; i++) {
    gchar *p = vigil_password_generate(20);

    g_assert_cmpuint(strlen(p), ==, 20);
    g_assert_cmpuint(strspn(p, ALPHABET), ==, 20);
    g_assert_null(strpbrk(p, "0O1lI"));
    for (const char *c = p; *c; c++)
      counts[(guint8)*c]++;
    total += 20;
    /* 57^20 possibilities: any repeat means the generator is broken. */
    g_assert_true(g_hash_table_add(seen, p));
  }

  /* 10000 symbols over 57: every symbol shows up (expected ~175 each, the
   * chance of one missing is ~1e-74), and none is grossly over-represented
   * as a biased or stuck generator would make it. */
  for (const char *c = ALPHABET; *c; c++) {
    g_assert_cmpuint(counts[(guint8)*c], >, 80);
    g_assert_cmpuint(counts[(guint8)*c], <, 300);
  }
  g_assert_cmpuint(total, ==, 10000);

  /* Modulo bias from mapping a byte with `% 57` would favour the first 28
   * symbols (256 % 57 == 28) by 5/4: ~5470 of 10000 instead of ~4912. The
   * standard deviation is ~50, so 4912 +- 250 tells the two apart. */
  {
    guint first = 0;
    for (int i = 0; i < 28; i++)
      first += counts[(guint8)ALPHABET[i]];
    g_assert_cmpuint(first, >, 4912 - 250);
    g_assert_cmpuint(first, <, 4912 + 250);
  }
}

typedef struct {
  gchar *hash;
  GError *error;
  GThread *thread; /* where the callback ran */
  gboolean done;
  guint ticks; /* of a 5 ms timeout before the answer came */
} Hashed;

static void on_hashed(GObject *source, GAsyncResult *result, gpointer data)
{
  Hashed *h = data;
  h->hash = vigil_password_hash_finish(result, &h->error);
  h->thread = g_thread_self();
  h->done = TRUE;
}

static gboolean tick(gpointer data)
{
  Hashed *h = data;
  if (!h->done)
    h->ticks++;
  return G_SOURCE_CONTINUE;
}

/* Setting a password off the main loop: the hash (>= 50 ms of Argon2id
 * anywhere) is made on the password thread while the caller's loop keeps
 * turning, and the answer comes back on the caller's thread. Made on the
 * caller's thread, the loop could not turn before it: at most one tick. */
static void test_hash_async(void)
{
  Hashed h = {0};
  guint timer = g_timeout_add(5, tick, &h);
  vigil_password_hash_async("correct horse battery staple", on_hashed, &h);
  while (!h.done)
    g_main_context_iteration(NULL, TRUE);
  g_source_remove(timer);
  g_assert_no_error(h.error);
  g_assert_true(h.thread == g_thread_self());
  g_assert_cmpuint(h.ticks, >=, 3);
  g_assert_true(g_str_has_prefix(h.hash, "$argon2id$v=19$m=65536,t=3,p=1$"));
  g_assert_true(vigil_password_verify(h.hash, "correct horse battery staple"));
  g_assert_false(vigil_password_verify(h.hash, "correct horse battery stapl"));
  g_free(h.hash);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/password/hash-verify", test_hash_verify);
  g_test_add_func("/password/salted", test_salted);
  g_test_add_func("/password/empty-and-unicode", test_empty_and_unicode);
  g_test_add_func("/password/malformed", test_malformed);
  g_test_add_func("/password/generate", test_generate);
  g_test_add_func("/password/hash-async", test_hash_async);
  return g_test_run();
}
