"""Side by side with anomalib 2.7.0's DraemModel (widths 128/64), same process, alternating A/B.

    bash bench/anomalib_env.sh          # once: the separate venv bench/.venv-anomalib
    bench/.venv-anomalib/bin/python bench/vs_anomalib.py \\
        --textures ../shared/datasets/textures_dtd10 --out bench/out/vs_anomalib.json
    # smoke run (seconds, not a measurement):
    bench/.venv-anomalib/bin/python bench/vs_anomalib.py --textures ../shared/datasets/textures_dtd10 \\
        --runs 2 --train-runs 1 --widths 16 8 --calib-images 4 --out /tmp/vs.json

Runs only in the benchmark venv (the product never depends on anomalib). Inputs are real
256x256 good images (--images), so nothing is downloaded: anomalib gets --textures as its
DTD folder. Both sides use the same thread count and random weights (speed does not depend
on them). Reported, as medians over rounds in which A and B alternate:

* inference, batch 1: anomalib ``DraemModel`` in eval mode (NCHW tensor in, softmax + max
  score out) vs each of our backends (preprocessed frame in, map + smoothed score out);
  ``ratio`` = ours / anomalib latency (< 1: we are faster);
* training at batch 8, images/s: (a) ``compute``: forward + loss + backward + Adam on a
  fixed augmented batch; (b) ``with_augmentation``: each side also synthesises its anomalies
  in the same thread (anomalib ``PerlinAnomalyGenerator`` on DTD; ours ``SynthDataset``).
  anomalib's Lightning overhead is left out, which favours anomalib.

``--widths`` other than 128 64 (both models' widths; anomalib's sub-networks are rebuilt
with them) is for smoke runs only, never for reported figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

SIZE = (256, 256)


def _ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def load_good_images(folder: Path, n: int) -> np.ndarray:
    from core.io.images import list_images, read_image, to_model_input

    paths = list_images(folder)[:n]
    if len(paths) < n:
        raise SystemExit(f"--images {folder}: need {n} images, found {len(paths)}")
    return np.stack([(to_model_input(read_image(p), SIZE) * 255).round().astype(np.uint8) for p in paths])


def anomalib_parts(textures: Path, widths: tuple[int, int]):
    from anomalib.models.image.draem.lightning_model import Draem
    from anomalib.models.image.draem.torch_model import DiscriminativeSubNetwork, ReconstructiveSubNetwork

    module = Draem(dtd_dir=textures, pre_processor=False, post_processor=False, evaluator=False,
                   visualizer=False)
    if tuple(widths) != (128, 64):  # smoke runs only
        module.model.reconstructive_subnetwork = ReconstructiveSubNetwork(base_width=widths[0])
        module.model.discriminative_subnetwork = DiscriminativeSubNetwork(
            in_channels=6, out_channels=2, base_width=widths[1])
    return module.model, module.loss, module.augmenter


def make_our_bundle(widths: tuple[int, int], folder: Path) -> Path:
    from core.inference.bundle import save_bundle
    from core.model.draem import DraemModel

    torch.manual_seed(0)
    model = DraemModel(*widths)
    meta = {"preset": "bench", "recon_width": widths[0], "disc_width": widths[1], "image_size": list(SIZE)}
    return save_bundle(folder / "ours.limodel", model.state_dict(), meta)


def bench_inference(a_model, bundle: Path, frames: np.ndarray, runs: int, threads: int,
                    calib: list, work: Path) -> dict:
    from core.inference.backends.select import available_backends
    from core.inference.load import load_model

    ours = {name: load_model(bundle, name, "cpu", threads, fallback=False) for name in available_backends()}
    if calib:
        from core.inference.backends.cache import onnx_for_bundle
        from core.inference.backends.onnx_backend import OnnxBackend
        from core.inference.backends.quantize import quantize_int8

        q = quantize_int8(onnx_for_bundle(bundle), work / "ours_int8.onnx", calib)
        ours["onnxruntime-int8"] = OnnxBackend(q, None, "cpu", threads)
        if "openvino" in ours:
            from core.inference.backends.openvino_backend import OpenVinoBackend

            ours["openvino-int8"] = OpenVinoBackend(q, None, "cpu", threads)
    a_model.eval()
    x_ours = ours["pytorch"].preprocess(frames[0])[None]
    x_a = torch.from_numpy(x_ours[..., ::-1].transpose(0, 3, 1, 2).copy())  # RGB NCHW, as anomalib
    times = {"anomalib": [], **{k: [] for k in ours}}
    with torch.inference_mode():
        a_model(x_a)  # warm-up (ours warmed up at load)
        for _ in range(runs):
            times["anomalib"].append(_ms(lambda: a_model(x_a)))
            for name, b in ours.items():
                times[name].append(_ms(lambda: b._infer(x_ours)))
    a_ms = statistics.median(times["anomalib"])
    out = {"anomalib_ms": round(a_ms, 2), "ours": {}}
    for name, b in ours.items():
        ms = statistics.median(times[name])
        out["ours"][name] = {"ms": round(ms, 2), "ratio_vs_anomalib": round(ms / a_ms, 3),
                             "describe": b.describe()}
        print(f"inference {name:17s} {ms:9.1f} ms  anomalib {a_ms:9.1f} ms  ratio {ms / a_ms:.3f}", flush=True)
    return out


def bench_training(a_parts, widths, images: np.ndarray, textures: Path, batch: int, runs: int) -> dict:
    from core.model.draem import DraemModel
    from core.model.losses import draem_loss
    from core.training.data import SynthDataset, make_simulator

    a_model, a_loss, a_aug = a_parts
    a_model.train()
    a_opt = torch.optim.Adam(a_model.parameters(), lr=1e-4)
    torch.manual_seed(0)
    o_model = DraemModel(*widths).train()
    o_opt = torch.optim.Adam(o_model.parameters(), lr=1e-4)
    dataset = SynthDataset(images, make_simulator(textures, grayscale=False), seed=0)
    counter = iter(range(10**9))

    def ours_batch():
        items = [dataset[next(counter)] for _ in range(batch)]
        return {k: torch.stack([it[k] for it in items]) for k in ("image", "augmented", "mask")}

    rgb = torch.from_numpy(images[:batch, ..., ::-1].transpose(0, 3, 1, 2).copy()).float() / 255.0

    def a_step(aug_inline: bool, fixed=None):
        aug, mask = a_aug(rgb) if aug_inline or fixed is None else fixed
        rec, pred = a_model(aug)
        loss = a_loss(rgb, rec, mask, pred)
        a_opt.zero_grad(set_to_none=True)
        loss.backward()
        a_opt.step()

    def o_step(aug_inline: bool, fixed=None):
        b = ours_batch() if aug_inline or fixed is None else fixed
        rec, logits = o_model(b["augmented"])
        loss, _ = draem_loss(rec.float(), b["image"], logits.float(), b["mask"])
        o_opt.zero_grad(set_to_none=True)
        loss.backward()
        o_opt.step()

    a_fixed, o_fixed = a_aug(rgb), ours_batch()
    a_step(False, a_fixed)  # warm-up: allocation and kernel choice
    o_step(False, o_fixed)
    res = {}
    for mode, inline in (("compute", False), ("with_augmentation", True)):
        ta, to = [], []
        for _ in range(runs):
            ta.append(_ms(lambda: a_step(inline, a_fixed)))
            to.append(_ms(lambda: o_step(inline, o_fixed)))
        a_ips = batch / (statistics.median(ta) / 1000)
        o_ips = batch / (statistics.median(to) / 1000)
        res[mode] = {"anomalib_images_per_s": round(a_ips, 3), "ours_images_per_s": round(o_ips, 3),
                     "ratio": round(o_ips / a_ips, 3)}
        print(f"training {mode:18s} ours {o_ips:7.2f} img/s  anomalib {a_ips:7.2f} img/s  "
              f"ratio {o_ips / a_ips:.2f}", flush=True)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--textures", type=Path, required=True, help="DTD-like texture folder (no download)")
    ap.add_argument("--images", type=Path, default=Path("../shared/datasets/mvtec_bottle/train/good"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=10, help="inference rounds")
    ap.add_argument("--train-runs", type=int, default=5, help="training rounds (per mode)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--widths", type=int, nargs=2, default=[128, 64], help="both models' widths (smoke only)")
    ap.add_argument("--calib-images", type=int, default=16, help="int8 calibration images (0: no int8)")
    ap.add_argument("--skip-train", action="store_true")
    args = ap.parse_args()
    if not args.textures.is_dir():
        raise SystemExit(f"--textures {args.textures}: not a folder (anomalib would try to download DTD)")
    torch.set_num_threads(args.threads)
    import anomalib

    images = load_good_images(args.images, max(args.batch, args.calib_images, 1))
    a_parts = anomalib_parts(args.textures, tuple(args.widths))
    result = {"anomalib": anomalib.__version__, "torch": torch.__version__, "threads": args.threads,
              "widths": args.widths, "image_size": list(SIZE)}
    if args.widths != [128, 64]:
        result["warning"] = "smoke run: widths differ from the paper's 128/64"
    with tempfile.TemporaryDirectory(prefix="bench-vs-anomalib-") as tmp:
        os.environ.setdefault("LINEINSPECTOR_CACHE", str(Path(tmp) / "cache"))
        bundle = make_our_bundle(tuple(args.widths), Path(tmp))
        calib = list(images[: args.calib_images]) if args.calib_images else []
        result["inference_batch1"] = bench_inference(a_parts[0], bundle, images, args.runs, args.threads,
                                                     calib, Path(tmp))
    if not args.skip_train:
        result["training_batch"] = args.batch
        result["training"] = bench_training(a_parts, tuple(args.widths), images, args.textures,
                                            args.batch, args.train_runs)
    result.update({"machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "command": " ".join(sys.argv)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
