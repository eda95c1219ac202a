// The /live/{id} page: one camera, full window.
import { LivePlayer } from './live-player.js';
import { getSession } from './ui.js';

// No session: off to /login?next=/live/{id} (getSession never resolves then).
await getSession();

const id = decodeURIComponent(location.pathname.replace(/^\/live\//, '').replace(/\/$/, ''));
document.title = id + ' · vigil live';
// ?transport=hls|ws forces one transport (tests, debugging).
const transport = new URLSearchParams(location.search).get('transport') || 'auto';
const player = new LivePlayer(document.getElementById('player'), { cameraId: id, transport });
player.start();
// For tests and debugging.
window.vigilPlayer = player;
