#include "operator/controller/job_pods.h"

#include <algorithm>

#include "operator/controller/child_objects.h"
#include "operator/controller/mpi_environment.h"

namespace kubetrain {
namespace {

using nlohmann::json;

// The uid/gid the worker image runs as (docker/worker.Dockerfile); spec.template.spec.securityContext overrides.
constexpr int kNonRootId = 1000;

json template_container(const TrainingJobSpec& spec) {
  const json containers = template_pod_spec(spec).value("containers", json::array());
  return containers.empty() ? json::object() : containers[0];
}

json append(json base, const json& extra) {
  if (extra.is_array()) {
    for (const json& item : extra) base.push_back(item);
  }
  return base;
}

json pod_metadata(const ObjectMeta& job, const TrainingJobSpec& spec, const std::string& name, json labels) {
  const json tmpl_meta = spec.pod_template.value("metadata", json::object());
  json merged = tmpl_meta.value("labels", json::object());
  merged.update(labels);  // ours win: the controller selects on them
  json metadata = child_metadata(job, name, merged);
  if (tmpl_meta.contains("annotations") && tmpl_meta["annotations"].is_object()) {
    metadata["annotations"] = tmpl_meta["annotations"];
  }
  return metadata;
}

json base_volumes(const ObjectMeta& job) {
  return json::array({
      {{"name", "kubetrain-config"}, {"configMap", {{"name", config_map_name(job.name)}}}},
      {{"name", "kubetrain-ssh"}, {"secret", {{"secretName", secret_name(job.name)}, {"defaultMode", 0440}}}},
      {{"name", "kubetrain-ssh-runtime"}, {"emptyDir", {{"medium", "Memory"}}}},
  });
}

json base_mounts() {
  return json::array({
      {{"name", "kubetrain-config"}, {"mountPath", kConfigMountPath}, {"readOnly", true}},
      {{"name", "kubetrain-ssh"}, {"mountPath", kSshMountPath}, {"readOnly", true}},
      {{"name", "kubetrain-ssh-runtime"}, {"mountPath", kSshRuntimePath}},
  });
}

// Scheduling and identity fields copied from spec.template.spec when present.
void copy_template_fields(const TrainingJobSpec& spec, json& pod_spec, std::initializer_list<const char*> keys) {
  const json tmpl = template_pod_spec(spec);
  for (const char* key : keys) {
    if (tmpl.contains(key)) pod_spec[key] = tmpl[key];
  }
}

json security_context(const TrainingJobSpec& spec) {
  const json tmpl = template_pod_spec(spec);
  if (tmpl.contains("securityContext")) return tmpl["securityContext"];
  return {{"runAsNonRoot", true}, {"runAsUser", kNonRootId}, {"runAsGroup", kNonRootId}, {"fsGroup", kNonRootId}};
}

json container_security_context() {
  return {{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", json::array({"ALL"})}}}};
}

std::string sshd_command() {
  const std::string runtime = kSshRuntimePath;
  const std::string ssh = kSshMountPath;
  return "set -eu\n"
         "cp " + ssh + "/ssh-privatekey " + runtime + "/host_ed25519\n"
         "chmod 600 " + runtime + "/host_ed25519\n"
         "exec /usr/sbin/sshd -D -e -p " + std::to_string(kSshPort) + " -h " + runtime + "/host_ed25519"
         " -o PidFile=" + runtime + "/sshd.pid -o AuthorizedKeysFile=" + ssh + "/authorized_keys"
         " -o StrictModes=no -o UsePAM=no -o PasswordAuthentication=no -o PermitUserEnvironment=yes\n";
}

json with_scheduling(json pod, const PodScheduling& scheduling) {
  json& metadata = pod["metadata"];
  json& pod_spec = pod["spec"];
  if (!scheduling.scheduler_name.empty()) pod_spec["schedulerName"] = scheduling.scheduler_name;
  for (const auto& [key, value] : scheduling.labels.items()) metadata["labels"][key] = value;
  for (const auto& [key, value] : scheduling.annotations.items()) metadata["annotations"][key] = value;
  for (const auto& [key, value] : scheduling.node_selector.items()) pod_spec["nodeSelector"][key] = value;
  for (const json& toleration : scheduling.tolerations) pod_spec["tolerations"].push_back(toleration);
  return pod;
}

}  // namespace

PodScheduling& PodScheduling::add(const PodScheduling& other) {
  if (!other.scheduler_name.empty()) scheduler_name = other.scheduler_name;
  labels.update(other.labels);
  annotations.update(other.annotations);
  node_selector.update(other.node_selector);
  for (const json& toleration : other.tolerations) {
    if (std::find(tolerations.begin(), tolerations.end(), toleration) == tolerations.end()) tolerations.push_back(toleration);
  }
  return *this;
}

json template_pod_spec(const TrainingJobSpec& spec) { return spec.pod_template.value("spec", json::object()); }

json build_worker_pod(const ObjectMeta& job, const TrainingJobSpec& spec, int64_t index, int64_t attempt,
                      const PodScheduling& scheduling) {
  const json tmpl_container = template_container(spec);
  json container = {
      {"name", "worker"},
      {"image", spec.image},
      {"command", json::array({"/bin/sh", "-c", sshd_command()})},
      {"ports", json::array({{{"name", "ssh"}, {"containerPort", kSshPort}}})},
      {"readinessProbe",
       {{"tcpSocket", {{"port", kSshPort}}}, {"periodSeconds", 2}, {"failureThreshold", 3}}},
      {"resources", spec.resources},
      {"env", append(append(json::array({{{"name", "KUBETRAIN_ROLE"}, {"value", "worker"}}}), nccl_environment()),
                     tmpl_container.value("env", json::array()))},
      {"volumeMounts", append(base_mounts(), tmpl_container.value("volumeMounts", json::array()))},
      {"securityContext", container_security_context()},
  };
  if (spec.status_port() > 0) {
    container["ports"].push_back({{"name", "status"}, {"containerPort", spec.status_port()}});
  }
  json pod_spec = {
      {"hostname", worker_pod_name(job.name, index)},
      {"subdomain", service_name(job.name)},
      {"restartPolicy", "Never"},
      {"securityContext", security_context(spec)},
      {"volumes", append(base_volumes(job), template_pod_spec(spec).value("volumes", json::array()))},
      {"containers", json::array({container})},
  };
  copy_template_fields(spec, pod_spec,
                       {"nodeSelector", "tolerations", "affinity", "schedulerName", "imagePullSecrets",
                        "priorityClassName", "serviceAccountName"});
  return with_scheduling({{"apiVersion", "v1"},
                          {"kind", "Pod"},
                          {"metadata", pod_metadata(job, spec, worker_pod_name(job.name, index),
                                                    {{kRoleLabel, "worker"},
                                                     {kReplicaIndexLabel, std::to_string(index)},
                                                     {kAttemptLabel, std::to_string(attempt)}})},
                          {"spec", pod_spec}},
                         scheduling);
}

json build_launcher_pod(const ObjectMeta& job, const TrainingJobSpec& spec, int64_t attempt,
                        const PodScheduling& scheduling) {
  json container = {
      {"name", "launcher"},
      {"image", spec.image},
      {"command", json::array({"/bin/sh", "-c", launcher_command(spec)})},
      {"env", append(launcher_environment(spec), template_container(spec).value("env", json::array()))},
      {"volumeMounts", base_mounts()},
      {"securityContext", container_security_context()},
  };
  json pod_spec = {
      {"restartPolicy", "Never"},
      {"securityContext", security_context(spec)},
      {"volumes", base_volumes(job)},
      {"containers", json::array({container})},
  };
  // The launcher needs no GPU nodes' affinity, only what lets it pull and schedule.
  copy_template_fields(spec, pod_spec,
                       {"nodeSelector", "tolerations", "schedulerName", "imagePullSecrets", "priorityClassName",
                        "serviceAccountName"});
  return with_scheduling({{"apiVersion", "v1"},
                          {"kind", "Pod"},
                          {"metadata", pod_metadata(job, spec, launcher_pod_name(job.name),
                                                    {{kRoleLabel, "launcher"}, {kAttemptLabel, std::to_string(attempt)}})},
                          {"spec", pod_spec}},
                         scheduling);
}

}  // namespace kubetrain
