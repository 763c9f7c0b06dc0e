#include <gtest/gtest.h>

#include <httplib.h>

#include <fstream>
#include <thread>

#include "operator/kube/kube_client.h"
#include "tests/unit/kube/test_certificates.h"

namespace kubetrain {
namespace {

using testing::TestCertificates;

// An HTTPS server answering GET /api/v1/namespaces/ns/pods/p, optionally requiring a client
// certificate signed by the test CA.
class TlsServer {
 public:
  TlsServer(const TestCertificates& certs, bool require_client_cert) {
    auto dir = std::filesystem::temp_directory_path() /
               ("kubetrain-tls-" + std::to_string(::getpid()) + "-" +
                std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(dir);
    dir_ = dir;
    write(dir / "server.crt", certs.server_cert);
    write(dir / "server.key", certs.server_key);
    write(dir / "ca.crt", certs.ca_cert);
    auto ca = (dir / "ca.crt").string();
    server_ = std::make_unique<httplib::SSLServer>(
        (dir / "server.crt").c_str(), (dir / "server.key").c_str(),
        require_client_cert ? ca.c_str() : nullptr);
    if (!server_->is_valid()) throw std::runtime_error("SSL server setup failed");
    server_->Get("/api/v1/namespaces/ns/pods/p", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"kind":"Pod","metadata":{"name":"p"}})", "application/json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
  }
  ~TlsServer() {
    server_->stop();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }
  std::string url(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(port_);
  }

 private:
  static void write(const std::filesystem::path& path, const std::string& content) {
    std::ofstream(path) << content;
  }
  std::filesystem::path dir_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

ClientOptions no_retries() {
  ClientOptions options;
  options.max_retries = 0;
  options.qps = 0;
  return options;
}

int fetch(const KubeConfig& config) {
  KubeClient client(config, no_retries());
  try {
    client.get(kinds::kPods, "ns", "p");
    return 200;
  } catch (const ApiError& error) {
    return error.code();
  }
}

TEST(TlsTest, VerifiesTheServerAgainstTheConfiguredCa) {
  auto certs = testing::make_test_certificates();
  TlsServer server(certs, false);
  KubeConfig config;
  config.server = server.url();
  config.ca_data = certs.ca_cert;
  EXPECT_EQ(fetch(config), 200) << "CA from data";

  KubeConfig unknown_ca;
  unknown_ca.server = server.url();
  EXPECT_EQ(fetch(unknown_ca), 0) << "the system store does not know the test CA";

  auto other = testing::make_test_certificates();
  KubeConfig wrong_ca = config;
  wrong_ca.ca_data = other.ca_cert;
  EXPECT_EQ(fetch(wrong_ca), 0) << "a different CA must be refused";

  auto ca_file = std::filesystem::temp_directory_path() / "kubetrain-tls-test-ca.crt";
  std::ofstream(ca_file) << certs.ca_cert;
  KubeConfig from_file;
  from_file.server = server.url();
  from_file.ca_file = ca_file.string();
  EXPECT_EQ(fetch(from_file), 200) << "CA from a file";
  std::filesystem::remove(ca_file);

  KubeConfig insecure;
  insecure.server = server.url();
  insecure.insecure_skip_tls_verify = true;
  EXPECT_EQ(fetch(insecure), 200) << "only when explicitly allowed";
}

TEST(TlsTest, PresentsTheClientCertificate) {
  auto certs = testing::make_test_certificates();
  TlsServer server(certs, /*require_client_cert=*/true);
  KubeConfig anonymous;
  anonymous.server = server.url();
  anonymous.ca_data = certs.ca_cert;
  EXPECT_NE(fetch(anonymous), 200);

  KubeConfig with_cert = anonymous;
  with_cert.client_cert_data = certs.client_cert;
  with_cert.client_key_data = certs.client_key;
  EXPECT_EQ(fetch(with_cert), 200);
}

}  // namespace
}  // namespace kubetrain
