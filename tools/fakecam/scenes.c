/* vigil-fakecam scenes: parse scene names and draw raw I420 frames for the
 * one-time encoder. Everything here runs only at startup, so clarity beats
 * speed; the served stream never touches raw video. */
#include "scenes.h"

#include <errno.h>
#include <math.h>
#include <qrencode.h>
#include <string.h>

#include <gst/app/gstappsink.h>

#define DEFAULT_MOTION_STILL_SECONDS 10.0

/* The demo scene: a 48 s loop in a still room where, now and then, something
 * happens that vigil notices. Times in seconds from the start of the loop. */
#define DEMO_LOOP_SECONDS 48.0
#define DEMO_WALK_FROM    8.0 /* a person-sized block walks through: motion */
#define DEMO_WALK_TO      15.0
#define DEMO_QR_FROM      20.0 /* a QR card comes in, stops, leaves: barcodes */
#define DEMO_QR_TO        30.0
#define DEMO_PHOTO_FROM   34.0 /* a photo of a person does the same: detection */
#define DEMO_PHOTO_TO     44.0
#define DEMO_QR_TEXT      "https://vigil.example/demo"
/* OpenCV's sample photo (Debian's opencv-doc); without it the scene has no
 * photo. */
#define DEMO_PHOTO "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"

/* Limited-range BT.601 levels: what a decoder shows as black and white. */
#define LUMA_BLACK  16
#define LUMA_WHITE  235
#define CHROMA_GREY 128

struct _VigilSceneRender {
  VigilSceneKind kind;
  GstVideoInfo info;
  GstBuffer *background; /* the still picture, or what noise/motion draw on */
  guint32 rng;           /* xorshift32 state: deterministic noise, same every run */
  /* demo: what passes through the room (photo NULL without the file) */
  GstBuffer *qr, *photo;
  GstVideoInfo qr_info, photo_info;
};

static const char *const scene_names[] = {
    [VIGIL_SCENE_STATIC] = "static", [VIGIL_SCENE_MOTION] = "motion", [VIGIL_SCENE_QR] = "qr",
    [VIGIL_SCENE_DARK] = "dark",     [VIGIL_SCENE_IMAGE] = "image",   [VIGIL_SCENE_NOISE] = "noise",
    [VIGIL_SCENE_DEMO] = "demo",     [VIGIL_SCENE_SPRITE] = "sprite",
};

VigilScene *vigil_scene_parse(const char *spec, GError **error)
{
  g_return_val_if_fail(spec != NULL, NULL);

  /* Only the first ':' separates: QR texts and paths may contain more. */
  const char *colon = strchr(spec, ':');
  g_autofree char *name = colon ? g_strndup(spec, colon - spec) : g_strdup(spec);
  const char *arg = colon ? colon + 1 : NULL;

  gint kind = -1;
  for (guint i = 0; i < G_N_ELEMENTS(scene_names); i++)
    if (g_str_equal(name, scene_names[i]))
      kind = (gint)i;
  if (kind < 0) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "unknown scene '%s' (known: static, motion:N, qr:TEXT, dark, image:PATH, noise, "
                "demo, sprite:PATH)",
                name);
    return NULL;
  }

  g_autoptr(VigilScene) scene = g_new0(VigilScene, 1);
  scene->kind = (VigilSceneKind)kind;
  scene->spec = g_strdup(spec);
  if (scene->kind == VIGIL_SCENE_DEMO)
    scene->loop_seconds = DEMO_LOOP_SECONDS;
  switch (scene->kind) {
  case VIGIL_SCENE_MOTION:
    scene->still_seconds = DEFAULT_MOTION_STILL_SECONDS;
    if (arg) {
      char *end = NULL;
      errno = 0;
      double v = g_ascii_strtod(arg, &end);
      if (errno || end == arg || *end || !(v >= 0 && v <= 3600)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "scene '%s': still time must be 0..3600 seconds", spec);
        return NULL;
      }
      scene->still_seconds = v;
    }
    break;
  case VIGIL_SCENE_QR:
  case VIGIL_SCENE_IMAGE:
  case VIGIL_SCENE_SPRITE:
    if (!arg || !*arg) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "scene '%s' needs %s", name,
                  scene->kind == VIGIL_SCENE_QR      ? "a text (qr:TEXT)"
                  : scene->kind == VIGIL_SCENE_IMAGE ? "a file (image:PATH)"
                                                     : "a file (sprite:PATH)");
      return NULL;
    }
    scene->arg = g_strdup(arg);
    break;
  default:
    if (arg) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "scene '%s' takes no argument",
                  name);
      return NULL;
    }
    break;
  }
  return g_steal_pointer(&scene);
}

void vigil_scene_free(VigilScene *scene)
{
  if (!scene)
    return;
  g_free(scene->spec);
  g_free(scene->arg);
  g_free(scene);
}

/* ---- drawing helpers (I420, coordinates in luma pixels, clipped) ---- */

static guint32 rng_next(guint32 *state)
{
  guint32 x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

static GstBuffer *new_frame(const GstVideoInfo *info)
{
  return gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
}

static void fill_rect(GstVideoFrame *f, int x, int y, int w, int h, guint8 luma, guint8 u, guint8 v)
{
  int fw = GST_VIDEO_FRAME_WIDTH(f), fh = GST_VIDEO_FRAME_HEIGHT(f);
  int x0 = CLAMP(x, 0, fw), y0 = CLAMP(y, 0, fh);
  int x1 = CLAMP(x + w, 0, fw), y1 = CLAMP(y + h, 0, fh);
  if (x1 <= x0 || y1 <= y0)
    return;

  guint8 *py = GST_VIDEO_FRAME_PLANE_DATA(f, 0);
  int sy = GST_VIDEO_FRAME_PLANE_STRIDE(f, 0);
  for (int row = y0; row < y1; row++)
    memset(py + (gsize)row * sy + x0, luma, x1 - x0);

  /* Chroma is subsampled 2x2; round outwards so odd edges stay coloured. */
  int cx0 = x0 / 2, cy0 = y0 / 2, cx1 = (x1 + 1) / 2, cy1 = (y1 + 1) / 2;
  for (guint plane = 1; plane <= 2; plane++) {
    guint8 *p = GST_VIDEO_FRAME_PLANE_DATA(f, plane);
    int s = GST_VIDEO_FRAME_PLANE_STRIDE(f, plane);
    for (int row = cy0; row < cy1; row++)
      memset(p + (gsize)row * s + cx0, plane == 1 ? u : v, cx1 - cx0);
  }
}

static void fill_grey(GstVideoFrame *f, guint8 luma)
{
  fill_rect(f, 0, 0, GST_VIDEO_FRAME_WIDTH(f), GST_VIDEO_FRAME_HEIGHT(f), luma, CHROMA_GREY,
            CHROMA_GREY);
}

/* Adds uniform noise in [-amp, +amp] to every sample of @plane. */
static void add_noise(GstVideoFrame *f, guint plane, int amp, guint32 *rng)
{
  guint8 *p = GST_VIDEO_FRAME_PLANE_DATA(f, plane);
  int s = GST_VIDEO_FRAME_PLANE_STRIDE(f, plane);
  int w = GST_VIDEO_FRAME_COMP_WIDTH(f, plane), h = GST_VIDEO_FRAME_COMP_HEIGHT(f, plane);
  guint span = 2 * amp + 1;
  for (int row = 0; row < h; row++) {
    guint8 *line = p + (gsize)row * s;
    guint32 r = 0;
    for (int x = 0; x < w; x++) {
      /* One random word feeds four samples: noise generation is the slow
       * part of encoding the noise scene. */
      if ((x & 3) == 0)
        r = rng_next(rng);
      int n = (int)((r >> (8 * (x & 3))) & 0xff) % span - amp;
      line[x] = (guint8)CLAMP(line[x] + n, 0, 255);
    }
  }
}

/* Runs @launch (which ends in capsfilter name=caps ! appsink name=sink) until
 * its first frame and returns it converted to @info's layout. @location, when
 * set, goes to the element called "src" (so paths need no quoting). When
 * @info's width is 0, videoscale picks the width that keeps the picture's
 * aspect ratio at @info's height, and @info is filled in with it. */
static GstBuffer *grab_frame(const char *launch, const char *location, GstVideoInfo *info,
                             GError **error)
{
  /* The launch lines are ours: a parse problem is a missing plugin. */
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch(launch, &parse_error);
  if (pipeline)
    gst_object_ref_sink(pipeline); /* own it, it was floating */
  if (!pipeline || parse_error) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, "%s",
                parse_error ? parse_error->message : "cannot build a pipeline");
    return NULL;
  }
  if (location) {
    g_autoptr(GstElement) src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    g_object_set(src, "location", location, NULL);
  }
  /* No framerate: a decoded photo has 0/1 and would not negotiate. */
  g_autoptr(GstCaps) caps = gst_caps_new_simple(
      "video/x-raw", "format", G_TYPE_STRING, "I420", "height", G_TYPE_INT,
      GST_VIDEO_INFO_HEIGHT(info), "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  if (GST_VIDEO_INFO_WIDTH(info) > 0)
    gst_caps_set_simple(caps, "width", G_TYPE_INT, GST_VIDEO_INFO_WIDTH(info), NULL);
  g_autoptr(GstElement) filter = gst_bin_get_by_name(GST_BIN(pipeline), "caps");
  g_object_set(filter, "caps", caps, NULL);
  g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");

  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  g_autoptr(GstSample) sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 20 * GST_SECOND);
  if (!sample) {
    g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
    g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    g_autoptr(GError) gerr = NULL;
    if (msg)
      gst_message_parse_error(msg, &gerr, NULL);
    g_set_error(error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE, "%s",
                gerr ? gerr->message : "no picture decoded");
    gst_element_set_state(pipeline, GST_STATE_NULL);
    return NULL;
  }

  GstVideoInfo src_info;
  GstVideoFrame src_frame, dst_frame;
  gboolean ok = gst_video_info_from_caps(&src_info, gst_sample_get_caps(sample));
  if (ok && GST_VIDEO_INFO_WIDTH(info) == 0)
    gst_video_info_set_format(info, GST_VIDEO_FORMAT_I420, GST_VIDEO_INFO_WIDTH(&src_info),
                              GST_VIDEO_INFO_HEIGHT(&src_info));
  GstBuffer *out = new_frame(info);
  ok =
      ok && gst_video_frame_map(&src_frame, &src_info, gst_sample_get_buffer(sample), GST_MAP_READ);
  if (ok) {
    gst_video_frame_map(&dst_frame, info, out, GST_MAP_WRITE);
    /* Copying plane by plane drops any row padding the decoder used. */
    ok = gst_video_frame_copy(&dst_frame, &src_frame);
    gst_video_frame_unmap(&dst_frame);
    gst_video_frame_unmap(&src_frame);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (!ok) {
    gst_buffer_unref(out);
    g_set_error(error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, "could not convert the picture");
    return NULL;
  }
  return out;
}

/* The static scene: SMPTE bars plus fine detail (a checkerboard, thin lines)
 * so a viewer can judge sharpness. Nothing in it depends on time. */
static GstBuffer *draw_static(const GstVideoInfo *info, GError **error)
{
  GstVideoInfo grab_info = *info;
  GstBuffer *buf = grab_frame("videotestsrc pattern=smpte num-buffers=1 ! videoconvert ! videoscale"
                              " ! capsfilter name=caps ! appsink name=sink sync=false",
                              NULL, &grab_info, error);
  if (!buf)
    return NULL;

  GstVideoFrame f;
  gst_video_frame_map(&f, info, buf, GST_MAP_WRITE);
  int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  int box = MAX(h / 5, 16) & ~1, x = w / 20, y = h / 20;
  int cell = MAX(box / 16, 2);
  fill_rect(&f, x - 4, y - 4, box + 8, box + 8, LUMA_WHITE, CHROMA_GREY, CHROMA_GREY);
  for (int cy = 0; cy < box; cy += cell)
    for (int cx = 0; cx < box; cx += cell) {
      gboolean dark = ((cx / cell) + (cy / cell)) & 1;
      fill_rect(&f, x + cx, y + cy, MIN(cell, box - cx), MIN(cell, box - cy),
                dark ? LUMA_BLACK : LUMA_WHITE, CHROMA_GREY, CHROMA_GREY);
    }
  /* Lines of 1, 2, 3 and 4 pixels next to the checkerboard. */
  for (int i = 0, lx = x + box + 16; i < 4; i++, lx += 12 + i * 2)
    fill_rect(&f, lx, y, i + 1, box, LUMA_BLACK, CHROMA_GREY, CHROMA_GREY);
  gst_video_frame_unmap(&f);
  return buf;
}

/* @text as a QR code (level M); NULL with @error set when it does not fit. */
static QRcode *encode_qr(const char *text, GError **error)
{
  QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (!qr)
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "scene qr: cannot encode this text as a QR code (%s)",
                errno == ERANGE ? "too long" : g_strerror(errno));
  return qr;
}

/* A card of @qr: black modules on white, @px pixels per module (an integer,
 * so edges stay sharp after encoding), a 4-module quiet zone. Sets @info to
 * the card's size. */
static GstBuffer *draw_qr_card(const QRcode *qr, int px, GstVideoInfo *info)
{
  int side = (qr->width + 8) * px;
  side += side & 1; /* 4:2:0 wants even sizes */
  gst_video_info_set_format(info, GST_VIDEO_FORMAT_I420, side, side);
  GstBuffer *buf = new_frame(info);
  GstVideoFrame f;
  gst_video_frame_map(&f, info, buf, GST_MAP_WRITE);
  fill_grey(&f, LUMA_WHITE);
  for (int my = 0; my < qr->width; my++)
    for (int mx = 0; mx < qr->width; mx++)
      if (qr->data[my * qr->width + mx] & 1)
        fill_rect(&f, (mx + 4) * px, (my + 4) * px, px, px, LUMA_BLACK, CHROMA_GREY, CHROMA_GREY);
  gst_video_frame_unmap(&f);
  return buf;
}

/* Copies the I420 picture @sprite (laid out as @sinfo) into @f with its top
 * left corner at (@x, @y), both even; whatever falls outside is clipped. */
static void blit(GstVideoFrame *f, GstBuffer *sprite, const GstVideoInfo *sinfo, int x, int y)
{
  GstVideoFrame s;
  if (!gst_video_frame_map(&s, sinfo, sprite, GST_MAP_READ))
    return;
  for (guint plane = 0; plane < 3; plane++) {
    int div = plane ? 2 : 1; /* chroma is subsampled 2x2 */
    int dx = x / div, dy = y / div;
    int sw = GST_VIDEO_FRAME_COMP_WIDTH(&s, plane), sh = GST_VIDEO_FRAME_COMP_HEIGHT(&s, plane);
    int fw = GST_VIDEO_FRAME_COMP_WIDTH(f, plane), fh = GST_VIDEO_FRAME_COMP_HEIGHT(f, plane);
    int x0 = MAX(dx, 0), x1 = MIN(dx + sw, fw), y0 = MAX(dy, 0), y1 = MIN(dy + sh, fh);
    guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA(f, plane);
    const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA(&s, plane);
    int dst_stride = GST_VIDEO_FRAME_PLANE_STRIDE(f, plane);
    int src_stride = GST_VIDEO_FRAME_PLANE_STRIDE(&s, plane);
    for (int row = y0; row < y1 && x1 > x0; row++)
      memcpy(dst + (gsize)row * dst_stride + x0, src + (gsize)(row - dy) * src_stride + (x0 - dx),
             x1 - x0);
  }
  gst_video_frame_unmap(&s);
}

/* A QR code of @text filling about 90 % of the frame height, centred on
 * white. */
static GstBuffer *draw_qr(const GstVideoInfo *info, const char *text, GError **error)
{
  QRcode *qr = encode_qr(text, error);
  if (!qr)
    return NULL;
  int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  int px = MIN(w, h) * 9 / 10 / (qr->width + 8);
  if (px < 2) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "scene qr: a %d-module code does not fit sharply in %dx%d; "
                "use a shorter text or a larger --size",
                qr->width, w, h);
    QRcode_free(qr);
    return NULL;
  }
  GstVideoInfo card_info;
  g_autoptr(GstBuffer) card = draw_qr_card(qr, px, &card_info);
  QRcode_free(qr);

  GstBuffer *buf = new_frame(info);
  GstVideoFrame f;
  gst_video_frame_map(&f, info, buf, GST_MAP_WRITE);
  fill_grey(&f, LUMA_WHITE);
  blit(&f, card, &card_info, ((w - GST_VIDEO_INFO_WIDTH(&card_info)) / 2) & ~1,
       ((h - GST_VIDEO_INFO_HEIGHT(&card_info)) / 2) & ~1);
  gst_video_frame_unmap(&f);
  return buf;
}

/* The motion scene's room: a light wall with a frame on it and a floor; the
 * moving block stands on the floor. High contrast everywhere the block goes. */
static GstBuffer *draw_room(const GstVideoInfo *info)
{
  GstBuffer *buf = new_frame(info);
  GstVideoFrame f;
  gst_video_frame_map(&f, info, buf, GST_MAP_WRITE);
  int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  int floor_y = h * 4 / 5;
  for (int y = 0; y < floor_y; y += 2)
    fill_rect(&f, 0, y, w, 2, (guint8)(200 - 30 * y / floor_y), CHROMA_GREY, CHROMA_GREY);
  fill_rect(&f, 0, floor_y, w, h - floor_y, 120, 118, 136);
  fill_rect(&f, w * 3 / 5, h / 8, w / 5, h / 5, 60, 140, 120);
  fill_rect(&f, w * 3 / 5 + 6, h / 8 + 6, w / 5 - 12, h / 5 - 12, 150, 100, 140);
  gst_video_frame_unmap(&f);
  return buf;
}

/* The person-sized block: about 1/6 of the frame wide, a body and a head. */
static void draw_block(GstVideoFrame *f, int x)
{
  int w = GST_VIDEO_FRAME_WIDTH(f), h = GST_VIDEO_FRAME_HEIGHT(f);
  int bw = (w / 6) & ~1, body_h = (h / 2) & ~1, head = (bw / 2) & ~1;
  int bottom = h * 4 / 5 + h / 20;
  fill_rect(f, x, bottom - body_h, bw, body_h, 45, 150, 110);
  fill_rect(f, x + (bw - head) / 2, bottom - body_h - head - 4, head, head, 130, 110, 150);
}

/* Where something that passes through the demo room between @from and @to
 * seconds is at @t: it comes in from the left edge for the first third, stands
 * in the middle for the second and leaves to the right in the last. Returns
 * FALSE when it is out of the picture. @width is the frame's, @sprite its. */
static gboolean demo_pass(double t, double from, double to, int width, int sprite, int *x)
{
  if (t < from || t >= to)
    return FALSE;
  double third = (to - from) / 3, middle = (width - sprite) / 2.0;
  double pos;
  if (t < from + third)
    pos = -sprite + (middle + sprite) * (t - from) / third;
  else if (t < from + 2 * third)
    pos = middle;
  else
    pos = middle + (width - middle) * (t - from - 2 * third) / third;
  *x = (int)floor(pos / 2) * 2; /* even, also when negative */
  return TRUE;
}

/* One frame of the demo loop at @t seconds. */
static void draw_demo(VigilSceneRender *r, GstVideoFrame *f, double t)
{
  int w = GST_VIDEO_INFO_WIDTH(&r->info), h = GST_VIDEO_INFO_HEIGHT(&r->info);
  int x;
  /* The block walks straight through, from outside left to outside right. */
  if (t >= DEMO_WALK_FROM && t < DEMO_WALK_TO) {
    int bw = (w / 6) & ~1;
    double phase = (t - DEMO_WALK_FROM) / (DEMO_WALK_TO - DEMO_WALK_FROM);
    draw_block(f, (int)floor((-bw + phase * (w + bw)) / 2) * 2);
  }
  if (demo_pass(t, DEMO_QR_FROM, DEMO_QR_TO, w, GST_VIDEO_INFO_WIDTH(&r->qr_info), &x))
    blit(f, r->qr, &r->qr_info, x, (h / 10) & ~1);
  /* The photo stands on the floor like the block does. */
  if (r->photo &&
      demo_pass(t, DEMO_PHOTO_FROM, DEMO_PHOTO_TO, w, GST_VIDEO_INFO_WIDTH(&r->photo_info), &x))
    blit(f, r->photo, &r->photo_info, x,
         (h * 4 / 5 + h / 20 - GST_VIDEO_INFO_HEIGHT(&r->photo_info)) & ~1);
}

/* Prepares the demo: the room, the QR card (modules of h/90 pixels: 8 at
 * 720p, 4 at 360p, both easy to read) and the photo, 60 % of the height. */
static gboolean demo_prepare(VigilSceneRender *r, GError **error)
{
  /* Its timeline is in seconds: it needs the frame rate. */
  g_return_val_if_fail(GST_VIDEO_INFO_FPS_N(&r->info) > 0, FALSE);
  int h = GST_VIDEO_INFO_HEIGHT(&r->info);
  r->background = draw_room(&r->info);
  QRcode *qr = encode_qr(DEMO_QR_TEXT, error);
  if (!qr)
    return FALSE;
  r->qr = draw_qr_card(qr, MAX(2, h / 90), &r->qr_info);
  QRcode_free(qr);
  if (g_file_test(DEMO_PHOTO, G_FILE_TEST_IS_REGULAR)) {
    gst_video_info_set_format(&r->photo_info, GST_VIDEO_FORMAT_I420, 0, (h * 3 / 5) & ~1);
    g_autoptr(GError) cause = NULL;
    r->photo = grab_frame("filesrc name=src ! decodebin ! videoconvert ! videoscale"
                          " ! capsfilter name=caps ! appsink name=sink sync=false",
                          DEMO_PHOTO, &r->photo_info, &cause);
    if (!r->photo)
      g_warning("scene demo: no photo, cannot read %s: %s", DEMO_PHOTO, cause->message);
  }
  return TRUE;
}

VigilSceneRender *vigil_scene_render_new(const VigilScene *scene, const GstVideoInfo *info,
                                         GError **error)
{
  g_return_val_if_fail(scene != NULL && info != NULL, NULL);
  g_return_val_if_fail(GST_VIDEO_INFO_FORMAT(info) == GST_VIDEO_FORMAT_I420, NULL);

  g_autoptr(VigilSceneRender) r = g_new0(VigilSceneRender, 1);
  r->kind = scene->kind;
  r->info = *info;
  r->rng = 0x9e3779b9u;
  switch (scene->kind) {
  case VIGIL_SCENE_STATIC:
  case VIGIL_SCENE_NOISE:
    r->background = draw_static(info, error);
    break;
  case VIGIL_SCENE_MOTION:
    r->background = draw_room(info);
    break;
  case VIGIL_SCENE_DEMO:
    if (!demo_prepare(r, error))
      return NULL;
    break;
  case VIGIL_SCENE_QR:
    r->background = draw_qr(info, scene->arg, error);
    break;
  case VIGIL_SCENE_IMAGE: {
    g_autoptr(GError) cause = NULL;
    GstVideoInfo grab_info = *info;
    r->background = grab_frame("filesrc name=src ! decodebin ! videoconvert ! videoscale"
                               " ! capsfilter name=caps ! appsink name=sink sync=false",
                               scene->arg, &grab_info, &cause);
    /* Report it like any other bad argument: the user named the file. */
    if (!r->background)
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "scene image: cannot read '%s': %s", scene->arg, cause->message);
    break;
  }
  case VIGIL_SCENE_SPRITE: {
    /* A small photo (a sixth of the height: someone far away) walking in
     * the room, for detection on a crop of the picture. */
    g_autoptr(GError) cause = NULL;
    gst_video_info_set_format(&r->photo_info, GST_VIDEO_FORMAT_I420, 0,
                              (GST_VIDEO_INFO_HEIGHT(info) / 6) & ~1);
    r->photo = grab_frame("filesrc name=src ! decodebin ! videoconvert ! videoscale"
                          " ! capsfilter name=caps ! appsink name=sink sync=false",
                          scene->arg, &r->photo_info, &cause);
    if (!r->photo) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "scene sprite: cannot read '%s': %s", scene->arg, cause->message);
      return NULL;
    }
    r->background = draw_room(info);
    break;
  }
  case VIGIL_SCENE_DARK: {
    /* Near black with one dim "window" so the picture is not empty. */
    r->background = new_frame(info);
    GstVideoFrame f;
    gst_video_frame_map(&f, info, r->background, GST_MAP_WRITE);
    fill_grey(&f, 12);
    int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
    fill_rect(&f, w / 3, h / 4, w / 6, h / 3, 22, 130, 126);
    gst_video_frame_unmap(&f);
    break;
  }
  }
  if (!r->background)
    return NULL;
  return g_steal_pointer(&r);
}

void vigil_scene_render_free(VigilSceneRender *render)
{
  if (!render)
    return;
  gst_clear_buffer(&render->background);
  gst_clear_buffer(&render->qr);
  gst_clear_buffer(&render->photo);
  g_free(render);
}

gboolean vigil_scene_render_is_still(const VigilSceneRender *render)
{
  return render->kind == VIGIL_SCENE_STATIC || render->kind == VIGIL_SCENE_QR ||
         render->kind == VIGIL_SCENE_IMAGE;
}

GstBuffer *vigil_scene_render_frame(VigilSceneRender *render, gboolean intro, guint index,
                                    guint count)
{
  g_return_val_if_fail(render != NULL, NULL);

  if (vigil_scene_render_is_still(render))
    return gst_buffer_copy(render->background); /* shares the pixels */

  GstBuffer *buf = gst_buffer_copy_deep(render->background);
  GstVideoFrame f;
  gst_video_frame_map(&f, &render->info, buf, GST_MAP_WRITE);
  switch (render->kind) {
  case VIGIL_SCENE_MOTION: {
    /* The block walks right and back once per loop (a triangle wave), so the
     * loop wraps without a jump; the still intro shows it at the start. */
    int w = GST_VIDEO_INFO_WIDTH(&render->info);
    int bw = (w / 6) & ~1, margin = w / 40;
    double phase = intro || count == 0 ? 0.0 : (double)index / count;
    double tri = phase < 0.5 ? 2 * phase : 2 * (1 - phase);
    draw_block(&f, (margin + (int)(tri * (w - bw - 2 * margin))) & ~1);
    break;
  }
  case VIGIL_SCENE_DEMO: {
    /* The loop covers whole GOPs, a little more than DEMO_LOOP_SECONDS: the
     * rest is still room. */
    double fps = GST_VIDEO_INFO_FPS_N(&render->info) / (double)GST_VIDEO_INFO_FPS_D(&render->info);
    draw_demo(render, &f, intro ? 0.0 : index / fps);
    break;
  }
  case VIGIL_SCENE_SPRITE: {
    /* Right and back once per loop, standing on the floor. */
    int w = GST_VIDEO_INFO_WIDTH(&render->info), h = GST_VIDEO_INFO_HEIGHT(&render->info);
    int sw = GST_VIDEO_INFO_WIDTH(&render->photo_info), margin = w / 40;
    double phase = intro || count == 0 ? 0.0 : (double)index / count;
    double tri = phase < 0.5 ? 2 * phase : 2 * (1 - phase);
    blit(&f, render->photo, &render->photo_info, (margin + (int)(tri * (w - sw - 2 * margin))) & ~1,
         (h * 4 / 5 + h / 20 - GST_VIDEO_INFO_HEIGHT(&render->photo_info)) & ~1);
    break;
  }
  case VIGIL_SCENE_DARK:
    add_noise(&f, 0, 3, &render->rng);
    break;
  case VIGIL_SCENE_NOISE:
    add_noise(&f, 0, 8, &render->rng);
    add_noise(&f, 1, 3, &render->rng);
    add_noise(&f, 2, 3, &render->rng);
    break;
  default:
    break;
  }
  gst_video_frame_unmap(&f);
  return buf;
}

/* ---- the PTZ world ---- */

struct _VigilPtzWorld {
  GstVideoInfo info;
  GstBuffer *image;
};

VigilPtzWorld *vigil_ptz_world_new(const VigilScene *scene, int width, int height, GError **error)
{
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, 2 * width, 2 * height);
  GST_VIDEO_INFO_FPS_N(&info) = 1;
  GST_VIDEO_INFO_FPS_D(&info) = 1;
  g_autoptr(VigilSceneRender) render = vigil_scene_render_new(scene, &info, error);
  if (!render)
    return NULL;
  GstBuffer *image = vigil_scene_render_frame(render, TRUE, 0, 1);
  GstBuffer *own = gst_buffer_copy_deep(image);
  gst_buffer_unref(image);

  /* Markers all over, so that every pan or tilt changes what the frame
   * shows, even over the scene's flat parts. */
  GstVideoFrame f;
  gst_video_frame_map(&f, &info, own, GST_MAP_WRITE);
  int bw = 2 * width, bh = 2 * height, size = MAX(bh / 14, 4) & ~1;
  for (int j = 0; j < 6; j++)
    for (int i = 0; i < 8; i++) {
      int x = (bw * (2 * i + 1) / 16 - size / 2) & ~1, y = (bh * (2 * j + 1) / 12 - size / 2) & ~1;
      guint8 luma = (guint8)(30 + ((i * 5 + j * 3) % 7) * 30);
      fill_rect(&f, x - 2, y - 2, size + 4, size + 4, luma > 128 ? LUMA_BLACK : LUMA_WHITE,
                CHROMA_GREY, CHROMA_GREY);
      fill_rect(&f, x, y, size, size, luma, (guint8)(64 + i * 16), (guint8)(64 + j * 24));
    }
  gst_video_frame_unmap(&f);

  VigilPtzWorld *world = g_new0(VigilPtzWorld, 1);
  world->info = info;
  world->image = own;
  return world;
}

void vigil_ptz_world_free(VigilPtzWorld *world)
{
  if (!world)
    return;
  gst_clear_buffer(&world->image);
  g_free(world);
}

/* Samples one plane: output (w x h) from the source rectangle starting at
 * (x0, y0) of size (vw x vh), in that plane's pixels. */
static void sample_plane(const GstVideoFrame *src, guint plane, GstVideoFrame *dst, double x0,
                         double y0, double vw, double vh)
{
  int sw = GST_VIDEO_FRAME_COMP_WIDTH(src, plane), sh = GST_VIDEO_FRAME_COMP_HEIGHT(src, plane);
  int w = GST_VIDEO_FRAME_COMP_WIDTH(dst, plane), h = GST_VIDEO_FRAME_COMP_HEIGHT(dst, plane);
  const guint8 *sp = GST_VIDEO_FRAME_PLANE_DATA(src, plane);
  guint8 *dp = GST_VIDEO_FRAME_PLANE_DATA(dst, plane);
  int ss = GST_VIDEO_FRAME_PLANE_STRIDE(src, plane), ds = GST_VIDEO_FRAME_PLANE_STRIDE(dst, plane);
  g_autofree int *xmap = g_new(int, w);
  for (int x = 0; x < w; x++)
    xmap[x] = CLAMP((int)(x0 + (x + 0.5) * vw / w), 0, sw - 1);
  for (int y = 0; y < h; y++) {
    int sy = CLAMP((int)(y0 + (y + 0.5) * vh / h), 0, sh - 1);
    const guint8 *srow = sp + (gsize)sy * ss;
    guint8 *drow = dp + (gsize)y * ds;
    for (int x = 0; x < w; x++)
      drow[x] = srow[xmap[x]];
  }
}

GstBuffer *vigil_ptz_world_draw(const VigilPtzWorld *world, const GstVideoInfo *info, double pan,
                                double tilt, double zoom)
{
  GstBuffer *out = new_frame(info);
  GstVideoFrame src, dst;
  gst_video_frame_map(&src, &world->info, world->image, GST_MAP_READ);
  gst_video_frame_map(&dst, info, out, GST_MAP_WRITE);
  /* In fractions of the world: the viewport is 5/8 of it at zoom 0 and a
   * third of that at zoom 1; pan 1 puts its right edge on the world's. */
  double vw = 0.625 / (1.0 + 2.0 * CLAMP(zoom, 0.0, 1.0)), vh = vw;
  double cx = 0.5 + CLAMP(pan, -1.0, 1.0) * (1.0 - vw) / 2;
  double cy = 0.5 - CLAMP(tilt, -1.0, 1.0) * (1.0 - vh) / 2; /* tilt up: look higher */
  for (guint plane = 0; plane < 3; plane++) {
    int pw = GST_VIDEO_FRAME_COMP_WIDTH(&src, plane), ph = GST_VIDEO_FRAME_COMP_HEIGHT(&src, plane);
    sample_plane(&src, plane, &dst, (cx - vw / 2) * pw, (cy - vh / 2) * ph, vw * pw, vh * ph);
  }
  gst_video_frame_unmap(&dst);
  gst_video_frame_unmap(&src);
  return out;
}
