#!/usr/bin/env python3
"""Scores detections against the evaluation set's ground truth (evalset.py).

  evaluate.py DETECTIONS.json [--score S] [--iou T] [--json]

DETECTIONS.json (what bench/detect/detect-eval prints): picture name ->
[{"label", "score", "x", "y", "w", "h"}], boxes in fractions of the
picture (0..1). The pictures scored are those in the file.

Matching is PASCAL VOC's: per picture and class, detections in decreasing
score each take the ground-truth box they overlap most; at IoU >= T (0.5)
that is a true positive if the box is still free, a false positive if it is
taken; a box marked difficult neither counts as a miss nor makes its
detection a false positive. A detection that matches nothing is a false
positive unless at least half of it lies in one of the picture's ignore
regions (a blurred crowd nobody labelled).

Size buckets, by box height over picture height: small < 0.10, medium
0.10-0.30, large > 0.30 (a camera's person at 10-30 m, 3-10 m, nearer). A
bucket's recall counts its ground-truth boxes; its precision counts the
detections matched to its boxes plus the false positives of its size (a
false positive has no ground truth: its own height decides). Scoring one
bucket treats the other buckets' boxes as difficult.

Precision and recall at score >= S (default 0.5, a camera's default
detect.min_score, SPEC); average precision over every detection given
(detect-eval gives everything above the model's 0.2 floor), all-point
interpolated as VOC 2010 on.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evalset  # noqa: E402

CLASSES = ["person", "car", "dog", "cat", "bicycle", "truck", "horse"]
BUCKETS = ("small", "medium", "large")


def bucket(height_fraction):
    if height_fraction < 0.10:
        return "small"
    return "medium" if height_fraction <= 0.30 else "large"


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def inside(box, region):
    """The fraction of @box that lies in @region."""
    x, y, w, h = box
    rx, ry, rw, rh = region
    iw = min(x + w, rx + rw) - max(x, rx)
    ih = min(y + h, ry + rh) - max(y, ry)
    return max(iw, 0) * max(ih, 0) / (w * h) if w * h > 0 else 0.0


def match(pictures, detections, label, buckets=BUCKETS, iou_min=0.5):
    """(scored, positives): scored is [(score, is_true_positive)] for every
    counted detection of @label, positives the number of boxes to find."""
    scored, positives = [], 0
    for name, found in detections.items():
        pic = pictures[name]
        W, H = pic["width"], pic["height"]
        truth = [(b["box"], b.get("difficult", False) or bucket(b["box"][3] / H) not in buckets)
                 for b in pic["boxes"] if b["label"] == label]
        positives += sum(1 for _, ignored in truth if not ignored)
        taken = [False] * len(truth)
        dets = sorted((d for d in found if d["label"] == label), key=lambda d: -d["score"])
        for d in dets:
            box = (d["x"] * W, d["y"] * H, d["w"] * W, d["h"] * H)
            best, best_iou = -1, iou_min
            for i, (t, _) in enumerate(truth):
                o = iou(box, t)
                if o >= best_iou:
                    best, best_iou = i, o
            if best >= 0:
                if truth[best][1]:
                    continue  # difficult, or another bucket's
                scored.append((d["score"], not taken[best]))
                taken[best] = True
            elif bucket(d["h"]) in buckets and \
                    not any(inside(box, r) >= 0.5 for r in pic["ignore"]):
                scored.append((d["score"], False))
    return scored, positives


def precision_recall(scored, positives, score):
    tp = sum(1 for s, ok in scored if s >= score and ok)
    fp = sum(1 for s, ok in scored if s >= score and not ok)
    return {"tp": tp, "fp": fp, "positives": positives,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / positives if positives else None}


def average_precision(scored, positives):
    """All-point interpolated AP (VOC 2010 on): the area under the
    precision-recall curve made monotonic from the right."""
    if not positives:
        return None
    tp = fp = 0
    recalls, precisions = [0.0], [1.0]
    for s, ok in sorted(scored, key=lambda x: -x[0]):
        tp, fp = tp + ok, fp + (not ok)
        recalls.append(tp / positives)
        precisions.append(tp / (tp + fp))
    for i in range(len(precisions) - 2, -1, -1):
        precisions[i] = max(precisions[i], precisions[i + 1])
    return sum((recalls[i] - recalls[i - 1]) * precisions[i] for i in range(1, len(recalls)))


def evaluate(pictures, detections, score=0.5, iou_min=0.5):
    """Every figure of the report, as a dict."""
    unknown = sorted(set(detections) - set(pictures))
    if unknown:
        raise KeyError(f"pictures not in the evaluation set: {', '.join(unknown)}")
    report = {"pictures": len(detections), "score": score, "iou": iou_min, "classes": {}}
    for label in CLASSES:
        scored, positives = match(pictures, detections, label, BUCKETS, iou_min)
        entry = {"all": precision_recall(scored, positives, score),
                 "ap": average_precision(scored, positives)}
        for b in BUCKETS:
            s, p = match(pictures, detections, label, (b,), iou_min)
            entry[b] = precision_recall(s, p, score)
        s, p = match(pictures, detections, label, ("medium", "large"), iou_min)
        entry["medium+large"] = precision_recall(s, p, score)
        entry["ap medium+large"] = average_precision(s, p)
        report["classes"][label] = entry
    return report


def fmt(v):
    return "-" if v is None else f"{v:.2f}"


def print_report(report):
    print(f"{report['pictures']} pictures, score >= {report['score']}, IoU >= {report['iou']}")
    print(f"{'class':8} {'bucket':13} {'boxes':>5} {'TP':>4} {'FP':>4} {'P':>5} {'R':>5}")
    for label, entry in report["classes"].items():
        if not entry["all"]["positives"] and not entry["all"]["fp"]:
            continue
        for b in BUCKETS + ("medium+large", "all"):
            e = entry[b]
            print(f"{label:8} {b:13} {e['positives']:5} {e['tp']:4} {e['fp']:4} "
                  f"{fmt(e['precision']):>5} {fmt(e['recall']):>5}")
        print(f"{label:8} AP {fmt(entry['ap'])} (medium+large {fmt(entry['ap medium+large'])})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("detections")
    parser.add_argument("--labels", default=evalset.LABELS)
    parser.add_argument("--score", type=float, default=0.5)
    parser.add_argument("--iou", type=float, default=0.5)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    pictures, _ = evalset.load(args.labels)
    with open(args.detections) as f:
        detections = json.load(f)
    report = evaluate(pictures, detections, args.score, args.iou)
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        print()
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
