// The /live/{id} page: one camera, full window.
import { LivePlayer } from './live-player.js';

const id = decodeURIComponent(location.pathname.replace(/^\/live\//, '').replace(/\/$/, ''));
document.title = id + ' · vigil live';
const player = new LivePlayer(document.getElementById('player'), { cameraId: id });
player.start();
// For tests and debugging.
window.vigilPlayer = player;
