#!/usr/bin/python3
"""Writes a tiny ONNX "detector" with planted outputs, for the unit tests of
vigil's pre- and post-processing (tests/unit/test-detect.c), and its .ini.

Input `images` [1,3,32,32]. Outputs, CenterNet-shaped at stride 4:
- `heatmap` [1,80,8,8]: class 0 (person) = the mean of the normalised first
  channel over each 4x4 block / 100, class 16 (dog) = the same of the second
  channel; every other class 0;
- `wh` [1,4,8,8]: the constant edges left 3, top 5, right 7, bottom 5.
So a test paints a block of known colour and knows the box that must come out.

Usage: make-test-model.py OUT.onnx   (writes OUT.onnx and OUT.onnx.ini)
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = sys.argv[1]
    w = np.zeros((80, 3, 4, 4), np.float32)
    w[0, 0] = 1.0 / (16 * 100)
    w[16, 1] = 1.0 / (16 * 100)
    e = np.zeros((4, 3, 4, 4), np.float32)
    eb = np.array([3, 5, 7, 5], np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["images", "hw"], ["heatmap"], kernel_shape=[4, 4],
                             strides=[4, 4]),
            helper.make_node("Conv", ["images", "ew", "eb"], ["wh"], kernel_shape=[4, 4],
                             strides=[4, 4]),
        ],
        "planted",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("heatmap", TensorProto.FLOAT, [1, 80, 8, 8]),
         helper.make_tensor_value_info("wh", TensorProto.FLOAT, [1, 4, 8, 8])],
        [numpy_helper.from_array(w, "hw"), numpy_helper.from_array(e, "ew"),
         numpy_helper.from_array(eb, "eb")])
    m = helper.make_model(graph, producer_name="vigil tools/model/make-test-model.py",
                          opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    onnx.checker.check_model(m)
    onnx.save(m, out)
    with open(out + ".ini", "w") as f:
        f.write("[model]\ndecoder=centernet\ninput_width=32\ninput_height=32\nchannels=rgb\n"
                "mean=10;20;30\nscale=0.5;0.5;0.5\nstride=4\nheatmap=heatmap\nboxes=wh\n"
                "min_score=0.3\n")


if __name__ == "__main__":
    main()
