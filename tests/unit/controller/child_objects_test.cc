#include "operator/controller/child_objects.h"

#include <gtest/gtest.h>

namespace kubetrain {

using nlohmann::json;

ObjectMeta job_meta() {
  ObjectMeta meta;
  meta.name = "mnist";
  meta.namespace_ = "team";
  meta.uid = "uid-1";
  return meta;
}

void expect_owned(const json& object) {
  EXPECT_EQ(object["metadata"]["namespace"], "team");
  EXPECT_EQ(object["metadata"]["labels"][kJobNameLabel], "mnist");
  const json& owner = object["metadata"]["ownerReferences"].at(0);
  EXPECT_EQ(owner["apiVersion"], "kubetrain.dev/v1alpha1");
  EXPECT_EQ(owner["kind"], "TrainingJob");
  EXPECT_EQ(owner["name"], "mnist");
  EXPECT_EQ(owner["uid"], "uid-1");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(owner["blockOwnerDeletion"], true);
}

TEST(ChildObjects, HeadlessServicePublishesNotReadyWorkers) {
  const json service = build_service(job_meta());
  expect_owned(service);
  EXPECT_EQ(service["metadata"]["name"], "mnist-worker");
  EXPECT_EQ(service["spec"]["clusterIP"], "None");
  EXPECT_EQ(service["spec"]["publishNotReadyAddresses"], true);
  EXPECT_EQ(service["spec"]["selector"], (json{{kJobNameLabel, "mnist"}, {kRoleLabel, "worker"}}));
}

TEST(ChildObjects, ConfigMapHoldsWorkerConfigAndHostfile) {
  TrainingJobSpec spec;
  spec.workers = 3;
  spec.slots_per_worker = 2;
  spec.training = {{"model", "resnet20"}, {"globalBatchSize", 12}};
  const json config_map = build_config_map(job_meta(), spec);
  expect_owned(config_map);
  EXPECT_EQ(config_map["metadata"]["name"], "mnist-config");
  EXPECT_EQ(config_map["data"]["hostfile"],
            "mnist-worker-0.mnist-worker.team.svc slots=2\n"
            "mnist-worker-1.mnist-worker.team.svc slots=2\n"
            "mnist-worker-2.mnist-worker.team.svc slots=2\n");
  EXPECT_EQ(json::parse(config_map["data"]["worker.yaml"].get<std::string>()), spec.training);
}

TEST(ChildObjects, SecretCarriesTheKeyPairAndAuthorizedKeys) {
  const json secret = build_ssh_secret(job_meta(), {"PRIVATE", "ssh-ed25519 AAAA c\n"});
  expect_owned(secret);
  EXPECT_EQ(secret["metadata"]["name"], "mnist-ssh");
  EXPECT_EQ(secret["type"], "kubernetes.io/ssh-auth");
  EXPECT_EQ(secret["stringData"]["ssh-privatekey"], "PRIVATE");
  EXPECT_EQ(secret["stringData"]["ssh-publickey"], "ssh-ed25519 AAAA c\n");
  EXPECT_EQ(secret["stringData"]["authorized_keys"], "ssh-ed25519 AAAA c\n");
}

}  // namespace kubetrain
