// Keyrings: the secret of each entity and, on the monitors, its caps.
//
// The file looks like Ceph's so operators can read it:
//   [client.admin]
//       key = BASE64
//       caps mon = "allow *"
// A key is 32 random bytes; it is the HMAC-SHA256 secret of the handshake.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nacre {

struct KeyEntry {
  std::string entity;                        // "osd.3"
  std::string key_b64;                       // as written in the file
  std::string secret;                        // decoded bytes
  std::map<std::string, std::string> caps;   // "mon" -> "allow *"
};

inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kMaxKeyringBytes = 1 << 20;

// 32 bytes from OpenSSL's CSPRNG, base64-encoded.
std::string GenerateKey();
Result<std::string> Base64Decode(std::string_view b64);
std::string Base64Encode(std::string_view bytes);

class Keyring {
 public:
  static Result<Keyring> Parse(std::string_view text);
  static Result<Keyring> Load(const std::string& path);

  // Written with mode 0600, atomically (temp file + rename).
  Status Save(const std::string& path) const;
  std::string ToText() const;

  Status Add(KeyEntry e);  // replaces an entry of the same name
  const KeyEntry* Get(std::string_view entity) const;
  bool Remove(std::string_view entity);
  const std::map<std::string, KeyEntry, std::less<>>& entries() const { return entries_; }

 private:
  std::map<std::string, KeyEntry, std::less<>> entries_;
};

}  // namespace nacre
