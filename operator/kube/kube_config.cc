#include "operator/kube/kube_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

namespace kubetrain {
namespace {

std::runtime_error config_error(const std::filesystem::path& file, const std::string& what) {
  return std::runtime_error("kubeconfig " + file.string() + ": " + what);
}

std::string read_file(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(what + " " + path.string() + " cannot be read");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string trim_whitespace(std::string text) {
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

std::string decode_base64(const std::string& text, const std::filesystem::path& file,
                          const std::string& field) {
  std::string compact;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') compact += c;
  }
  if (compact.size() % 4 != 0) {
    throw config_error(file, field + " is not valid base64 (length not a multiple of 4)");
  }
  std::string out(compact.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(compact.data()),
                          static_cast<int>(compact.size()));
  if (n < 0) throw config_error(file, field + " is not valid base64");
  std::size_t padding = 0;
  if (!compact.empty() && compact.back() == '=') ++padding;
  if (compact.size() > 1 && compact[compact.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

// Finds the entry named `name` in a kubeconfig list (clusters, users, contexts) and returns its
// inner map (cluster:, user:, context:).
YAML::Node find_named(const YAML::Node& root, const std::string& list, const std::string& inner,
                      const std::string& name, const std::filesystem::path& file) {
  if (root[list] && root[list].IsSequence()) {
    for (const auto& entry : root[list]) {
      if (entry["name"] && entry["name"].as<std::string>() == name) {
        if (!entry[inner]) throw config_error(file, list + " entry '" + name + "' has no " + inner);
        return entry[inner];
      }
    }
  }
  throw config_error(file, "no " + list + " entry named '" + name + "'");
}

std::string string_field(const YAML::Node& node, const std::string& key) {
  return node[key] ? node[key].as<std::string>() : std::string();
}

std::string resolve(const std::string& path, const std::filesystem::path& file) {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  return p.is_absolute() ? path : (file.parent_path() / p).string();
}

}  // namespace

KubeConfig load_kubeconfig(const std::filesystem::path& path, const KubeconfigOptions& options) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    throw config_error(path, std::string("cannot be parsed: ") + e.what());
  }
  std::string context_name = options.context;
  if (context_name.empty()) context_name = string_field(root, "current-context");
  if (context_name.empty()) {
    throw config_error(path, "no current-context set and no context given");
  }
  auto context = find_named(root, "contexts", "context", context_name, path);
  auto cluster_name = string_field(context, "cluster");
  if (cluster_name.empty()) {
    throw config_error(path, "context '" + context_name + "' names no cluster");
  }
  auto cluster = find_named(root, "clusters", "cluster", cluster_name, path);

  KubeConfig config;
  config.server = string_field(cluster, "server");
  if (config.server.empty()) {
    throw config_error(path, "cluster '" + cluster_name + "' has no server");
  }
  if (!config.server.starts_with("https://") && !config.server.starts_with("http://")) {
    throw config_error(path, "cluster '" + cluster_name + "' server '" + config.server +
                                 "' must start with https:// or http://");
  }
  if (cluster["certificate-authority-data"]) {
    config.ca_data = decode_base64(string_field(cluster, "certificate-authority-data"), path,
                                   "cluster '" + cluster_name + "' certificate-authority-data");
  }
  config.ca_file = resolve(string_field(cluster, "certificate-authority"), path);
  config.tls_server_name = string_field(cluster, "tls-server-name");
  if (cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>()) {
    if (!options.allow_insecure) {
      throw config_error(path, "cluster '" + cluster_name +
                                   "' sets insecure-skip-tls-verify, which is refused unless "
                                   "explicitly allowed");
    }
    config.insecure_skip_tls_verify = true;
  }

  auto user_name = string_field(context, "user");
  if (!user_name.empty()) {
    auto user = find_named(root, "users", "user", user_name, path);
    config.token = string_field(user, "token");
    config.token_file = resolve(string_field(user, "tokenFile"), path);
    if (user["client-certificate-data"]) {
      config.client_cert_data = decode_base64(string_field(user, "client-certificate-data"), path,
                                              "user '" + user_name + "' client-certificate-data");
    }
    if (user["client-key-data"]) {
      config.client_key_data = decode_base64(string_field(user, "client-key-data"), path,
                                             "user '" + user_name + "' client-key-data");
    }
    config.client_cert_file = resolve(string_field(user, "client-certificate"), path);
    config.client_key_file = resolve(string_field(user, "client-key"), path);
    bool has_cert = !config.client_cert_data.empty() || !config.client_cert_file.empty();
    bool has_key = !config.client_key_data.empty() || !config.client_key_file.empty();
    if (has_cert != has_key) {
      throw config_error(path, "user '" + user_name +
                                   "' needs both a client certificate and a client key");
    }
    if (user["exec"] || user["auth-provider"]) {
      throw config_error(path, "user '" + user_name +
                                   "' uses exec or auth-provider credentials, which are not "
                                   "supported; use token, tokenFile or a client certificate");
    }
  }
  auto ns = string_field(context, "namespace");
  if (!ns.empty()) config.namespace_name = ns;
  return config;
}

bool in_cluster_environment() {
  return std::getenv("KUBERNETES_SERVICE_HOST") != nullptr &&
         std::getenv("KUBERNETES_SERVICE_PORT") != nullptr;
}

KubeConfig load_in_cluster_config(const InClusterPaths& paths) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0') {
    throw std::runtime_error("in-cluster config: KUBERNETES_SERVICE_HOST is not set");
  }
  if (port == nullptr || *port == '\0') {
    throw std::runtime_error("in-cluster config: KUBERNETES_SERVICE_PORT is not set");
  }
  std::string host_text = host;
  if (host_text.find(':') != std::string::npos) host_text = "[" + host_text + "]";
  KubeConfig config;
  config.server = "https://" + host_text + ":" + port;
  if (!std::filesystem::exists(paths.token_file)) {
    throw std::runtime_error("in-cluster config: service-account token " +
                             paths.token_file.string() + " does not exist");
  }
  config.token_file = paths.token_file.string();
  if (!std::filesystem::exists(paths.ca_file)) {
    throw std::runtime_error("in-cluster config: cluster CA " + paths.ca_file.string() +
                             " does not exist");
  }
  config.ca_file = paths.ca_file.string();
  if (std::filesystem::exists(paths.namespace_file)) {
    auto ns = trim_whitespace(read_file(paths.namespace_file, "in-cluster namespace file"));
    if (!ns.empty()) config.namespace_name = ns;
  }
  return config;
}

KubeConfig load_config(const std::string& kubeconfig_path, const KubeconfigOptions& options) {
  if (!kubeconfig_path.empty()) return load_kubeconfig(kubeconfig_path, options);
  if (in_cluster_environment()) return load_in_cluster_config();
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first(env);
    first = first.substr(0, first.find(':'));
    return load_kubeconfig(first, options);
  }
  const char* home = std::getenv("HOME");
  std::filesystem::path fallback = std::filesystem::path(home ? home : "") / ".kube" / "config";
  if (!std::filesystem::exists(fallback)) {
    throw std::runtime_error(
        "no Kubernetes configuration: pass a kubeconfig, run in a pod, set KUBECONFIG or create " +
        fallback.string());
  }
  return load_kubeconfig(fallback, options);
}

}  // namespace kubetrain
