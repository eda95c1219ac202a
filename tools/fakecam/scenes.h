/* vigil-fakecam scenes: parse `--scene NAME[:ARG]` and draw the raw I420
 * frames that encode.c turns into a pre-encoded clip. */
#pragma once

#include <glib.h>
#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_SCENE_STATIC,
  VIGIL_SCENE_MOTION,
  VIGIL_SCENE_QR,
  VIGIL_SCENE_DARK,
  VIGIL_SCENE_IMAGE,
  VIGIL_SCENE_NOISE,
  VIGIL_SCENE_DEMO,
  VIGIL_SCENE_SPRITE,
} VigilSceneKind;

/* A parsed scene description. */
typedef struct {
  VigilSceneKind kind;
  char *spec;           /* the text given on the command line, e.g. "motion:10" */
  double still_seconds; /* motion: still time before the block starts moving */
  char *arg;            /* qr: the text; image, sprite: the file path; else NULL */
  double loop_seconds;  /* demo: the length of its loop; 0: --loop */
} VigilScene;

/* Parses "static", "motion[:SECONDS]" (default 10), "qr:TEXT", "dark",
 * "image:PATH", "noise", "demo" or "sprite:PATH". Returns NULL with @error set (a message for the
 * user) when @spec is not a valid scene. */
VigilScene *vigil_scene_parse(const char *spec, GError **error);

/* Frees a scene from vigil_scene_parse(); NULL is allowed. */
void vigil_scene_free(VigilScene *scene);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilScene, vigil_scene_free)

/* Draws the frames of one scene at one size. Not thread-safe: use one
 * renderer from one thread at a time. */
typedef struct _VigilSceneRender VigilSceneRender;

/* Prepares @scene for frames described by @info (I420, with the frame rate
 * set): decodes the image, encodes the QR code, draws the background. Returns NULL with @error set
 * when the scene cannot be drawn (unreadable image, QR text too long). */
VigilSceneRender *vigil_scene_render_new(const VigilScene *scene, const GstVideoInfo *info,
                                         GError **error);

/* Frees a renderer; NULL is allowed. */
void vigil_scene_render_free(VigilSceneRender *render);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSceneRender, vigil_scene_render_free)

/* TRUE when every frame of the scene is identical (static, qr, image). */
gboolean vigil_scene_render_is_still(const VigilSceneRender *render);

/* Returns a new I420 frame without timestamps. @intro selects the part played
 * once when the media starts (motion: the still part); otherwise @index is
 * frame @index of @count in the part that loops forever. */
GstBuffer *vigil_scene_render_frame(VigilSceneRender *render, gboolean intro, guint index,
                                    guint count);

/* A PTZ camera's world (--ptz): the scene drawn once at twice the frame
 * size, with a grid of markers on it, of which every frame shows a viewport:
 * pan and tilt (-1..1) move it, zoom (0..1) narrows it up to 3 times. Only
 * the PTZ camera pays for this; immutable after new(), so the streaming
 * threads of the main and the sub stream draw from it at once. */
typedef struct _VigilPtzWorld VigilPtzWorld;

VigilPtzWorld *vigil_ptz_world_new(const VigilScene *scene, int width, int height, GError **error);
void vigil_ptz_world_free(VigilPtzWorld *world);

/* A new I420 frame of @info's size: the world seen at @pan, @tilt, @zoom
 * (nearest-neighbour sampling: cheap, and sharp enough for a test camera). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPtzWorld, vigil_ptz_world_free)

GstBuffer *vigil_ptz_world_draw(const VigilPtzWorld *world, const GstVideoInfo *info, double pan,
                                double tilt, double zoom);

G_END_DECLS
