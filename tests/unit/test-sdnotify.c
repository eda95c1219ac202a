/* Tests for core/sdnotify.c: real AF_UNIX datagram sockets, one bound to a
 * path and one to an abstract name ('@'), stand in for systemd. */
#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sdnotify.h"

/* A datagram socket bound to @name (a path, or '@' + an abstract name). */
static int listen_on(const char *name)
{
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(fd, >=, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t n = strlen(name);
  g_assert_cmpuint(n, <, sizeof(addr.sun_path));
  memcpy(addr.sun_path, name, n);
  socklen_t len = offsetof(struct sockaddr_un, sun_path) + n;
  if (name[0] == '@')
    addr.sun_path[0] = '\0';
  else
    len += 1;
  if (bind(fd, (struct sockaddr *)&addr, len) != 0)
    g_error("bind %s: %s", name, g_strerror(errno));
  return fd;
}

/* The next datagram within @timeout_ms, or NULL. */
static gchar *receive(int fd, int timeout_ms)
{
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) != 1)
    return NULL;
  char buf[1024];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  g_assert_cmpint(n, >=, 0);
  return g_strndup(buf, (gsize)n);
}

static void test_unset_is_noop(void)
{
  g_unsetenv("NOTIFY_SOCKET");
  g_unsetenv("WATCHDOG_USEC");
  g_assert_false(vigil_sd_notify("READY=1"));
  g_assert_cmpuint(vigil_sd_watchdog_usec(), ==, 0);
  g_assert_cmpuint(vigil_sd_watchdog_start(), ==, 0);
  /* Names systemd never gives are refused, not sent anywhere. */
  g_setenv("NOTIFY_SOCKET", "relative/name", TRUE);
  g_assert_false(vigil_sd_notify("READY=1"));
  g_unsetenv("NOTIFY_SOCKET");
}

static void test_path_socket(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp("vigil-sdnotify-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree gchar *path = g_build_filename(dir, "notify", NULL);
  int fd = listen_on(path);
  g_setenv("NOTIFY_SOCKET", path, TRUE);

  g_assert_true(vigil_sd_notify("READY=1"));
  g_autofree gchar *ready = receive(fd, 2000);
  g_assert_cmpstr(ready, ==, "READY=1");
  g_assert_true(vigil_sd_notifyf("STATUS=%u cameras, listening on %s", 3, "http://0.0.0.0:8080/"));
  g_autofree gchar *status = receive(fd, 2000);
  g_assert_cmpstr(status, ==, "STATUS=3 cameras, listening on http://0.0.0.0:8080/");

  /* Nobody listening any more: FALSE, no crash, no SIGPIPE. */
  close(fd);
  g_unlink(path);
  g_assert_false(vigil_sd_notify("STOPPING=1"));
  g_unsetenv("NOTIFY_SOCKET");
  g_rmdir(dir);
}

static void test_abstract_socket(void)
{
  g_autofree gchar *name =
      g_strdup_printf("@vigil-test-sdnotify-%d-%u", (int)getpid(), g_random_int());
  int fd = listen_on(name);
  g_setenv("NOTIFY_SOCKET", name, TRUE);
  g_assert_true(vigil_sd_notify("STOPPING=1"));
  g_autofree gchar *got = receive(fd, 2000);
  g_assert_cmpstr(got, ==, "STOPPING=1");
  close(fd);
  g_unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_usec(void)
{
  g_unsetenv("WATCHDOG_PID");
  g_setenv("WATCHDOG_USEC", "30000000", TRUE);
  g_assert_cmpuint(vigil_sd_watchdog_usec(), ==, 30000000);
  g_autofree gchar *me = g_strdup_printf("%d", (int)getpid());
  g_setenv("WATCHDOG_PID", me, TRUE);
  g_assert_cmpuint(vigil_sd_watchdog_usec(), ==, 30000000);
  /* Meant for another process (e.g. inherited by a child): not ours. */
  g_autofree gchar *other = g_strdup_printf("%d", (int)getpid() + 1);
  g_setenv("WATCHDOG_PID", other, TRUE);
  g_assert_cmpuint(vigil_sd_watchdog_usec(), ==, 0);
  g_unsetenv("WATCHDOG_PID");
  g_setenv("WATCHDOG_USEC", "soon", TRUE);
  g_assert_cmpuint(vigil_sd_watchdog_usec(), ==, 0);
  g_setenv("WATCHDOG_USEC", "0", TRUE);
  g_assert_cmpuint(vigil_sd_watchdog_usec(), ==, 0);
  g_unsetenv("WATCHDOG_USEC");
}

static gboolean on_deadline(gpointer loop)
{
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

/* WATCHDOG_USEC=200 ms: WATCHDOG=1 at once, then every 100 ms from the loop. */
static void test_watchdog_timer(void)
{
  g_autofree gchar *name =
      g_strdup_printf("@vigil-test-watchdog-%d-%u", (int)getpid(), g_random_int());
  int fd = listen_on(name);
  g_setenv("NOTIFY_SOCKET", name, TRUE);
  g_setenv("WATCHDOG_USEC", "200000", TRUE);
  guint source = vigil_sd_watchdog_start();
  g_assert_cmpuint(source, !=, 0);
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  g_timeout_add(550, on_deadline, loop);
  g_main_loop_run(loop);
  g_source_remove(source);
  guint count = 0;
  gchar *got;
  while ((got = receive(fd, 0))) {
    g_assert_cmpstr(got, ==, "WATCHDOG=1");
    g_free(got);
    count++;
  }
  /* One at start and about five more; a loaded machine may lose a tick. */
  g_assert_cmpuint(count, >=, 3);
  g_assert_cmpuint(count, <=, 8);
  close(fd);
  g_unsetenv("WATCHDOG_USEC");
  g_unsetenv("NOTIFY_SOCKET");
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sdnotify/unset-is-noop", test_unset_is_noop);
  g_test_add_func("/sdnotify/path-socket", test_path_socket);
  g_test_add_func("/sdnotify/abstract-socket", test_abstract_socket);
  g_test_add_func("/sdnotify/watchdog-usec", test_watchdog_usec);
  g_test_add_func("/sdnotify/watchdog-timer", test_watchdog_timer);
  return g_test_run();
}
