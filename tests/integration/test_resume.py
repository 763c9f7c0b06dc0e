"""Checkpoints and resume: a run stopped after an epoch and resumed ends exactly where an
uninterrupted run ends, and a corrupted newest checkpoint falls back to the one before."""

import glob
import os
import unittest

import numpy as np

from harness import BASE_CONFIG, TemporaryDirectory, merged, read_safetensors, run_worker, write_config


def newest_checkpoint(directory):
    files = sorted(glob.glob(os.path.join(directory, "checkpoint-*.safetensors")))
    assert files, "no checkpoint in " + directory
    return files[-1]


class Resume(unittest.TestCase):
    def config(self, checkpoint_dir, epochs):
        return merged(BASE_CONFIG, {
            "epochs": epochs,
            "schedule": {"decayEpochs": [1], "decayFactor": 0.5},
            "checkpoint": {"dir": checkpoint_dir, "everyEpochs": 1, "keep": 2},
        })

    def test_stopped_and_resumed_equals_uninterrupted_and_corruption_falls_back(self):
        with TemporaryDirectory() as directory:
            straight = os.path.join(directory, "straight")
            resumed = os.path.join(directory, "resumed")
            path = write_config(directory, self.config(straight, 2), "straight.yaml")
            self.assertEqual(run_worker(path, ranks=2).returncode, 0)

            path = write_config(directory, self.config(resumed, 1), "first.yaml")
            first = run_worker(path, ranks=2)
            self.assertEqual(first.returncode, 0, first.stderr)
            path = write_config(directory, self.config(resumed, 2), "second.yaml")
            second = run_worker(path, ranks=2)
            self.assertEqual(second.returncode, 0, second.stderr)
            self.assertIn("resuming from", second.stderr)

            expected, expected_meta = read_safetensors(newest_checkpoint(straight))
            actual, actual_meta = read_safetensors(newest_checkpoint(resumed))
            self.assertEqual(expected_meta["step"], actual_meta["step"])
            self.assertEqual(sorted(expected), sorted(actual))
            for name in expected:
                np.testing.assert_allclose(actual[name], expected[name], rtol=1e-5, atol=1e-6,
                                           err_msg=name)
            self.assertIn("conv1.weight", expected)
            self.assertIn("optimizer.momentum.fc.weight", expected)

            # keep: 2 -> only the two newest remain.
            self.assertEqual(len(glob.glob(os.path.join(resumed, "checkpoint-*.safetensors"))), 2)

            # Corrupt the newest: the run must refuse it, resume from the previous one (epoch 1)
            # and train on to epoch 3.
            newest = newest_checkpoint(resumed)
            with open(newest, "r+b") as stream:
                stream.seek(-16, os.SEEK_END)
                stream.write(b"\xff" * 8)
            path = write_config(directory, self.config(resumed, 3), "third.yaml")
            third = run_worker(path, ranks=2)
            self.assertEqual(third.returncode, 0, third.stderr)
            self.assertIn(os.path.basename(newest), third.stderr)
            self.assertIn("epoch 1 done", third.stderr)
            _, meta = read_safetensors(newest_checkpoint(resumed))
            self.assertEqual(int(meta["epochsDone"]), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
