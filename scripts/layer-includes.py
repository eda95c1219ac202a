#!/usr/bin/env python3
"""Make the include root of one layer of src/ (called by src/meson.build at
configure time).

    layer-includes.py ROOT SRC LAYER ALLOWED...

ROOT/LAYER/ receives one symlink per folder the layer may include (itself and
ALLOWED, each pointing into SRC), and nothing else. The layer's files are
compiled with -I ROOT/LAYER instead of -I SRC, so `#include "camera/camera.h"`
from a folder that may not see camera/ fails to compile: the build itself
refuses an upward or circular include."""
import os
import shutil
import sys


def main():
    root, src, layer, allowed = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    top = os.path.join(root, layer)
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    for name in [layer] + allowed:
        target = os.path.join(src, name)
        if not os.path.isdir(target):
            sys.exit(f"layer {layer}: no folder src/{name}")
        os.symlink(os.path.abspath(target), os.path.join(top, name))


if __name__ == "__main__":
    main()
