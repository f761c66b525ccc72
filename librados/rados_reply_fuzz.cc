// Fuzzes DecodeOpReply: the first byte picks the expected op count, the
// next two the header length; the rest splits into header and payload.
// Whatever the bytes, decoding must not crash, and every slice it hands
// out must lie inside the payload and cover it exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "librados/rados_reply.h"
#include "messenger.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The messenger caps headers at 64 KiB; stay near that.
  if (size < 3 || size > (1u << 17)) return 0;
  size_t expected = data[0] % 8;
  size_t hlen = static_cast<size_t>(data[1]) | (static_cast<size_t>(data[2]) << 8);
  const char* rest = reinterpret_cast<const char*>(data + 3);
  size_t n = size - 3;
  if (hlen > n) hlen = n;
  nacre::msg::Message m;
  m.type = nacre::proto::MSG_OSD_OP_REPLY;
  m.header.assign(rest, hlen);
  m.payload = nacre::Bytes::Copy(std::string_view(rest + hlen, n - hlen));
  auto r = nacre::rados::DecodeOpReply(m, expected);
  if (!r.ok()) return 0;
  size_t total = 0;
  for (const auto& d : r->data) {
    if (d.size() > 0 && (d.data() < m.payload.data() || d.data() + d.size() > m.payload.data() + m.payload.size()))
      abort();
    total += d.size();
  }
  if (total != m.payload.size()) abort();
  if (r->data.size() != static_cast<size_t>(r->header.results().size())) abort();
  return 0;
}
