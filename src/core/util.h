/* Small helpers shared by every module: wall-clock times in the API's ISO 8601
 * form and camera id slugs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "2026-11-25T13:45:01.250Z" (UTC, milliseconds) for a time in microseconds
 * since the Unix epoch. */
gchar *vigil_time_format(gint64 unix_us);

/* Parses ISO 8601 with a zone (Z or ±hh:mm); FALSE on anything else. */
gboolean vigil_time_parse(const char *text, gint64 *unix_us);

/* [a-z0-9-]{1,32} */
gboolean vigil_slug_is_valid(const char *slug);

/* A slug made from a display name ("Front door" -> "front-door"); NULL when
 * nothing usable is left (a name of only punctuation). */
gchar *vigil_slug_from_name(const char *name);

G_END_DECLS
