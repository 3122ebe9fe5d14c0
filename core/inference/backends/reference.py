"""The reference backend: the trained PyTorch model as it is, that every backend is checked
against (no BatchNorm folding, no CUDA graph; fp16 + channels_last on CUDA, DSR in fp32)."""

from __future__ import annotations

import numpy as np
import torch

from core.device import configure_cpu_threads, select_device
from core.inference.backends.names import REFERENCE
from core.inference.backends.torch_backend import half_on_cuda
from core.inference.inferencer import Inferencer
from core.inference.scoring import anomaly_map, image_scores


class ReferenceBackend(Inferencer):
    """Runs ``model`` itself (moved to ``device`` and put in eval mode, not copied)."""

    backend_name = REFERENCE

    def __init__(self, model: torch.nn.Module, meta: dict, device: str = "auto",
                 threads: int | None = None, warmup_runs: int = 0) -> None:
        dev = select_device(device)
        super().__init__(meta, str(dev))
        self.torch_device = dev
        self.threads = configure_cpu_threads(threads) if dev.type == "cpu" else None
        self.model = model.to(dev).eval()
        self.half = dev.type == "cuda" and half_on_cuda(meta)
        if self.half:
            self.model = self.model.half().to(memory_format=torch.channels_last)
        self.warmup(warmup_runs)

    @torch.inference_mode()
    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.torch_device)
        if self.half:
            x = x.half().contiguous(memory_format=torch.channels_last)
        _, logits = self.model(x)
        amap = anomaly_map(logits.float())
        scores = image_scores(amap, self.kernel)
        return amap.cpu().numpy(), scores.cpu().numpy()
