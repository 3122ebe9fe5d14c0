"""`lineinspect export MODEL --format onnx|openvino [--out FILE] [--int8 --calib DIR [--check DIR]]`.

Writes a graph that includes the scoring: input ``image`` float32 (N, H, W, 3) BGR in
[0, 1]; outputs ``anomaly_map`` (N, H, W) and ``score`` (N). ``--int8`` quantises it
(ONNX Runtime static quantisation) calibrated on a folder of good images; with ``--check``
it becomes the bundle's verified int8 companion (see :mod:`core.inference.int8_companion`),
which the live window uses on a CPU.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from core.cli.main import CliError

FORMATS = ("onnx", "openvino")


def register(sub) -> None:
    p = sub.add_parser("export", help="export a model to ONNX or OpenVINO (scoring inside the graph)")
    p.add_argument("model", type=Path, help="model bundle (.limodel)")
    p.add_argument("--format", default="onnx", help="onnx (default) or openvino")
    p.add_argument("--out", type=Path,
                   help="output file (default: next to the model; .onnx, or .xml + .bin for openvino)")
    p.add_argument("--batch", default="dynamic",
                   help="fixed batch size N, or 'dynamic' (default)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17, default 17)")
    p.add_argument("--int8", action="store_true", help="int8 static quantisation (needs --calib)")
    p.add_argument("--calib", type=Path, help="folder of good images for int8 calibration")
    p.add_argument("--calib-limit", type=int, default=64,
                   help="use at most N calibration images, evenly spread (default 64)")
    p.add_argument("--calib-method", default="percentile", help="percentile (default), minmax or entropy")
    p.add_argument("--int8-scope", default=None,
                   help="which convolutions become int8: for DRÆM reconstructive (default), "
                        "discriminative or all; for DSR decoders (default) or all")
    p.add_argument("--check", type=Path,
                   help="with --int8: other good images; write the int8 companion beside the model "
                        "(MODEL.int8.onnx + .int8.json), kept only if its scores match fp32 on them")
    p.set_defaults(func=run)


MAX_BATCH = 256  # a fixed batch beyond this only costs memory at export


def _parse_batch(value: str) -> int | None:
    if str(value).lower() == "dynamic":
        return None
    try:
        n = int(value)
    except ValueError:
        raise CliError(f"--batch must be a positive integer or 'dynamic', got '{value}'") from None
    if not 1 <= n <= MAX_BATCH:
        raise CliError(f"--batch must be a whole number from 1 to {MAX_BATCH} or 'dynamic', got '{value}'")
    return n


def _calibration_images(folder: Path, limit: int, flag: str = "--calib") -> list:
    from core.io.images import evenly_spaced, list_images, load_images

    try:
        paths = list_images(folder, recursive=True)
    except ValueError as exc:
        raise CliError(f"{flag}: {exc}") from None
    if not paths:
        raise CliError(f"{flag}: no images found in {folder}")
    if limit < 1:
        raise CliError(f"--calib-limit must be >= 1, got {limit}")
    loaded, bad = load_images(evenly_spaced(paths, limit))
    for path, why in bad:
        print(f"skipped {flag[2:]} image: cannot read image '{path}': {why}")
    return [image for _, image in loaded]


def run(args) -> int:
    from core.inference.inferencer import BackendError
    from core.inference.backends.export import ExportError, export_bundle
    from core.inference.bundle import BundleError

    fmt = str(args.format).lower()
    if fmt not in FORMATS:
        raise CliError(f"unknown --format '{args.format}' (choose from {', '.join(FORMATS)})")
    batch = _parse_batch(args.batch)
    if args.int8 and args.calib is None:
        raise CliError("--int8 needs --calib DIR (a folder of good images to calibrate on)")
    if args.calib is not None and not args.int8:
        raise CliError("--calib is only used with --int8")
    if args.check is not None:
        return _companion(args)
    if fmt == "openvino":
        from core.inference.backends.openvino_backend import require_openvino

        try:
            require_openvino()
        except BackendError as exc:
            raise CliError(f"--format openvino: {exc}. Use --format onnx: the onnxruntime backend "
                           f"runs it, and OpenVINO can read .onnx files directly") from None
    suffix = {"onnx": ".onnx", "openvino": ".xml"}[fmt]
    out = args.out or args.model.with_name(args.model.stem + ("_int8" if args.int8 else "") + suffix)
    try:
        with tempfile.TemporaryDirectory(prefix="lineinspect-export-") as tmp:
            fp32 = out if fmt == "onnx" and not args.int8 else Path(tmp) / "model.onnx"
            export_bundle(args.model, fp32, batch=batch, opset=args.opset)
            onnx_path = fp32
            if args.int8:
                from core.inference.backends.quantize import quantize_int8

                images = _calibration_images(args.calib, args.calib_limit)
                onnx_path = out if fmt == "onnx" else Path(tmp) / "model_int8.onnx"
                quantize_int8(fp32, onnx_path, images, method=args.calib_method, scope=args.int8_scope)
                print(f"int8: calibrated on {len(images)} images from {args.calib}")
            if fmt == "openvino":
                from core.inference.backends.openvino_backend import save_ir

                save_ir(onnx_path, out)
    except (BundleError, ExportError, BackendError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc}") from None
    extra = f" and {out.with_suffix('.bin')}" if fmt == "openvino" else ""
    print(f"wrote {out}{extra} ({fmt}{', int8' if args.int8 else ', fp32'}, batch "
          f"{batch if batch is not None else 'dynamic'}; outputs anomaly_map, score)")
    return 0


def _companion(args) -> int:
    from core.inference.inferencer import BackendError
    from core.inference.bundle import BundleError
    from core.inference.int8_companion import build_companion, companion_paths

    if not args.int8 or str(args.format).lower() != "onnx" or args.out is not None:
        raise CliError("--check builds the int8 companion: use it with --int8 --calib DIR, "
                       "--format onnx and no --out")
    calibration = _calibration_images(args.calib, args.calib_limit)
    check = _calibration_images(args.check, args.calib_limit, "--check")
    try:
        from core.evaluation.metrics import roc_auc
        from core.training.separability import synthetic_anomalies

        report = build_companion(args.model, calibration, check, anomalous=synthetic_anomalies(check),
                                 auroc=roc_auc)
    except (BundleError, BackendError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write the int8 companion of {args.model}: {exc}") from None
    onnx_path, report_path = companion_paths(args.model)
    print(f"int8 companion: {report['reason']}")
    print(f"wrote {onnx_path if report['accepted'] else '(no int8 graph)'} and {report_path}")
    return 0
