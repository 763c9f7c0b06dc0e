// The real kubetrain-operator against the fake API server; the test plays the kubelet.

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <set>
#include <thread>

#include "operator/controller/child_objects.h"
#include "tests/operator/operator_process.h"
#include "tests/operator/test_cluster.h"

namespace kubetrain::e2e {
namespace {

using std::chrono::seconds;

json job_spec(int workers, const json& run_policy = json::object(), const json& training_extra = json::object()) {
  json training = {{"model", "resnet20"}, {"globalBatchSize", 8 * workers}};
  training.update(training_extra);
  return {{"workers", workers}, {"slotsPerWorker", 2}, {"image", "kubetrain-worker:test"},
          {"training", training}, {"runPolicy", run_policy}};
}

class OperatorE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new TestCluster();
    operator_ = new OperatorProcess(cluster_->kubeconfig(), {"--threads", "4"});
  }
  static void TearDownTestSuite() {
    delete operator_;
    delete cluster_;
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "operator log:\n" << operator_->log() << "\n";
  }

  std::optional<json> wait_for_job(const std::string& ns, const std::string& name,
                                   const std::function<bool(const json&)>& predicate, seconds timeout = seconds(20)) {
    std::optional<json> last;
    wait_until(
        [&] {
          last = cluster_->job(ns, name);
          return last && predicate(*last);
        },
        timeout);
    return last && predicate(*last) ? last : std::nullopt;
  }

  static TestCluster* cluster_;
  static OperatorProcess* operator_;
};

TestCluster* OperatorE2E::cluster_ = nullptr;
OperatorProcess* OperatorE2E::operator_ = nullptr;

void expect_owned(const json& object, const json& job) {
  const json& metadata = object["metadata"];
  EXPECT_EQ(metadata["labels"][kJobNameLabel], job["metadata"]["name"]) << metadata.dump();
  ASSERT_EQ(metadata["ownerReferences"].size(), 1u) << metadata.dump();
  const json& owner = metadata["ownerReferences"][0];
  EXPECT_EQ(owner["uid"], job["metadata"]["uid"]);
  EXPECT_EQ(owner["kind"], "TrainingJob");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(owner["blockOwnerDeletion"], true);
}

TEST_F(OperatorE2E, CreatesOwnedChildrenLaunchesAfterReadyAndSucceeds) {
  const std::string ns = "happy";
  cluster_->create_job(ns, "mnist", job_spec(3));
  ASSERT_TRUE(wait_until([&] { return cluster_->pods(ns, "mnist").size() == 3; }, seconds(10)));
  const json job = *cluster_->job(ns, "mnist");
  for (const auto& [kind, name] : std::vector<std::pair<ResourceKind, std::string>>{
           {kinds::kServices, "mnist-worker"}, {kinds::kConfigMaps, "mnist-config"}, {kinds::kSecrets, "mnist-ssh"}}) {
    const auto child = cluster_->get(kind, ns, name);
    ASSERT_TRUE(child.has_value()) << name;
    expect_owned(*child, job);
  }
  for (const json& pod : cluster_->pods(ns, "mnist")) expect_owned(pod, job);
  EXPECT_EQ((*cluster_->get(kinds::kConfigMaps, ns, "mnist-config"))["data"]["hostfile"],
            "mnist-worker-0.mnist-worker.happy.svc slots=2\nmnist-worker-1.mnist-worker.happy.svc slots=2\n"
            "mnist-worker-2.mnist-worker.happy.svc slots=2\n");

  // Two of three Ready: still no launcher.
  cluster_->make_ready(ns, "mnist-worker-0");
  cluster_->make_ready(ns, "mnist-worker-1");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_FALSE(cluster_->pod(ns, "mnist-launcher").has_value());
  cluster_->make_ready(ns, "mnist-worker-2");
  ASSERT_TRUE(wait_until([&] { return cluster_->pod(ns, "mnist-launcher").has_value(); }, seconds(10)));
  const json launcher = *cluster_->pod(ns, "mnist-launcher");
  expect_owned(launcher, job);
  EXPECT_NE(launcher["spec"]["containers"][0]["command"][2].get<std::string>().find("mpirun -np 6"),
            std::string::npos);

  cluster_->make_running(ns, "mnist-launcher");
  ASSERT_TRUE(wait_for_job(ns, "mnist", [](const json& j) { return condition_true(j, "Running"); }));
  cluster_->terminate(ns, "mnist-launcher", 0, "Completed");
  const auto done = wait_for_job(ns, "mnist", [](const json& j) { return condition_true(j, "Succeeded"); });
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ((*done)["status"]["state"], "Succeeded");
  EXPECT_TRUE((*done)["status"].contains("completionTime"));
  // cleanPodPolicy Running: the sshd workers are deleted, the launcher stays.
  EXPECT_TRUE(wait_until([&] { return cluster_->pods(ns, "mnist").size() == 1; }, seconds(10)));
  EXPECT_TRUE(cluster_->pod(ns, "mnist-launcher").has_value());
  std::set<std::string> reasons;
  for (const json& event : cluster_->events(ns)) reasons.insert(event.value("reason", ""));
  for (const char* reason : {"Created", "WorkersReady", "LauncherCreated", "Running", "Succeeded"}) {
    EXPECT_TRUE(reasons.count(reason)) << reason;
  }
}

TEST_F(OperatorE2E, LauncherExitOneRestartsTheGangUntilBackoffIsSpent) {
  const std::string ns = "retry";
  cluster_->create_job(ns, "flaky", job_spec(2, {{"backoffLimit", 1}}));
  ASSERT_TRUE(cluster_->start_job(ns, "flaky", 2, 0));
  cluster_->terminate(ns, "flaky-launcher", 1, "Error");
  auto job = wait_for_job(ns, "flaky", [](const json& j) { return j["status"].value("restarts", 0) == 1; });
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(condition_reason(*job, "Restarting"), "Error");
  // A new gang (attempt 1) comes up, and fails again.
  ASSERT_TRUE(cluster_->start_job(ns, "flaky", 2, 1));
  EXPECT_TRUE(wait_for_job(ns, "flaky", [](const json& j) { return !condition_true(j, "Restarting"); }));
  cluster_->terminate(ns, "flaky-launcher", 1, "Error");
  job = wait_for_job(ns, "flaky", [](const json& j) { return condition_true(j, "Failed"); });
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(condition_reason(*job, "Failed"), "BackoffLimitExceeded");
  EXPECT_EQ((*job)["status"]["restarts"], 1);
  EXPECT_EQ((*job)["status"]["failure"]["pod"], "flaky-launcher");
  EXPECT_TRUE(cluster_->pod(ns, "flaky-launcher").has_value());  // kept for its logs
}

TEST_F(OperatorE2E, ExitCodeTwoFailsAtOnce) {
  const std::string ns = "badconfig";
  cluster_->create_job(ns, "typo", job_spec(2));
  ASSERT_TRUE(cluster_->start_job(ns, "typo", 2));
  cluster_->terminate(ns, "typo-launcher", 2, "Error");
  const auto job = wait_for_job(ns, "typo", [](const json& j) { return condition_true(j, "Failed"); });
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(condition_reason(*job, "Failed"), "InvalidConfig");
  EXPECT_EQ((*job)["status"]["restarts"], 0);
}

TEST_F(OperatorE2E, OomKilledWorkerIsNamedAsRootCause) {
  const std::string ns = "oom";
  cluster_->create_job(ns, "big", job_spec(2));
  ASSERT_TRUE(cluster_->start_job(ns, "big", 2));
  cluster_->terminate(ns, "big-worker-1", 137, "OOMKilled");
  cluster_->terminate(ns, "big-launcher", 1, "Error");  // mpirun noticed the lost rank
  const auto job = wait_for_job(ns, "big", [](const json& j) { return j["status"].value("restarts", 0) == 1; });
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ((*job)["status"]["failure"]["pod"], "big-worker-1");
  EXPECT_EQ((*job)["status"]["failure"]["reason"], "OOMKilled");
  EXPECT_EQ((*job)["status"]["failure"]["exitCode"], 137);
  EXPECT_EQ(condition_reason(*job, "Restarting"), "OOMKilled");
  ASSERT_TRUE(cluster_->start_job(ns, "big", 2, 1));  // the gang is recreated
  cluster_->terminate(ns, "big-launcher", 0, "Completed");
  EXPECT_TRUE(wait_for_job(ns, "big", [](const json& j) { return condition_true(j, "Succeeded"); }));
}

TEST_F(OperatorE2E, StartupDeadlineFailsOnImagePullBackOff) {
  const std::string ns = "pull";
  cluster_->create_job(ns, "noimage", job_spec(2, {{"startupDeadlineSeconds", 2}}));
  ASSERT_TRUE(wait_until([&] { return cluster_->pods(ns, "noimage").size() == 2; }, seconds(10)));
  cluster_->make_ready(ns, "noimage-worker-0");
  cluster_->make_waiting(ns, "noimage-worker-1", "ImagePullBackOff");
  const auto job = wait_for_job(ns, "noimage", [](const json& j) { return condition_true(j, "Failed"); });
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(condition_reason(*job, "Failed"), "ImagePullBackOff");
  EXPECT_EQ((*job)["status"]["failure"]["pod"], "noimage-worker-1");
  EXPECT_FALSE(cluster_->pod(ns, "noimage-launcher").has_value());
  EXPECT_TRUE(wait_until([&] { return cluster_->pods(ns, "noimage").empty(); }, seconds(10)));
}

TEST_F(OperatorE2E, ActiveDeadlineFailsARunningJob) {
  const std::string ns = "deadline";
  cluster_->create_job(ns, "slow", job_spec(1, {{"activeDeadlineSeconds", 2}}));
  ASSERT_TRUE(cluster_->start_job(ns, "slow", 1));
  const auto job = wait_for_job(ns, "slow", [](const json& j) { return condition_true(j, "Failed"); }, seconds(10));
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(condition_reason(*job, "Failed"), "DeadlineExceeded");
  EXPECT_TRUE(wait_until([&] { return cluster_->pods(ns, "slow").empty(); }, seconds(10)));  // running launcher too
}

TEST_F(OperatorE2E, TtlDeletesTheFinishedJob) {
  const std::string ns = "ttl";
  cluster_->create_job(ns, "short", job_spec(1, {{"ttlSecondsAfterFinished", 1}}));
  ASSERT_TRUE(cluster_->start_job(ns, "short", 1));
  cluster_->terminate(ns, "short-launcher", 0, "Completed");
  EXPECT_TRUE(wait_until([&] { return !cluster_->job(ns, "short").has_value(); }, seconds(10)));
}

TEST_F(OperatorE2E, SuspendDeletesPodsAndResumeRecreatesThem) {
  const std::string ns = "pause";
  cluster_->create_job(ns, "later", job_spec(2));
  ASSERT_TRUE(cluster_->start_job(ns, "later", 2));
  cluster_->patch_job_spec(ns, "later", {{"runPolicy", {{"suspend", true}}}});
  ASSERT_TRUE(wait_for_job(ns, "later", [](const json& j) { return condition_true(j, "Suspended"); }));
  EXPECT_TRUE(wait_until([&] { return cluster_->pods(ns, "later").empty(); }, seconds(10)));
  cluster_->patch_job_spec(ns, "later", {{"runPolicy", {{"suspend", false}}}});
  const auto job = wait_for_job(ns, "later", [](const json& j) {
    return !condition_true(j, "Suspended") && condition_reason(j, "Suspended") == "Resumed";
  });
  ASSERT_TRUE(job.has_value());
  ASSERT_TRUE(cluster_->start_job(ns, "later", 2));
  cluster_->terminate(ns, "later-launcher", 0, "Completed");
  EXPECT_TRUE(wait_for_job(ns, "later", [](const json& j) { return condition_true(j, "Succeeded"); }));
}

TEST_F(OperatorE2E, InvalidSpecFailsAndCreatesNothing) {
  const std::string ns = "invalid";
  json spec = job_spec(3);
  spec["training"]["globalBatchSize"] = 1000;
  spec["slotsPerWorker"] = 4;
  cluster_->create_job(ns, "odd", spec);
  const auto job = wait_for_job(ns, "odd", [](const json& j) { return condition_true(j, "Failed"); });
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(condition_reason(*job, "Failed"), "InvalidSpec");
  for (const json& condition : (*job)["status"]["conditions"]) {
    if (condition["type"] == "Failed") {
      EXPECT_NE(condition["message"].get<std::string>().find(
                    "globalBatchSize 1000 is not divisible by 12 ranks; use 996 or 1008"),
                std::string::npos);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(cluster_->pods(ns, "odd").empty());
  EXPECT_FALSE(cluster_->get(kinds::kServices, ns, "odd-worker").has_value());
  EXPECT_FALSE(cluster_->get(kinds::kConfigMaps, ns, "odd-config").has_value());
  EXPECT_FALSE(cluster_->get(kinds::kSecrets, ns, "odd-ssh").has_value());
}

TEST_F(OperatorE2E, ProgressIsCopiedIntoStatusAndStalledRaised) {
  const std::string ns = "progress";
  httplib::Server rank0;
  std::atomic<int> step{10};
  rank0.Get("/progress", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content(json{{"epoch", 1}, {"step", step.load()}, {"totalSteps", 100}, {"loss", 0.5},
                              {"top1", 0.75}, {"imagesPerSecond", 321.5}, {"lossScale", 1024}, {"state", "training"}}
                             .dump(),
                         "application/json");
  });
  const int port = rank0.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { rank0.listen_after_bind(); });
  cluster_->create_job(ns, "watched", job_spec(1, {{"progressDeadlineSeconds", 3}}, {{"statusPort", port}}));
  ASSERT_TRUE(cluster_->start_job(ns, "watched", 1));
  auto job = wait_for_job(ns, "watched", [](const json& j) {
    return j["status"].contains("progress") && j["status"]["progress"].value("step", 0) == 10;
  });
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ((*job)["status"]["progress"]["imagesPerSecond"], 321.5);
  EXPECT_EQ((*job)["status"]["progress"]["percent"], 10);
  EXPECT_EQ((*job)["status"]["progress"]["totalSteps"], 100);
  // The step stops moving: Stalled after progressDeadlineSeconds.
  job = wait_for_job(ns, "watched", [](const json& j) { return condition_true(j, "Stalled"); }, seconds(15));
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(condition_reason(*job, "Stalled"), "NoProgress");
  step = 20;
  EXPECT_TRUE(wait_for_job(ns, "watched", [](const json& j) { return !condition_true(j, "Stalled"); }, seconds(10)));
  cluster_->terminate(ns, "watched-launcher", 0, "Completed");
  job = wait_for_job(ns, "watched", [](const json& j) { return condition_true(j, "Succeeded"); });
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ((*job)["status"]["result"]["top1"], 0.75);
  rank0.stop();
  serving.join();
}

TEST(OperatorRestart, KilledMidJobNoDuplicatesAndTheJobCompletes) {
  TestCluster cluster;
  auto first = std::make_unique<OperatorProcess>(cluster.kubeconfig());
  const std::string ns = "restart";
  cluster.create_job(ns, "survivor", job_spec(4));
  ASSERT_TRUE(wait_until([&] { return cluster.pods(ns, "survivor").size() == 4; }, seconds(10)));
  cluster.make_ready(ns, "survivor-worker-0");
  first->kill();  // a crash, mid-startup
  cluster.make_ready(ns, "survivor-worker-1");
  OperatorProcess second(cluster.kubeconfig());
  ASSERT_TRUE(cluster.start_job(ns, "survivor", 4));
  cluster.terminate(ns, "survivor-launcher", 0, "Completed");
  ASSERT_TRUE(wait_until([&] { return condition_true(*cluster.job(ns, "survivor"), "Succeeded"); }, seconds(20)))
      << second.log();
  // Every pod was created exactly once over both operator lifetimes.
  std::map<std::string, int> creates;
  for (const json& request : cluster.requests()) {
    if (request.value("verb", "") == "create" && request.value("resource", "") == "pods" &&
        request.value("code", 0) == 201) {
      ++creates[request.value("path", "")];
    }
  }
  EXPECT_EQ(creates.size(), 1u);  // one collection path
  int total = 0;
  for (const auto& [path, count] : creates) total += count;
  EXPECT_EQ(total, 5) << "4 workers and 1 launcher";
}

TEST(OperatorFaults, JobsConvergeUnderInjectedErrorsAndDroppedWatches) {
  TestCluster cluster({"--error-rate", "0.1", "--error-codes", "409,429,500", "--drop-watch-every", "15",
                       "--retry-after-seconds", "0"});
  OperatorProcess operator_process(cluster.kubeconfig());
  const std::string ns = "chaos";
  const int jobs = 4;
  for (int i = 0; i < jobs; ++i) cluster.create_job(ns, "job" + std::to_string(i), job_spec(2));
  for (int i = 0; i < jobs; ++i) ASSERT_TRUE(cluster.start_job(ns, "job" + std::to_string(i), 2)) << i;
  for (int i = 0; i < jobs; ++i) cluster.terminate(ns, "job" + std::to_string(i) + "-launcher", 0, "Completed");
  for (int i = 0; i < jobs; ++i) {
    const std::string name = "job" + std::to_string(i);
    EXPECT_TRUE(wait_until(
        [&] {
          const auto job = cluster.job(ns, name);
          return job && condition_true(*job, "Succeeded");
        },
        seconds(30)))
        << name << "\n"
        << operator_process.log();
    EXPECT_EQ((*cluster.job(ns, name))["status"].value("restarts", -1), 0) << name;
  }
}

TEST(OperatorLeaderElection, OnlyTheLeaderActsAndTheStandbyTakesOver) {
  TestCluster cluster;
  const std::vector<std::string> election = {"--leader-elect", "--leader-election-namespace", "kube-system",
                                             "--leader-election-lease-duration", "2",
                                             "--leader-election-renew-deadline", "1.5",
                                             "--leader-election-retry-period", "0.3"};
  auto a = std::make_unique<OperatorProcess>(cluster.kubeconfig(), election);
  ASSERT_TRUE(wait_until([&] { return cluster.get(kinds::kLeases, "kube-system", "kubetrain-operator").has_value(); },
                         seconds(10)));
  OperatorProcess b(cluster.kubeconfig(), election);
  auto is_leader = [](const OperatorProcess& process) {
    return process.http_get("/metrics").find("\nkubetrain_is_leader 1\n") != std::string::npos;
  };
  ASSERT_TRUE(wait_until([&] { return is_leader(*a); }, seconds(10)));
  EXPECT_FALSE(is_leader(b)) << "A:\n" << a->log() << "B:\n" << b.log();
  EXPECT_EQ(b.http_get("/readyz"), "ok\n");  // a standby is ready

  cluster.create_job("elect", "first", job_spec(1));
  ASSERT_TRUE(cluster.start_job("elect", "first", 1));
  // The standby made no API writes: every create came from the leader's reconciles.
  EXPECT_EQ(b.http_get("/metrics").find("verb=\"create\",resource=\"pods\""), std::string::npos);

  a->kill();  // no release: the standby waits out the lease
  ASSERT_TRUE(wait_until([&] { return is_leader(b); }, seconds(10))) << b.log();
  cluster.terminate("elect", "first-launcher", 0, "Completed");
  EXPECT_TRUE(wait_until([&] { return condition_true(*cluster.job("elect", "first"), "Succeeded"); }, seconds(10)));
  cluster.create_job("elect", "second", job_spec(1));
  EXPECT_TRUE(cluster.start_job("elect", "second", 1));
}

}  // namespace
}  // namespace kubetrain::e2e
