"""DSR (Zavrtanik, Kristan, Skočaj, ECCV 2022): the second model, issue 15.

Networks: config, quantiser, vqvae, networks, model. Training pieces on tensors: anomaly
(feature-space anomaly generation), losses.
"""

from core.model.dsr.config import DsrConfig
from core.model.dsr.model import DsrModel, DsrOutputs, count_parameters
from core.model.dsr.quantiser import VectorQuantiser
from core.model.dsr.vqvae import DsrVqVae, Quantised

__all__ = ["DsrConfig", "DsrModel", "DsrOutputs", "DsrVqVae", "Quantised", "VectorQuantiser",
           "count_parameters"]
