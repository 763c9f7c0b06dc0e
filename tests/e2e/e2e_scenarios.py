"""The scenarios: each applies a TrainingJob as a user does and asserts on what the operator, the
pods and the worker itself report. Each takes the cluster and the name its job gets (the
scenario's own), and returns the figures it measured, by name."""

import glob
import json
import os
import re
import time
import urllib.request

from e2e_cluster import FLAVOR_LABEL, FLAVOR_TOLERATION
from e2e_jobs import ApplyRefused, Jobs, ProgressRecorder, kubectl, seconds_since, training_job
from e2e_wait import wait_for
from e2e_schedulers import VOLCANO_GROUP_ANNOTATION, VOLCANO_SCHEDULER, KueueForJob, Volcano
from kueue_player import QUEUE_NAME_LABEL, RESOURCE_IN_USE_FINALIZER

RUNNING_TIMEOUT = 180
FINISH_TIMEOUT = 420
CHANCE_TOP1 = 0.1  # ten classes


def _container_log(cluster, pod, container):
    """The stand-in's kept logs of POD's CONTAINER, oldest first, joined."""
    pattern = os.path.join(cluster.container_logs_dir(), f"{cluster.namespace}_{pod}_{container}*")
    text = ""
    for path in sorted(glob.glob(pattern), key=os.path.getmtime):
        with open(path, errors="replace") as source:
            text += source.read()
    return text


def _launcher_log(cluster, job):
    return _container_log(cluster, f"{job}-launcher", "launcher")


def _resumed_steps(log):
    """The steps the worker's rank 0 said it resumed from, in order."""
    return [int(step) for step in re.findall(r"resuming from \S+ \(epoch \d+ done, step (\d+)\)", log)]


def _ready_since(pod):
    for condition in pod.status.conditions or []:
        if condition.type == "Ready" and condition.status == "True":
            return condition.last_transition_time
    return None


def _check_printer_columns(cluster, name):
    """`kubectl get tj NAME`: every column of the CRD filled while the job trains."""
    result = kubectl(cluster, "get", "tj", name)
    assert result.returncode == 0, result.stderr
    output = result.stdout
    print(output, end="")
    header, row = output.splitlines()[:2]
    columns = header.split()
    assert columns[:5] == ["NAME", "STATE", "READY", "PROGRESS", "IMG/S"], f"columns {columns}"
    cells = row.split()
    assert len(cells) == len(columns) and "<none>" not in cells, f"a column is empty: {row!r}"
    assert cells[1] == "Running" and cells[2] == "2/2", f"unexpected row {row!r}"


def happy_path(cluster, name):
    """The CPU example: Ready workers, then the launcher, mpirun over ssh starting two ranks in
    the two worker containers, progress, Succeeded with a result, cleanPodPolicy, TTL."""
    jobs = Jobs(cluster)
    started = time.monotonic()
    # Long enough for the operator (polling rank 0 every progressDeadlineSeconds / 3) to report
    # progress a few times.
    jobs.apply(training_job(name, training={"epochs": 3, "data": {"trainExamples": 4096}},
                            spec={"runPolicy": {"cleanPodPolicy": "Running", "progressDeadlineSeconds": 15,
                                                "ttlSecondsAfterFinished": 15}}))
    jobs.wait_state(name, "Running", RUNNING_TIMEOUT)
    to_running = seconds_since(started)

    progress = ProgressRecorder(jobs, name)
    columns_checked = False
    launcher_checked = False
    ranks_per_worker = {}
    deadline = time.monotonic() + FINISH_TIMEOUT
    while jobs.status(name).get("state") != "Succeeded":
        assert time.monotonic() < deadline, f"{name} did not succeed: {jobs.status(name)}"
        assert jobs.status(name).get("state") != "Failed", f"{name} failed: {jobs.status(name)}"
        current = progress.sample()
        pods = {pod.metadata.name: pod for pod in jobs.pods(name)}
        launcher = pods.get(f"{name}-launcher")
        if launcher is not None and not launcher_checked:
            # The launcher is created only once every worker is Ready.
            for index in (0, 1):
                ready = _ready_since(pods[f"{name}-worker-{index}"])
                assert ready is not None and ready <= launcher.metadata.creation_timestamp, (
                    f"launcher created at {launcher.metadata.creation_timestamp}, worker-{index} Ready {ready}")
            launcher_checked = True
        if not columns_checked and current.get("imagesPerSecond") and current.get("percent") is not None:
            _check_printer_columns(cluster, name)
            columns_checked = True
            # mpirun started one rank in each worker container, over ssh.
            ranks_per_worker = {index: cluster.count_processes(f"{name}-worker-{index}", "worker",
                                                              "kubetrain-worker")
                                for index in (0, 1)}
        time.sleep(0.5)
    to_succeeded = seconds_since(started)
    status = jobs.status(name)
    assert launcher_checked, "the launcher was never seen"
    assert progress.advanced(), f"status.progress never advanced: steps seen {progress.samples}"
    assert columns_checked, "the job finished before kubectl could show it training"
    top1 = status["result"]["top1"]
    assert top1 > 2 * CHANCE_TOP1, f"top-1 {top1} is not above chance"
    assert status.get("restarts", 0) == 0 and status.get("completionTime")

    log = _launcher_log(cluster, name)
    assert "on 2 rank(s)" in log and "finished: top-1" in log, "the launcher's log lacks the worker's lines"
    assert ranks_per_worker == {0: 1, 1: 1}, f"training processes per worker container: {ranks_per_worker}"
    reasons = jobs.event_reasons(name)
    for reason in ("Created", "WorkersReady", "LauncherCreated", "Running"):
        assert reason in reasons, f"no {reason} event among {sorted(reasons)}"

    # cleanPodPolicy Running: the workers (sshd, still running) go; the finished launcher stays.
    def workers_gone():
        pods = jobs.pods(name)
        return (not any("-worker-" in pod.metadata.name for pod in pods)) and pods
    remaining = wait_for("the workers' deletion (cleanPodPolicy Running)", workers_gone, 60)
    assert [pod.metadata.name for pod in remaining] == [f"{name}-launcher"], remaining
    assert remaining[0].status.phase == "Succeeded"

    # ttlSecondsAfterFinished: the job goes; its children with it where a garbage collector runs.
    wait_for("the TTL to delete the job", lambda: jobs.get(name) is None, 60)
    if cluster.garbage_collector:
        wait_for("the garbage collector to delete the job's children",
                 lambda: not jobs.children(name), 60)
    return {"apply to Running (s)": to_running, "apply to Succeeded (s)": to_succeeded,
            "top-1": top1}


def _wait_checkpoint(directory, timeout):
    def written():
        return [path for path in glob.glob(os.path.join(directory, "*.safetensors"))
                if not os.path.basename(path).startswith(".")]
    return wait_for(f"a checkpoint in {directory}", written, timeout)


def _rank0_step(jobs, name, attempt):
    """The step rank 0 of attempt ATTEMPT reports on its /progress endpoint, or None."""
    for pod in jobs.pods(name):
        labels = pod.metadata.labels or {}
        if (pod.metadata.name == f"{name}-worker-0" and labels.get("kubetrain.dev/attempt") == str(attempt)
                and pod.status and pod.status.pod_ip and not pod.metadata.deletion_timestamp):
            try:
                with urllib.request.urlopen(f"http://{pod.status.pod_ip}:9400/progress", timeout=1) as answer:
                    return json.load(answer).get("step")
            except OSError:
                return None
    return None


def _wait_training_again(jobs, name, attempt, timeout):
    """Waits until rank 0 of attempt ATTEMPT has taken a training step (every rank takes part in
    each step's allreduce, so all ranks train again then)."""
    first = []

    def stepped():
        step = _rank0_step(jobs, name, attempt)
        if step is None:
            return False
        if not first:
            first.append(step)
        return step > first[0]
    wait_for(f"{name}'s attempt {attempt} to train", stepped, timeout, interval=0.2)


def rank_dies(cluster, name):
    """A worker's main process killed mid-training: gang restart, resume from the newest
    checkpoint, Succeeded with restarts 1."""
    jobs = Jobs(cluster)
    checkpoints = os.path.join(cluster.work_dir, "checkpoints", name)
    jobs.apply(training_job(name, checkpoint_dir=checkpoints, training={"epochs": 4},
                            spec={"runPolicy": {"backoffLimit": 2}}))
    jobs.wait_state(name, "Running", RUNNING_TIMEOUT)
    _wait_checkpoint(checkpoints, FINISH_TIMEOUT)
    step_at_kill = _rank0_step(jobs, name, 0)  # status.progress lags by up to a poll interval
    cluster.kill_main_process(f"{name}-worker-1", "worker")
    killed = time.monotonic()
    jobs.wait_state(name, ("Restarting", "Running"), 60)
    wait_for(f"{name} to restart", lambda: jobs.status(name).get("restarts", 0) >= 1, 120)
    _wait_training_again(jobs, name, 1, RUNNING_TIMEOUT)
    to_training_again = seconds_since(killed)
    jobs.wait_state(name, "Succeeded", FINISH_TIMEOUT)
    status = jobs.status(name)
    assert status["restarts"] == 1, status
    resumed = _resumed_steps(_launcher_log(cluster, name))
    assert resumed and resumed[-1] > 0, f"the restarted attempt did not resume from a checkpoint: {resumed}"
    assert "Restarting" in jobs.event_reasons(name)
    return {"rank death to all ranks training again (s)": to_training_again,
            "resumed at step": resumed[-1], "step when killed": step_at_kill}


def missing_data_set(cluster, name):
    """Exit code 3: Failed at once, no restart, the reason names the data problem."""
    jobs = Jobs(cluster)
    jobs.apply(training_job(name, training={"data": {"path": "/no/such/fashion-mnist"}},
                            spec={"runPolicy": {"backoffLimit": 3}}))
    jobs.wait_state(name, "Failed", FINISH_TIMEOUT)
    status = jobs.status(name)
    failed = jobs.condition(name, "Failed")
    assert status.get("restarts", 0) == 0, f"a permanent failure was retried: {status}"
    assert failed["reason"] == "DataError", failed
    assert "/no/such/fashion-mnist" in failed["message"] or "data" in failed["message"].lower(), failed
    return {}


def indivisible_batch(cluster, name):
    """Refused at apply by the CRD's rule on a real API server; InvalidSpec with nothing created
    where the API server does not evaluate it (our fake)."""
    jobs = Jobs(cluster)
    job = training_job(name, training={"globalBatchSize": 127})
    try:
        jobs.apply(job)
    except ApplyRefused as refusal:
        assert "divisible" in str(refusal), str(refusal)
        assert jobs.get(name) is None
        return {}
    assert cluster.on_fake, "a real API server accepted a batch that does not divide by the ranks"
    jobs.wait_state(name, "Failed", 60)
    failed = jobs.condition(name, "Failed")
    assert failed["reason"] == "InvalidSpec" and "127" in failed["message"], failed
    time.sleep(2)  # nothing may appear later either
    assert not jobs.children(name), f"an invalid job created {jobs.children(name)}"
    return {}


def image_missing(cluster, name):
    """An image that does not exist: the startup deadline fails the job naming ImagePullBackOff."""
    jobs = Jobs(cluster)
    jobs.apply(training_job(name, spec={"image": "localhost/kubetrain-worker:does-not-exist",
                                        "runPolicy": {"startupDeadlineSeconds": 20}}))
    jobs.wait_state(name, "Failed", 120)
    failed = jobs.condition(name, "Failed")
    text = f"{failed['reason']} {failed['message']} {jobs.status(name).get('failure')}"
    assert "ImagePullBackOff" in text or "ErrImagePull" in text, failed
    return {}


def memory_too_small(cluster, name):
    """A memory limit the worker cannot train in: OOMKilled named as the root cause."""
    jobs = Jobs(cluster)
    jobs.apply(training_job(name, spec={
        "resources": {"requests": {"memory": "96Mi"}, "limits": {"cpu": "1", "memory": "96Mi"}},
        "runPolicy": {"backoffLimit": 0}}))
    jobs.wait_state(name, "Failed", FINISH_TIMEOUT)
    failure = jobs.status(name).get("failure") or {}
    assert failure.get("reason") == "OOMKilled" and "-worker-" in failure.get("pod", ""), failure
    return {}


def suspend_and_resume(cluster, name):
    """Suspended mid-run: pods gone; resumed: pods back, training resumes from the checkpoint."""
    jobs = Jobs(cluster)
    checkpoints = os.path.join(cluster.work_dir, "checkpoints", name)
    jobs.apply(training_job(name, checkpoint_dir=checkpoints, training={"epochs": 4}))
    jobs.wait_state(name, "Running", RUNNING_TIMEOUT)
    _wait_checkpoint(checkpoints, FINISH_TIMEOUT)
    jobs.patch_spec(name, {"runPolicy": {"suspend": True}})
    jobs.wait_state(name, "Suspended", 60)
    wait_for("the suspended job's pods to go", lambda: not jobs.pods(name), 90)
    assert jobs.condition(name, "Suspended")["status"] == "True"
    jobs.patch_spec(name, {"runPolicy": {"suspend": False}})
    jobs.wait_state(name, "Running", RUNNING_TIMEOUT)
    jobs.wait_state(name, "Succeeded", FINISH_TIMEOUT)
    resumed = _resumed_steps(_launcher_log(cluster, name))
    assert resumed and resumed[-1] > 0, f"the resumed job did not start from its checkpoint: {resumed}"
    assert {"Suspended", "Resumed"} <= jobs.event_reasons(name)
    return {"resumed at step": resumed[-1]}


def queued_in_kueue(cluster, name):
    """Labelled with a Kueue queue: suspended with no pods until admitted; admitted, its pods carry
    the flavor's node selector and tolerations; preempted mid-run, its pods go before the quota is
    given back; admitted again, training resumes from the checkpoint; finished, the Workload is
    Finished and let go."""
    jobs = Jobs(cluster)
    kueue = KueueForJob(cluster, name)
    checkpoints = os.path.join(cluster.work_dir, "checkpoints", name)
    job = training_job(name, checkpoint_dir=checkpoints, training={"epochs": 4})
    job["metadata"]["labels"] = {QUEUE_NAME_LABEL: "e2e-queue"}
    jobs.apply(job)
    wait_for(f"{name}'s Workload", kueue.workload, 60)
    waiting = wait_for(f"{name} waiting for admission", lambda: (
        (c := jobs.condition(name, "Suspended")) and c["reason"] == "WaitingForAdmission" and c), 60)
    assert waiting["status"] == "True", waiting
    time.sleep(3)  # no pod may appear while it waits either
    assert not jobs.pods(name), f"a queued job has pods: {[p.metadata.name for p in jobs.pods(name)]}"

    admitted = time.monotonic()
    kueue.admit()
    jobs.wait_state(name, "Running", RUNNING_TIMEOUT)
    to_running = seconds_since(admitted)
    for pod in jobs.pods(name):
        assert (pod.spec.node_selector or {}).get(FLAVOR_LABEL) == cluster.flavor, (
            f"{pod.metadata.name}: nodeSelector {pod.spec.node_selector} lacks the flavor's label")
        tolerations = [(t.key, t.effect) for t in pod.spec.tolerations or []]
        assert (FLAVOR_TOLERATION["key"], FLAVOR_TOLERATION["effect"]) in tolerations, f"{pod.metadata.name}: tolerations {tolerations}"
    wait_for("the Workload's PodsReady", lambda: kueue.condition("PodsReady").get("status") == "True", 60)

    _wait_checkpoint(checkpoints, FINISH_TIMEOUT)
    kueue.preempt()
    wait_for(f"{name} suspended by the eviction", lambda: (
        (c := jobs.condition(name, "Suspended")) and c["status"] == "True" and c["reason"] == "Evicted"), 60)
    wait_for("the evicted job's pods to go", lambda: not jobs.pods(name), 90)
    wait_for("the admission to be given back", lambda: "admission" not in kueue.workload().get("status", {}), 60)
    assert kueue.condition("QuotaReserved").get("status") == "False", kueue.workload()["status"]
    assert kueue.condition("Requeued").get("status") == "True", kueue.workload()["status"]

    kueue.admit()
    jobs.wait_state(name, "Running", RUNNING_TIMEOUT)
    jobs.wait_state(name, "Succeeded", FINISH_TIMEOUT)
    assert jobs.status(name).get("restarts", 0) == 0, f"an eviction counted as a restart: {jobs.status(name)}"
    resumed = _resumed_steps(_launcher_log(cluster, name))
    assert resumed and resumed[-1] > 0, f"the re-admitted job did not start from its checkpoint: {resumed}"
    wait_for("the Workload Finished and let go", lambda: (
        kueue.condition("Finished").get("status") == "True"
        and RESOURCE_IN_USE_FINALIZER not in kueue.workload()["metadata"].get("finalizers", [])), 60)
    assert kueue.condition("Finished")["reason"] == "Succeeded", kueue.condition("Finished")
    reasons = jobs.event_reasons(name)
    for reason in ("CreatedWorkload", "Admitted", "Evicted"):
        assert reason in reasons, f"no {reason} event among {sorted(reasons)}"
    return {"admission to Running (s)": to_running, "resumed at step": resumed[-1]}


def gang_scheduled_by_volcano(cluster, name):
    """A Volcano gang: the PodGroup comes before the pods; while Volcano holds the gang the job says
    why; placed all at once, it trains; a rank killed mid-run restarts the gang under a new
    PodGroup, and the new gang resumes from the checkpoint; finished, the PodGroup is deleted."""
    jobs = Jobs(cluster)
    checkpoints = os.path.join(cluster.work_dir, "checkpoints", name)
    with Volcano(cluster) as volcano:
        jobs.apply(training_job(name, checkpoint_dir=checkpoints, training={"epochs": 4},
                                spec={"runPolicy": {"backoffLimit": 2,
                                                    "schedulingPolicy": {"gangScheduler": VOLCANO_SCHEDULER}}}))
        group = wait_for(f"{name}'s PodGroup", lambda: volcano.pod_group(name), 60)
        assert group["spec"]["minMember"] == 2, group["spec"]
        waiting = wait_for("GangScheduled False with Volcano's reason", lambda: (
            (c := jobs.condition(name, "GangScheduled")) and c["status"] == "False"
            and c["reason"] == "NotEnoughResources" and c), 60)
        assert "Inqueue" in waiting["message"], waiting
        for pod in jobs.pods(name):
            assert pod.spec.scheduler_name == VOLCANO_SCHEDULER and not pod.spec.node_name, pod.metadata.name
            assert (pod.metadata.annotations or {}).get(VOLCANO_GROUP_ANNOTATION) == name, pod.metadata.annotations

        released = time.monotonic()
        volcano.holding = False
        jobs.wait_state(name, "Running", RUNNING_TIMEOUT)
        to_running = seconds_since(released)
        assert jobs.condition(name, "GangScheduled")["status"] == "True"
        assert f"{name}-launcher" in volcano.bound, f"Volcano did not place the launcher: {volcano.bound}"

        _wait_checkpoint(checkpoints, FINISH_TIMEOUT)
        cluster.kill_main_process(f"{name}-worker-1", "worker")
        renewed = wait_for("attempt 1's PodGroup", lambda: (
            (g := volcano.pod_group(name)) and g["metadata"]["labels"].get("kubetrain.dev/attempt") == "1"
            and g), 120)
        assert renewed["metadata"]["uid"] != group["metadata"]["uid"]
        _wait_training_again(jobs, name, 1, RUNNING_TIMEOUT)
        jobs.wait_state(name, "Succeeded", FINISH_TIMEOUT)
        assert jobs.status(name)["restarts"] == 1, jobs.status(name)
        resumed = _resumed_steps(_launcher_log(cluster, name))
        assert resumed and resumed[-1] > 0, f"the new gang did not resume from a checkpoint: {resumed}"
        wait_for("the PodGroup deleted on completion", lambda: volcano.pod_group(name) is None, 60)
    return {"gang released to Running (s)": to_running, "resumed at step": resumed[-1]}


def operator_restart(cluster, name):
    """The operator killed and started again mid-job: no duplicate pods, the job completes."""
    jobs = Jobs(cluster)
    jobs.apply(training_job(name))
    pod_uids = {}

    def record_pods():
        for pod in jobs.pods(name):
            pod_uids.setdefault(pod.metadata.name, set()).add(pod.metadata.uid)
    jobs.wait_state(name, "Running", RUNNING_TIMEOUT, on_poll=record_pods)
    reads = cluster.operator_secret_reads()  # its counters go with it
    assert not reads, f"the operator read Secrets: {reads}"
    cluster.kill_operator()
    time.sleep(3)
    cluster.restart_operator()
    jobs.wait_state(name, "Succeeded", FINISH_TIMEOUT, on_poll=record_pods)
    assert jobs.status(name).get("restarts", 0) == 0, jobs.status(name)
    assert sorted(pod_uids) == [f"{name}-launcher", f"{name}-worker-0", f"{name}-worker-1"], pod_uids
    assert all(len(uids) == 1 for uids in pod_uids.values()), f"a pod was made twice: {pod_uids}"
    return {}


SCENARIOS = {
    "happy-path": happy_path,
    "rank-dies": rank_dies,
    "missing-data-set": missing_data_set,
    "indivisible-batch": indivisible_batch,
    "image-missing": image_missing,
    "memory-too-small": memory_too_small,
    "suspend-resume": suspend_and_resume,
    "queued-in-kueue": queued_in_kueue,
    "gang-volcano": gang_scheduled_by_volcano,
    "operator-restart": operator_restart,
}
