"""Checks of the training side that need no data or GPU:
  .cache/lm/venv/bin/python -m unittest handwriting.train.test_train
"""

from __future__ import annotations

import json
import math
import tempfile
import unittest
from pathlib import Path

import numpy as np

from . import charset, itempack, preprocess, unipen
from .data import Item

TESTDATA = Path(__file__).resolve().parents[1] / "testdata" / "features.json"


class Features(unittest.TestCase):
    def test_testdata_is_current(self):
        doc = json.loads(TESTDATA.read_text())
        self.assertEqual(doc["features_version"], preprocess.FEATURES_VERSION)
        for case in doc["cases"]:
            ink = [[[math.nan if v is None else v for v in p] for p in s] for s in case["strokes"]]
            got = preprocess.features(ink)
            want = np.array(case["features"], dtype=np.float32).reshape(-1, preprocess.NUM_FEATURES)
            self.assertEqual(got.shape, want.shape, case["name"])
            np.testing.assert_allclose(got, want, atol=doc["tolerance"], err_msg=case["name"])

    def test_invariant_to_translation_and_scale(self):
        rng = np.random.default_rng(0)
        ink = [np.cumsum(rng.normal(0, 1, (30, 2)), axis=0) for _ in range(3)]
        a = preprocess.features(ink)
        b = preprocess.features([s * 7.5 + np.array([100.0, -40.0]) for s in ink])
        np.testing.assert_allclose(a, b, atol=1e-4)

    def test_bad_input_is_bounded(self):
        self.assertEqual(preprocess.features([]).shape, (0, 8))
        self.assertEqual(preprocess.features([[[math.nan, 1.0]]]).shape, (0, 8))
        f = preprocess.features([[[0.0, 0.0], [1e9, 0.0]]])
        self.assertLessEqual(len(f), 1100)
        self.assertTrue(np.isfinite(f).all())


class Unipen(unittest.TestCase):
    def test_components_includes_and_delineations(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            (root / "include/xx").mkdir(parents=True)
            (root / "data/6/xx").mkdir(parents=True)
            (root / "include/xx/ink.dat").write_text(
                ".COORD X Y\n.POINTS_PER_SECOND 100\n"
                ".PEN_DOWN\n0 0\n0 10\n.PEN_UP\n"          # component 0 (empty pen-up not counted)
                ".PEN_DOWN\n5 0\n5 10\n5 20\n.PEN_UP\n7 7\n"  # 1 (down), 2 (up, hover points)
                ".PEN_DOWN\n9 9\n.PEN_UP\n")               # 3
            (root / "data/6/xx/a.dat").write_text(
                ".VERSION 1.0\n.INCLUDE xx/ink.dat\n.INCLUDE xx/missing.doc\n"
                '.SEGMENT WORD 0-1 OK "ab"\n.SEGMENT WORD 1:1-3 ? "cd"\n'
                '.SEGMENT WORD 0 BAD "x"\n.SEGMENT WORD 7 OK "far"\n')
            samples, stats, _ = unipen.read(root, ["6"])
            self.assertEqual([s.label for s in samples], ["ab", "cd"])
            self.assertEqual([len(s.strokes) for s in samples], [2, 2])
            self.assertEqual(len(samples[1].strokes[0]), 2)  # points 1.. of component 1
            self.assertEqual(samples[0].strokes[0][1, 1], -10.0)  # y up -> screen y down
            self.assertEqual(stats["skipped_out_of_range"], 1)
            self.assertEqual(stats["skipped_bad_or_unlabelled"], 1)

    def test_missing_pen_data_skips_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            (root / "data/6/xx").mkdir(parents=True)
            (root / "data/6/xx/a.dat").write_text('.INCLUDE xx/gone.dat\n.SEGMENT WORD 0 OK "a"\n')
            import io
            log = io.StringIO()
            samples, stats, _ = unipen.read(root, ["6"], log=log)
            self.assertEqual(samples, [])
            self.assertIn("missing include", log.getvalue())


class Charset(unittest.TestCase):
    def test_blank_space_and_round_trip(self):
        self.assertEqual(charset.CHARS[0], "<blank>")
        self.assertIn(" ", charset.CHARS)
        for text in ("Straße", "façade", "ёлка Щука", "l'été, «oui»"):
            self.assertEqual(charset.decode(charset.encode(text)), text)
        self.assertEqual(charset.normalise_label("“a”  –  b…"), '"a" - b...')


class ItemPack(unittest.TestCase):
    def test_round_trip_keeps_labels_and_shape(self):
        rng = np.random.default_rng(3)
        integral = Item(charset.encode("ab"), "ab", "unipen-6",
                        [np.array([[10.0, 20.0], [12.0, 25.0], [15.0, 21.0]]), np.array([[40.0, 5.0]])],
                        style="MIXED", contributor="aaa")
        scaled = Item(charset.encode("Ж"), "Ж", "unipen-chars",
                      [rng.normal(0, 30, (50, 2)) - 376.17], contributor="bbb")
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "items.npz.xz"
            itempack.save(path, [integral], [scaled])
            train, valid = itempack.load(path, log=lambda _: None)
        self.assertEqual([(it.label, it.ids, it.group, it.style, it.contributor) for it in train],
                         [("ab", integral.ids, "unipen-6", "MIXED", "aaa")])
        self.assertEqual(valid[0].label, "Ж")
        # integer coordinates come back exactly, up to a translation
        got = np.concatenate(train[0].strokes)
        want = np.concatenate(integral.strokes)
        np.testing.assert_array_equal(got - got[0], want - want[0])
        self.assertEqual([len(s) for s in train[0].strokes], [3, 1])
        # others on a grid of 1/2000 of their height
        got, want = np.concatenate(valid[0].strokes), np.concatenate(scaled.strokes)
        g = np.ptp(want[:, 1]) / itempack.GRID_PER_HEIGHT
        np.testing.assert_allclose((got - got[0]) * g, want - want[0], atol=g)


if __name__ == "__main__":
    unittest.main()
