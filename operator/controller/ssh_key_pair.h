#pragma once

#include <string>

namespace kubetrain {

// A per-job Ed25519 key pair: the private key in OpenSSH's own format (what ssh and sshd read) and
// the public key as one authorized_keys line.
struct SshKeyPair {
  std::string private_key;
  std::string public_key;
};

// Generates a fresh key pair with OpenSSL's random generator; throws std::runtime_error if
// OpenSSL fails.
SshKeyPair generate_ssh_key_pair(const std::string& comment);

}  // namespace kubetrain
