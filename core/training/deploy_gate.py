"""May a trained model be deployed? The gate the wizard's Deploy step applies.

A model that cannot tell held-out good images from the same images with synthetic anomalies
(:mod:`core.training.separability`) is refused unless the engineer writes why it is deployed
anyway; known defective images the engineer validated with outweigh the synthetic probe.
The record returned is what the version keeps (its validation figures, the probe, and the
reason where the gate was overridden).
"""

from __future__ import annotations

from core.training.separability import MIN_AUROC, verdict

MIN_REASON_CHARS = 10


class DeployRefused(ValueError):
    """The model separates nothing and no (long enough) reason was given."""


def separability_of(result: dict | None) -> dict | None:
    """The training's final probe from its "done" event, or None."""
    return (((result or {}).get("meta") or {}).get("training") or {}).get("separability")


def can_tell(result: dict | None, validation: dict | None) -> tuple[bool, str]:
    """(separates, why): the training's probe, or, where the engineer validated with real
    defective images, those: real defects outweigh synthetic ones."""
    separates, why = verdict(separability_of(result))
    v = validation or {}
    if not separates and v.get("defects") and v.get("auroc") is not None and v["auroc"] >= MIN_AUROC:
        return True, (f"tells the {v['defects']} known defective image(s) from the good ones: AUROC "
                      f"{v['auroc']:.2f} (against synthetic defects: {why})")
    return separates, why


def deploy_record(result: dict | None, validation: dict | None, override_reason: str = "") -> dict:
    """The validation record to keep with the version; raises DeployRefused where the model
    cannot tell and ``override_reason`` is shorter than MIN_REASON_CHARS."""
    record = dict(validation or {})
    separates, why = can_tell(result, validation)
    record["separability"] = separability_of(result)
    if not separates:
        reason = override_reason.strip()
        if len(reason) < MIN_REASON_CHARS:
            raise DeployRefused(f"not deployed: {why}. To deploy it anyway, write why "
                                f"(at least {MIN_REASON_CHARS} characters)")
        record["deployed_despite"] = {"problem": why, "reason": reason}
    return record
