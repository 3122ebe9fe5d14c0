"""The ``--backend`` option shared by `lineinspect predict` and `lineinspect eval`."""

from __future__ import annotations

from core.cli.main import CliError


def add_backend_argument(parser) -> None:
    from core.inference.backends.names import ALIASES, CHOICES

    parser.add_argument(
        "--backend", default="auto", choices=(*CHOICES, *ALIASES),
        metavar="{" + ",".join(CHOICES) + "}",
        help="inference backend: auto (the fastest measured here, cached; falls back to the "
             "reference PyTorch model if it fails to load), pytorch (alias torch), "
             "onnxruntime (onnx, ort), openvino (ov), or reference (plain PyTorch, as trained)")


def load_for_cli(args):
    """Load ``args.model`` on ``args.backend`` / ``args.device`` and print which backend runs."""
    from core.inference.inferencer import BackendError
    from core.inference.labels import backend_details
    from core.inference.load import load_model

    try:
        inf = load_model(args.model, args.backend, args.device, fallback=args.backend == "auto")
    except (BackendError, ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    print(f"backend: {backend_details(inf)}")
    return inf
