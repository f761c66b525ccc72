#include "common/msg/message.h"

#include <charconv>

namespace nacre::msg {

std::string EntityAddr::ToString() const {
  // An IPv6 literal needs brackets so the port separator stays unambiguous.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<EntityAddr> EntityAddr::Parse(std::string_view text) {
  EntityAddr a;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Invalid("bad address '" + std::string(text) + "': expected [ipv6]:port");
    a.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Invalid("bad address '" + std::string(text) + "': no port");
    a.host = std::string(text.substr(0, colon));
    if (a.host.find(':') != std::string::npos)
      return Invalid("bad address '" + std::string(text) + "': IPv6 needs brackets");
    port_text = text.substr(colon + 1);
  }
  if (a.host.empty()) return Invalid("bad address '" + std::string(text) + "': empty host");
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port_text.empty() || v > 65535)
    return Invalid("bad address '" + std::string(text) + "': bad port");
  a.port = static_cast<uint16_t>(v);
  return a;
}

}  // namespace nacre::msg
