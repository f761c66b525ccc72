#include "librados/rados_reply.h"

#include <string>
#include <string_view>

#include "messenger.pb.h"

namespace nacre::rados {

Status StatusFromWire(int32_t code, const std::string& message) {
  if (code == 0) return Status::OK();
  // Accept negative errno too (Ceph habit) but store the positive code.
  if (code < 0 && code > -4096) code = -code;
  // Any code the Status enum names passes through as itself (CodeName knows
  // every enumerator); the rest become EIO so no caller sees a stray Code.
  Code c = static_cast<Code>(code);
  if (std::string_view(CodeName(c)) != "EUNKNOWN") return Status(c, message);
  return IOError("OSD error " + std::to_string(code) + (message.empty() ? "" : ": " + message));
}

Status CheckResultCount(const DecodedReply& r, size_t expected_ops) {
  if (r.header.retry()) return Status::OK();  // a retry carries no results to check
  size_t n = static_cast<size_t>(r.header.results().size());
  if (n > expected_ops)
    return Corruption("OSD op reply has " + std::to_string(n) + " results for " + std::to_string(expected_ops) + " ops");
  if (r.status.ok() && n != expected_ops)
    return Corruption("successful OSD op reply has " + std::to_string(n) + " results for " +
                      std::to_string(expected_ops) + " ops");
  return Status::OK();
}

Result<DecodedReply> DecodeOpReply(const msg::Message& m, size_t expected_ops) {
  if (m.type != proto::MSG_OSD_OP_REPLY) return Corruption("not an OSD op reply: type " + std::to_string(m.type));
  DecodedReply r;
  if (!m.ParseHeader(&r.header)) return Corruption("undecodable OSD op reply header");
  const auto& results = r.header.results();
  if (static_cast<size_t>(results.size()) > kMaxReplyResults)
    return Corruption("OSD op reply with " + std::to_string(results.size()) + " results");
  r.status = StatusFromWire(r.header.status().code(), r.header.status().message());
  if (expected_ops != 0) NACRE_RETURN_IF_ERROR(CheckResultCount(r, expected_ops));
  // Sum the claimed lengths without overflow: each is checked against what
  // is left of the payload before it is added.
  size_t pos = 0;
  const size_t total = m.payload.size();
  r.data.reserve(static_cast<size_t>(results.size()));
  for (const auto& res : results) {
    uint64_t len = res.data_len();
    if (len > total - pos)
      return Corruption("OSD op reply data lengths exceed its payload of " + std::to_string(total) + " bytes");
    r.data.push_back(m.payload.Slice(pos, static_cast<size_t>(len)));
    pos += static_cast<size_t>(len);
  }
  if (pos != total)
    return Corruption("OSD op reply payload has " + std::to_string(total - pos) + " bytes no op claims");
  return r;
}

}  // namespace nacre::rados
