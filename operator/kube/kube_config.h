#pragma once

#include <filesystem>
#include <string>

namespace kubetrain {

// Where and how to reach the API server. Filled from a kubeconfig file or from the in-cluster
// service-account mount; the client never skips TLS verification unless
// `insecure_skip_tls_verify` is set, which load_kubeconfig only allows when asked to.
struct KubeConfig {
  std::string server;  // "https://host:port" or "http://127.0.0.1:port" (kubectl proxy, tests)
  std::string ca_data;  // PEM bundle of the cluster CA (certificate-authority-data, decoded)
  std::string ca_file;  // or a path to one (certificate-authority, in-cluster ca.crt)
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // SNI/verification name when it differs from the server host

  std::string token;       // bearer token
  std::string token_file;  // or a file holding it, re-read when it changes (rotating tokens)
  std::string client_cert_data;  // PEM client certificate (client-certificate-data, decoded)
  std::string client_key_data;   // PEM private key (client-key-data, decoded)
  std::string client_cert_file;  // or paths to them
  std::string client_key_file;

  std::string namespace_name = "default";  // the context's namespace (or the pod's own)
};

struct KubeconfigOptions {
  std::string context;  // empty: the file's current-context
  // insecure-skip-tls-verify: true in the file is refused unless this is set.
  bool allow_insecure = false;
};

// Parses a kubeconfig file (YAML). Relative certificate/key/token-file paths resolve against the
// file's folder, *-data fields are base64-decoded. Throws std::runtime_error naming the file and
// the missing or invalid field (unknown context, cluster or user; no server; bad base64; ...).
KubeConfig load_kubeconfig(const std::filesystem::path& path, const KubeconfigOptions& options = {});

// The service-account mount and environment a pod sees; overridable for tests.
struct InClusterPaths {
  std::filesystem::path token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::filesystem::path ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::filesystem::path namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// True when KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set (running in a pod).
bool in_cluster_environment();

// Builds the in-cluster config: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
// (IPv6 hosts bracketed), the token as `token_file` (so rotation is picked up), the CA file and the
// namespace file's content. Throws std::runtime_error naming the missing variable or file.
KubeConfig load_in_cluster_config(const InClusterPaths& paths = {});

// What kubectl does: an explicit `kubeconfig_path` if non-empty; otherwise the in-cluster config
// when in_cluster_environment(); otherwise $KUBECONFIG (first entry) or ~/.kube/config.
KubeConfig load_config(const std::string& kubeconfig_path, const KubeconfigOptions& options = {});

}  // namespace kubetrain
