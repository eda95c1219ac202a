/* Tests for config/source: which URLs are accepted, their kind, masking of
 * secrets, and that no error message ever carries a password. */
#include <string.h>

#include "config/source.h"
#include "core/error.h"

static void test_valid(void)
{
  static const struct {
    const char *url;
    VigilSourceKind kind;
  } cases[] = {
      {"rtsp://192.0.2.10:554/stream1", VIGIL_SOURCE_RTSP},
      {"rtsp://192.0.2.10/stream1", VIGIL_SOURCE_RTSP},
      {"rtsp://camera.local", VIGIL_SOURCE_RTSP},
      {"rtsp://cam_1.lan:8554/", VIGIL_SOURCE_RTSP},
      {"RTSP://192.0.2.10/Streaming/Channels/101", VIGIL_SOURCE_RTSP},
      {"rtsp://admin:secret@10.0.0.1/x", VIGIL_SOURCE_RTSP},
      {"rtsp://admin@10.0.0.1/x", VIGIL_SOURCE_RTSP},
      {"rtsp://admin:p%40ss@10.0.0.1/x", VIGIL_SOURCE_RTSP},
      {"rtsp://10.0.0.1/cam/realmonitor?channel=1&subtype=0", VIGIL_SOURCE_RTSP},
      {"rtsp://[2001:db8::1]:554/stream", VIGIL_SOURCE_RTSP},
      {"rtsp://[fe80::1%25eth0]/stream", VIGIL_SOURCE_RTSP},
      {"rtsp://10.0.0.1:65535/", VIGIL_SOURCE_RTSP},
      {"rtsp://10.0.0.1:1/", VIGIL_SOURCE_RTSP},
      {"rtsp://10.0.0.1/path@with-at", VIGIL_SOURCE_RTSP},
      {"rtsps://camera.example.com:322/live", VIGIL_SOURCE_RTSP},
      {"srt://192.0.2.5:9000", VIGIL_SOURCE_SRT},
      {"srt://0.0.0.0:9000?mode=listener", VIGIL_SOURCE_SRT},
      {"srt://192.0.2.5:9000?mode=caller&passphrase=0123456789&latency=200", VIGIL_SOURCE_SRT},
      {"srt://192.0.2.5:9000/", VIGIL_SOURCE_SRT},
      {"http://192.0.2.20/live/index.m3u8", VIGIL_SOURCE_HLS},
      {"https://example.com:8443/hls/cam.M3U8?token=abc", VIGIL_SOURCE_HLS},
      {"https://user:pw@example.com/a/b/playlist.m3u8", VIGIL_SOURCE_HLS},
      {"file:///var/lib/vigil/demo.mp4", VIGIL_SOURCE_FILE},
      {"file:///tmp/a.MKV", VIGIL_SOURCE_FILE},
      {"file:///tmp/a.ts", VIGIL_SOURCE_FILE},
      {"file:///tmp/a.m2ts", VIGIL_SOURCE_FILE},
      {"file:///tmp/a.mov", VIGIL_SOURCE_FILE},
      {"file://localhost/tmp/a.mp4", VIGIL_SOURCE_FILE},
      {"file:///tmp/my%20video.mp4", VIGIL_SOURCE_FILE},
      {"file:///does/not/exist/at/all.mp4", VIGIL_SOURCE_FILE}, /* no existence check */
      {"v4l2:///dev/video0", VIGIL_SOURCE_V4L2},
      {"v4l2:///dev/video12", VIGIL_SOURCE_V4L2},
      {"test://", VIGIL_SOURCE_TEST},
      {"test://smpte", VIGIL_SOURCE_TEST},
      {"test://checkers-1", VIGIL_SOURCE_TEST},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    VigilSourceKind kind = (VigilSourceKind)99;
    g_test_message("valid: %s", cases[i].url);
    g_assert_true(vigil_source_parse(cases[i].url, &kind, &error));
    g_assert_no_error(error);
    g_assert_cmpint(kind, ==, cases[i].kind);
  }
  /* kind may be NULL. */
  g_assert_true(vigil_source_parse("test://", NULL, NULL));
}

static void test_invalid(void)
{
  static const struct {
    const char *url;
    const char *message_part; /* a piece the message must contain */
  } cases[] = {
      {"", "empty"},
      {"ftp://192.0.2.1/x.mp4", "unsupported source scheme \"ftp\""},
      {"javascript:alert(1)", "unsupported source scheme \"javascript\""},
      {"HTTP://x/a.mp4", "m3u8"},
      {"192.0.2.10/stream1", "URL"},
      {"rtsp:192.0.2.10/stream1", "//"},
      {"://x", "URL"},
      {"rtsp://", "host"},
      {"rtsp:///stream", "host"},
      {"rtsp://:554/stream", "host"},
      {"rtsp://user:pw@/stream", "host"},
      {"rtsp://10.0.0.1:0/", "port"},
      {"rtsp://10.0.0.1:65536/", "port"},
      {"rtsp://10.0.0.1:99999999999999999999/", "port"},
      {"rtsp://10.0.0.1:/x", "port"},
      {"rtsp://10.0.0.1:-1/", "port"},
      {"rtsp://10.0.0.1:55a/", "port"},
      {"rtsp://fe80::1/x", "brackets"},
      {"rtsp://2001:db8::1:554/x", "brackets"},
      {"rtsp://[2001:db8::1/x", "IPv6"},
      {"rtsp://[xyz]/x", "IPv6"},
      {"rtsp://[::1%41]/x", "IPv6"},
      {"rtsp://[::1%25]/x", "IPv6"},
      {"rtsp://[::1%25e/th0]/x", "IPv6"},
      {"rtsp://[1234]/x", "IPv6"},
      {"rtsp://[]/x", "host"},
      {"rtsp://[::1]junk/x", "IPv6"},
      {"rtsp://ho%41st/x", "host"},
      {"rtsp://host name/x", "spaces"},
      {"rtsp://host/a b", "spaces"},
      {" rtsp://host/x", "spaces"},
      {"rtsp://host/x\n", "control"},
      {"rtsp://host/x\t", "control"},
      {"rtsp://host/\x7f", "control"},
      {"rtsp://h\xc3\xb6st/x", "ASCII"},
      {"rtsp://host/%zz", "escape"},
      {"rtsp://host/%4", "escape"},
      {"rtsp://host/%00", "%00"},
      {"rtsp://host/x#frag", "fragment"},
      {"rtsp://user:p@ss@host/x", "%40"},
      {"srt://192.0.2.5", "port"},
      {"srt://:9000?mode=listener", "host"},
      {"srt://user:pw@192.0.2.5:9000", "srt"},
      {"srt://192.0.2.5:9000/path", "srt"},
      {"http://192.0.2.20/live/index.mp4", "m3u8"},
      {"https://192.0.2.20/", "m3u8"},
      {"http://192.0.2.20/live.m3u8x", "m3u8"},
      {"file://relative/path.mp4", "file"},
      {"file:///tmp/a.avi", ".mp4"},
      {"file:///tmp/mp4", ".mp4"},
      {"file:///", "absolute"},
      {"file:/tmp/a.mp4", "file"},
      {"file://host.example/tmp/a.mp4", "local"},
      {"file:///tmp/a.mp4?x=1", "query"},
      {"file://user@localhost/tmp/a.mp4", "file"},
      {"v4l2:///dev/video", "v4l2"},
      {"v4l2:///dev/videoX", "v4l2"},
      {"v4l2:///dev/video1234", "v4l2"},
      {"v4l2:///dev/sda", "v4l2"},
      {"v4l2:///dev/video0/../sda", "v4l2"},
      {"v4l2://host/dev/video0", "v4l2"},
      {"v4l2:/dev/video0", "v4l2"},
      {"test://SMPTE", "test"},
      {"test://smpte/x", "test"},
      {"test://a:1", "test"},
      {"test:", "test"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    VigilSourceKind kind = (VigilSourceKind)99;
    g_autofree gchar *shown = g_strescape(cases[i].url, NULL);
    g_test_message("invalid: %s", shown);
    g_assert_false(vigil_source_parse(cases[i].url, &kind, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_test_message("  -> %s", error->message);
    g_assert_nonnull(strstr(error->message, cases[i].message_part));
    g_assert_cmpint(kind, ==, 99); /* untouched */
  }

  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_source_parse(NULL, NULL, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
}

static void test_length_limit(void)
{
  /* 2048 bytes is fine, 2049 is not. */
  GString *url = g_string_new("rtsp://192.0.2.10/");
  while (url->len < 2048)
    g_string_append_c(url, 'a');
  g_assert_true(vigil_source_parse(url->str, NULL, NULL));
  g_string_append_c(url, 'a');
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_source_parse(url->str, NULL, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "long"));
  g_string_free(url, TRUE);

  /* A long unknown scheme is not echoed back. */
  g_autofree gchar *long_scheme = g_strnfill(100, 'z');
  g_autofree gchar *url2 = g_strconcat(long_scheme, "://x", NULL);
  g_clear_error(&error);
  g_assert_false(vigil_source_parse(url2, NULL, &error));
  g_assert_null(strstr(error->message, long_scheme));
  g_assert_nonnull(strstr(error->message, "unsupported source scheme"));
}

static void test_mask(void)
{
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
      {"rtsp://admin:secret@10.0.0.1/x", "rtsp://admin:***@10.0.0.1/x"},
      {"rtsp://admin:secret@10.0.0.1:554/x?y=1", "rtsp://admin:***@10.0.0.1:554/x?y=1"},
      {"rtsp://admin@10.0.0.1/x", "rtsp://admin@10.0.0.1/x"},
      {"rtsp://:secret@10.0.0.1/x", "rtsp://:***@10.0.0.1/x"},
      {"rtsp://10.0.0.1/x", "rtsp://10.0.0.1/x"},
      {"rtsp://10.0.0.1:554/x", "rtsp://10.0.0.1:554/x"},
      {"rtsp://admin:se:cret@10.0.0.1/x", "rtsp://admin:***@10.0.0.1/x"},
      {"rtsp://admin:p@ss@10.0.0.1/x", "rtsp://admin:***@10.0.0.1/x"},
      /* '@' in the path only: nothing to mask. */
      {"rtsp://10.0.0.1/a@b", "rtsp://10.0.0.1/a@b"},
      {"rtsp://10.0.0.1:554/a@b", "rtsp://10.0.0.1:554/a@b"},
      {"rtsp://[::1]:554/a@b", "rtsp://[::1]:554/a@b"},
      /* A password holding an unencoded '/', '#' or '?': masked anyway. */
      {"rtsp://admin:pa/ss@10.0.0.1/x", "rtsp://admin:***@10.0.0.1/x"},
      {"rtsp://admin:pa#ss@10.0.0.1/x", "rtsp://admin:***@10.0.0.1/x"},
      {"rtsp://admin:pa?ss@10.0.0.1/x", "rtsp://admin:***@10.0.0.1/x"},
      /* Secret query parameters. */
      {"srt://192.0.2.5:9000?mode=caller&passphrase=0123456789",
       "srt://192.0.2.5:9000?mode=caller&passphrase=***"},
      {"srt://192.0.2.5:9000?Passphrase=abc&latency=200",
       "srt://192.0.2.5:9000?Passphrase=***&latency=200"},
      {"https://h/a.m3u8?token=abc&x=1#frag", "https://h/a.m3u8?token=***&x=1#frag"},
      {"https://h/a.m3u8?user=bob&PWD=x;key=y&secret=&keyframe=1",
       "https://h/a.m3u8?user=bob&PWD=***;key=***&secret=***&keyframe=1"},
      {"https://u:p@h/a.m3u8?password=z", "https://u:***@h/a.m3u8?password=***"},
      {"https://h/a.m3u8?token", "https://h/a.m3u8?token"},
      /* Garbage. */
      {"", ""},
      {"garbage", "garbage"},
      {"admin:secret@host", "admin:***@host"},
      {"not a url: user:pw@", "not a url:***@"},
      {"@@@", "@@@"},
      {"::::", "::::"},
      {"//:@", "//:***@"},
      {"?password=x", "?password=***"},
      {"ftp://u:pw@h/x", "ftp://u:***@h/x"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *masked = vigil_source_mask(cases[i].in);
    g_test_message("mask: %s -> %s", cases[i].in, masked);
    g_assert_cmpstr(masked, ==, cases[i].out);
  }
  g_assert_null(vigil_source_mask(NULL));
}

/* Masking and parsing arbitrary bytes never crash; masking never returns
 * NULL. */
static void test_mask_random(void)
{
  static const char alphabet[] = "rtsp:/@?#&=:%[]passwordtoken\x01\xff abc025.m3u8";
  GRand *rand = g_rand_new_with_seed(1234);
  for (int i = 0; i < 5000; i++) {
    int len = g_rand_int_range(rand, 0, 48);
    g_autofree gchar *s = g_malloc(len + 1);
    for (int j = 0; j < len; j++)
      s[j] = alphabet[g_rand_int_range(rand, 0, sizeof alphabet - 1)];
    s[len] = '\0';
    g_autofree gchar *masked = vigil_source_mask(s);
    g_assert_nonnull(masked);
    /* Masking is idempotent. */
    g_autofree gchar *twice = vigil_source_mask(masked);
    g_assert_cmpstr(twice, ==, masked);
    /* Parsing garbage never crashes and always explains a failure. */
    g_autoptr(GError) error = NULL;
    if (!vigil_source_parse(s, NULL, &error))
      g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_autofree gchar *path = vigil_source_local_path(s);
    (void)path;
  }
  g_rand_free(rand);
}

/* Whatever is wrong with a URL, its error message never shows the password. */
static void test_messages_hide_password(void)
{
  static const char *const bad[] = {
      "rtsp://admin:S3cr3tPw@10.0.0.1:0/x",
      "rtsp://admin:S3cr3tPw@10.0.0.1:99999/x",
      "rtsp://admin:S3cr3tPw@/x",
      "rtsp://admin:S3cr3tPw@ho st/x",
      "rtsp://admin:S3cr3tPw@host/x#y",
      "rtsp://admin:S3cr3tPw@host/%zz",
      "rtsp://admin:S3cr3tPw@fe80::1/x",
      "rtsp://admin:S3cr3tPw#@host/x",
      "rtsp://admin:S3cr3tPw/@host/x",
      "rtsp://admin:S3c@r3tPw@host/x",
      "rtsp://admin:S3cr3tPw@host/x\n",
      "rtsps://admin:S3cr3tPw@[zz]/x",
      "ftp://admin:S3cr3tPw@host/x",
      "srt://admin:S3cr3tPw@host:9000",
      "http://admin:S3cr3tPw@host/x.mp4",
      "file://admin:S3cr3tPw@localhost/x.mp4",
      "v4l2://admin:S3cr3tPw@/dev/video0",
      "test://admin:S3cr3tPw@x",
      "S3cr3tPw",
      "admin:S3cr3tPw@host",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree gchar *shown = g_strescape(bad[i], NULL);
    g_test_message("bad: %s", shown);
    g_assert_false(vigil_source_parse(bad[i], NULL, &error));
    g_assert_nonnull(error);
    g_test_message("  -> %s", error->message);
    g_assert_null(strstr(error->message, "S3cr3tPw"));
    g_assert_null(strstr(error->message, "S3c"));
    g_assert_null(strstr(error->message, "r3tPw"));
  }
}

static void test_local_path(void)
{
  static const struct {
    const char *url;
    const char *path;
  } cases[] = {
      {"file:///var/lib/vigil/demo.mp4", "/var/lib/vigil/demo.mp4"},
      {"file://localhost/tmp/a.mkv", "/tmp/a.mkv"},
      {"file:///tmp/my%20video.mp4", "/tmp/my video.mp4"},
      {"file:///tmp/vid%C3%A9o.mp4", "/tmp/vid\xc3\xa9o.mp4"},
      {"file:///tmp/a%2Fb.mp4", NULL}, /* an escaped '/' is refused */
      {"v4l2:///dev/video0", "/dev/video0"},
      {"rtsp://10.0.0.1/x.mp4", NULL},
      {"test://", NULL},
      {"file:///tmp/a.avi", NULL},
      {"garbage", NULL},
      {NULL, NULL},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *path = vigil_source_local_path(cases[i].url);
    g_assert_cmpstr(path, ==, cases[i].path);
  }
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/source/valid", test_valid);
  g_test_add_func("/source/invalid", test_invalid);
  g_test_add_func("/source/length-limit", test_length_limit);
  g_test_add_func("/source/mask", test_mask);
  g_test_add_func("/source/mask-random", test_mask_random);
  g_test_add_func("/source/messages-hide-password", test_messages_hide_password);
  g_test_add_func("/source/local-path", test_local_path);
  return g_test_run();
}
