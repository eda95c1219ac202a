#!/usr/bin/env python3
"""Detection accuracy and time against the model's input size (issue 16).

For each input size (default 512 416 384 320 256) the CenterNet model is
copied into a temporary models directory with a centernet.onnx.ini whose
input_width/input_height say that size (the model is fully convolutional;
vigil's letterbox follows the .ini). Each size runs as vigil runs it, the
input fitted to the picture's aspect (`fit=32`: a 16:9 picture at 384 runs
at 384x224), and with --square also at the whole square (`fit=0`). Then:

1. build/bench/detect/detect-eval runs it on the whole evaluation set
   (tests/detect-eval, 33 pictures) and tests/detect-eval/evaluate.py scores
   it: person precision/recall per size bucket at score >= 0.5, person AP,
   the other classes' recall;
2. build/bench/detect/detect-bench times it: the median of 20 inferences on
   messi5.jpg scaled to 640x360 (a 16:9 camera picture, as the sub stream
   gives it), 1 OpenCV thread, CPU time of the process;
3. the crop gain: every small person of the set (not difficult) is also
   given to the detector as a crop around it, the box grown 3x around its
   centre and to at least the input size in source pixels where the picture
   allows (a motion box seen on the sub stream); its recall at score >= 0.5
   against the same people in the whole frame.

Usage: bench/detect/eval.py [--build DIR] [--sizes 512 320 ...] [--json FILE]
Needs `make model` (the model cache), ffmpeg and the evaluation set's Debian
packages (opencv-doc, darknet). Prints Markdown for bench/RESULTS.md
("detect: input size"). Accuracy figures are deterministic; times are not:
run on an otherwise idle machine.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "detect-eval"))
import evalset  # noqa: E402
import evaluate  # noqa: E402

CACHE = os.environ.get("VIGIL_MODEL_CACHE",
                       os.path.join(os.path.expanduser("~"), ".cache", "vigil", "models"))
PHOTO = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"
SCORE = 0.5
OTHERS = ("car", "dog", "truck", "bicycle", "horse")


def models_dir(size, parent, fit=True):
    """A models directory holding centernet at @size x @size, its input
    fitted to the picture (fit=32) or always the whole square (fit=0)."""
    d = os.path.join(parent, f"models-{size}-{'fit' if fit else 'square'}")
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(CACHE, "centernet.onnx"), d)
    with open(os.path.join(CACHE, "centernet.onnx.ini")) as f:
        ini = f.read()
    ini = re.sub(r"(?m)^input_width=.*$", f"input_width={size}", ini)
    ini = re.sub(r"(?m)^input_height=.*$", f"input_height={size}", ini)
    ini = re.sub(r"(?m)^fit=.*\n", "", ini) + f"fit={32 if fit else 0}\n"
    with open(os.path.join(d, "centernet.onnx.ini"), "w") as f:
        f.write(ini)
    return d


def crop_around(box, width, height, size):
    """The crop (x, y, w, h) around @box: 3x its size around its centre, at
    least @size in each direction, inside the picture."""
    x, y, w, h = box
    cw = min(max(3 * w, size), width)
    ch = min(max(3 * h, size), height)
    cx = min(max(round(x + w / 2 - cw / 2), 0), width - cw)
    cy = min(max(round(y + h / 2 - ch / 2), 0), height - ch)
    return cx, cy, round(cw), round(ch)


def found(dets, box, width, height, score=SCORE):
    """Whether a person at @score or more overlaps @box by IoU >= 0.5."""
    return any(d["label"] == "person" and d["score"] >= score and
               evaluate.iou((d["x"] * width, d["y"] * height, d["w"] * width, d["h"] * height),
                            box) >= 0.5 for d in dets)


def crop_gain(exe, models, pictures, raws, whole, tmp, size):
    """(people, found in the whole frame, found in their crop), at score >=
    0.5 and at score >= 0.3."""
    entries, people = [], []
    for name, pic in pictures.items():
        W, H = pic["width"], pic["height"]
        for i, b in enumerate(pic["boxes"]):
            if b["label"] != "person" or b.get("difficult") or \
                    evaluate.bucket(b["box"][3] / H) != "small":
                continue
            key = f"{name}#{i}"
            people.append((key, name, b["box"]))
            entries.append((key, raws[name], W, H) + crop_around(b["box"], W, H, size))
    crops = evalset.detect(exe, models, "centernet", entries, tmp)
    counts = []
    for score in (SCORE, 0.3):
        for dets in (whole, None):
            counts.append(sum(1 for key, name, box in people
                              if found(dets[name] if dets else crops[key], box,
                                       pictures[name]["width"], pictures[name]["height"], score)))
    return (len(people),) + tuple(counts)


def timing(bench, models, tmp, n=20):
    raw = os.path.join(tmp, "messi-640x360.rgb")
    if not os.path.exists(raw):
        subprocess.run(["ffmpeg", "-loglevel", "error", "-nostdin", "-y", "-i", PHOTO, "-vf",
                        "scale=640:360", "-f", "rawvideo", "-pix_fmt", "rgb24", raw], check=True)
    env = dict(os.environ, VIGIL_DETECT_THREADS="1")
    out = subprocess.run([bench, models, "centernet", raw, "640", "360", str(n)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def pct(v):
    return "-" if v is None else f"{100 * v:.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 416, 384, 320, 256])
    parser.add_argument("--square", action="store_true",
                        help="also run each size at the whole square input (fit=0)")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args()
    exe = os.path.join(args.build, "bench", "detect", "detect-eval")
    bench = os.path.join(args.build, "bench", "detect", "detect-bench")
    pictures, cutouts = evalset.load()
    missing = evalset.missing_sources(pictures, cutouts)
    if missing or not os.path.exists(os.path.join(CACHE, "centernet.onnx")):
        sys.exit(f"missing: {', '.join(missing) or 'the model (make model)'}")

    tmp = tempfile.mkdtemp(prefix="vigil-detect-eval-")
    try:
        raws = {n: evalset.make_raw(n, p, cutouts, tmp) for n, p in pictures.items()}
        entries = [(n, raws[n], p["width"], p["height"]) for n, p in pictures.items()]
        print(f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {len(pictures)} "
              f"pictures, load average before: {os.getloadavg()}", flush=True)
        rows = []
        variants = [(s, True) for s in args.sizes]
        if args.square:
            variants += [(s, False) for s in args.sizes]
        for size, fit in variants:
            models = models_dir(size, tmp, fit)
            dets = evalset.detect(exe, models, "centernet", entries, tmp)
            report = evaluate.evaluate(pictures, dets, SCORE)
            load = os.getloadavg()[0]
            t = timing(bench, models, tmp)
            gain = crop_gain(exe, models, pictures, raws, dets, tmp, size)
            rows.append({"size": size, "fit": fit, "report": report, "time": t, "load": load,
                         "crop": gain})
            p = report["classes"]["person"]
            scored, positives = evaluate.match(pictures, dets, "person", ("medium", "large"))
            lower = {s: evaluate.precision_recall(scored, positives, s) for s in (0.4, 0.3)}
            rows[-1]["person medium+large at lower scores"] = lower
            print(f"  {size}{'' if fit else ' square'}: person P/R medium+large at score >= 0.4: "
                  f"{pct(lower[0.4]['precision'])}/{pct(lower[0.4]['recall'])} %, >= 0.3: "
                  f"{pct(lower[0.3]['precision'])}/{pct(lower[0.3]['recall'])} %", flush=True)
            print(f"  {size}{'' if fit else ' square'}: person R medium+large {pct(p['medium+large']['recall'])} %, "
                  f"AP {p['ap']:.3f}, {t['cpu_ms']:.0f} ms CPU (load {load:.2f}), crop gain "
                  f"{gain[1]}/{gain[0]} -> {gain[2]}/{gain[0]} "
                  f"(score >= 0.3: {gain[3]} -> {gain[4]})", flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print("| input | person P/R small | person P/R medium | person P/R large | "
          "person R medium+large | person AP (all / medium+large) | "
          + " | ".join(f"{c} R" for c in OTHERS) +
          " | inference CPU ms on 640×360, median of 20 (load avg) | small people found: "
          "frame → crop "
          "(at score ≥ 0.3) |")
    print("|---" * (9 + len(OTHERS)) + "|")
    for r in rows:
        p = r["report"]["classes"]["person"]
        cells = [f"{r['size']} fitted ({r['size']}×{(r['size'] * 9 // 16 + 31) // 32 * 32} "
                 "for 16:9)" if r["fit"] else f"{r['size']}×{r['size']}"]
        cells += [f"{pct(p[b]['precision'])} / {pct(p[b]['recall'])}" for b in evaluate.BUCKETS]
        ml = p["medium+large"]
        cells.append(f"{pct(ml['recall'])} ({ml['tp']}/{ml['positives']})")
        cells.append(f"{p['ap']:.2f} / {p['ap medium+large']:.2f}")
        for c in OTHERS:
            a = r["report"]["classes"][c]["all"]
            cells.append(f"{a['tp']}/{a['positives']}")
        cells.append(f"{r['time']['cpu_ms']:.0f} ({r['load']:.1f})")
        n, whole, crop, whole_low, crop_low = r["crop"]
        cells.append(f"{whole}/{n} → {crop}/{n} ({whole_low} → {crop_low})")
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
