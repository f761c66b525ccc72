// HMAC-SHA256 and constant-time comparison (OpenSSL), shared by the
// messenger handshake and the signed admin commands.
#pragma once

#include <string>
#include <string_view>

namespace nacre {

// 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// Equal-length comparison that does not leak where the inputs differ.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace nacre
