"""Native-resolution inference by tiles: exact reassembly, scoring, the tiles front end."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.inference.backends.reference import ReferenceBackend
from core.inference.inferencer import network_inputs, tiled_predictions
from core.inference.scoring import image_scores
from core.inference.tiling import InputSpec, TileGrid, axis_origins, mean_filter_max
from core.model.draem import DraemModel


@pytest.mark.parametrize("shape", [(70, 50), (256, 256), (257, 600), (300, 700), (1000, 333), (3, 2)])
def test_split_then_merge_gives_back_the_image_exactly(shape):
    rng = np.random.default_rng(0)
    image = rng.random(shape).astype(np.float32)
    grid = TileGrid(shape, (64, 64) if max(shape) > 64 else (32, 32), 16)
    tiles = grid.split(image)
    assert tiles.shape[1:] == grid.tile and len(tiles) == len(grid)
    np.testing.assert_array_equal(grid.merge(tiles), image)


def test_every_pixel_comes_from_the_tile_whose_centre_is_nearest():
    grid = TileGrid((100, 100), (64, 64), 16)
    assert grid.ys == [0, 36] and grid.xs == [0, 36]
    ids = np.stack([np.full((64, 64), k, np.int32) for k in range(len(grid))])
    owner = grid.merge(ids)
    # the boundary lies halfway through the 28-pixel overlap [36, 64): at 50
    assert owner[49, 0] == 0 and owner[50, 0] == 2 and owner[0, 49] == 0 and owner[0, 50] == 1
    assert set(np.unique(owner)) == {0, 1, 2, 3}


def test_tile_origins_cover_the_axis_with_the_overlap_asked_for():
    for length in (256, 257, 300, 511, 512, 513, 2000):
        o = axis_origins(length, 256, 32)
        assert o[0] == 0 and o[-1] + 256 == max(length, 256)
        assert all(b - a <= 256 - 32 for a, b in zip(o, o[1:]))


def test_a_small_image_is_padded_by_reflection_and_cropped_back():
    image = np.arange(12, dtype=np.float32).reshape(3, 4)
    grid = TileGrid(image.shape, (32, 32), 0)
    tile = grid.split(image)[0]
    np.testing.assert_array_equal(tile[:3, :4], image)
    np.testing.assert_array_equal(tile[:3, 4], image[:, 2])  # reflect-101: 0 1 2 3 | 2 1 0 ...
    np.testing.assert_array_equal(grid.merge(tile[None]), image)


def test_mean_filter_max_is_the_torch_score():
    amap = np.random.default_rng(1).random((70, 90)).astype(np.float32)
    expected = image_scores(torch.from_numpy(amap)[None], 21).item()
    assert mean_filter_max(amap, 21) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("meta_input", [{"mode": "sideways"}, {"mode": "tiles", "scale": 0},
                                        {"mode": "tiles", "overlap": 40}, "tiles"])
def test_bad_input_metadata_is_refused_clearly(meta_input):
    with pytest.raises(ValueError, match="input|mode|scale|overlap"):
        InputSpec.from_meta({"image_size": [64, 64], "input": meta_input})


def test_tiled_predictions_reassemble_a_pixelwise_model_exactly():
    """With a model whose output at a pixel depends only on that pixel, tiling must give
    the very map of the whole image."""
    rng = np.random.default_rng(2)
    image = rng.random((150, 230, 3)).astype(np.float32)

    def run(batch):  # per-pixel "anomaly": the red channel
        return batch[..., 2].copy(), np.zeros(len(batch), np.float32)

    spec = InputSpec("tiles", 1.0, 16)
    pred = tiled_predictions([image], 3, spec, (64, 64), 21, run)[0]
    np.testing.assert_array_equal(pred.anomaly_map, image[..., 2])
    assert pred.score == pytest.approx(mean_filter_max(image[..., 2], 21))


def test_scale_halves_the_processed_image_and_maps_come_back_at_frame_size():
    seen = []

    def run(batch):
        seen.append(batch.shape)
        return np.zeros(batch.shape[:3], np.float32), np.zeros(len(batch), np.float32)

    frame = np.zeros((300, 500), np.uint8)
    pred = tiled_predictions([frame], 8, InputSpec("tiles", 0.5, 16), (128, 128), 11, run)[0]
    assert pred.anomaly_map.shape == (300, 500)
    assert seen == [(6, 128, 128, 3)]  # 150 x 250 -> 2 x 3 tiles of 128 overlapping by >= 16


def test_inferencer_in_tiles_mode_scores_frames_of_any_size():
    torch.manual_seed(0)
    meta = {"image_size": [64, 64], "recon_width": 8, "disc_width": 4,
            "input": {"mode": "tiles", "scale": 1.0, "overlap": 16}}
    inf = ReferenceBackend(DraemModel(8, 4), meta, "cpu", threads=1)
    frames = [np.full((90, 130), 128, np.uint8), np.zeros((40, 50, 3), np.uint8)]
    preds = inf.predict_batch(frames, batch_size=4)
    assert [p.anomaly_map.shape for p in preds] == [(90, 130), (40, 50)]
    assert all(0.0 <= p.score <= 1.0 for p in preds)
    assert network_inputs(frames[0], meta).shape == (6, 64, 64, 3)  # 2 x 3 tiles


def test_resize_mode_is_unchanged_for_old_bundles():
    meta = {"image_size": [64, 64], "recon_width": 8, "disc_width": 4}
    assert InputSpec.from_meta(meta).mode == "resize"
    torch.manual_seed(0)
    model = DraemModel(8, 4).eval()
    inf = ReferenceBackend(model, meta, "cpu", threads=1)
    frame = np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    got = inf.predict(frame)
    with torch.no_grad():
        x = torch.from_numpy(frame.astype(np.float32) / 255).permute(2, 0, 1)[None]
        logits = model(x)[1]
    amap = torch.sigmoid(logits[:, 1] - logits[:, 0])
    np.testing.assert_allclose(got.anomaly_map, amap[0].numpy(), atol=1e-6)
    assert got.score == pytest.approx(F.avg_pool2d(amap[:, None], 5, 1, 2).amax().item(), abs=1e-6)
