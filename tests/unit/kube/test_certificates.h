#pragma once

#include <string>

namespace kubetrain::testing {

// PEM material for TLS tests: a self-signed CA, a server certificate for 127.0.0.1/localhost and
// a client certificate, both signed by the CA.
struct TestCertificates {
  std::string ca_cert;
  std::string ca_key;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
};

// Generates fresh certificates with OpenSSL (P-256 keys, valid for one day).
TestCertificates make_test_certificates();

}  // namespace kubetrain::testing
