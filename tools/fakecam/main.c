/* vigil-fakecam: synthetic RTSP cameras for demos, tests and benchmarks.
 * This file parses the command line, encodes each distinct scene once (at the
 * main and the sub size), mounts rtsp://ADDR:PORT/camN and camN_sub and runs
 * until SIGINT/SIGTERM. */
#define G_LOG_DOMAIN "vigil-fakecam"

#include <glib-unix.h>
#include <gst/gst.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encode.h"
#include "onvif.h"
#include "ptz.h"
#include "scenes.h"
#include "server.h"
#include "vigil-config.h"
#include "wsd.h"

#define EXIT_USAGE 2

typedef struct {
  int port, cameras, fps, bitrate, sub_bitrate, onvif_port, onvif_clock_offset;
  double gop, loop;
  char *size, *sub_size, *codec, *user, *address, *tls, *onvif_discovery_interface, *onvif_name;
  char *onvif_motion_schedule, *onvif_media;
  gboolean onvif_no_events;
  char **scenes;
  gboolean audio, no_sub, version, ptz, ptz_no_relative;
} Options;

static void options_clear(Options *o)
{
  g_free(o->size);
  g_free(o->sub_size);
  g_free(o->codec);
  g_free(o->user);
  g_free(o->tls);
  g_free(o->address);
  g_free(o->onvif_discovery_interface);
  g_free(o->onvif_name);
  g_free(o->onvif_motion_schedule);
  g_free(o->onvif_media);
  g_strfreev(o->scenes);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

static G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN void usage_error(const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *msg = g_strdup_vprintf(format, args);
  va_end(args);
  g_printerr("vigil-fakecam: %s (see --help)\n", msg);
  exit(EXIT_USAGE);
}

/* One scene encoded at both sizes; cameras showing it share these. */
typedef struct {
  VigilClip *main;
  VigilClip *sub; /* NULL with --no-sub */
} SceneClips;

static void scene_clips_free(SceneClips *clips)
{
  vigil_clip_unref(clips->main);
  vigil_clip_unref(clips->sub);
  g_free(clips);
}

static gboolean parse_size(const char *text, int *width, int *height)
{
  char *end = NULL;
  gint64 w = g_ascii_strtoll(text, &end, 10);
  if (end == text || (*end != 'x' && *end != 'X'))
    return FALSE;
  const char *h_text = end + 1;
  gint64 h = g_ascii_strtoll(h_text, &end, 10);
  if (end == h_text || *end)
    return FALSE;
  *width = (int)CLAMP(w, 0, G_MAXINT);
  *height = (int)CLAMP(h, 0, G_MAXINT);
  return TRUE;
}

/* 4:2:0 needs even sizes; the upper bound keeps one raw frame sane. */
static gboolean size_ok(int width, int height)
{
  return width >= 64 && height >= 64 && width <= 7680 && height <= 4320 && width % 2 == 0 &&
         height % 2 == 0;
}

/* Until the main loop runs, SIGINT/SIGTERM just end the process: there is
 * nothing to clean up yet, and a background job inherits SIGINT ignored, so
 * without a handler an early Ctrl-C or test teardown would be lost. */
static void on_early_signal(int signum)
{
  _exit(EXIT_SUCCESS);
}

static gboolean on_quit_signal(gpointer user_data)
{
  g_main_loop_quit(user_data);
  return G_SOURCE_CONTINUE;
}

/* Camera 1's frames with --ptz: its world where the PTZ state looks now. */
static GstBuffer *draw_ptz_view(const GstVideoInfo *info, gpointer user_data)
{
  VigilFakePtzPosition at = vigil_fake_ptz_position();
  return vigil_ptz_world_draw(user_data, info, at.pan, at.tilt, at.zoom);
}

int main(int argc, char **argv)
{
  g_auto(Options) o = {
      .port = 8554,
      .cameras = 1,
      .fps = 30,
      .bitrate = 2000,
      .gop = 1.0,
      .loop = 10.0,
      .sub_bitrate = -1, /* not given: 512 */
      .onvif_port = -1,  /* not given: no ONVIF device */
  };
  GOptionEntry entries[] = {
      {"port", 0, 0, G_OPTION_ARG_INT, &o.port, "RTSP port, 0 = any free one (default 8554)", "N"},
      {"address", 0, 0, G_OPTION_ARG_STRING, &o.address, "Address to listen on (default 127.0.0.1)",
       "ADDR"},
      {"cameras", 0, 0, G_OPTION_ARG_INT, &o.cameras, "Number of cameras /cam1../camN (default 1)",
       "N"},
      {"size", 0, 0, G_OPTION_ARG_STRING, &o.size, "Frame size (default 1280x720)", "WxH"},
      {"sub-size", 0, 0, G_OPTION_ARG_STRING, &o.sub_size,
       "Sub stream frame size (default 640x360, half the main size when that is "
       "smaller)",
       "WxH"},
      {"sub-bitrate", 0, 0, G_OPTION_ARG_INT, &o.sub_bitrate,
       "Sub stream constant bitrate (default 512)", "KBPS"},
      {"no-sub", 0, 0, G_OPTION_ARG_NONE, &o.no_sub, "Serve no sub streams (camN_sub)", NULL},
      {"fps", 0, 0, G_OPTION_ARG_INT, &o.fps, "Frames per second (default 30)", "N"},
      {"bitrate", 0, 0, G_OPTION_ARG_INT, &o.bitrate, "Constant bitrate (default 2000)", "KBPS"},
      {"gop", 0, 0, G_OPTION_ARG_DOUBLE, &o.gop, "Keyframe interval (default 1)", "SECONDS"},
      {"codec", 0, 0, G_OPTION_ARG_STRING, &o.codec, "h264 or h265 (default h264)", "CODEC"},
      {"scene", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.scenes,
       "Scene of the next camera; the last one repeats. static (default), motion:N (still N s, "
       "then moving), qr:TEXT, dark, image:PATH, noise, demo, sprite:PATH",
       "NAME[:ARG]"},
      {"loop", 0, 0, G_OPTION_ARG_DOUBLE, &o.loop,
       "Length of the pre-encoded loop of moving scenes (default 10)", "SECONDS"},
      {"audio", 0, 0, G_OPTION_ARG_NONE, &o.audio, "Add an AAC audio track (a sine tone)", NULL},
      {"user", 0, 0, G_OPTION_ARG_STRING, &o.user, "Require RTSP Basic or Digest authentication",
       "NAME:PASSWORD"},
      {"tls", 0, 0, G_OPTION_ARG_FILENAME, &o.tls,
       "Serve rtsps:// with the certificate and key in this PEM file", "PEM"},
      {"onvif", 0, 0, G_OPTION_ARG_INT, &o.onvif_port,
       "Serve a fake ONVIF device for camera 1 on this HTTP port (0 = any free one); it asks for "
       "--user's credentials (WS-Security digest) when given",
       "PORT"},
      {"onvif-clock-offset", 0, 0, G_OPTION_ARG_INT, &o.onvif_clock_offset,
       "The fake ONVIF device's clock runs this far ahead (negative: behind)", "SECONDS"},
      {"onvif-discovery-interface", 0, 0, G_OPTION_ARG_STRING, &o.onvif_discovery_interface,
       "Answer WS-Discovery probes (239.255.255.250:3702) on the interface with this IPv4 "
       "address (default: --address when it is IPv4, else the default interface)",
       "ADDR"},
      {"onvif-name", 0, 0, G_OPTION_ARG_STRING, &o.onvif_name,
       "The name scope WS-Discovery answers give (default vigil)", "NAME"},
      {"onvif-media", 0, 0, G_OPTION_ARG_STRING, &o.onvif_media,
       "The --onvif device's media services: 1 (ver10 Media, as before ONVIF 2.0), 2 (Media2 "
       "only, as an H.265 camera may be), both (default), or 1+faulty2 (Media, and a Media2 "
       "that answers every call with a fault)",
       "1|2|both|1+faulty2"},
      {"onvif-no-events", 0, 0, G_OPTION_ARG_NONE, &o.onvif_no_events,
       "The --onvif device has no events service", NULL},
      {"onvif-motion-schedule", 0, 0, G_OPTION_ARG_STRING, &o.onvif_motion_schedule,
       "The --onvif device's events say motion for ON_S seconds, then none for OFF_S, over and "
       "over from the start (default: never any motion)",
       "ON_S,OFF_S"},
      {"ptz", 0, 0, G_OPTION_ARG_NONE, &o.ptz,
       "Give camera 1 pan, tilt and zoom: a PTZ service on the --onvif device, and a picture "
       "drawn and encoded live as a viewport that follows it (H.264, no audio)",
       NULL},
      {"ptz-no-relative", 0, 0, G_OPTION_ARG_NONE, &o.ptz_no_relative,
       "The --ptz service answers RelativeMove with the ActionNotSupported fault", NULL},
      {"version", 0, 0, G_OPTION_ARG_NONE, &o.version, "Print the version and exit", NULL},
      G_OPTION_ENTRY_NULL,
  };

  struct sigaction early = {.sa_handler = on_early_signal};
  sigaction(SIGINT, &early, NULL);
  sigaction(SIGTERM, &early, NULL);

  g_autoptr(GOptionContext) context = g_option_context_new("- synthetic RTSP cameras");
  g_option_context_add_main_entries(context, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    usage_error("%s", error->message);
  if (o.version) {
    printf("vigil-fakecam %s\n", VIGIL_VERSION);
    return EXIT_SUCCESS;
  }
  if (argc > 1)
    usage_error("unexpected argument '%s'", argv[1]);

  VigilEncodeParams params = {
      .width = 1280,
      .height = 720,
      .fps = o.fps,
      .bitrate_kbps = o.bitrate,
      .gop_seconds = o.gop,
      .loop_seconds = o.loop,
      .codec = VIGIL_CODEC_H264,
  };
  if (o.port < 0 || o.port > 65535)
    usage_error("--port must be 0..65535");
  if (o.onvif_port < -1 || o.onvif_port > 65535)
    usage_error("--onvif must be 0..65535");
  if (o.onvif_clock_offset && o.onvif_port < 0)
    usage_error("--onvif-clock-offset needs --onvif");
  if ((o.onvif_discovery_interface || o.onvif_name) && o.onvif_port < 0)
    usage_error("--onvif-discovery-interface and --onvif-name need --onvif");
  int onvif_media = 3;
  if (o.onvif_media) {
    if (o.onvif_port < 0)
      usage_error("--onvif-media needs --onvif");
    if (g_str_equal(o.onvif_media, "1") || g_str_equal(o.onvif_media, "2"))
      onvif_media = o.onvif_media[0] - '0';
    else if (g_str_equal(o.onvif_media, "1+faulty2"))
      onvif_media = 1 | 4;
    else if (!g_str_equal(o.onvif_media, "both"))
      usage_error("--onvif-media must be 1, 2, both or 1+faulty2");
  }
  if (o.ptz && o.onvif_port < 0)
    usage_error("--ptz needs --onvif");
  if (o.ptz_no_relative && !o.ptz)
    usage_error("--ptz-no-relative needs --ptz");
  int motion_on_s = 0, motion_off_s = 0;
  if (o.onvif_motion_schedule) {
    if (o.onvif_port < 0 || o.onvif_no_events)
      usage_error("--onvif-motion-schedule needs --onvif and events");
    if (sscanf(o.onvif_motion_schedule, "%d,%d", &motion_on_s, &motion_off_s) != 2 ||
        motion_on_s < 1 || motion_off_s < 1 || motion_on_s > 86400 || motion_off_s > 86400)
      usage_error("--onvif-motion-schedule must be ON_S,OFF_S, each 1..86400");
  }
  if (o.cameras < 1 || o.cameras > 256)
    usage_error("--cameras must be 1..256");
  if (o.size && !parse_size(o.size, &params.width, &params.height))
    usage_error("--size must look like 1280x720, not '%s'", o.size);
  if (!size_ok(params.width, params.height))
    usage_error("--size must be even, from 64x64 to 7680x4320");
  /* A sub stream is the small one: 640x360, or half the main size when the
   * main stream is not bigger than that. */
  VigilEncodeParams sub_params = params;
  gboolean small_main = params.width <= 640 || params.height <= 360;
  sub_params.width = small_main ? MAX(64, (params.width / 2) & ~1) : 640;
  sub_params.height = small_main ? MAX(64, (params.height / 2) & ~1) : 360;
  if (o.sub_size && !parse_size(o.sub_size, &sub_params.width, &sub_params.height))
    usage_error("--sub-size must look like 640x360, not '%s'", o.sub_size);
  if (!size_ok(sub_params.width, sub_params.height))
    usage_error("--sub-size must be even, from 64x64 to 7680x4320");
  if (o.no_sub && (o.sub_size || o.sub_bitrate != -1))
    usage_error("--no-sub cannot go with --sub-size or --sub-bitrate");
  if (o.sub_bitrate == -1)
    o.sub_bitrate = 512;
  if (o.fps < 1 || o.fps > 120)
    usage_error("--fps must be 1..120");
  if (o.bitrate < 50 || o.bitrate > 100000)
    usage_error("--bitrate must be 50..100000 kbit/s");
  if (o.sub_bitrate < 50 || o.sub_bitrate > 100000)
    usage_error("--sub-bitrate must be 50..100000 kbit/s");
  sub_params.bitrate_kbps = o.sub_bitrate;
  if (!(o.gop > 0 && o.gop <= 60))
    usage_error("--gop must be more than 0 and at most 60 seconds");
  if (!(o.loop >= 1 && o.loop <= 600))
    usage_error("--loop must be 1..600 seconds");
  if (o.codec && g_str_equal(o.codec, "h265"))
    params.codec = sub_params.codec = VIGIL_CODEC_H265;
  else if (o.codec && !g_str_equal(o.codec, "h264"))
    usage_error("--codec must be h264 or h265, not '%s'", o.codec);
  const char *codec_name = params.codec == VIGIL_CODEC_H264 ? "h264" : "h265";
  if (o.ptz && params.codec != VIGIL_CODEC_H264)
    usage_error("--ptz encodes live with x264: it needs --codec h264");

  g_autofree char *user = NULL;
  const char *password = NULL;
  if (o.user) {
    char *colon = strchr(o.user, ':');
    if (!colon || colon == o.user)
      usage_error("--user must be NAME:PASSWORD");
    user = g_strndup(o.user, colon - o.user);
    password = colon + 1;
  }
  const char *address = o.address ? o.address : "127.0.0.1";

  g_autoptr(GPtrArray) scenes = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_scene_free);
  for (char **s = o.scenes; s && *s; s++) {
    VigilScene *scene = vigil_scene_parse(*s, &error);
    if (!scene)
      usage_error("%s", error->message);
    g_ptr_array_add(scenes, scene);
  }
  if (scenes->len == 0)
    g_ptr_array_add(scenes, vigil_scene_parse("static", NULL));

  gst_init(NULL, NULL);

  /* Encode each distinct scene once per size; cameras showing the same
   * scene share the clips (and their memory). The sub clip has the same
   * frame rate, GOP and part lengths as the main one, so both streams can
   * follow one scene clock. */
  g_autoptr(GHashTable) clips =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)scene_clips_free);
  for (guint i = 0; i < scenes->len; i++) {
    const VigilScene *scene = g_ptr_array_index(scenes, i);
    /* With --ptz, camera 1 is drawn live (below): its scene needs no clip
     * unless other cameras show it too. */
    gboolean ptz_only = o.ptz && i == 0 && (o.cameras == 1 || scenes->len > 1);
    if (g_hash_table_contains(clips, scene->spec) || i >= (guint)o.cameras || ptz_only)
      continue;
    SceneClips *sc = g_new0(SceneClips, 1);
    g_hash_table_insert(clips, scene->spec, sc);
    sc->main = vigil_clip_encode_video(scene, &params, &error);
    if (sc->main && !o.no_sub) {
      sc->sub = vigil_clip_encode_video(scene, &sub_params, &error);
      if (!sc->sub)
        g_prefix_error(&error, "sub stream at %dx%d (see --sub-size, --no-sub): ", sub_params.width,
                       sub_params.height);
    }
    if (!sc->main || (!sc->sub && !o.no_sub)) {
      g_printerr("vigil-fakecam: %s\n", error->message);
      return error->domain == G_OPTION_ERROR ? EXIT_USAGE : EXIT_FAILURE;
    }
  }
  g_autoptr(VigilClip) audio = NULL;
  if (o.audio) {
    audio = vigil_clip_encode_audio(o.loop, &error);
    if (!audio) {
      g_printerr("vigil-fakecam: %s\n", error->message);
      return EXIT_FAILURE;
    }
  }

  g_autoptr(VigilServer) server = vigil_server_new(address, o.port, user, password);
  if (o.tls && !vigil_server_set_tls(server, o.tls, &error)) {
    g_printerr("vigil-fakecam: --tls: %s\n", error->message);
    return EXIT_USAGE;
  }
  g_autoptr(VigilPtzWorld) world = NULL;
  for (int n = 1; n <= o.cameras; n++) {
    const VigilScene *scene = g_ptr_array_index(scenes, MIN((guint)n, scenes->len) - 1);
    g_autofree char *path = g_strdup_printf("/cam%d", n);
    if (n == 1 && o.ptz) {
      world = vigil_ptz_world_new(scene, params.width, params.height, &error);
      if (!world) {
        g_printerr("vigil-fakecam: --ptz: %s\n", error->message);
        return EXIT_FAILURE;
      }
      vigil_server_add_live_camera(server, path, &params, o.no_sub ? NULL : &sub_params,
                                   draw_ptz_view, world);
      continue;
    }
    const SceneClips *sc = g_hash_table_lookup(clips, scene->spec);
    vigil_server_add_camera(server, path, params.codec, sc->main, sc->sub, audio);
  }
  if (!vigil_server_start(server, &error)) {
    g_printerr("vigil-fakecam: %s\n", error->message);
    return EXIT_FAILURE;
  }

  gboolean ipv6 = strchr(address, ':') != NULL;
  if (o.onvif_port >= 0) {
    const char *scheme = o.tls ? "rtsps" : "rtsp";
    guint rtsp_port = vigil_server_get_port(server);
    g_autofree char *main_uri = g_strdup_printf("%s://%s%s%s:%u/cam1", scheme, ipv6 ? "[" : "",
                                                address, ipv6 ? "]" : "", rtsp_port);
    g_autofree char *sub_uri = o.no_sub ? NULL : g_strconcat(main_uri, "_sub", NULL);
    VigilFakeOnvif onvif = {
        .address = address,
        .port = o.onvif_port,
        .user = user,
        .password = password,
        .clock_offset_s = o.onvif_clock_offset,
        .codec = params.codec == VIGIL_CODEC_H264 ? "H264" : "H265",
        .main_uri = main_uri,
        .sub_uri = sub_uri,
        .width = params.width,
        .height = params.height,
        .sub_width = sub_params.width,
        .sub_height = sub_params.height,
        .fps = params.fps,
        .ptz = o.ptz,
        .ptz_no_relative = o.ptz_no_relative,
        .events = !o.onvif_no_events,
        .media = onvif_media,
        .motion_on_s = motion_on_s,
        .motion_off_s = motion_off_s,
    };
    guint onvif_port = vigil_fake_onvif_start(&onvif, &error);
    if (!onvif_port) {
      g_printerr("vigil-fakecam: --onvif: %s\n", error->message);
      return EXIT_FAILURE;
    }
    g_autofree char *device_url =
        g_strdup_printf("http://%s%s%s:%u/onvif/device_service", ipv6 ? "[" : "", address,
                        ipv6 ? "]" : "", onvif_port);
    VigilFakeWsd wsd = {
        .interface = o.onvif_discovery_interface ? o.onvif_discovery_interface
                     : ipv6                      ? "0.0.0.0"
                                                 : address,
        .device_url = device_url,
        .name = o.onvif_name ? o.onvif_name : "vigil",
        .hardware = "fakecam",
    };
    /* Not fatal: the device service works without discovery, and another
     * program may hold the port without sharing it. */
    if (!vigil_fake_wsd_start(&wsd, &error)) {
      g_printerr("vigil-fakecam: WS-Discovery not answered: %s\n", error->message);
      g_clear_error(&error);
    }
    /* Before the RTSP lines, which tests wait for. */
    printf("vigil-fakecam: onvif %s\n", device_url);
  }

  /* Tests wait for these lines: print them only once the port is bound.
   * The main streams come first (tests read the first lines), then the sub
   * streams. */
  for (int sub = 0; sub <= !o.no_sub; sub++) {
    const VigilEncodeParams *p = sub ? &sub_params : &params;
    for (int n = 1; n <= o.cameras; n++) {
      const VigilScene *scene = g_ptr_array_index(scenes, MIN((guint)n, scenes->len) - 1);
      printf("vigil-fakecam: serving %s://%s%s%s:%d/cam%d%s (%s, %s, %dx%d@%d)\n",
             o.tls ? "rtsps" : "rtsp", ipv6 ? "[" : "", address, ipv6 ? "]" : "",
             vigil_server_get_port(server), n, sub ? "_sub" : "", scene->spec, codec_name, p->width,
             p->height, p->fps);
    }
  }
  fflush(stdout);

  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  /* These replace the early handlers (GLib installs its own sigaction). */
  guint sigint = g_unix_signal_add(SIGINT, on_quit_signal, loop);
  guint sigterm = g_unix_signal_add(SIGTERM, on_quit_signal, loop);
  g_main_loop_run(loop);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_message("stopping");
  return EXIT_SUCCESS;
}
