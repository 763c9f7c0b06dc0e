#include <gtest/gtest.h>

#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "operator/kube/bearer_token.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/kube_config.h"

namespace kubetrain {
namespace {

namespace fs = std::filesystem;

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kubetrain-kubeconfig-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& content) {
    auto path = dir_ / name;
    std::ofstream(path) << content;
    return path;
  }

  fs::path dir_;
};

// "-----BEGIN CERTIFICATE-----\nCA\n" and friends, base64-encoded as kubeconfigs carry them.
constexpr char kCaPem[] = "-----BEGIN CERTIFICATE-----\nCA\n";
constexpr char kCaBase64[] = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg==";
constexpr char kCertBase64[] = "Y2VydA==";  // "cert"
constexpr char kKeyBase64[] = "a2V5";       // "key"

constexpr char kKubeconfig[] = R"(apiVersion: v1
kind: Config
current-context: token-ctx
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg==
- name: files
  cluster:
    server: https://files.example:443/
    certificate-authority: certs/ca.crt
- name: lab
  cluster:
    server: https://lab.example
    insecure-skip-tls-verify: true
users:
- name: token-user
  user:
    token: abc123
- name: cert-user
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
- name: file-user
  user:
    tokenFile: token.txt
    client-certificate: /abs/client.crt
    client-key: client.key
contexts:
- name: token-ctx
  context: {cluster: prod, user: token-user, namespace: training}
- name: cert-ctx
  context: {cluster: prod, user: cert-user}
- name: file-ctx
  context: {cluster: files, user: file-user}
- name: lab-ctx
  context: {cluster: lab, user: token-user}
- name: broken-ctx
  context: {cluster: missing, user: token-user}
)";

TEST_F(KubeConfigTest, CurrentContextWithTokenAndCaData) {
  auto config = load_kubeconfig(write("config", kKubeconfig));
  EXPECT_EQ(config.server, "https://10.0.0.1:6443");
  EXPECT_EQ(config.ca_data, kCaPem);
  EXPECT_EQ(config.token, "abc123");
  EXPECT_EQ(config.namespace_name, "training");
  EXPECT_FALSE(config.insecure_skip_tls_verify);
  (void)kCaBase64;
}

TEST_F(KubeConfigTest, NamedContextWithClientCertificateData) {
  auto config = load_kubeconfig(write("config", kKubeconfig), {.context = "cert-ctx"});
  EXPECT_EQ(config.client_cert_data, "cert");
  EXPECT_EQ(config.client_key_data, "key");
  EXPECT_TRUE(config.token.empty());
  EXPECT_EQ(config.namespace_name, "default");
  (void)kCertBase64;
  (void)kKeyBase64;
}

TEST_F(KubeConfigTest, FilePathsResolveAgainstTheKubeconfigFolder) {
  auto path = write("config", kKubeconfig);
  auto config = load_kubeconfig(path, {.context = "file-ctx"});
  EXPECT_EQ(config.ca_file, (dir_ / "certs/ca.crt").string());
  EXPECT_EQ(config.token_file, (dir_ / "token.txt").string());
  EXPECT_EQ(config.client_cert_file, "/abs/client.crt");
  EXPECT_EQ(config.client_key_file, (dir_ / "client.key").string());
}

TEST_F(KubeConfigTest, InsecureSkipVerifyIsRefusedUnlessAllowed) {
  auto path = write("config", kKubeconfig);
  try {
    load_kubeconfig(path, {.context = "lab-ctx"});
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("insecure-skip-tls-verify"), std::string::npos);
  }
  auto allowed = load_kubeconfig(path, {.context = "lab-ctx", .allow_insecure = true});
  EXPECT_TRUE(allowed.insecure_skip_tls_verify);
}

TEST_F(KubeConfigTest, ErrorsNameWhatIsWrong) {
  auto path = write("config", kKubeconfig);
  auto message = [&](const std::string& context) {
    try {
      load_kubeconfig(path, {.context = context});
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_NE(message("nope").find("no contexts entry named 'nope'"), std::string::npos);
  EXPECT_NE(message("broken-ctx").find("no clusters entry named 'missing'"), std::string::npos);
  auto bad = write("bad", "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]\n"
                          "clusters: [{name: x, cluster: {server: 'https://a', "
                          "certificate-authority-data: 'not base64!'}}]\n");
  try {
    load_kubeconfig(bad);
    FAIL();
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("certificate-authority-data"), std::string::npos);
  }
}

TEST_F(KubeConfigTest, InClusterConfigFromEnvironmentAndMount) {
  InClusterPaths paths{write("token", "tok1\n"), write("ca.crt", "CA"), write("namespace", "jobs\n")};
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  EXPECT_TRUE(in_cluster_environment());
  auto config = load_in_cluster_config(paths);
  EXPECT_EQ(config.server, "https://[fd00::1]:443");
  EXPECT_EQ(config.token_file, paths.token_file.string());
  EXPECT_EQ(config.ca_file, paths.ca_file.string());
  EXPECT_EQ(config.namespace_name, "jobs");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  EXPECT_THROW(load_in_cluster_config(paths), std::runtime_error);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
}

TEST_F(KubeConfigTest, RotatedTokenIsSentAfterTheFileChanges) {
  auto token_file = write("token", "first-token\n");
  httplib::Server server;
  std::mutex mutex;
  std::vector<std::string> seen;
  server.Get("/api/v1/namespaces/ns/pods/p", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    seen.push_back(req.get_header_value("Authorization"));
    res.set_content(R"({"metadata":{"name":"p"}})", "application/json");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });

  KubeConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(port);
  config.token_file = token_file.string();
  {
    KubeClient client(config);
    client.get(kinds::kPods, "ns", "p");
    // The kubelet replaces the file atomically with a new token.
    auto replacement = write("token.new", "second-token");
    fs::rename(replacement, token_file);
    client.get(kinds::kPods, "ns", "p");
  }
  server.stop();
  thread.join();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "Bearer first-token");
  EXPECT_EQ(seen[1], "Bearer second-token");
}

TEST_F(KubeConfigTest, BearerTokenKeepsTheLastTokenWhileTheFileIsSwapped) {
  auto token_file = write("token", "t1");
  BearerToken token("", token_file.string());
  EXPECT_EQ(token.current(), "t1");
  fs::remove(token_file);
  EXPECT_EQ(token.current(), "t1");
  BearerToken never_read("", (dir_ / "absent").string());
  EXPECT_THROW(never_read.current(), std::runtime_error);
  EXPECT_EQ(BearerToken("fixed", token_file.string()).current(), "fixed");
}

}  // namespace
}  // namespace kubetrain
