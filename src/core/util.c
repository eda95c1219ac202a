/* Small shared helpers: the API's ISO 8601 time form and camera id slugs.
 * Everything here is pure (no I/O) so it is trivially unit-testable. */
#include "core/util.h"

#include <string.h>

#define USEC_PER_SEC G_GINT64_CONSTANT(1000000)
#define SLUG_MAX     32

gchar *vigil_time_format(gint64 unix_us)
{
  /* Floor division so that times before 1970 still get a fraction in
   * [0, 1 s) and the seconds part rounds towards the past, like the clock. */
  gint64 secs = unix_us / USEC_PER_SEC;
  gint64 rem = unix_us % USEC_PER_SEC;
  if (rem < 0) {
    rem += USEC_PER_SEC;
    secs -= 1;
  }

  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(secs);
  /* Only years 1-9999 are representable; callers pass clock readings. */
  g_return_val_if_fail(dt != NULL, NULL);

  return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", g_date_time_get_year(dt),
                         g_date_time_get_month(dt), g_date_time_get_day_of_month(dt),
                         g_date_time_get_hour(dt), g_date_time_get_minute(dt),
                         g_date_time_get_second(dt), (int)(rem / 1000));
}

/* Reads exactly @n ASCII digits at *@p into @out and advances *@p. */
static gboolean read_digits(const char **p, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!g_ascii_isdigit((*p)[i]))
      return FALSE;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return TRUE;
}

gboolean vigil_time_parse(const char *text, gint64 *unix_us)
{
  /* A hand-written reader for the one profile the API uses,
   * YYYY-MM-DDTHH:MM[:SS[.frac]](Z|±HH[:MM]), rather than
   * g_date_time_new_from_iso8601(), which also takes week dates, ordinal
   * dates and the basic format, and turns fractions into a double. GDateTime
   * still checks the calendar (no February 30). */
  g_return_val_if_fail(unix_us != NULL, FALSE);
  if (text == NULL)
    return FALSE;

  const char *p = text;
  int year, month, day, hour, minute, second = 0;
  gint64 frac_us = 0;

  if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &month) || *p++ != '-' ||
      !read_digits(&p, 2, &day))
    return FALSE;
  if (*p != 'T' && *p != 't')
    return FALSE;
  p++;
  if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &minute))
    return FALSE;
  if (*p == ':') {
    p++;
    if (!read_digits(&p, 2, &second))
      return FALSE;
    if (*p == '.' || *p == ',') {
      p++;
      if (!g_ascii_isdigit(*p))
        return FALSE;
      /* Microseconds from the first six digits; further digits are read
       * (they are valid ISO 8601) but truncated. */
      gint64 scale = 100000;
      for (; g_ascii_isdigit(*p); p++) {
        frac_us += (*p - '0') * scale;
        scale /= 10;
      }
    }
  }

  int offset_s;
  if (*p == 'Z' || *p == 'z') {
    offset_s = 0;
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1;
    int oh, om = 0;
    if (!read_digits(&p, 2, &oh))
      return FALSE;
    if (*p == ':') {
      p++;
      if (!read_digits(&p, 2, &om))
        return FALSE;
    } else if (g_ascii_isdigit(*p) && !read_digits(&p, 2, &om)) {
      return FALSE;
    }
    if (oh > 23 || om > 59)
      return FALSE;
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return FALSE; /* no zone: a local time would be ambiguous */
  }
  if (*p != '\0')
    return FALSE;

  g_autoptr(GDateTime) dt = g_date_time_new_utc(year, month, day, hour, minute, second);
  if (dt == NULL)
    return FALSE;

  *unix_us = (g_date_time_to_unix(dt) - offset_s) * USEC_PER_SEC + frac_us;
  return TRUE;
}

gboolean vigil_slug_is_valid(const char *slug)
{
  if (slug == NULL)
    return FALSE;
  size_t len = 0;
  for (const char *p = slug; *p; p++, len++) {
    if (len >= SLUG_MAX)
      return FALSE;
    if (!(g_ascii_islower(*p) || g_ascii_isdigit(*p) || *p == '-'))
      return FALSE;
  }
  return len > 0;
}

gchar *vigil_slug_from_name(const char *name)
{
  if (name == NULL)
    return NULL;

  /* g_str_to_ascii() wants valid, composed UTF-8; the "C" locale keeps the
   * result independent of the server's locale ("Über" gives "uber", not the
   * German "ueber" on one machine and "uber" on another). */
  g_autofree gchar *valid = g_utf8_make_valid(name, -1);
  g_autofree gchar *composed = g_utf8_normalize(valid, -1, G_NORMALIZE_NFC);
  g_autofree gchar *ascii = g_str_to_ascii(composed ? composed : valid, "C");

  GString *slug = g_string_sized_new(SLUG_MAX + 1);
  gboolean pending_dash = FALSE;
  for (const char *p = ascii; *p && slug->len < SLUG_MAX; p++) {
    char c = g_ascii_tolower(*p);
    if (g_ascii_islower(c) || g_ascii_isdigit(c)) {
      /* A dash is only written once a character follows it, which both
       * collapses runs and trims leading and trailing dashes. */
      if (pending_dash && slug->len > 0) {
        if (slug->len + 1 >= SLUG_MAX)
          break;
        g_string_append_c(slug, '-');
      }
      pending_dash = FALSE;
      g_string_append_c(slug, c);
    } else {
      pending_dash = TRUE;
    }
  }

  if (slug->len == 0) {
    g_string_free(slug, TRUE);
    return NULL;
  }
  return g_string_free(slug, FALSE);
}
