// The /live/{id} page: one camera, full window.
import { LivePlayer, narrowScreen, streamFor } from './live-player.js';
import { api, getSession } from './ui.js';

// No session: off to /login?next=/live/{id} (getSession never resolves then).
await getSession();

const id = decodeURIComponent(location.pathname.replace(/^\/live\//, '').replace(/\/$/, ''));
document.title = id + ' · vigil live';
// ?transport=hls|ws forces one transport (tests, debugging).
const transport = new URLSearchParams(location.search).get('transport') || 'auto';
// The main stream; on a phone the sub stream, where the camera has one (only
// there is the camera read first: elsewhere that would delay the picture).
const cam = narrowScreen() ? await api('GET', `/cameras/${encodeURIComponent(id)}`).catch(() => null) : null;
const player = new LivePlayer(document.getElementById('player'),
                              { cameraId: id, transport, stream: streamFor(cam, true) });
player.start();
// For tests and debugging.
window.vigilPlayer = player;
