/* sd_notify(3) in a few lines: see sdnotify.h. */
#define G_LOG_DOMAIN "vigil"

#include "sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills @addr from $NOTIFY_SOCKET; FALSE when unset or not usable. */
static gboolean notify_address(struct sockaddr_un *addr, socklen_t *len)
{
  const char *name = g_getenv("NOTIFY_SOCKET");
  if (!name || !*name)
    return FALSE;
  size_t n = strlen(name);
  if ((name[0] != '/' && name[0] != '@') || n >= sizeof(addr->sun_path)) {
    g_debug("sd_notify: NOTIFY_SOCKET=%s is not a usable socket name", name);
    return FALSE;
  }
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, name, n);
  if (name[0] == '@')
    addr->sun_path[0] = '\0'; /* abstract namespace: the length says where it ends */
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/' ? 1 : 0));
  return TRUE;
}

gboolean vigil_sd_notify(const char *state)
{
  struct sockaddr_un addr;
  socklen_t len;
  if (!state || !notify_address(&addr, &len))
    return FALSE;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    g_debug("sd_notify: socket: %s", g_strerror(errno));
    return FALSE;
  }
  size_t size = strlen(state);
  ssize_t sent;
  do
    sent = sendto(fd, state, size, MSG_NOSIGNAL, (struct sockaddr *)&addr, len);
  while (sent < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  if (sent != (ssize_t)size) {
    g_debug("sd_notify: cannot send to %s: %s", g_getenv("NOTIFY_SOCKET"),
            sent < 0 ? g_strerror(saved) : "short write");
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_sd_notifyf(const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree gchar *state = g_strdup_vprintf(format, args);
  va_end(args);
  return vigil_sd_notify(state);
}

guint64 vigil_sd_watchdog_usec(void)
{
  const char *usec = g_getenv("WATCHDOG_USEC");
  if (!usec || !*usec)
    return 0;
  guint64 value = 0;
  if (!g_ascii_string_to_unsigned(usec, 10, 1, G_MAXUINT64, &value, NULL))
    return 0;
  const char *pid = g_getenv("WATCHDOG_PID");
  if (pid && *pid) {
    guint64 owner = 0;
    if (!g_ascii_string_to_unsigned(pid, 10, 1, G_MAXUINT64, &owner, NULL) ||
        owner != (guint64)getpid())
      return 0;
  }
  return value;
}

static gboolean on_watchdog(gpointer data)
{
  vigil_sd_notify("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

guint vigil_sd_watchdog_start(void)
{
  guint64 usec = vigil_sd_watchdog_usec();
  if (usec == 0 || !g_getenv("NOTIFY_SOCKET"))
    return 0;
  guint64 interval_ms = MAX(usec / 2 / 1000, 1);
  vigil_sd_notify("WATCHDOG=1");
  g_debug("sd_notify: watchdog every %" G_GUINT64_FORMAT " ms", interval_ms);
  return g_timeout_add((guint)MIN(interval_ms, G_MAXUINT), on_watchdog, NULL);
}
