// Fuzz target: what clients send the MDS (session ops, requests, cap
// messages), in any order and with any contents, through the request core
// on a fresh in-memory filesystem. Nothing may crash or hang; every request
// gets an answer or waits.
//
// Input: up to 64 records of [kind u8][length u16 LE][protobuf bytes];
// kind % 3: 0 MdsRequest, 1 CapProto, 2 MdsSessionRequest.
#include <cstdint>
#include <string>

#include "daemons/mds/mds_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64 << 10)) return 0;
  nacre::mds::testing::Harness h;
  size_t pos = 0;
  for (int n = 0; n < 64 && pos + 3 <= size; ++n) {
    uint8_t kind = data[pos] % 3;
    size_t len = std::min<size_t>(data[pos + 1] | (data[pos + 2] << 8), size - pos - 3);
    const uint8_t* body = data + pos + 3;
    pos += 3 + len;
    if (kind == 0) {
      nacre::proto::MdsRequest r;
      if (!r.ParseFromArray(body, static_cast<int>(len))) continue;
      (void)h.Run(r);
    } else if (kind == 1) {
      nacre::proto::CapProto c;
      if (!c.ParseFromArray(body, static_cast<int>(len))) continue;
      for (int i = 0; i < 100; ++i) {
        auto o = h.core.HandleCap(h.session, c, h.now += 1000);
        if (o.kind != nacre::mds::Outcome::kNeedDir) break;
        h.cache.InstallEmptyDir(o.need_dir);
      }
    } else {
      nacre::proto::MdsSessionRequest s;
      if (!s.ParseFromArray(body, static_cast<int>(len))) continue;
      (void)h.core.HandleSession("client.fuzz", s, h.now += 1000, 7);
    }
  }
  return 0;
}
