"""PyTorch eager backend tuned for inference.

* BatchNorm is folded into the preceding convolutions (one conv instead of conv + BN).
* CPU: fp32, channels_last, thread count set explicitly with ``torch.set_num_threads``.
* CUDA: fp16 weights in channels_last, a pinned host buffer with non-blocking copies, and
  a CUDA graph captured for the fixed input size (batch 1 by default; ``cuda_graphs=False``
  turns it off, a failed capture falls back to eager). None of the CUDA code runs unless
  the device is a CUDA device. A DSR model stays fp32 on CUDA (:func:`half_on_cuda`).
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from core.device import configure_cpu_threads, select_device
from core.inference.inferencer import Inferencer
from core.inference.labels import model_prefix
from core.inference.scoring import anomaly_map, image_scores

log = logging.getLogger(__name__)


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` (eval mode) with each Conv2d -> BatchNorm2d pair fused into one conv.

    Pairs are found among the direct children of every container (``nn.Sequential`` in
    DRAEM); the BatchNorm is replaced by ``nn.Identity``. The original model is untouched.
    """
    folded = copy.deepcopy(model).eval()
    count = 0
    for parent in folded.modules():
        names = list(parent._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = parent._modules[a], parent._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
                parent._modules[a] = fuse_conv_bn_eval(conv, bn)
                parent._modules[b] = nn.Identity()
                count += 1
    folded.folded_batchnorms = count  # type: ignore[attr-defined]
    return folded


def half_on_cuda(meta: dict) -> bool:
    """Whether a model of this metadata runs in fp16 on CUDA: DRÆM does; DSR does not, since an
    fp16 rounding in front of its nearest-code lookups flips code choices (a discrete change:
    on a CPU emulation of fp16 1-2 % of a test model's codes changed), and no fp16 DSR has
    been measured on a GPU yet."""
    return meta.get("model", "draem") != "dsr"


class ScoredModel(nn.Module):
    """DRAEM plus the scoring: NHWC float input -> (anomaly map (N,H,W), image score (N,)).

    Also the graph that :mod:`core.inference.backends.export` writes to ONNX, so the
    image score is computed inside the exported model.
    """

    def __init__(self, model: nn.Module, kernel: int) -> None:
        super().__init__()
        self.model = model
        self.kernel = int(kernel)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = image.permute(0, 3, 1, 2)  # NHWC -> NCHW view (channels_last strides)
        _, logits = self.model(x)
        amap = anomaly_map(logits.float())
        return amap, image_scores(amap, self.kernel)


class _CudaGraph:
    """Replays one captured forward pass on static buffers (fixed batch and size)."""

    def __init__(self, fn, example: torch.Tensor) -> None:
        self.static_in = example.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):  # let cuDNN pick its algorithms before capture
                fn(self.static_in)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.static_out = fn(self.static_in)

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.static_in.copy_(x, non_blocking=True)
        self.graph.replay()
        return self.static_out


class TorchBackend(Inferencer):
    """Eager PyTorch with BatchNorm folded; fp16 + channels_last (+ CUDA graph) on CUDA."""

    backend_name = "pytorch"

    def __init__(self, model: nn.Module, meta: dict, device: str = "auto", threads: int | None = None,
                 fold_bn: bool = True, cuda_graphs: bool = True, graph_batch: int = 1,
                 warmup_runs: int = 1) -> None:
        dev = select_device(device)
        super().__init__(meta, str(dev))
        self.torch_device = dev
        self.is_cuda = dev.type == "cuda"
        self.threads = configure_cpu_threads(threads) if not self.is_cuda else torch.get_num_threads()
        model = fold_batchnorm(model) if fold_bn else copy.deepcopy(model).eval()
        self.fold_bn = fold_bn
        self.dtype = torch.float16 if self.is_cuda and half_on_cuda(meta) else torch.float32
        # channels_last on the CPU too: oneDNN's NHWC convolutions were ~3x faster than NCHW
        # here, and the NHWC input (a permuted numpy frame) needs no conversion.
        model = model.to(dev, self.dtype).to(memory_format=torch.channels_last)
        self.net = ScoredModel(model, self.kernel).eval()
        self._pinned: dict[int, torch.Tensor] = {}
        self._graphs: dict[int, _CudaGraph] = {}
        self.cuda_graphs = bool(cuda_graphs and self.is_cuda)
        if self.cuda_graphs:
            h, w = self.image_size
            try:
                with torch.inference_mode():
                    example = torch.zeros((graph_batch, h, w, 3), device=dev, dtype=self.dtype)
                    self._graphs[graph_batch] = _CudaGraph(self.net, example)
            except RuntimeError as exc:  # capture is an optimisation: run eagerly instead
                log.warning("CUDA graph capture failed, running eagerly: %s", exc)
                self.cuda_graphs = False
        self.warmup(warmup_runs)

    def describe(self) -> str:
        if self.is_cuda:
            extra = ("fp16" if self.dtype == torch.float16 else "fp32") + ", channels_last" + (
                ", CUDA graph" if self.cuda_graphs else "")
            return model_prefix(self.meta) + f"pytorch ({self.device}, {extra})"
        return model_prefix(self.meta) + (f"pytorch (cpu, fp32, channels_last, {self.threads} threads, "
                f"BN {'folded' if self.fold_bn else 'kept'})")

    def _to_device(self, batch: np.ndarray) -> torch.Tensor:
        host = torch.from_numpy(batch)
        if not self.is_cuda:
            return host
        n = batch.shape[0]
        buf = self._pinned.get(n)
        if buf is None:
            buf = self._pinned[n] = torch.empty(batch.shape, dtype=torch.float32, pin_memory=True)
        buf.copy_(host)
        return buf.to(self.torch_device, non_blocking=True).to(self.dtype)

    @torch.inference_mode()
    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self._to_device(batch)
        graph = self._graphs.get(x.shape[0])
        amap, scores = graph(x) if graph is not None else self.net(x)
        if self.is_cuda:
            amap, scores = amap.to("cpu", non_blocking=True), scores.to("cpu", non_blocking=True)
            torch.cuda.current_stream().synchronize()
        return amap.numpy(), scores.numpy()
