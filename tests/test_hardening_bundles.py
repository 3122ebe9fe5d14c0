"""Issue 13 item 11: a damaged model bundle never becomes (or is used as) the active version.

Damaged metadata and weights are refused with one line naming the file; a version is loaded
and run once before it may become active; the live app refuses a stored bundle whose bytes
are no longer the ones recorded when it was added.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from core.cli.main import main
from core.demo import DEMO_MODEL
from core.inference.bundle import BundleError, load_bundle, read_bundle_meta
from core.model.draem import DraemModel
from core.store import RecipeStore, VersionError
from tests.inspection_fakes import make_tiny_bundle

ROOT = Path(__file__).resolve().parents[1]
GOOD_META = {"format_version": 1, "preset": "tiny-test", "recon_width": 8, "disc_width": 4,
             "channels": 3, "image_size": [64, 64],
             "thresholds": {"ok_limit": 0.3, "ng_limit": 0.6, "pixel": 0.5}}


def _state(rw=8, dw=4):
    torch.manual_seed(0)
    return {k: v.clone() for k, v in DraemModel(rw, dw).eval().state_dict().items()}


def write_raw(path: Path, state=None, meta=None, meta_text: str | None = None) -> Path:
    """A safetensors file with our metadata key, bypassing every check of save_bundle."""
    text = meta_text if meta_text is not None else json.dumps(meta if meta is not None else GOOD_META)
    save_file(state if state is not None else _state(), str(path), metadata={"lineinspector": text})
    return path


def _one_line(exc) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


NESTED = "[" * 100_000 + "]" * 100_000
BAD_META = {
    "meta is a list": "[1, 2]",
    "meta is null": "null",
    "meta is a string": '"hello"',
    "image_size odd": json.dumps(dict(GOOD_META, image_size=[65, 64])),
    "image_size scalar": json.dumps(dict(GOOD_META, image_size=64)),
    "image_size tiny": json.dumps(dict(GOOD_META, image_size=[16, 16])),
    "image_size negative": json.dumps(dict(GOOD_META, image_size=[-64, 64])),
    "image_size huge": json.dumps(dict(GOOD_META, image_size=[40000, 40000])),
    "image_size strings": json.dumps(dict(GOOD_META, image_size=["64", "64"])),
    "image_size three": json.dumps(dict(GOOD_META, image_size=[64, 64, 64])),
    "image_size bool": json.dumps(dict(GOOD_META, image_size=[True, 64])),
    "image_size null": json.dumps(dict(GOOD_META, image_size=None)),
    "recon_width negative": json.dumps(dict(GOOD_META, recon_width=-8)),
    "recon_width zero": json.dumps(dict(GOOD_META, recon_width=0)),
    "disc_width string": json.dumps(dict(GOOD_META, disc_width="4")),
    "disc_width float": json.dumps(dict(GOOD_META, disc_width=4.5)),
    "disc_width bool": json.dumps(dict(GOOD_META, disc_width=True)),
    "recon_width absurd": json.dumps(dict(GOOD_META, recon_width=100_000)),
    "channels two": json.dumps(dict(GOOD_META, channels=2)),
    "preset not a string": json.dumps(dict(GOOD_META, preset=[1])),
    "format_version string": json.dumps(dict(GOOD_META, format_version="1")),
    "thresholds string": json.dumps(dict(GOOD_META, thresholds="high")),
    "threshold strings": json.dumps(dict(GOOD_META, thresholds={"ok_limit": "0.3", "ng_limit": "0.6",
                                                                 "pixel": "0.5"})),
    "threshold nan": json.dumps(dict(GOOD_META, thresholds={"ok_limit": float("nan"), "ng_limit": 0.6,
                                                             "pixel": 0.5})),
    "threshold inf": json.dumps(dict(GOOD_META, thresholds={"ok_limit": 0.3, "ng_limit": float("inf"),
                                                             "pixel": 0.5})),
    "thresholds out of order": json.dumps(dict(GOOD_META, thresholds={"ok_limit": 0.9, "ng_limit": 0.1,
                                                                       "pixel": 0.5})),
    "threshold negative": json.dumps(dict(GOOD_META, thresholds={"ok_limit": -0.3, "ng_limit": 0.6,
                                                                  "pixel": 0.5})),
    "pixel threshold above 1": json.dumps(dict(GOOD_META, thresholds={"ok_limit": 0.3, "ng_limit": 0.6,
                                                                       "pixel": 7})),
    "input not a table": json.dumps(dict(GOOD_META, input="tiles")),
    "input scale string": json.dumps(dict(GOOD_META, input={"mode": "tiles", "scale": "x"})),
    "validation a list": json.dumps(dict(GOOD_META, validation=[1, 2])),
    "training_data a number": json.dumps(dict(GOOD_META, training_data=5)),
    "deeply nested (parser)": json.dumps(GOOD_META)[:-1] + ', "training": ' + NESTED + "}",
    "deeply nested (60 levels)": json.dumps(dict(GOOD_META, training=json.loads("[" * 60 + "]" * 60))),
    "memory: paper width at 4096x4096": json.dumps(dict(GOOD_META, image_size=[4096, 4096],
                                                        recon_width=128, disc_width=64)),
}


@pytest.mark.parametrize("case", list(BAD_META))
def test_damaged_metadata_is_refused_in_one_line(tmp_path, case):
    path = write_raw(tmp_path / "bad.limodel", meta_text=BAD_META[case])
    with pytest.raises(BundleError) as exc:
        read_bundle_meta(path)
    assert "bad.limodel" in _one_line(exc)
    with pytest.raises(BundleError):
        load_bundle(path)


def test_deeply_nested_safetensors_header_is_refused(tmp_path):
    header = ('{"__metadata__": {"x": ' + NESTED + "}}").encode()
    path = tmp_path / "nested.limodel"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(BundleError) as exc:
        read_bundle_meta(path)
    assert "nested.limodel" in _one_line(exc)


def test_malformed_header_entries_are_refused(tmp_path):
    for i, entry in enumerate(('{"w": {"data_offsets": "x"}}', '{"w": {"data_offsets": []}}',
                               '{"__metadata__": [1]}', '{"__metadata__": {"lineinspector": 5}}')):
        header = entry.encode()
        path = tmp_path / f"h{i}.limodel"
        path.write_bytes(len(header).to_bytes(8, "little") + header)
        with pytest.raises(BundleError) as exc:
            read_bundle_meta(path)
        assert path.name in _one_line(exc)


def _damaged_weights():
    def change(fn):
        s = _state()
        fn(s)
        return s

    first_conv = "reconstructive.enc.0.0.weight"
    var = "discriminative.enc.1.1.running_var"
    return {
        "wrong shape": (change(lambda s: s.update({first_conv: torch.zeros(8, 3, 5, 5)})), "do not match"),
        "missing tensor": (change(lambda s: s.pop(first_conv)), "do not match"),
        "extra tensor": (change(lambda s: s.update({"spare.weight": torch.zeros(3)})), "do not match"),
        "integer weights": (change(lambda s: s.update({first_conv: s[first_conv].to(torch.int32)})),
                            "floating point"),
        "bool weights": (change(lambda s: s.update({first_conv: s[first_conv] > 0})), "floating point"),
        "NaN weight": (change(lambda s: s[first_conv].view(-1).__setitem__(3, float("nan"))), "NaN"),
        "Inf weight": (change(lambda s: s[first_conv].view(-1).__setitem__(5, float("inf"))), "NaN"),
        "negative BN variance": (change(lambda s: s[var].__setitem__(0, -1.0)), "negative"),
        "float batch counter": (change(lambda s: s.update(
            {"discriminative.enc.1.1.num_batches_tracked": torch.tensor(1.5)})), "integer"),
    }


DAMAGED_WEIGHTS = _damaged_weights()


@pytest.mark.parametrize("case", list(DAMAGED_WEIGHTS))
def test_damaged_weights_are_refused(tmp_path, case):
    state, message = DAMAGED_WEIGHTS[case]
    path = write_raw(tmp_path / "w.limodel", state)
    read_bundle_meta(path)  # the header alone is fine
    with pytest.raises(BundleError, match=message) as exc:
        load_bundle(path)
    assert "w.limodel" in _one_line(exc)


@pytest.fixture
def store(tmp_path):
    s = RecipeStore(tmp_path / "data")
    s.create("bottle", source="genicam:1")
    return s


@pytest.mark.parametrize("case", ["wrong shape", "missing tensor", "integer weights", "NaN weight",
                                  "negative BN variance"])
def test_store_never_takes_damaged_weights(store, tmp_path, case):
    path = write_raw(tmp_path / "w.limodel", DAMAGED_WEIGHTS[case][0])
    with pytest.raises(VersionError):
        store.add_version("bottle", path)
    assert store.versions("bottle") == []
    with pytest.raises(VersionError):
        store.create("other", source="genicam:1", bundle=path)
    assert not store.exists("other")


@pytest.mark.parametrize("case", ["image_size odd", "image_size tiny", "recon_width negative",
                                  "threshold strings", "deeply nested (parser)", "meta is a list",
                                  "image_size huge"])
def test_cli_refuses_damaged_bundles_in_one_line(tmp_path, capsys, case):
    path = write_raw(tmp_path / "bad.limodel", meta_text=BAD_META[case])
    d = str(tmp_path / "data")
    assert main(["recipe", "create", "bottle", "--data-dir", d, "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "bad.limodel" in err
    assert main(["recipe", "create", "bottle", "--data-dir", d]) == 0
    assert main(["recipe", "add-version", "bottle", str(path), "--activate", "--data-dir", d]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and "Traceback" not in err
    assert RecipeStore(d).versions("bottle") == []


def _exploding_state():
    """Finite weights whose output overflows to inf (only running the model shows it)."""
    s = _state()
    for k, v in s.items():
        if k.endswith(".weight") and v.dim() == 4:
            s[k] = v * 1e12
    return s


def test_a_version_must_run_once_before_it_is_stored(store, tmp_path):
    path = write_raw(tmp_path / "boom.limodel", _exploding_state())
    load_bundle(path)  # the file itself is well-formed
    with pytest.raises(VersionError, match="boom.limodel.*(inference|finite)") as exc:
        store.add_version("bottle", path)
    _one_line(exc)
    assert store.versions("bottle") == []


def test_activate_runs_the_stored_version_once(store, tmp_path):
    """A version stored by older software (no load check) is checked again on activate."""
    good = store.add_version("bottle", make_tiny_bundle(tmp_path / "ok.limodel"))
    store.activate("bottle", good)
    v = store.add_version("bottle", make_tiny_bundle(tmp_path / "ok2.limodel", seed=1))
    mv = store.version("bottle", v)
    write_raw(mv.bundle_path, _exploding_state())  # replaced under the registry's nose ...
    import hashlib
    info = mv.bundle_path.parent / "version.json"
    rec = json.loads(info.read_text())
    rec["sha256"] = hashlib.sha256(mv.bundle_path.read_bytes()).hexdigest()  # ... record too
    info.write_text(json.dumps(rec))
    with pytest.raises(VersionError, match="inference|finite"):
        store.activate("bottle", v)
    assert store.get("bottle").active_version == good


class _Factory:
    def __init__(self):
        self.calls = []

    def __call__(self, path, device, bundle_sha):
        self.calls.append(path)
        return object()


def _live_store(tmp_path):
    store = RecipeStore(tmp_path / "data")
    store.create("line", source="sim:x", bundle=make_tiny_bundle(tmp_path / "m.limodel", lively=True))
    return store


def test_live_session_refuses_a_stored_bundle_changed_since_it_was_added(tmp_path):
    from core.inspection.session import LiveSession

    store = _live_store(tmp_path)
    path = store.active_bundle_path("line")
    factory = _Factory()
    session = LiveSession(store.get("line"), path, "sim:x", inferencer_factory=factory)
    session.load_model(path)  # intact: loads
    assert factory.calls == [path]
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x04  # one bit in the weights
    path.write_bytes(bytes(data))
    with pytest.raises(VersionError, match="checksum") as exc:
        session.load_model(path)
    assert "model.limodel" in _one_line(exc)
    assert factory.calls == [path]  # the damaged file was never handed to a backend


def test_every_single_bit_flip_in_the_weights_is_refused_by_the_live_app(tmp_path):
    from core.inspection.session import LiveSession

    store = _live_store(tmp_path)
    path = store.active_bundle_path("line")
    original = path.read_bytes()
    header = 8 + int.from_bytes(original[:8], "little")
    positions = np.linspace(header, len(original) - 1, 40).astype(int)
    factory = _Factory()
    session = LiveSession(store.get("line"), path, "sim:x", inferencer_factory=factory)
    refused = 0
    for i, pos in enumerate(positions):
        data = bytearray(original)
        data[pos] ^= 1 << (i % 8)
        path.write_bytes(bytes(data))
        try:
            session.load_model(path)
        except VersionError:
            refused += 1
    assert refused == 40 and factory.calls == []


def test_live_app_start_shows_the_checksum_error(tmp_path):
    """The GUI path: LiveSession.open with the default factory raises the one-line error."""
    from core.inspection.session import LiveSession

    store = _live_store(tmp_path)
    path = store.active_bundle_path("line")
    data = bytearray(path.read_bytes())
    data[-7] ^= 0x80
    path.write_bytes(bytes(data))
    session = LiveSession(store.get("line"), path, "sim:x", device="cpu",
                          source_opener=lambda spec: pytest.fail("camera opened"))
    with pytest.raises(VersionError, match="checksum"):
        session.open()


def test_bundles_that_are_fine_today_keep_loading(tmp_path):
    from core.inference.backends.reference import ReferenceBackend

    shipped = [DEMO_MODEL, ROOT / "resources/base/base-12x8.limodel"]
    written = [make_tiny_bundle(tmp_path / "tiny.limodel"),
               make_tiny_bundle(tmp_path / "rect.limodel", image_size=(128, 96))]
    store = RecipeStore(tmp_path / "data")
    for i, path in enumerate(shipped + written):
        meta = read_bundle_meta(path)
        model = load_bundle(path).build_model()
        inf = ReferenceBackend(model, meta, device="cpu", threads=1)
        p = inf.predict(np.full((70, 90, 3), 128, np.uint8))
        assert np.isfinite(p.score) and p.anomaly_map.shape == (70, 90)
        store.create(f"r{i}", source="sim:x", bundle=path)
        assert store.get(f"r{i}").active_version == 1


def test_bundle_the_trainer_writes_is_stored_and_loaded(tmp_path):
    from core.inspection.session import LiveSession
    from core.training.pipeline import train_to_bundle
    from core.training.presets import get_preset
    from core.training.trainer import TrainSettings
    from tests._gen import make_mvtec_tree

    root = make_mvtec_tree(tmp_path / "ds", n_train=6, n_good=1, n_bad=1)
    bundle = train_to_bundle(root, tmp_path / "v1.limodel",
                             TrainSettings(get_preset("tiny"), steps=1, workers=0, device="cpu")).bundle
    store = RecipeStore(tmp_path / "data")
    store.create("plate", source="sim:x", bundle=bundle)
    path = store.active_bundle_path("plate")
    factory = _Factory()
    LiveSession(store.get("plate"), path, "sim:x", inferencer_factory=factory).load_model(path)
    assert factory.calls == [path]
