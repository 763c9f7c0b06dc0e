"""The worker under mpirun: the batch-divisibility check, learning, and the status endpoint."""

import json
import os
import signal
import subprocess
import threading
import time
import unittest
import urllib.request

from harness import (BASE_CONFIG, TemporaryDirectory, merged, mpi_environment, mpirun_prefix,
                     run_worker, summary_of, write_config, WORKER)


class Divisibility(unittest.TestCase):
    def test_three_ranks_refuse_a_batch_of_64_on_every_rank_with_exit_2(self):
        with TemporaryDirectory() as directory:
            result = run_worker(write_config(directory, BASE_CONFIG), ranks=3)
            self.assertEqual(result.returncode, 2, result.stderr)
            message = "globalBatchSize 64 is not divisible by 3 ranks; use 63 or 66"
            self.assertEqual(result.stderr.count(message), 3, result.stderr)
            for rank in range(3):
                self.assertIn("[rank %d/3]" % rank, result.stderr)


class Learning(unittest.TestCase):
    def test_resnet20_on_a_fashion_mnist_subset_with_two_ranks_reaches_80_percent(self):
        config = merged(BASE_CONFIG, {
            "data": {"trainExamples": 8192, "validationExamples": 2000, "augment": False},
            "globalBatchSize": 64,
            "epochs": 3,
            "optimizer": {"learningRate": 0.1, "baseBatchSize": 64, "weightDecay": 5e-4},
            "schedule": {"warmupEpochs": 0.2, "decay": "cosine"},
            "logEverySteps": 32,
        })
        with TemporaryDirectory() as directory:
            result = run_worker(write_config(directory, config), ranks=2, timeout=1500)
            self.assertEqual(result.returncode, 0, result.stderr)
            summary = summary_of(result)
            print(json.dumps(summary))
            self.assertEqual(summary["worldSize"], 2)
            # Verified equal on both ranks before it is printed.
            self.assertGreater(summary["weightsChecksum"], 0)
            self.assertEqual(summary["steps"], 3 * (8192 // 64))
            self.assertIn(" of 2000 validation images", result.stderr)
            self.assertGreaterEqual(summary["top1"], 0.80)


class Slack(unittest.TestCase):
    def test_slack_changes_when_batches_are_made_not_the_trained_weights(self):
        summaries = {}
        for slack in (False, True):
            config = merged(BASE_CONFIG, {"data": {"slack": slack}, "eval": {"skip": True}})
            with TemporaryDirectory() as directory:
                result = run_worker(write_config(directory, config), ranks=2)
                self.assertEqual(result.returncode, 0, result.stderr)
                summaries[slack] = summary_of(result)
        self.assertEqual(summaries[True]["steps"], 512 // 64)
        self.assertEqual(summaries[True]["weightsChecksum"], summaries[False]["weightsChecksum"])
        self.assertEqual(summaries[True]["finalLoss"], summaries[False]["finalLoss"])


def pid_of_rank(rank, config_path):
    """The worker process of `rank` started with `config_path`, found through its environment."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as stream:
                if config_path.encode() not in stream.read():
                    continue
            with open("/proc/%s/environ" % entry, "rb") as stream:
                if b"OMPI_COMM_WORLD_RANK=%d\0" % rank in stream.read():
                    return int(entry)
        except OSError:
            continue
    return None


class StuckRank(unittest.TestCase):
    def test_a_frozen_rank_ends_the_job_with_a_retryable_code_and_says_why(self):
        config = merged(BASE_CONFIG, {"epochs": None, "steps": 1000000, "eval": {"skip": True},
                                      "collectiveTimeoutSeconds": 2})
        with TemporaryDirectory() as directory:
            path = write_config(directory, config)
            process = subprocess.Popen(mpirun_prefix(2) + [WORKER, "--config", path],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       text=True, env=mpi_environment(), start_new_session=True)
            lines = []
            training = threading.Event()

            def read_stderr():
                for line in process.stderr:
                    lines.append(line)
                    if " step " in line:
                        training.set()

            reader = threading.Thread(target=read_stderr)
            reader.start()
            try:
                self.assertTrue(training.wait(300), "".join(lines))
                rank1 = pid_of_rank(1, path)
                self.assertIsNotNone(rank1)
                # As a node that froze: rank 1 stops wherever it is, without dying.
                os.kill(rank1, signal.SIGSTOP)
                stopped = time.monotonic()
                returncode = process.wait(timeout=120)
                waited = time.monotonic() - stopped
            finally:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                reader.join()
            log = "".join(lines)
            self.assertNotIn(returncode, (0, 2, 3), log)  # a failure worth a retry
            self.assertIn("(collectiveTimeoutSeconds is 2.0 s): another rank has stopped", log)
            self.assertIn("critical [rank 0/2] waited", log)
            self.assertLess(waited, 60, log)


class StatusEndpoint(unittest.TestCase):
    def test_progress_and_metrics_are_served_while_training(self):
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = merged(BASE_CONFIG, {"statusPort": port, "epochs": 3, "logEverySteps": 1})
        seen = {}

        def poll():
            deadline = time.time() + 300
            while time.time() < deadline and "metrics" not in seen:
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/progress" % port, timeout=2) as r:
                        progress = json.load(r)
                    if progress["state"] == "training" and progress["step"] > 0:
                        seen["progress"] = progress
                        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
                            seen["metrics"] = r.read().decode()
                except OSError:
                    time.sleep(0.05)

        watcher = threading.Thread(target=poll)
        with TemporaryDirectory() as directory:
            path = write_config(directory, config)
            watcher.start()
            result = run_worker(path, ranks=2)
            watcher.join()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("progress", seen, "never saw /progress while training")
        self.assertEqual(seen["progress"]["totalSteps"], 3 * (512 // 64))
        self.assertEqual(seen["progress"]["worldSize"], 2)
        self.assertIn("kubetrain_worker_step ", seen["metrics"])
        self.assertIn("kubetrain_worker_images_per_second ", seen["metrics"])


class SyntheticBenchmark(unittest.TestCase):
    def test_benchmark_mode_times_synthetic_steps_and_reports_throughput(self):
        config = {"model": "resnet20", "data": {"dataset": "synthetic", "imageSize": 32},
                  "globalBatchSize": 32, "benchmark": {"warmupSteps": 2, "steps": 4},
                  "statusPort": 0}
        with TemporaryDirectory() as directory:
            result = run_worker(write_config(directory, config), ranks=2, extra=["--benchmark"])
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = summary_of(result)
        self.assertEqual(summary["steps"], 6)
        self.assertGreater(summary["imagesPerSecond"], 0)
        self.assertIsNone(summary["top1"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
