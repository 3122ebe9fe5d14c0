import json
import struct

import pytest
import torch

from core.inference.bundle import (FORMAT_VERSION, BundleError, load_bundle, read_bundle_meta,
                                   save_bundle)
from core.model.draem import DraemModel

META = {"preset": "tiny", "recon_width": 8, "disc_width": 4, "image_size": [64, 64],
        "thresholds": {"ok_limit": 0.3, "ng_limit": 0.6, "pixel": 0.5}}


def _bundle(tmp_path):
    torch.manual_seed(1)
    model = DraemModel(8, 4).eval()
    path = save_bundle(tmp_path / "m.limodel", model.state_dict(), META)
    return model, path


def test_round_trip_preserves_weights_and_metadata(tmp_path):
    model, path = _bundle(tmp_path)
    meta = read_bundle_meta(path)
    assert meta["format_version"] == FORMAT_VERSION and meta["thresholds"]["ng_limit"] == 0.6
    assert meta["software_version"] and meta["created"]
    loaded = load_bundle(path).build_model()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert torch.equal(a[1], b[1])
    assert not list(tmp_path.glob("*.tmp"))  # atomic write leaves no temporary file


def test_missing_file(tmp_path):
    with pytest.raises(BundleError, match="not found"):
        read_bundle_meta(tmp_path / "nope.limodel")


def test_truncated_bundle_named_in_error(tmp_path):
    _, path = _bundle(tmp_path)
    data = path.read_bytes()
    cut = tmp_path / "cut.limodel"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match=r"cut\.limodel.*truncated"):
        load_bundle(cut)
    tiny = tmp_path / "tiny.limodel"
    tiny.write_bytes(data[:5])
    with pytest.raises(BundleError, match="tiny.limodel"):
        read_bundle_meta(tiny)


def test_garbage_and_foreign_files(tmp_path):
    junk = tmp_path / "junk.limodel"
    junk.write_bytes(b"\x00" * 8 + b"hello world" * 10)
    with pytest.raises(BundleError, match="not a model bundle"):
        read_bundle_meta(junk)
    from safetensors.torch import save_file
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(BundleError, match="not a LineInspector model bundle"):
        read_bundle_meta(foreign)


def test_corrupt_header_json(tmp_path):
    bad = tmp_path / "bad.limodel"
    header = b"{not json"
    bad.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(BundleError, match="corrupt bundle header"):
        read_bundle_meta(bad)


def test_newer_format_refused(tmp_path):
    from safetensors.torch import save_file
    newer = tmp_path / "newer.limodel"
    meta = dict(META, format_version=FORMAT_VERSION + 1)
    save_file({"w": torch.zeros(2)}, str(newer), metadata={"lineinspector": json.dumps(meta)})
    with pytest.raises(BundleError, match="newer than this software"):
        read_bundle_meta(newer)


def test_weights_not_matching_metadata(tmp_path):
    model = DraemModel(8, 4)
    path = save_bundle(tmp_path / "m.limodel", model.state_dict(), dict(META, recon_width=16))
    with pytest.raises(BundleError, match="do not match"):
        load_bundle(path).build_model()
