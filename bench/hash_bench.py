"""Hashing benchmark: PDQ images per second per core, ours against Pillow + pdqhash.

    .venv/bin/python bench/hash_bench.py [--count 200] [--seed 1]

Makes --count benign 1024 x 768 JPEGs in memory (gradients, shapes, text and noise, quality
90), then hashes each one twice on this one process, the two in alternating order:

- baseline: Image.open(...).convert("RGB") then pdqhash.compute(np.asarray(image));
- ours: PdqHashType.compute(data, "image") as production runs it (PDQ_HASHER = "fast").

Both are timed in CPU seconds of the process (all its threads), decoding included, so the
figures are per core whatever a library does with threads. Prints both rates, the speed-up,
the share of identical hashes and the largest bit distance, and exits 1 when a target is
missed: speed-up >= 4, identical >= 95 %, no hash more than 4 bits away.
"""

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1024, 768
WARMUP = 3
MIN_SPEEDUP = 4.0
MIN_IDENTICAL = 0.95
MAX_BITS = 4


def picture(seed: int) -> bytes:
    """A 1024 x 768 JPEG: colour waves and a gradient, shapes, a caption, then noise."""
    rng = np.random.default_rng(seed)
    # The waves are drawn at an eighth of the size and enlarged: smooth, and quick to make.
    y, x = np.ogrid[0 : HEIGHT // 8, 0 : WIDTH // 8]
    fx, fy = rng.uniform(0.04, 0.4, 2)
    phase = rng.uniform(0, 2 * np.pi, 3)
    red = 128 + 90 * np.sin(x * fx + y * fy + phase[0])
    green = 40 + 180 * (x / (WIDTH // 8)) * (y / (HEIGHT // 8)) + 30 * np.cos(y * fy + phase[1])
    blue = 128 + 90 * np.sin(x * fy * 1.5 - y * fx + phase[2])
    planes = np.stack(np.broadcast_arrays(red, green, blue), axis=2)
    small = Image.fromarray(np.clip(planes, 0, 255).astype(np.uint8), "RGB")
    image = small.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(6, 16))):
        x0, y0 = int(rng.integers(-100, WIDTH)), int(rng.integers(-100, HEIGHT))
        box = (x0, y0, x0 + int(rng.integers(30, 400)), y0 + int(rng.integers(30, 300)))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = rng.integers(3)
        if shape == 0:
            draw.ellipse(box, fill=fill)
        elif shape == 1:
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon(
                [(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) // 2, box[1])], fill=fill
            )
    draw.text((int(rng.integers(0, WIDTH - 300)), int(rng.integers(0, HEIGHT - 60))),
              f"test card {seed}", fill=(255, 255, 255), font_size=48)  # fmt: skip
    # Grain, as a camera adds: -12..12 on every pixel.
    grain = Image.fromarray(rng.integers(0, 25, (HEIGHT, WIDTH), np.uint8), "L")
    image = ImageChops.add(image, Image.merge("RGB", (grain, grain, grain)), offset=-12)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    sys.path.insert(0, str(ROOT))
    import pdqhash
    from django.conf import settings

    if not settings.configured:
        settings.configure(PDQ_HASHER="fast")
    from openhotline.signals.types import PDQ

    def baseline(data: bytes) -> tuple[str, int]:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        bits, quality = pdqhash.compute(np.asarray(image))
        return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)

    def ours(data: bytes) -> tuple[str, int]:
        [value] = PDQ.compute(data, "image")
        return value.value, int(value.quality or 0)

    started = time.perf_counter()
    pictures = [picture(args.seed * 100_000 + i) for i in range(args.count)]
    size = sum(map(len, pictures)) / len(pictures) / 1024
    print(f"{args.count} JPEGs of {WIDTH}x{HEIGHT}, {size:.0f} KiB on average, "
          f"made in {time.perf_counter() - started:.1f} s")  # fmt: skip
    for data in pictures[:WARMUP]:  # imports, caches, allocator
        baseline(data), ours(data)

    spent = {"baseline": 0.0, "ours": 0.0}
    hashers = {"baseline": baseline, "ours": ours}
    identical = same_quality = worst = 0
    for index, data in enumerate(pictures):
        results = {}
        order = ("baseline", "ours") if index % 2 else ("ours", "baseline")
        for name in order:
            before = time.process_time()
            results[name] = hashers[name](data)
            spent[name] += time.process_time() - before
        (want, want_quality), (got, got_quality) = results["baseline"], results["ours"]
        distance = (int(want, 16) ^ int(got, 16)).bit_count()
        identical += distance == 0
        same_quality += want_quality == got_quality
        worst = max(worst, distance)

    rate = {name: args.count / seconds for name, seconds in spent.items()}
    speedup = rate["ours"] / rate["baseline"]
    share = identical / args.count
    print(f"baseline (Pillow RGB + pdqhash): {rate['baseline']:7.1f} images/s per core "
          f"({1000 / rate['baseline']:.1f} ms each)")  # fmt: skip
    print(f"ours (PdqHashType.compute, fast): {rate['ours']:6.1f} images/s per core "
          f"({1000 / rate['ours']:.1f} ms each)")  # fmt: skip
    print(f"speed-up {speedup:.2f}x; identical hashes {identical}/{args.count} ({share:.1%}); "
          f"max distance {worst} bits; same quality {same_quality}/{args.count}")  # fmt: skip

    failed = []
    if speedup < MIN_SPEEDUP:
        failed.append(f"speed-up {speedup:.2f}x < {MIN_SPEEDUP:g}x")
    if share < MIN_IDENTICAL:
        failed.append(f"identical {share:.1%} < {MIN_IDENTICAL:.0%}")
    if worst > MAX_BITS:
        failed.append(f"max distance {worst} bits > {MAX_BITS}")
    for target in failed:
        print(f"TARGET MISSED: {target}")
    if not failed:
        print("all targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
