/* Log writer: one line per message on stderr ("time LEVEL domain: message"),
 * or straight to journald when stderr is connected to it. Filtered by the
 * --log-level chosen at start. */
#include "core/log.h"

#include <stdio.h>
#include <unistd.h>

#include "core/util.h"

static VigilLogLevel max_level = VIGIL_LOG_INFO;

gboolean vigil_log_level_parse(const char *text, VigilLogLevel *level)
{
  static const struct {
    const char *name;
    VigilLogLevel level;
  } names[] = {
      {"error", VIGIL_LOG_ERROR},
      {"warning", VIGIL_LOG_WARNING},
      {"info", VIGIL_LOG_INFO},
      {"debug", VIGIL_LOG_DEBUG},
  };
  for (gsize i = 0; text && i < G_N_ELEMENTS(names); i++) {
    if (g_str_equal(text, names[i].name)) {
      *level = names[i].level;
      return TRUE;
    }
  }
  return FALSE;
}

static VigilLogLevel level_of(GLogLevelFlags flags)
{
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return VIGIL_LOG_ERROR;
  if (flags & G_LOG_LEVEL_WARNING)
    return VIGIL_LOG_WARNING;
  if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    return VIGIL_LOG_INFO;
  return VIGIL_LOG_DEBUG;
}

static const char *label_of(GLogLevelFlags flags)
{
  if (flags & G_LOG_LEVEL_ERROR)
    return "ERROR";
  if (flags & G_LOG_LEVEL_CRITICAL)
    return "CRITICAL";
  if (flags & G_LOG_LEVEL_WARNING)
    return "WARNING";
  if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    return "INFO";
  return "DEBUG";
}

static GLogWriterOutput writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields,
                               gpointer user_data)
{
  if (level_of(flags) > max_level)
    return G_LOG_WRITER_HANDLED;

  if (g_log_writer_is_journald(fileno(stderr)) &&
      g_log_writer_journald(flags, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;

  const char *domain = "vigil";
  const char *message = "";
  for (gsize i = 0; i < n_fields; i++) {
    if (g_str_equal(fields[i].key, "GLIB_DOMAIN") && fields[i].value)
      domain = fields[i].value;
    else if (g_str_equal(fields[i].key, "MESSAGE") && fields[i].value)
      message = fields[i].value;
  }
  g_autofree gchar *now = vigil_time_format(g_get_real_time());
  fprintf(stderr, "%s %s %s: %s\n", now, label_of(flags), domain, message);
  fflush(stderr);
  return G_LOG_WRITER_HANDLED;
}

void vigil_log_init(VigilLogLevel level)
{
  max_level = level;
  g_log_set_writer_func(writer, NULL, NULL);
}
