"""Bad configs and bad data files: each is refused with a message that names the field or file,
and the exit code the operator relies on (2 invalid config, 3 data set missing or corrupt)."""

import gzip
import os
import shutil
import struct
import unittest

from harness import BASE_CONFIG, FASHION_MNIST, TemporaryDirectory, merged, run_worker, write_config

BAD_CONFIGS = [
    # (name, config changes or raw YAML, expected fragments of the error)
    ("unknown top-level key", {"epoch": 3}, ["epoch", "unknown key", "epochs"]),
    ("typo in a nested key", {"data": {"prefetsh": 2}}, ["data.prefetsh", "data.prefetch"]),
    ("batch not an integer", {"globalBatchSize": "abc"}, ["globalBatchSize", "abc"]),
    ("negative batch", {"globalBatchSize": -8}, ["globalBatchSize"]),
    ("unknown model", {"model": "resnet21"}, ["model", "resnet21", "resnet20"]),
    ("unknown precision", {"precision": "fp8"}, ["precision", "fp8", "fp16"]),
    ("lossScale without fp16", {"lossScale": 128}, ["lossScale", "fp16"]),
    ("fp16 on the CPU", {"precision": "fp16", "device": "cpu"}, ["fp16", "cpu"]),
    ("momentum out of range", {"optimizer": {"momentum": 1.5}}, ["optimizer.momentum"]),
    ("label smoothing out of range", {"labelSmoothing": 1.0}, ["labelSmoothing"]),
    ("unknown data format", {"dataFormat": "nhwc"}, ["dataFormat", "channels_last"]),
    ("decay epochs not ascending", {"schedule": {"decayEpochs": [30, 10]}}, ["schedule.decayEpochs"]),
    ("epochs and steps both", {"steps": 100}, ["epochs", "steps"]),
    ("unknown dataset", {"data": {"dataset": "mnist"}}, ["data.dataset", "mnist", "fashion-mnist"]),
    ("status port out of range", {"statusPort": 70000}, ["statusPort"]),
    ("not a mapping", "- just\n- a list\n", ["mapping"]),
    ("malformed YAML", "model: [resnet20\n", ["yaml"]),
]


class BadConfigs(unittest.TestCase):
    def test_each_bad_config_is_refused_with_exit_2_naming_the_field(self):
        with TemporaryDirectory() as directory:
            for name, change, fragments in BAD_CONFIGS:
                with self.subTest(name):
                    config = change if isinstance(change, str) else merged(BASE_CONFIG, change)
                    result = run_worker(write_config(directory, config))
                    self.assertEqual(result.returncode, 2, result.stderr)
                    for fragment in fragments:
                        self.assertIn(fragment.lower(), result.stderr.lower())

    def test_set_override_of_an_unknown_key_is_refused(self):
        with TemporaryDirectory() as directory:
            result = run_worker(write_config(directory, BASE_CONFIG),
                                extra=["--set", "optimizer.learningrate=0.2"])
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("optimizer.learningrate", result.stderr)

    def test_missing_config_file_is_refused(self):
        result = run_worker("/nonexistent/kubetrain.yaml")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("/nonexistent/kubetrain.yaml", result.stderr + result.stdout)

    def test_validate_accepts_a_good_config_without_training(self):
        with TemporaryDirectory() as directory:
            result = run_worker(write_config(directory, BASE_CONFIG), extra=["--validate"])
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("valid", result.stdout)


def copy_fashion_mnist(directory):
    target = os.path.join(directory, "data")
    shutil.copytree(FASHION_MNIST, target)
    return target


def rewrite_gz(path, change):
    with gzip.open(path, "rb") as stream:
        content = bytearray(stream.read())
    content = change(content)
    with gzip.open(path, "wb") as stream:
        stream.write(bytes(content))


def overwrite_start(path, content):
    with open(path, "r+b") as stream:
        stream.write(content)


BAD_DATA = [
    # (name, how to break the copy, file named in the error)
    ("missing labels file", lambda d: os.remove(os.path.join(d, "train-labels-idx1-ubyte.gz")),
     "train-labels-idx1-ubyte"),
    ("wrong magic", lambda d: rewrite_gz(os.path.join(d, "t10k-images-idx3-ubyte.gz"),
                                         lambda c: struct.pack(">I", 0x801) + c[4:]),
     "t10k-images-idx3-ubyte"),
    ("truncated images", lambda d: rewrite_gz(os.path.join(d, "train-images-idx3-ubyte.gz"),
                                              lambda c: c[: len(c) // 2]),
     "train-images-idx3-ubyte"),
    ("label out of range", lambda d: rewrite_gz(os.path.join(d, "t10k-labels-idx1-ubyte.gz"),
                                                lambda c: c[:8] + bytes([42]) + c[9:]),
     "t10k-labels-idx1-ubyte"),
    ("corrupt gzip", lambda d: overwrite_start(os.path.join(d, "train-labels-idx1-ubyte.gz"),
                                               b"\x1f\x8b\x08\x00garbage"),
     "train-labels-idx1-ubyte"),
]


class BadData(unittest.TestCase):
    def test_each_bad_data_set_is_refused_with_exit_3_naming_the_file(self):
        for name, breaks, file_name in BAD_DATA:
            with self.subTest(name), TemporaryDirectory() as directory:
                data = copy_fashion_mnist(directory)
                breaks(data)
                config = merged(BASE_CONFIG, {"data": {"path": data}})
                result = run_worker(write_config(directory, config))
                self.assertEqual(result.returncode, 3, result.stderr)
                self.assertIn(file_name, result.stderr)

    def test_missing_data_folder_is_refused_with_exit_3(self):
        with TemporaryDirectory() as directory:
            config = merged(BASE_CONFIG, {"data": {"path": "/nonexistent/fashion"}})
            result = run_worker(write_config(directory, config))
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertIn("/nonexistent/fashion", result.stderr)

    def test_more_examples_asked_than_the_set_holds_is_refused(self):
        with TemporaryDirectory() as directory:
            config = merged(BASE_CONFIG, {"data": {"trainExamples": 70000}})
            result = run_worker(write_config(directory, config))
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertIn("trainExamples", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
