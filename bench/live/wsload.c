/* wsload: N WebSocket viewers of one vigil camera that read and discard, for
 * the fan-out benchmark (bench/live/run.py). Prints total bytes received and
 * the slowest viewer's bytes once per second. Its own CPU time is measured
 * apart from vigil's by the driver script.
 *
 *   wsload HOST PORT PATH BASIC_TOKEN N SECONDS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  if (argc != 7) {
    fprintf(stderr, "usage: wsload HOST PORT PATH BASIC_TOKEN N SECONDS\n");
    return 2;
  }
  int n = atoi(argv[5]);
  double seconds = atof(argv[6]);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  char req[1024];
  snprintf(req, sizeof req,
           "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "Authorization: Basic %s\r\n\r\n",
           argv[3], argv[1], argv[2], argv[4]);
  int ep = epoll_create1(0);
  long long *got = calloc(n, sizeof *got);
  int *fds = calloc(n, sizeof *fds);
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
      perror("connect");
      return 1;
    }
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
      perror("write");
      return 1;
    }
    /* Read the 101 response (small; the stream follows). */
    char head[4096];
    ssize_t r = read(fd, head, sizeof head - 1);
    if (r <= 0 || strncmp(head, "HTTP/1.1 101", 12) != 0) {
      fprintf(stderr, "viewer %d: no 101\n", i);
      return 1;
    }
    got[i] = r;
    fds[i] = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  static char buf[1 << 18];
  struct epoll_event evs[256];
  double start = now(), next = start + 1;
  while (now() - start < seconds) {
    int k = epoll_wait(ep, evs, 256, 100);
    for (int j = 0; j < k; j++) {
      int i = evs[j].data.u32;
      ssize_t r = read(fds[i], buf, sizeof buf);
      if (r > 0)
        got[i] += r;
      else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        fprintf(stderr, "viewer %d closed\n", i);
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
      }
    }
    if (now() >= next) {
      long long total = 0, min = -1;
      for (int i = 0; i < n; i++) {
        total += got[i];
        if (min < 0 || got[i] < min)
          min = got[i];
      }
      printf("%.1f total %lld min %lld\n", now() - start, total, min);
      fflush(stdout);
      next += 1;
    }
  }
  return 0;
}
