#!/usr/bin/env python3
"""vigil's detection evaluation set: the pictures and their ground truth.

Real pictures come from Debian packages (opencv-doc, darknet) and are
labelled by hand in labels.json (boxes [x, y, w, h] in pixels). Synthetic
1280x720 scenes paste hand-labelled cut-outs (rectangles cut tight around one
object) onto a background at known positions and heights, so their boxes are
exact; each scene comes bright, dim (gain 0.35) and as a grey, low-contrast,
noisy "night" picture. Everything is made at run time with ffmpeg, the same
way every time (its noise filter has a fixed seed); nothing is copied into
the repository.

Used by evaluate.py, test_detect_eval.py and bench/detect/eval.py. Also a
tool:

  evalset.py list                 the pictures, their sizes and box counts
  evalset.py render DIR [NAME..]  PNGs with the boxes drawn, to check labels
                                  (green: a box; yellow: difficult; red: an
                                  ignore region)
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = os.path.join(HERE, "labels.json")

WIDTH, HEIGHT = 1280, 720
STREET = "/usr/share/doc/opencv-doc/examples/data/leuvenA.jpg"
# Object heights of the synthetic scenes, in pixels of 720: about 7 %, 20 %
# and 50 % of the picture, one in each size bucket of evaluate.py.
SMALL, MEDIUM, LARGE = 50, 144, 360

# Background, then (cut-out, x, y, height) pastes; widths keep the cut-out's
# aspect. No two pastes of a scene overlap.
SCENES = {
    "small-street": ("street", [("person-field", 200, 480, SMALL), ("person-beach", 560, 430, 52),
                                ("person-gym", 900, 500, 54), ("dog-field", 1050, 600, 46),
                                ("truck-street", 380, 610, 48)]),
    "small-plain": ("plain", [("person-field", 150, 330, SMALL), ("person-beach", 480, 360, SMALL),
                              ("person-gym", 820, 300, 56), ("dog-field", 1000, 420, 44),
                              ("truck-street", 600, 500, SMALL)]),
    "medium-street": ("street", [("person-field", 120, 380, 150), ("person-beach", 420, 400, 160),
                                 ("person-gym", 700, 330, 180), ("dog-field", 900, 560, 100),
                                 ("truck-street", 1000, 430, 110)]),
    "medium-plain": ("plain", [("person-field", 200, 300, 140), ("person-beach", 500, 350, 170),
                               ("person-gym", 800, 260, 200), ("dog-field", 950, 520, 110),
                               ("truck-street", 60, 520, 120)]),
    "large-street": ("street", [("person-field", 150, 260, 400), ("person-gym", 450, 230, 440),
                                ("dog-porch", 750, 330, LARGE)]),
    "large-plain": ("plain", [("person-field", 900, 200, 420), ("person-gym", 150, 220, 460),
                              ("dog-porch", 500, 300, 340)]),
}
# The lighting variants: ffmpeg filters applied to the finished scene.
VARIANTS = {
    "bright": "null",
    "dim": "colorchannelmixer=rr=0.35:gg=0.35:bb=0.35",
    "night": "format=gray,eq=contrast=0.5:brightness=-0.12,noise=alls=14:allf=u,format=rgb24",
}


def load(path=LABELS):
    """Every picture of the set: name -> {width, height, boxes, ignore, ...};
    synthetic ones have "scene" and "variant" and their pastes' boxes."""
    with open(path) as f:
        labels = json.load(f)
    pictures = {}
    for name, pic in labels["pictures"].items():
        pictures[name] = dict(pic, ignore=pic.get("ignore", []))
    cutouts = labels["cutouts"]
    for scene, (background, pastes) in SCENES.items():
        boxes = []
        for cut, x, y, h in pastes:
            cw, ch = cutouts[cut]["box"][2:]
            boxes.append({"label": cutouts[cut]["label"], "box": [x, y, round(cw * h / ch), h]})
        for variant in VARIANTS:
            pictures[f"syn-{scene}-{variant}"] = {
                "scene": scene, "variant": variant, "background": background,
                "width": WIDTH, "height": HEIGHT, "boxes": boxes, "ignore": []}
    return pictures, cutouts


def _run(args):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-nostdin", "-y"] + args, check=True)


def _scene_args(pic, cutouts, final):
    """ffmpeg arguments that compose a synthetic scene through @final."""
    _, pastes = SCENES[pic["scene"]]
    if pic["background"] == "street":
        # leuvenA is 4:3: scaled to the width, the bottom 16:9 (the street).
        inputs = ["-i", STREET]
        chain = [f"[0]scale={WIDTH}:960,crop={WIDTH}:{HEIGHT}:0:240,setsar=1,format=rgb24[b0]"]
    else:
        # A plain scene as vigil-fakecam draws one: sky over flat ground.
        sky = HEIGHT * 2 // 5
        inputs = ["-f", "lavfi", "-i", f"color=c=0xb4c0cc:s={WIDTH}x{sky}:d=1",
                  "-f", "lavfi", "-i", f"color=c=0x70746a:s={WIDTH}x{HEIGHT - sky}:d=1"]
        chain = ["[0][1]vstack,setsar=1,format=rgb24[b0]"]
    first = inputs.count("-i")
    for i, (cut, x, y, h) in enumerate(pastes):
        c = cutouts[cut]
        cx, cy, cw, ch = c["box"]
        w = round(cw * h / ch)
        inputs += ["-i", c["source"]]
        chain.append(f"[{first + i}]crop={cw}:{ch}:{cx}:{cy},scale={w}:{h},format=rgb24[p{i}]")
        chain.append(f"[b{i}][p{i}]overlay=x={x}:y={y}:format=rgb[b{i + 1}]")
    chain.append(f"[b{len(pastes)}]{final}[out]")
    return inputs + ["-filter_complex", ";".join(chain), "-map", "[out]", "-frames:v", "1"]


def _picture_args(pic, cutouts, final):
    if "scene" in pic:
        return _scene_args(pic, cutouts, f"{VARIANTS[pic['variant']]},{final}")
    select = f"select=eq(n\\,{pic['frame']})," if "frame" in pic else ""
    scale = f"scale={pic['width']}:{pic['height']},"  # a check, not a change
    return ["-i", pic["source"], "-vf", f"{select}{scale}{final}", "-frames:v", "1"]


def make_raw(name, pic, cutouts, directory):
    """Writes the picture as raw RGB24 into @directory; returns its path."""
    path = os.path.join(directory, name + ".rgb")
    _run(_picture_args(pic, cutouts, "format=rgb24") + ["-f", "rawvideo", "-pix_fmt", "rgb24",
                                                         path])
    size = os.path.getsize(path)
    if size != pic["width"] * pic["height"] * 3:
        raise RuntimeError(f"{name}: {size} bytes, not {pic['width']}x{pic['height']} RGB24")
    return path


def missing_sources(pictures, cutouts):
    """The installed files the set needs that are not there."""
    files = {p["source"] for p in pictures.values() if "source" in p}
    files |= {c["source"] for c in cutouts.values()} | {STREET}
    return sorted(f for f in files if not os.path.exists(f))


def write_list(entries, path):
    """The picture list detect-eval reads: (name, raw path, width, height)
    or with a crop (..., x, y, w, h)."""
    with open(path, "w") as f:
        for e in entries:
            f.write(" ".join(str(v) for v in e) + "\n")


def detect(exe, models_dir, model, entries, directory, input_size=None):
    """Runs detect-eval (bench/detect) on @entries, at @input_size (a number,
    "default" for the daemon's default, None for the .ini's); its JSON as a
    dict."""
    path = os.path.join(directory, "list.txt")
    write_list(entries, path)
    size = [] if input_size is None else [str(input_size)]
    out = subprocess.run([exe, models_dir, model, path] + size, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def render(name, pic, cutouts, directory):
    """A PNG of the picture with its boxes drawn."""
    boxes = [f"drawbox=x={x}:y={y}:w={w}:h={h}:c=red@0.8:t=2" for x, y, w, h in pic["ignore"]]
    for b in pic["boxes"]:
        x, y, w, h = b["box"]
        colour = "yellow" if b.get("difficult") else "lime"
        boxes.append(f"drawbox=x={x}:y={y}:w={w}:h={h}:c={colour}:t=2")
    final = ",".join(["format=rgb24"] + boxes)
    _run(_picture_args(pic, cutouts, final) + [os.path.join(directory, name + ".png")])


def main(argv):
    pictures, cutouts = load()
    if len(argv) >= 1 and argv[0] == "list":
        for name, pic in pictures.items():
            difficult = sum(1 for b in pic["boxes"] if b.get("difficult"))
            print(f"{name:28} {pic['width']}x{pic['height']}  {len(pic['boxes'])} boxes"
                  f" ({difficult} difficult)")
        return 0
    if len(argv) >= 2 and argv[0] == "render":
        os.makedirs(argv[1], exist_ok=True)
        for name in argv[2:] or pictures:
            render(name, pictures[name], cutouts, argv[1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
