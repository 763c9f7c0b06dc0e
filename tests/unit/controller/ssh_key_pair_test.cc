#include "operator/controller/ssh_key_pair.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace kubetrain {

std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  std::array<char, 512> buffer{};
  while (pipe != nullptr && fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  if (pipe != nullptr) pclose(pipe);
  return output;
}

TEST(SshKeyPair, SshKeygenDerivesTheSamePublicKey) {
  if (run("command -v ssh-keygen").empty()) GTEST_SKIP() << "ssh-keygen (openssh-client) is not installed";
  const SshKeyPair keys = generate_ssh_key_pair("kubetrain@job");
  EXPECT_EQ(keys.public_key.rfind("ssh-ed25519 ", 0), 0u);
  const auto path = std::filesystem::temp_directory_path() / ("kubetrain-key-" + std::to_string(getpid()));
  {
    std::ofstream file(path);
    file << keys.private_key;
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string derived = run("ssh-keygen -y -f " + path.string() + " 2>&1");
  std::filesystem::remove(path);
  // ssh-keygen prints "type base64 comment"; compare type and key material.
  const std::string expected = keys.public_key.substr(0, keys.public_key.rfind(' '));
  EXPECT_EQ(derived.substr(0, expected.size()), expected) << derived;
}

TEST(SshKeyPair, EveryJobGetsItsOwnKey) {
  EXPECT_NE(generate_ssh_key_pair("a").public_key, generate_ssh_key_pair("a").public_key);
}

}  // namespace kubetrain
