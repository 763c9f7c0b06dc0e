#include "operator/controller/job_pods.h"

#include <gtest/gtest.h>

#include "operator/controller/child_objects.h"

namespace kubetrain {

using nlohmann::json;

namespace {

ObjectMeta job_meta() {
  ObjectMeta meta;
  meta.name = "r50";
  meta.namespace_ = "ml";
  meta.uid = "uid-9";
  return meta;
}

TrainingJobSpec spec_with_template() {
  return parse_spec(json::parse(R"({
    "workers": 2, "slotsPerWorker": 4, "image": "kubetrain-worker:0.1.0",
    "resources": {"limits": {"nvidia.com/gpu": 4}},
    "training": {"globalBatchSize": 64, "statusPort": 9500},
    "template": {"metadata": {"labels": {"team": "vision", "kubetrain.dev/role": "spoof"},
                              "annotations": {"a": "b"}},
                 "spec": {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "imagenet"}}],
                          "containers": [{"env": [{"name": "EXTRA", "value": "1"}],
                                          "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                          "nodeSelector": {"gpu": "h100"}, "tolerations": [{"key": "gpu", "operator": "Exists"}],
                          "schedulerName": "volcano", "affinity": {"nodeAffinity": {}},
                          "imagePullSecrets": [{"name": "registry"}]}}})"));
}

const json* find_named(const json& list, const std::string& name) {
  for (const json& item : list) {
    if (item.value("name", "") == name) return &item;
  }
  return nullptr;
}

std::string env_value(const json& container, const std::string& name) {
  const json* entry = find_named(container["env"], name);
  return entry == nullptr ? "<unset>" : (*entry)["value"].get<std::string>();
}

}  // namespace

TEST(WorkerPod, RunsSshdWithReadinessProbeAndMounts) {
  const json pod = build_worker_pod(job_meta(), spec_with_template(), 1, 2);
  EXPECT_EQ(pod["metadata"]["name"], "r50-worker-1");
  const json& labels = pod["metadata"]["labels"];
  EXPECT_EQ(labels[kJobNameLabel], "r50");
  EXPECT_EQ(labels[kRoleLabel], "worker");  // the template cannot override the controller's labels
  EXPECT_EQ(labels[kReplicaIndexLabel], "1");
  EXPECT_EQ(labels[kAttemptLabel], "2");
  EXPECT_EQ(labels["team"], "vision");
  EXPECT_EQ(pod["metadata"]["annotations"]["a"], "b");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["uid"], "uid-9");

  const json& spec = pod["spec"];
  EXPECT_EQ(spec["hostname"], "r50-worker-1");
  EXPECT_EQ(spec["subdomain"], "r50-worker");
  EXPECT_EQ(spec["restartPolicy"], "Never");
  EXPECT_EQ(spec["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(spec["nodeSelector"]["gpu"], "h100");
  EXPECT_EQ(spec["tolerations"][0]["key"], "gpu");
  EXPECT_EQ(spec["schedulerName"], "volcano");
  EXPECT_TRUE(spec.contains("affinity"));
  EXPECT_EQ(spec["imagePullSecrets"][0]["name"], "registry");
  EXPECT_NE(find_named(spec["volumes"], "data"), nullptr);
  const json* secret_volume = find_named(spec["volumes"], "kubetrain-ssh");
  ASSERT_NE(secret_volume, nullptr);
  EXPECT_EQ((*secret_volume)["secret"]["secretName"], "r50-ssh");
  EXPECT_EQ((*find_named(spec["volumes"], "kubetrain-config"))["configMap"]["name"], "r50-config");

  const json& container = spec["containers"][0];
  EXPECT_EQ(container["image"], "kubetrain-worker:0.1.0");
  EXPECT_EQ(container["resources"]["limits"]["nvidia.com/gpu"], 4);
  EXPECT_EQ(container["readinessProbe"]["tcpSocket"]["port"], 2222);
  const std::string command = container["command"][2];
  EXPECT_NE(command.find("/usr/sbin/sshd -D -e -p 2222"), std::string::npos);
  EXPECT_NE(command.find("AuthorizedKeysFile=/etc/kubetrain/ssh/authorized_keys"), std::string::npos);
  const json* ssh_mount = find_named(container["volumeMounts"], "kubetrain-ssh");
  ASSERT_NE(ssh_mount, nullptr);
  EXPECT_EQ((*ssh_mount)["readOnly"], true);
  EXPECT_NE(find_named(container["volumeMounts"], "data"), nullptr);
  EXPECT_EQ(env_value(container, "EXTRA"), "1");
  EXPECT_EQ(env_value(container, "NCCL_DEBUG"), "WARN");
  EXPECT_NE(find_named(container["ports"], "status"), nullptr);
  EXPECT_EQ((*find_named(container["ports"], "status"))["containerPort"], 9500);
}

TEST(LauncherPod, RunsMpirunWithOpenMpi4And5Environment) {
  const json pod = build_launcher_pod(job_meta(), spec_with_template(), 0);
  EXPECT_EQ(pod["metadata"]["name"], "r50-launcher");
  EXPECT_EQ(pod["metadata"]["labels"][kRoleLabel], "launcher");
  EXPECT_EQ(pod["metadata"]["labels"][kAttemptLabel], "0");
  EXPECT_EQ(pod["spec"]["restartPolicy"], "Never");
  EXPECT_FALSE(pod["spec"].contains("affinity"));
  EXPECT_EQ(pod["spec"]["imagePullSecrets"][0]["name"], "registry");
  const json& container = pod["spec"]["containers"][0];
  EXPECT_FALSE(container.contains("resources"));  // no GPUs for the launcher
  const std::string command = container["command"][2];
  EXPECT_NE(command.find("mpirun -np 8 --hostfile /etc/kubetrain/config/hostfile"), std::string::npos);
  EXPECT_NE(command.find("kubetrain-worker --config /etc/kubetrain/config/worker.yaml"), std::string::npos);
  for (const char* name : {"OMPI_MCA_plm_rsh_args", "PRTE_MCA_plm_ssh_args"}) {
    const std::string args = env_value(container, name);
    EXPECT_NE(args.find("-p 2222"), std::string::npos) << name;
    EXPECT_NE(args.find("-i /run/kubetrain/ssh/id_ed25519"), std::string::npos) << name;
    EXPECT_NE(args.find("StrictHostKeyChecking=no"), std::string::npos) << name;
  }
  EXPECT_EQ(env_value(container, "OMPI_MCA_orte_default_hostfile"), "/etc/kubetrain/config/hostfile");
  EXPECT_EQ(env_value(container, "PRTE_MCA_prte_default_hostfile"), "/etc/kubetrain/config/hostfile");
  EXPECT_EQ(env_value(container, "OMPI_MCA_orte_set_default_slots"), "4");
  EXPECT_EQ(env_value(container, "NCCL_DEBUG"), "WARN");
  EXPECT_EQ(env_value(container, "NCCL_SOCKET_IFNAME"), "^lo,docker");
  EXPECT_EQ(env_value(container, "EXTRA"), "1");
}

}  // namespace kubetrain
