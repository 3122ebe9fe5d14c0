"""The backend names a user can choose (``--backend``, :func:`core.inference.load.load_model`)
and their aliases. No heavy imports: the command line builds its options from these."""

from __future__ import annotations

REFERENCE = "reference"  # the trained PyTorch model as it is (core.inference.backends.reference)
BACKENDS = ("pytorch", "onnxruntime", "openvino")  # the ones "auto" measures
ALIASES = {"torch": "pytorch", "eager": "pytorch", "onnx": "onnxruntime", "ort": "onnxruntime",
           "ov": "openvino"}
CHOICES = ("auto", *BACKENDS, REFERENCE)


def normalize_backend(name: str) -> str:
    """The canonical name of a backend choice (aliases resolved); BackendError if unknown."""
    key = (name or "auto").strip().lower()
    key = ALIASES.get(key, key)
    if key not in CHOICES:
        from core.inference.inferencer import BackendError

        raise BackendError(f"unknown backend '{name}' (choose from {', '.join(CHOICES)})")
    return key
