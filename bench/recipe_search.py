"""Research harness for issue 12: one training run, evaluated at several budgets.

    .venv/bin/python bench/recipe_search.py ../shared/datasets/magnetic_tile --minutes 20 \
        --eval-at 5,10,20 --out bench/out/exp.json [options]

Not a test and not the product's trainer: a small loop to compare recipe choices fast.
The clock stops while evaluating, so the figure at 5 minutes is what 5 minutes of training
bought. Results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from _report import write_report  # noqa: E402
from core.evaluation.datasets import read_mask, test_samples, train_good_images  # noqa: E402
from core.evaluation.metrics import summarize  # noqa: E402
from core.io.images import read_image  # noqa: E402
from core.model.draem import DraemModel  # noqa: E402
from core.model.losses import draem_loss  # noqa: E402
from core.synth import make_texture_source  # noqa: E402
from core.synth.augment import random_augment  # noqa: E402
from core.synth.defects import DEFECT_KINDS, visible  # noqa: E402
from core.synth.perlin import perlin_mask  # noqa: E402
from core.training.data import random_crop  # noqa: E402

EVAL_GRID = (256, 256)


def to_float3(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    img = img[:, :, :3]
    return img.astype(np.float32) / (65535.0 if img.dtype == np.uint16 else 255.0)


def load(paths, squash: int | None, scale: float):
    out = []
    for p in paths:
        im = to_float3(read_image(p))
        if squash:
            im = cv2.resize(im, (squash, squash), interpolation=cv2.INTER_AREA)
        elif scale != 1.0:
            im = cv2.resize(im, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(im))
    return out


class Synth:
    """The anomaly simulation the shipped base model was trained with, kept as it was so that
    the command in resources/base/README.md reproduces it; the product's is
    ``core.synth.simulator.simulator_for("defects")`` (the same kinds, another random stream)."""

    def __init__(self, kinds: dict[str, float], textures, beta_max=0.8, anomaly_prob=0.5,
                 flips=True, gray=False):
        names = list(kinds)
        w = np.array([kinds[n] for n in names], float)
        self.names, self.p = names, w / w.sum()
        self.textures, self.beta_max, self.anomaly_prob = textures, beta_max, anomaly_prob
        self.flips, self.gray = flips, gray

    def paper(self, img, rng):
        h, w = img.shape[:2]
        tex, _ = random_augment(self.textures.sample((h, w), rng), rng)
        if self.gray:
            tex = cv2.cvtColor(cv2.cvtColor(tex, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        mask = perlin_mask((h, w), rng)
        beta = float(rng.uniform(0, self.beta_max))
        m = mask[..., None]
        t = tex.astype(np.float32) / 255.0
        out = img * (1 - m) + (1 - beta) * t * m + beta * img * m
        return np.clip(out, 0, 1).astype(np.float32), mask

    def __call__(self, img, donor, rng):
        if self.flips:
            if rng.random() < 0.5:
                img = img[:, ::-1]
            if rng.random() < 0.5:
                img = img[::-1]
            img = np.ascontiguousarray(img)
        h, w = img.shape[:2]
        if rng.random() >= self.anomaly_prob:
            return img, img, np.zeros((h, w), np.float32)
        kind = self.names[int(rng.choice(len(self.names), p=self.p))]
        if kind == "texture":
            out, mask = self.paper(img, rng)
        else:
            out, mask = DEFECT_KINDS[kind](img, rng, donor)
            mask = visible(img, out, mask)
        return img, out, mask


def make_batch(images, synth, bs, crop, rng):
    xs, ts, ms = [], [], []
    for _ in range(bs):
        if not isinstance(images, list):  # a SurfaceSource: base-model pre-training
            im, do = images.pair(crop, rng)
        else:
            im = images[int(rng.integers(len(images)))]
            do = images[int(rng.integers(len(images)))]
        if crop and isinstance(images, list):
            im, do = random_crop(im, crop, rng), random_crop(do, crop, rng)
        t, x, m = synth(im, do, rng)
        xs.append(x.transpose(2, 0, 1)), ts.append(t.transpose(2, 0, 1)), ms.append(m[None])
    f = lambda a: torch.from_numpy(np.ascontiguousarray(np.stack(a)))  # noqa: E731
    return f(xs), f(ts), f(ms)


def pad32(x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % 32, (-w) % 32
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
    return x, h, w


@torch.no_grad()
def evaluate(model, samples, squash, scale, kernel=21, montage=None):
    model.eval()
    tiles = []
    labels, scores, masks, maps = [], [], [], []
    t0 = time.perf_counter()
    for s in samples:
        im = load([s.path], squash, scale)[0]
        x = torch.from_numpy(im.transpose(2, 0, 1)[None].copy())
        x, h, w = pad32(x)
        _, logits = model(x.contiguous(memory_format=torch.channels_last))
        amap = torch.sigmoid(logits[:, 1] - logits[:, 0])[:, :h, :w]
        k = kernel
        score = F.avg_pool2d(amap[:, None], k, 1, k // 2).amax().item()
        m = cv2.resize(amap[0].numpy(), EVAL_GRID[::-1], interpolation=cv2.INTER_AREA)
        labels.append(s.label), scores.append(score), maps.append(m)
        if montage and len(tiles) < 48 and (len(samples) < 100 or zlib.crc32(s.path.name.encode()) % 6 == 0):
            g = (cv2.resize(im, (160, 160)) * 255).astype(np.uint8)
            h_ = cv2.applyColorMap((cv2.resize(amap[0].numpy(), (160, 160)) * 255).astype(np.uint8),
                                   cv2.COLORMAP_JET)
            mk = read_mask(s, (160, 160)) if s.mask_path else None
            g2 = g.copy()
            if mk is not None:
                cnts, _ = cv2.findContours(mk, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
                cv2.drawContours(g2, cnts, -1, (0, 0, 255), 1)
            cv2.putText(g2, f"{s.defect_type[:5]} {score:.2f}", (2, 12), 0, 0.4, (0, 255, 0), 1)
            tiles.append(np.vstack([g2, h_]))
        masks.append(read_mask(s, EVAL_GRID) if s.mask_path or s.label == 0 else None)
    ms = (time.perf_counter() - t0) * 1000 / len(samples)
    if montage and tiles:
        while len(tiles) % 12:
            tiles.append(np.zeros_like(tiles[0]))
        rows = [np.hstack(tiles[i:i + 12]) for i in range(0, len(tiles), 12)]
        cv2.imwrite(str(montage), np.vstack(rows))
    any_mask = any(m is not None and m.any() for m in masks)
    met = summarize(np.array(labels), np.array(scores), masks if any_mask else None,
                    maps if any_mask else None)
    per_type = {}
    for t in sorted({s.defect_type for s in samples} - {"good"}):
        idx = [i for i, s in enumerate(samples) if s.defect_type in (t, "good")]
        per_type[t] = summarize(np.array([labels[i] for i in idx]), np.array([scores[i] for i in idx]))["image_auroc"]
    model.train()
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in met.items()
            if k in ("image_auroc", "image_ap", "pixel_auroc", "pixel_ap", "aupro")} | {
        "per_type_image_auroc": {k: round(v, 3) for k, v in per_type.items()}, "ms_per_image": round(ms, 1)}


def lr_factor(frac, sched, warm_frac):
    if frac < warm_frac:
        return (frac / warm_frac) if warm_frac > 0 else 1.0
    if sched == "const":
        return 1.0
    if sched == "cosine":
        q = (frac - warm_frac) / max(1e-9, 1 - warm_frac)
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, q)))
    return 0.2 ** sum(frac >= m for m in (0.8, 0.9))  # paper's step schedule


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--eval-at", default="5,10,20")
    ap.add_argument("--widths", default="16,8")
    ap.add_argument("--squash", type=int, default=0, help="resize every image to NxN (0: native)")
    ap.add_argument("--scale", type=float, default=1.0, help="native mode: rescale factor")
    ap.add_argument("--crop", type=int, default=128, help="training crop (0: whole image)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--sched", default="step", choices=["step", "cosine", "const"])
    ap.add_argument("--warmup", type=float, default=0.0, help="fraction of the budget")
    ap.add_argument("--ema", type=float, default=0.0, help="EMA decay of the weights (0: off)")
    ap.add_argument("--kinds", default="texture:1")
    ap.add_argument("--textures", type=Path)
    ap.add_argument("--anomaly-prob", type=float, default=0.5)
    ap.add_argument("--init", type=Path, help="warm start: a state_dict .pt")
    ap.add_argument("--save", type=Path, help="save the final (EMA) state_dict here")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--surfaces", help="pre-train a base on SurfaceSource (comma-separated image "
                    "folders, may be empty); DATA is then only the evaluation set")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    torch.set_num_threads(os.cpu_count() or 1)
    rw, dw = (int(v) for v in args.widths.split(","))
    model = DraemModel(rw, dw).to(memory_format=torch.channels_last)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True))
    ema = None
    if args.ema:
        ema = DraemModel(rw, dw).to(memory_format=torch.channels_last)
        ema.load_state_dict(model.state_dict())
        ema.eval()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    kinds = {k: float(v) for k, v in (kv.split(":") for kv in args.kinds.split(","))}
    if args.surfaces is not None:
        from core.synth.surfaces import SurfaceSource
        images = SurfaceSource([f for f in args.surfaces.split(",") if f], seed=args.seed)
        gray = False
    else:
        train_paths = train_good_images(args.data)
        images = load(train_paths, args.squash or None, args.scale)
        gray = all(np.allclose(im[..., 0], im[..., 1]) for im in images[:20])
    synth = Synth(kinds, make_texture_source(args.textures), anomaly_prob=args.anomaly_prob, gray=gray)
    samples = test_samples(args.data)
    evals = sorted(float(v) for v in args.eval_at.split(","))
    budget = args.minutes * 60
    results, step, trained, hist = [], 0, 0.0, []
    print(f"{len(images) if isinstance(images, list) else images} train images, {len(samples)} test, kinds {kinds}", flush=True)
    while trained < budget:
        t0 = time.perf_counter()
        frac = trained / budget
        lr = args.lr * lr_factor(frac, args.sched, args.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        x, tgt, m = make_batch(images, synth, args.batch, args.crop, rng)
        rec, logits = model(x.contiguous(memory_format=torch.channels_last))
        loss, parts = draem_loss(rec, tgt, logits, m)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.lerp_(pm, 1 - args.ema)
                for be, bm in zip(ema.buffers(), model.buffers()):
                    be.copy_(bm)
        step += 1
        trained += time.perf_counter() - t0
        hist.append(parts)
        if step % 500 == 0:
            torch.save((ema or model).state_dict(), args.out.with_suffix(".pt"))
        if step % 50 == 0:
            avg = {k: round(float(np.mean([h[k] for h in hist[-50:]])), 4) for k in parts}
            print(f"step {step} {trained:.0f}s lr {lr:.1e} {avg}", flush=True)
        if evals and trained >= evals[0] * 60:
            e = evals.pop(0)
            r = evaluate(ema or model, samples, args.squash or None, args.scale,
                         montage=args.out.with_suffix(f".{e:g}min.png"))
            r.update(minutes=e, steps=step)
            results.append(r)
            print("EVAL", json.dumps(r), flush=True)
    if evals:
        r = evaluate(ema or model, samples, args.squash or None, args.scale)
        r.update(minutes=round(trained / 60, 2), steps=step)
        results.append(r)
        print("EVAL", json.dumps(r), flush=True)
    if args.save:
        torch.save((ema or model).state_dict(), args.save)
    torch.save((ema or model).state_dict(), args.out.with_suffix(".pt"))
    write_report(args.out, {"args": {k: str(v) for k, v in vars(args).items()}, "results": results,
                            "seconds_per_step": round(trained / step, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
