/* The demo camera of `vigil --demo`: vigil-fakecam's demo scene, run as a
 * child process, behind a camera called "demo". */
#pragma once

#include <glib.h>

#include "camera/manager.h"
#include "store/store.h"

G_BEGIN_DECLS

typedef struct _VigilDemo VigilDemo;

/* On the data directory's first --demo start, starts vigil-fakecam
 * (`--port 0 --scene demo`) and, once it serves, adds the camera "demo" with
 * its main and sub streams (recording on events, motion and barcodes on).
 * On later starts it starts vigil-fakecam again only if the camera "demo"
 * still points at a loopback vigil-fakecam, and moves it to the new port (a
 * sub stream the user turned off stays off); a deleted or repointed demo
 * camera is left alone. A vigil-fakecam that exits is started again (after
 * 1 s, doubling up to 60 s) and the camera moved to its new port, while the
 * camera is still the demo's. vigil-fakecam is
 * $VIGIL_FAKECAM_BIN, or found next to the vigil binary (build tree or
 * installed); without it the first start adds the old test:// pattern
 * camera. Returns NULL when nothing runs. @store and @cameras must outlive
 * the demo. */
VigilDemo *vigil_demo_start(VigilStore *store, VigilCameraManager *cameras);

/* Stops vigil-fakecam (SIGTERM, then SIGKILL after 5 s) and frees the demo.
 * NULL is allowed. The child also dies with vigil (PR_SET_PDEATHSIG). */
void vigil_demo_stop(VigilDemo *demo);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilDemo, vigil_demo_stop)

G_END_DECLS
