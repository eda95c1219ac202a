#!/usr/bin/env bash
# The one list of vigil's dependencies: installs whatever of it is missing.
# Debian 12 packages through apt, web assets through npm. Safe to run often:
# when everything is present it does nothing and touches no network.
set -euo pipefail

DEBIAN_PACKAGES=(
  # build
  meson ninja-build pkg-config gcc g++ clang
  # the layout check (tests/meson.build: format): .clang-format is the law
  clang-format
  # libraries
  libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libsqlite3-dev libargon2-dev libxml2-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libgstrtspserver-1.0-dev libqrencode-dev
  # the allocator (src/core/heap.c): hands back what bursts free (docs/soak.md)
  libjemalloc-dev
  # MQTT (issue 18): the client library, and the broker and clients the tests run
  libmosquitto-dev mosquitto mosquitto-clients
  # keyframe analysis: decoding, scaling, QR/barcodes
  libavcodec-dev libswscale-dev libzbar-dev
  # rtsp:// and rtsps:// ingest: the RTSP/RTP stack ffmpeg itself uses
  libavformat-dev
  # object detection: OpenCV DNN/HOG; python3-onnx + numpy convert the model
  # (make model); opencv-doc ships the sample photos the tests show the camera
  libopencv-dev python3-onnx python3-numpy opencv-doc
  # the detection evaluation set (tests/detect-eval) also labels darknet's sample photos
  darknet
  # GStreamer elements used at run time (rtspsrc, parsers, x264/x265, srt, hls, libav)
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-x
  # tests and benchmarks: ffprobe/ffmpeg read what vigil serves
  ffmpeg python3 curl
  # RTSP corpus tests: two more, unrelated RTSP servers (VLC's, UDP only, and
  # rtsp-server-perl fed by ffmpeg); util-linux's setpriv runs VLC as nobody
  vlc-bin vlc-plugin-base rtsp-server-perl util-linux
  # make deb (docs/install.md): Debian's packaging tools; the package test
  # (tests/package) also runs systemd-analyze, man (its verify opens the
  # unit's man page), adduser (the postinst) and unshare (util-linux)
  dpkg-dev debhelper lintian systemd man-db adduser
  # web assets and the browser tests (playwright-core drives Debian's chromium)
  nodejs chromium
  # the soak (make test-soak, run by CI): network namespace, veth and tc, and
  # strace for its fsync window; libfaketime steps vigil's wall clock alone
  # (test_record ClockJumpTest)
  iproute2 strace libfaketime
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Debian's nodejs comes without npm; NodeSource's nodejs includes it.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The tests start brokers of their own: the system-wide one Debian's
  # mosquitto package enables is not wanted when it came in just for them.
  if [[ " ${missing[*]} " == *" mosquitto "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
  fi
fi

# Web assets (mpegts.js, hls.js, pixi.js) arrive with the live view and UI work;
# when web/package.json exists, install exactly what its lock file says.
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$here/web/package-lock.json" ] && [ ! -d "$here/web/node_modules" ]; then
  (cd "$here/web" && npm ci --no-audit --no-fund)
fi
