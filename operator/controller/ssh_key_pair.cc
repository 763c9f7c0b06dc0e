#include "operator/controller/ssh_key_pair.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace kubetrain {
namespace {

constexpr const char* kKeyType = "ssh-ed25519";
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kPemLineWidth = 70;

// The SSH wire encoding (RFC 4251): big-endian uint32 and length-prefixed strings.
void put_u32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

void put_string(std::string& out, const std::string& value) {
  put_u32(out, static_cast<uint32_t>(value.size()));
  out += value;
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string public_blob(const std::string& public_key) {
  std::string blob;
  put_string(blob, kKeyType);
  put_string(blob, public_key);
  return blob;
}

// PROTOCOL.key: "openssh-key-v1\0", cipher/kdf "none", one key, then the private section padded
// to the 8-byte block size with 1, 2, 3, ...
std::string openssh_private_key(const std::string& seed, const std::string& public_key,
                                const std::string& comment) {
  uint32_t check = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check) != 1) {
    throw std::runtime_error("OpenSSL could not generate random bytes for the SSH key");
  }
  std::string secret;
  put_u32(secret, check);
  put_u32(secret, check);
  put_string(secret, kKeyType);
  put_string(secret, public_key);
  put_string(secret, seed + public_key);
  put_string(secret, comment);
  for (char pad = 1; secret.size() % 8 != 0; ++pad) secret.push_back(pad);

  std::string body("openssh-key-v1", 15);  // includes the terminating NUL
  put_string(body, "none");
  put_string(body, "none");
  put_string(body, "");
  put_u32(body, 1);
  put_string(body, public_blob(public_key));
  put_string(body, secret);

  const std::string encoded = base64(body);
  std::string pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (std::size_t pos = 0; pos < encoded.size(); pos += kPemLineWidth) {
    pem += encoded.substr(pos, kPemLineWidth) + "\n";
  }
  pem += "-----END OPENSSH PRIVATE KEY-----\n";
  return pem;
}

}  // namespace

SshKeyPair generate_ssh_key_pair(const std::string& comment) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"),
                                                          &EVP_PKEY_free);
  if (!key) throw std::runtime_error("OpenSSL could not generate an Ed25519 key");
  std::array<unsigned char, kKeyBytes> seed{}, pub{};
  std::size_t seed_size = seed.size(), pub_size = pub.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), seed.data(), &seed_size) != 1 ||
      EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &pub_size) != 1 || seed_size != kKeyBytes ||
      pub_size != kKeyBytes) {
    throw std::runtime_error("OpenSSL could not export the Ed25519 key");
  }
  const std::string seed_bytes(reinterpret_cast<const char*>(seed.data()), kKeyBytes);
  const std::string pub_bytes(reinterpret_cast<const char*>(pub.data()), kKeyBytes);
  SshKeyPair pair;
  pair.private_key = openssh_private_key(seed_bytes, pub_bytes, comment);
  pair.public_key = std::string(kKeyType) + " " + base64(public_blob(pub_bytes)) + " " + comment + "\n";
  return pair;
}

}  // namespace kubetrain
