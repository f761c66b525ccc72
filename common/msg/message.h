// Message: what the messenger carries between entities.
//
// A message is a type (proto/messenger.proto's MsgType), a small serialized
// protobuf header, and a bulk payload kept as Bytes so data is never copied
// into a protobuf field: on the wire the payload follows the header as raw
// bytes, and the receiver gets it in one buffer read straight off the socket.
#pragma once

#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/status.h"

namespace nacre::msg {

struct Message {
  uint16_t type = 0;
  std::string header;  // serialized protobuf, at most ms_max_header_bytes
  Bytes payload;       // bulk data

  template <class Proto>
  static Message Make(uint16_t type, const Proto& hdr, Bytes payload = {}) {
    Message m;
    m.type = type;
    hdr.SerializeToString(&m.header);
    m.payload = std::move(payload);
    return m;
  }
  // False (and *out unchanged in meaning) when the header does not decode.
  template <class Proto>
  bool ParseHeader(Proto* out) const {
    return out->ParseFromString(header);
  }
  size_t wire_size() const { return header.size() + payload.size(); }
};

// host:port; IPv4, IPv6 in brackets, or a name.
struct EntityAddr {
  std::string host;
  uint16_t port = 0;

  std::string ToString() const;
  static Result<EntityAddr> Parse(std::string_view text);
  bool operator==(const EntityAddr&) const = default;
  bool operator<(const EntityAddr& o) const { return host != o.host ? host < o.host : port < o.port; }
};

}  // namespace nacre::msg
