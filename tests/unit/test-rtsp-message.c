/* RTSP messages and authentication (rtsp/message.c, rtsp/auth.c): what real
 * cameras answer, partial input, limits, the interleaved stream's framing,
 * and Digest responses against known-good values. */
#include <string.h>

#include "core/error.h"
#include "rtsp/rtsp.h"

/* A Hikvision-like answer to DESCRIBE without credentials: two challenges,
 * the Digest one first, and a Date with two blanks after the colon. */
static const char hik_401[] = "RTSP/1.0 401 Unauthorized\r\n"
                              "CSeq: 2\r\n"
                              "WWW-Authenticate: Digest realm=\"IP Camera(C6390)\", "
                              "nonce=\"4e5749a7b0c0d1e2f3a4b5c6d7e8f901\", stale=\"FALSE\"\r\n"
                              "WWW-Authenticate: Basic realm=\"IP Camera(C6390)\"\r\n"
                              "Date:  Tue, Jan 09 2024 10:00:00 GMT\r\n"
                              "\r\n";

static const char describe_sdp[] =
    "v=0\r\n"
    "o=- 1704794400000000 1 IN IP4 192.168.1.64\r\n"
    "s=Media Presentation\r\n"
    "e=NONE\r\n"
    "b=AS:5100\r\n"
    "t=0 0\r\n"
    "a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "b=AS:5000\r\n"
    "a=recvonly\r\n"
    "a=x-dimensions:1920,1080\r\n"
    "a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 profile-level-id=420029; packetization-mode=1; "
    "sprop-parameter-sets=Z00AKY2NQDwBE/LgLcBAQFAAAD6AAAw1CE=,aO44gA==\r\n";

/* The DESCRIBE answer, with the SDP above as its body. */
static gchar *describe_200(void)
{
  return g_strdup_printf("RTSP/1.0 200 OK\r\n"
                         "CSeq: 3\r\n"
                         "Content-Type: application/sdp\r\n"
                         "Content-Base: rtsp://192.168.1.64:554/Streaming/Channels/101/\r\n"
                         "Content-Length: %zu\r\n"
                         "\r\n"
                         "%s",
                         strlen(describe_sdp), describe_sdp);
}

/* A PLAY answer; the Session value has blanks around it. */
static const char play_200[] =
    "RTSP/1.0 200 OK\r\n"
    "CSeq: 5\r\n"
    "Session:   12345678;timeout=60  \r\n"
    "RTP-Info: url=rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1;"
    "seq=20480;rtptime=3215856012\r\n"
    "Date:  Tue, Jan 09 2024 10:00:01 GMT\r\n"
    "\r\n";

/* A request from the server, as some cameras send to check the client. */
static const char options_req[] = "OPTIONS * RTSP/1.0\r\n"
                                  "CSeq: 7\r\n"
                                  "\r\n";

static const char set_parameter_req[] = "SET_PARAMETER rtsp://x RTSP/1.0\r\n"
                                        "CSeq: 8\r\n"
                                        "Content-Type: text/parameters\r\n"
                                        "Content-Length: 9\r\n"
                                        "\r\n"
                                        "barparam\n";

/* An old server: LF line ends, no reason phrase. */
static const char bare_200[] = "RTSP/1.0 200\n"
                               "CSeq: 1\n"
                               "Public: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY\n"
                               "\n";

static gssize parse(const char *text, gsize len, VigilRtspMessage *m, GError **error)
{
  return vigil_rtsp_message_parse((const guint8 *)text, len, m, error);
}

/* @text parses whole to @len bytes, and every shorter prefix asks for more,
 * without an error and with nothing to clear; vigil_rtsp_next agrees. */
static void check_whole_and_partial(const char *text, gsize len)
{
  for (gsize cut = 0; cut < len; cut++) {
    VigilRtspMessage m;
    GError *error = NULL;
    memset(&m, 0x5a, sizeof m);
    g_assert_cmpint(parse(text, cut, &m, &error), ==, 0);
    g_assert_no_error(error);
    g_assert_null(m.headers);
    g_assert_null(m.reason);
    gsize length = 99;
    g_assert_cmpint(vigil_rtsp_next((const guint8 *)text, cut, &length, NULL), ==,
                    VIGIL_RTSP_NEXT_MORE);
    g_assert_cmpuint(length, ==, 0);
  }
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(text, len, &m, &error), ==, (gssize)len);
  g_assert_no_error(error);
  vigil_rtsp_message_clear(&m);
  gsize length = 0;
  g_assert_cmpint(vigil_rtsp_next((const guint8 *)text, len, &length, NULL), ==,
                  VIGIL_RTSP_NEXT_MESSAGE);
  g_assert_cmpuint(length, ==, len);
  /* Followed by the next message: only its own bytes. */
  g_autofree gchar *two = g_strconcat(text, "RTSP/1.0 200 OK\r\n\r\n", NULL);
  g_assert_cmpint(parse(two, strlen(two), &m, &error), ==, (gssize)len);
  vigil_rtsp_message_clear(&m);
}

static void test_hikvision_401(void)
{
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(hik_401, strlen(hik_401), &m, &error), ==, (gssize)strlen(hik_401));
  g_assert_no_error(error);
  g_assert_cmpint(m.status, ==, 401);
  g_assert_cmpstr(m.reason, ==, "Unauthorized");
  g_assert_null(m.method);
  g_assert_null(m.body);
  g_assert_cmpuint(m.headers->len, ==, 4);
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "cseq", 0), ==, "2");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "Date", 0), ==, "Tue, Jan 09 2024 10:00:00 GMT");
  const char *digest = vigil_rtsp_message_header(&m, "www-authenticate", 0);
  const char *basic = vigil_rtsp_message_header(&m, "WWW-AUTHENTICATE", 1);
  g_assert_nonnull(digest);
  g_assert_nonnull(basic);
  g_assert_null(vigil_rtsp_message_header(&m, "WWW-Authenticate", 2));
  g_assert_null(vigil_rtsp_message_header(&m, "Content-Length", 0));
  g_assert_cmpstr(g_array_index(m.headers, VigilRtspHeader, 2).name, ==, "WWW-Authenticate");

  VigilRtspChallenge c;
  g_assert_true(vigil_rtsp_challenge_parse(digest, &c));
  g_assert_true(c.digest);
  g_assert_cmpstr(c.realm, ==, "IP Camera(C6390)");
  g_assert_cmpstr(c.nonce, ==, "4e5749a7b0c0d1e2f3a4b5c6d7e8f901");
  g_assert_null(c.opaque);
  g_assert_null(c.algorithm);
  g_assert_false(c.qop_auth);
  g_assert_false(c.stale);
  /* No qop: response = MD5(HA1:nonce:HA2). Computed independently with
   *   python3 -c 'import hashlib; m = lambda s: hashlib.md5(s.encode()).hexdigest();
   *     print(m(m("admin:IP Camera(C6390):12345") + ":4e5749a7b0c0d1e2f3a4b5c6d7e8f901:"
   *       + m("DESCRIBE:rtsp://192.168.1.64:554/Streaming/Channels/101")))' */
  g_autofree gchar *answer =
      vigil_rtsp_authorization(&c, "admin", "12345", "DESCRIBE",
                               "rtsp://192.168.1.64:554/Streaming/Channels/101", 1, "0a4f113b");
  g_assert_cmpstr(answer, ==,
                  "Digest username=\"admin\", realm=\"IP Camera(C6390)\", "
                  "nonce=\"4e5749a7b0c0d1e2f3a4b5c6d7e8f901\", "
                  "uri=\"rtsp://192.168.1.64:554/Streaming/Channels/101\", "
                  "response=\"2173682a4cae467c7c2732b871125f1c\"");
  vigil_rtsp_challenge_clear(&c);

  g_assert_true(vigil_rtsp_challenge_parse(basic, &c));
  g_assert_false(c.digest);
  g_assert_cmpstr(c.realm, ==, "IP Camera(C6390)");
  g_autofree gchar *basic_answer =
      vigil_rtsp_authorization(&c, "admin", "12345", "DESCRIBE", "rtsp://x/", 1, NULL);
  g_assert_cmpstr(basic_answer, ==, "Basic YWRtaW46MTIzNDU=");
  vigil_rtsp_challenge_clear(&c);
  vigil_rtsp_message_clear(&m);
  /* Clearing twice is harmless. */
  vigil_rtsp_message_clear(&m);

  check_whole_and_partial(hik_401, strlen(hik_401));
}

static void test_describe(void)
{
  g_autofree gchar *text = describe_200();
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(text, strlen(text), &m, &error), ==, (gssize)strlen(text));
  g_assert_cmpint(m.status, ==, 200);
  g_assert_cmpstr(m.reason, ==, "OK");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "content-base", 0), ==,
                  "rtsp://192.168.1.64:554/Streaming/Channels/101/");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "Content-Type", 0), ==, "application/sdp");
  g_assert_nonnull(m.body);
  gsize size;
  const void *body = g_bytes_get_data(m.body, &size);
  g_assert_cmpmem(body, size, describe_sdp, strlen(describe_sdp));
  vigil_rtsp_message_clear(&m);
  g_assert_null(m.body);
  g_assert_null(m.headers);

  check_whole_and_partial(text, strlen(text));
}

static void test_play(void)
{
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(play_200, strlen(play_200), &m, &error), ==, (gssize)strlen(play_200));
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "session", 0), ==, "12345678;timeout=60");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "RTP-INFO", 0), ==,
                  "url=rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1;"
                  "seq=20480;rtptime=3215856012");
  vigil_rtsp_message_clear(&m);
  check_whole_and_partial(play_200, strlen(play_200));
}

static void test_lf_no_reason(void)
{
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(bare_200, strlen(bare_200), &m, &error), ==, (gssize)strlen(bare_200));
  g_assert_cmpint(m.status, ==, 200);
  g_assert_cmpstr(m.reason, ==, "");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "public", 0), ==,
                  "OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY");
  vigil_rtsp_message_clear(&m);
  check_whole_and_partial(bare_200, strlen(bare_200));

  /* A blank after the code, a reason with blanks and mixed line ends. */
  const char *mixed = "RTSP/1.0 454 Session Not Found \nCSeq: 4\r\n\n";
  g_assert_cmpint(parse(mixed, strlen(mixed), &m, &error), ==, (gssize)strlen(mixed));
  g_assert_cmpint(m.status, ==, 454);
  g_assert_cmpstr(m.reason, ==, "Session Not Found");
  vigil_rtsp_message_clear(&m);
  const char *blank = "RTSP/1.0 200 \r\n\r\n";
  g_assert_cmpint(parse(blank, strlen(blank), &m, &error), ==, (gssize)strlen(blank));
  g_assert_cmpstr(m.reason, ==, "");
  g_assert_cmpuint(m.headers->len, ==, 0);
  vigil_rtsp_message_clear(&m);
}

static void test_requests(void)
{
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(options_req, strlen(options_req), &m, &error), ==,
                  (gssize)strlen(options_req));
  g_assert_cmpint(m.status, ==, 0);
  g_assert_cmpstr(m.method, ==, "OPTIONS");
  g_assert_cmpstr(m.reason, ==, "");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "CSeq", 0), ==, "7");
  vigil_rtsp_message_clear(&m);
  check_whole_and_partial(options_req, strlen(options_req));

  g_assert_cmpint(parse(set_parameter_req, strlen(set_parameter_req), &m, &error), ==,
                  (gssize)strlen(set_parameter_req));
  g_assert_cmpint(m.status, ==, 0);
  g_assert_cmpstr(m.method, ==, "SET_PARAMETER");
  g_assert_cmpmem(g_bytes_get_data(m.body, NULL), g_bytes_get_size(m.body), "barparam\n", 9);
  vigil_rtsp_message_clear(&m);
  check_whole_and_partial(set_parameter_req, strlen(set_parameter_req));
}

/* Header lines that are not quite right are skipped or tidied, not fatal. */
static void test_odd_headers(void)
{
  const char *text = "RTSP/1.0 200 OK\r\n"
                     "CSeq : 9\r\n"
                     "no colon here\r\n"
                     " folded continuation\r\n"
                     ": no name\r\n"
                     "X-Empty:\r\n"
                     "x-upper:\tA b \t\r\n"
                     "Content-Length: 0\r\n"
                     "\r\n";
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(text, strlen(text), &m, &error), ==, (gssize)strlen(text));
  g_assert_cmpuint(m.headers->len, ==, 4);
  g_assert_cmpstr(g_array_index(m.headers, VigilRtspHeader, 0).name, ==, "CSeq");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "cseq", 0), ==, "9");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "x-empty", 0), ==, "");
  g_assert_cmpstr(vigil_rtsp_message_header(&m, "X-UPPER", 0), ==, "A b");
  /* Content-Length 0: no body. */
  g_assert_null(m.body);
  vigil_rtsp_message_clear(&m);

  /* The same Content-Length twice is no conflict. */
  const char *twice = "RTSP/1.0 200 OK\r\nContent-Length: 2\r\ncontent-length:  2 \r\n\r\nhi";
  g_assert_cmpint(parse(twice, strlen(twice), &m, &error), ==, (gssize)strlen(twice));
  g_assert_cmpuint(g_bytes_get_size(m.body), ==, 2);
  vigil_rtsp_message_clear(&m);
}

/* Fails with VIGIL_ERROR_INVALID and a short message without control bytes. */
static void check_invalid(const char *text, gsize len)
{
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(text, len, &m, &error), ==, -1);
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_cmpuint(strlen(error->message), <, 120);
  for (const char *c = error->message; *c; c++)
    g_assert_true(g_ascii_isprint(*c));
  g_assert_null(m.headers);
  g_assert_null(m.reason);
  g_assert_null(m.method);
  vigil_rtsp_message_clear(&m);
}

static void test_invalid(void)
{
  static const char *const bad[] = {
      "HTTP/1.1 200 OK\r\n\r\n",
      "RTSP/1.0 20 OK\r\n\r\n",
      "RTSP/1.0 2000 OK\r\n\r\n",
      "RTSP/1.0 000 OK\r\n\r\n",
      "RTSP/1.0 020 OK\r\n\r\n",
      "RTSP/1.0200 OK\r\n\r\n",
      "RTSP/1.0 200OK\r\n\r\n",
      "RTSP/ 200 OK\r\n\r\n",
      "RTSP/1 200 OK\r\n\r\n",
      "rtsp/1.0 200 OK\r\n\r\n",
      "\r\nRTSP/1.0 200 OK\r\n\r\n",
      "RTSP/1.0 200 O\x01K\r\n\r\n",
      "RTSP/1.0 200 O\rK\r\n\r\n",
      "RTSP/1.0 200 OK\r\nX: a\rb\r\n\r\n",
      "RTSP/1.0 200 OK\r\nX: a\x1b[31m\r\n\r\n",
      "OPTIONS\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\n\r\n",
      "OPTIONS  RTSP/1.0\r\n\r\n",
      "options * RTSP/1.0\r\n\r\n",
      "OPTIONS * RTSP/1.0 extra\r\n\r\n",
      /* Enough to tell at once, without waiting for the line to end. */
      "HTTP/",
      "RTSP/x",
      "OPTIONS\t*\tRTSP/1.0\r\x01",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_test_message("bad: %u", i);
    check_invalid(bad[i], strlen(bad[i]));
  }
  /* A NUL in a header. */
  static const char nul[] = "RTSP/1.0 200 OK\r\nCSeq: 1\0\r\n\r\n";
  check_invalid(nul, sizeof nul - 1);

  /* The message quotes a little of the first line, never all of it. */
  g_autofree gchar *long_line = g_strnfill(10000, 'x');
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(long_line, strlen(long_line), &m, &error), ==, -1);
  g_assert_nonnull(strstr(error->message, "not an RTSP message"));
  check_invalid(long_line, strlen(long_line));
}

static void test_content_length(void)
{
  static const char *const bad[] = {"-1",
                                    "abc",
                                    "",
                                    "1 2",
                                    "+5",
                                    "0x10",
                                    "1.5",
                                    "18446744073709551616",
                                    "99999999999999999999999999999999",
                                    "1048577"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree gchar *text =
        g_strdup_printf("RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Length: %s\r\n\r\n", bad[i]);
    g_test_message("Content-Length: \"%s\"", bad[i]);
    check_invalid(text, strlen(text));
    gsize length = 0;
    g_assert_cmpint(vigil_rtsp_next((const guint8 *)text, strlen(text), &length, NULL), ==,
                    VIGIL_RTSP_NEXT_GARBAGE);
    g_assert_cmpuint(length, ==, 1);
  }
  const char *conflict = "RTSP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc";
  check_invalid(conflict, strlen(conflict));
}

static void test_limits(void)
{
  /* Headers of exactly VIGIL_RTSP_MAX_HEADER bytes, blank line included. */
  const char *head = "RTSP/1.0 200 OK\r\nX-Pad: ", *tail = "\r\n\r\n";
  gsize pad = VIGIL_RTSP_MAX_HEADER - strlen(head) - strlen(tail);
  g_autofree gchar *padding = g_strnfill(pad, 'p');
  g_autofree gchar *fits = g_strconcat(head, padding, tail, NULL);
  g_assert_cmpuint(strlen(fits), ==, VIGIL_RTSP_MAX_HEADER);
  VigilRtspMessage m;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(parse(fits, strlen(fits), &m, &error), ==, VIGIL_RTSP_MAX_HEADER);
  vigil_rtsp_message_clear(&m);
  /* One byte more is too much, known as soon as that many bytes are in. */
  g_autofree gchar *over = g_strconcat(head, padding, "p", tail, NULL);
  check_invalid(over, strlen(over));
  check_invalid(over, VIGIL_RTSP_MAX_HEADER);
  g_assert_cmpint(parse(over, VIGIL_RTSP_MAX_HEADER - 1, &m, &error), ==, 0);
  g_assert_no_error(error);
  gsize length = 0;
  g_assert_cmpint(vigil_rtsp_next((const guint8 *)over, strlen(over), &length, NULL), ==,
                  VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 1);
  /* A first line alone that never ends. */
  g_autofree gchar *endless = g_strconcat("RTSP/1.0 200 ", padding, padding, NULL);
  check_invalid(endless, strlen(endless));

  /* A body of exactly VIGIL_RTSP_MAX_BODY bytes. */
  g_autofree gchar *big_head =
      g_strdup_printf("RTSP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n", VIGIL_RTSP_MAX_BODY);
  gsize big_len = strlen(big_head) + VIGIL_RTSP_MAX_BODY;
  g_autofree guint8 *big = g_malloc0(big_len);
  memcpy(big, big_head, strlen(big_head));
  g_assert_cmpint(vigil_rtsp_message_parse(big, big_len - 1, &m, &error), ==, 0);
  g_assert_cmpint(vigil_rtsp_message_parse(big, big_len, &m, &error), ==, (gssize)big_len);
  g_assert_cmpuint(g_bytes_get_size(m.body), ==, VIGIL_RTSP_MAX_BODY);
  vigil_rtsp_message_clear(&m);
  g_assert_cmpint(vigil_rtsp_next(big, big_len, &length, NULL), ==, VIGIL_RTSP_NEXT_MESSAGE);
  g_assert_cmpuint(length, ==, big_len);
}

static VigilRtspNext next(const char *text, gsize len, gsize *length, guint8 *channel)
{
  return vigil_rtsp_next((const guint8 *)text, len, length, channel);
}

static void test_next_pieces(void)
{
  gsize length;
  guint8 channel;
  /* Beginnings of something: read more. */
  static const char *const more[] = {"R",          "RT", "RTS",     "RTSP",     "RTSP/",
                                     "RTSP/1.0 2", "O",  "OPTIONS", "OPTIONS ", "OPTIONS * R"};
  for (guint i = 0; i < G_N_ELEMENTS(more); i++) {
    g_test_message("more: %s", more[i]);
    g_assert_cmpint(next(more[i], strlen(more[i]), &length, &channel), ==, VIGIL_RTSP_NEXT_MORE);
  }
  g_assert_cmpint(next("", 0, &length, &channel), ==, VIGIL_RTSP_NEXT_MORE);
  g_assert_cmpint(next("$", 1, &length, &channel), ==, VIGIL_RTSP_NEXT_MORE);
  g_assert_cmpint(next("$\x00", 2, &length, &channel), ==, VIGIL_RTSP_NEXT_MORE);
  g_assert_cmpint(next("$\x00\x00", 3, &length, &channel), ==, VIGIL_RTSP_NEXT_MORE);
  g_assert_cmpint(next("$\x01\x00\x05"
                       "abcd",
                       8, &length, &channel),
                  ==, VIGIL_RTSP_NEXT_MORE);
  g_assert_cmpuint(length, ==, 0);

  g_assert_cmpint(next("$\x00\x00\x00", 4, &length, &channel), ==, VIGIL_RTSP_NEXT_FRAME);
  g_assert_cmpuint(length, ==, 4);
  g_assert_cmpuint(channel, ==, 0);
  g_assert_cmpint(next("$\x03\x00\x03"
                       "abcXYZ",
                       10, &length, &channel),
                  ==, VIGIL_RTSP_NEXT_FRAME);
  g_assert_cmpuint(length, ==, 7);
  g_assert_cmpuint(channel, ==, 3);

  /* Garbage up to the next thing that may start something. */
  g_assert_cmpint(next("\r\n$\x00\x00\x00", 6, &length, &channel), ==, VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 2);
  g_assert_cmpint(next("xyzRTSP/1.0 200 OK\r\n", 20, &length, &channel), ==,
                  VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 3);
  g_assert_cmpint(next("xyzRT", 5, &length, &channel), ==, VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 3);
  g_assert_cmpint(next("xyz", 3, &length, &channel), ==, VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 3);
  g_assert_cmpint(next("\x80\x60\x12\x34", 4, &length, &channel), ==, VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 4);
  /* A stray CRLF before the server's own request keeps the request. */
  g_assert_cmpint(next("\r\nOPTIONS * RTSP/1.0\r\n\r\n", 24, &length, &channel), ==,
                  VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 2);
  g_assert_cmpint(next("HTTP/1.0 200 OK\r\n\r\n", 19, &length, &channel), ==,
                  VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 19);
  /* Capitals that never reach a blank are no method. */
  g_assert_cmpint(next("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ", 36, &length, &channel), ==,
                  VIGIL_RTSP_NEXT_GARBAGE);
  /* A body over the limit: one byte, then look again. */
  const char *huge = "RTSP/1.0 200 OK\r\nContent-Length: 2000000\r\n\r\n";
  g_assert_cmpint(next(huge, strlen(huge), &length, &channel), ==, VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, ==, 1);
  g_assert_cmpint(next(huge + 1, strlen(huge) - 1, &length, &channel), ==, VIGIL_RTSP_NEXT_GARBAGE);
  g_assert_cmpuint(length, >=, 1);
  /* NULL out-parameters are allowed. */
  g_assert_cmpint(next("$\x00\x00\x00", 4, NULL, NULL), ==, VIGIL_RTSP_NEXT_FRAME);
}

typedef struct {
  VigilRtspNext kind;
  gsize length;
  guint8 channel;
} Event;

static void add_frame(GByteArray *stream, GArray *events, guint8 channel, gsize payload)
{
  guint8 head[4] = {'$', channel, (guint8)(payload >> 8), (guint8)payload};
  g_byte_array_append(stream, head, 4);
  for (gsize i = 0; i < payload; i++) {
    /* RTP-looking bytes, with a '$' and "RTSP/" inside to be ignored. */
    guint8 b = i % 50 == 7 ? '$' : (guint8)(0x80 + i);
    g_byte_array_append(stream, &b, 1);
  }
  if (payload > 20)
    memcpy(stream->data + stream->len - 10, "RTSP/1.0 2", 10);
  Event e = {VIGIL_RTSP_NEXT_FRAME, 4 + payload, channel};
  g_array_append_val(events, e);
}

static void add_bytes(GByteArray *stream, GArray *events, VigilRtspNext kind, const char *bytes,
                      gsize len)
{
  g_byte_array_append(stream, (const guint8 *)bytes, (guint)len);
  Event e = {kind, len, 0};
  g_array_append_val(events, e);
}

/* Reads @stream @chunk bytes at a time as the client does: split what is
 * buffered, keep the rest. Consecutive garbage is reported as one event, as
 * its pieces depend on where the reads end. */
static GArray *read_stream(const GByteArray *stream, gsize chunk)
{
  GArray *events = g_array_new(FALSE, FALSE, sizeof(Event));
  g_autoptr(GByteArray) buffer = g_byte_array_new();
  for (gsize pos = 0; pos < stream->len;) {
    gsize take = MIN(chunk, stream->len - pos);
    g_byte_array_append(buffer, stream->data + pos, (guint)take);
    pos += take;
    for (;;) {
      gsize length = 0;
      guint8 channel = 0;
      VigilRtspNext kind = vigil_rtsp_next(buffer->data, buffer->len, &length, &channel);
      if (kind == VIGIL_RTSP_NEXT_MORE)
        break;
      g_assert_cmpuint(length, >=, 1);
      g_assert_cmpuint(length, <=, buffer->len);
      if (kind == VIGIL_RTSP_NEXT_MESSAGE) {
        VigilRtspMessage m;
        g_autoptr(GError) error = NULL;
        g_assert_cmpint(vigil_rtsp_message_parse(buffer->data, length, &m, &error), ==,
                        (gssize)length);
        vigil_rtsp_message_clear(&m);
      }
      Event *last = events->len ? &g_array_index(events, Event, events->len - 1) : NULL;
      if (kind == VIGIL_RTSP_NEXT_GARBAGE && last && last->kind == VIGIL_RTSP_NEXT_GARBAGE) {
        last->length += length;
      } else {
        Event e = {kind, length, channel};
        g_array_append_val(events, e);
      }
      g_byte_array_remove_range(buffer, 0, (guint)length);
    }
  }
  /* Everything was complete: nothing left over. */
  g_assert_cmpuint(buffer->len, ==, 0);
  return events;
}

static void test_next_stream(void)
{
  g_autoptr(GByteArray) stream = g_byte_array_new();
  g_autoptr(GArray) expected = g_array_new(FALSE, FALSE, sizeof(Event));
  g_autofree gchar *describe = describe_200();
  add_frame(stream, expected, 0, 100);
  add_bytes(stream, expected, VIGIL_RTSP_NEXT_MESSAGE, hik_401, strlen(hik_401));
  add_frame(stream, expected, 1, 12);
  add_bytes(stream, expected, VIGIL_RTSP_NEXT_GARBAGE, "\r\n", 2);
  add_bytes(stream, expected, VIGIL_RTSP_NEXT_MESSAGE, describe, strlen(describe));
  add_frame(stream, expected, 0, 0);
  add_bytes(stream, expected, VIGIL_RTSP_NEXT_GARBAGE, "\x00\x01junk", 6);
  add_frame(stream, expected, 2, 1400);
  add_bytes(stream, expected, VIGIL_RTSP_NEXT_GARBAGE, "\r\n", 2);
  add_bytes(stream, expected, VIGIL_RTSP_NEXT_MESSAGE, options_req, strlen(options_req));
  add_bytes(stream, expected, VIGIL_RTSP_NEXT_MESSAGE, play_200, strlen(play_200));
  add_frame(stream, expected, 0, 3);

  static const gsize chunks[] = {1, 2, 3, 5, 7, 64, 1000, 100000};
  for (guint c = 0; c < G_N_ELEMENTS(chunks); c++) {
    g_test_message("reads of %zu bytes", chunks[c]);
    g_autoptr(GArray) got = read_stream(stream, chunks[c]);
    g_assert_cmpuint(got->len, ==, expected->len);
    for (guint i = 0; i < got->len; i++) {
      Event *a = &g_array_index(got, Event, i), *b = &g_array_index(expected, Event, i);
      g_assert_cmpint(a->kind, ==, b->kind);
      g_assert_cmpuint(a->length, ==, b->length);
      g_assert_cmpuint(a->channel, ==, b->channel);
    }
  }
}

/* RFC 2617 section 3.5, the only published Digest example. */
static void test_digest_rfc2617(void)
{
  VigilRtspChallenge c;
  g_assert_true(
      vigil_rtsp_challenge_parse("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                                 "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                                 "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
                                 &c));
  g_assert_true(c.digest);
  g_assert_true(c.qop_auth);
  g_assert_cmpstr(c.opaque, ==, "5ccc069c403ebaf9f0171e9517f40e41");
  g_autofree gchar *answer = vigil_rtsp_authorization(&c, "Mufasa", "Circle Of Life", "GET",
                                                      "/dir/index.html", 1, "0a4f113b");
  g_assert_cmpstr(answer, ==,
                  "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                  "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                  "response=\"6629fae49393a05397450978507c4ef1\", "
                  "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001, "
                  "cnonce=\"0a4f113b\"");
  vigil_rtsp_challenge_clear(&c);
}

static void test_digest_md5_sess(void)
{
  /* Names and scheme in odd case, a bare nonce. The response was computed
   * with python3's hashlib:
   *   ha1 = m(m("admin:IP Camera(C6390):12345") + ":4e5749a7b0c0d1e2f3a4b5c6d7e8f901:0a4f113b")
   *   ha2 = m("DESCRIBE:rtsp://192.168.1.64:554/Streaming/Channels/101")
   *   m(ha1 + ":4e5749a7b0c0d1e2f3a4b5c6d7e8f901:00000002:0a4f113b:auth:" + ha2) */
  VigilRtspChallenge c;
  g_assert_true(vigil_rtsp_challenge_parse("digest REALM=\"IP Camera(C6390)\", "
                                           "NONCE=4e5749a7b0c0d1e2f3a4b5c6d7e8f901 , "
                                           "Algorithm=md5-sess,QOP=\"auth\"",
                                           &c));
  g_assert_cmpstr(c.nonce, ==, "4e5749a7b0c0d1e2f3a4b5c6d7e8f901");
  g_assert_cmpstr(c.algorithm, ==, "md5-sess");
  g_autofree gchar *answer =
      vigil_rtsp_authorization(&c, "admin", "12345", "DESCRIBE",
                               "rtsp://192.168.1.64:554/Streaming/Channels/101", 2, "0a4f113b");
  g_assert_cmpstr(answer, ==,
                  "Digest username=\"admin\", realm=\"IP Camera(C6390)\", "
                  "nonce=\"4e5749a7b0c0d1e2f3a4b5c6d7e8f901\", "
                  "uri=\"rtsp://192.168.1.64:554/Streaming/Channels/101\", "
                  "response=\"de36c6eabfae716cb8cedb0954970886\", algorithm=md5-sess, "
                  "qop=auth, nc=00000002, cnonce=\"0a4f113b\"");
  vigil_rtsp_challenge_clear(&c);
}

static void test_basic(void)
{
  VigilRtspChallenge c;
  g_assert_true(vigil_rtsp_challenge_parse("Basic realm=\"WallyWorld\"", &c));
  g_assert_false(c.digest);
  g_autofree gchar *answer =
      vigil_rtsp_authorization(&c, "Aladdin", "open sesame", "OPTIONS", "*", 1, NULL);
  g_assert_cmpstr(answer, ==, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  vigil_rtsp_challenge_clear(&c);
  /* Without a realm, in lower case, with blanks. */
  g_assert_true(vigil_rtsp_challenge_parse("  basic", &c));
  g_assert_false(c.digest);
  g_assert_null(c.realm);
  vigil_rtsp_challenge_clear(&c);
}

static void test_challenge_edges(void)
{
  VigilRtspChallenge c;
  /* Escaped quotes and commas inside quotes; a bare value; stale. */
  g_assert_true(vigil_rtsp_challenge_parse(
      "Digest realm=\"a \\\"quoted\\\", with, commas\", nonce=abc , opaque=\"o\\\\p\", "
      "stale=TRUE, qop=\"auth-int\"",
      &c));
  g_assert_cmpstr(c.realm, ==, "a \"quoted\", with, commas");
  g_assert_cmpstr(c.nonce, ==, "abc");
  g_assert_cmpstr(c.opaque, ==, "o\\p");
  g_assert_true(c.stale);
  g_assert_false(c.qop_auth);
  g_autofree gchar *answer =
      vigil_rtsp_authorization(&c, "u\"s", "p", "PLAY", "rtsp://h/", 1, NULL);
  g_assert_nonnull(strstr(answer, "username=\"u\\\"s\""));
  g_assert_nonnull(strstr(answer, "realm=\"a \\\"quoted\\\", with, commas\""));
  g_assert_nonnull(strstr(answer, "opaque=\"o\\\\p\""));
  g_assert_null(strstr(answer, "qop"));
  vigil_rtsp_challenge_clear(&c);

  /* An algorithm this client does not know: parsed, but not answered. */
  g_assert_true(
      vigil_rtsp_challenge_parse("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256", &c));
  g_assert_cmpstr(c.algorithm, ==, "SHA-256");
  g_assert_null(vigil_rtsp_authorization(&c, "u", "p", "DESCRIBE", "rtsp://h/", 1, "c"));
  vigil_rtsp_challenge_clear(&c);
  g_assert_true(
      vigil_rtsp_challenge_parse("Digest realm=\"r\", nonce=\"n\", algorithm=\"MD5\"", &c));
  g_autofree gchar *md5 = vigil_rtsp_authorization(&c, "u", "p", "DESCRIBE", "rtsp://h/", 1, "c");
  g_assert_nonnull(strstr(md5, ", algorithm=MD5"));
  vigil_rtsp_challenge_clear(&c);

  /* A nonce that would break the request's header line. */
  g_assert_true(vigil_rtsp_challenge_parse("Digest realm=\"r\", nonce=\"n\r\nX-Evil: 1\"", &c));
  g_assert_null(vigil_rtsp_authorization(&c, "u", "p", "DESCRIBE", "rtsp://h/", 1, "c"));
  vigil_rtsp_challenge_clear(&c);

  /* Two challenges in one value: the first is taken. */
  g_assert_true(
      vigil_rtsp_challenge_parse("Basic realm=\"a\", Digest realm=\"b\", nonce=\"n\"", &c));
  g_assert_false(c.digest);
  g_assert_cmpstr(c.realm, ==, "a");
  vigil_rtsp_challenge_clear(&c);

  /* An unterminated quote runs to the end; a repeated name keeps its first. */
  g_assert_true(vigil_rtsp_challenge_parse("Digest nonce=\"first\", nonce=\"second", &c));
  g_assert_cmpstr(c.nonce, ==, "first");
  g_assert_null(c.realm);
  vigil_rtsp_challenge_clear(&c);
  g_assert_true(vigil_rtsp_challenge_parse("Digest nonce=\"abc", &c));
  g_assert_cmpstr(c.nonce, ==, "abc");
  vigil_rtsp_challenge_clear(&c);

  static const char *const refused[] = {"",
                                        "   ",
                                        "Bearer realm=\"x\"",
                                        "Digest realm=\"x\"",
                                        "Digest",
                                        "Digestive nonce=x",
                                        "NTLM",
                                        "Digest nonce"};
  for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_test_message("refused: %s", refused[i]);
    g_assert_false(vigil_rtsp_challenge_parse(refused[i], &c));
    vigil_rtsp_challenge_clear(&c);
  }
  g_assert_false(vigil_rtsp_challenge_parse(NULL, &c));
  vigil_rtsp_challenge_clear(&c);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtsp-message/hikvision-401", test_hikvision_401);
  g_test_add_func("/rtsp-message/describe", test_describe);
  g_test_add_func("/rtsp-message/play", test_play);
  g_test_add_func("/rtsp-message/lf-no-reason", test_lf_no_reason);
  g_test_add_func("/rtsp-message/requests", test_requests);
  g_test_add_func("/rtsp-message/odd-headers", test_odd_headers);
  g_test_add_func("/rtsp-message/invalid", test_invalid);
  g_test_add_func("/rtsp-message/content-length", test_content_length);
  g_test_add_func("/rtsp-message/limits", test_limits);
  g_test_add_func("/rtsp-next/pieces", test_next_pieces);
  g_test_add_func("/rtsp-next/stream", test_next_stream);
  g_test_add_func("/rtsp-auth/digest-rfc2617", test_digest_rfc2617);
  g_test_add_func("/rtsp-auth/digest-md5-sess", test_digest_md5_sess);
  g_test_add_func("/rtsp-auth/basic", test_basic);
  g_test_add_func("/rtsp-auth/challenge-edges", test_challenge_edges);
  return g_test_run();
}
