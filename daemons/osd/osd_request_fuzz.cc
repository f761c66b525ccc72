// Fuzz target: a client op as it arrives off the wire (header + payload) goes
// through the OSD's validation and, if accepted, through op execution on an
// in-process store. Nothing may crash, hang or allocate beyond the limits.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "daemons/osd/object_io.h"

namespace {

nacre::osd::store::ObjectStore* Store() {
  static std::unique_ptr<nacre::osd::store::ObjectStore> st = [] {
    char tmpl[] = "/tmp/nacre-osd-fuzz-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    nacre::osd::store::StoreOptions o;
    o.path = dir;
    o.limits.max_object_size = 1 << 20;
    auto r = nacre::osd::store::ObjectStore::Open(o);
    if (!r.ok()) abort();
    auto s = std::move(*r);
    nacre::osd::store::Transaction t;
    t.CreateCollection("1.0");
    if (!s->Apply(std::move(t)).ok()) abort();
    return s;
  }();
  return st.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > (64 << 10)) return 0;
  size_t hdr_len = std::min<size_t>(data[0] | (data[1] << 8), size - 2);
  nacre::proto::OsdOpRequest req;
  if (!req.ParseFromArray(data + 2, static_cast<int>(hdr_len))) return 0;
  nacre::Bytes payload = nacre::Bytes::Copy(
      std::string_view(reinterpret_cast<const char*>(data) + 2 + hdr_len, size - 2 - hdr_len));
  auto* st = Store();
  if (!nacre::osd::ValidateRequest(req, payload.size(), st->options().limits).ok()) return 0;
  if (nacre::osd::IsWriteOp(req.ops(0).op())) {
    nacre::osd::store::Transaction t;
    bool removed = false;
    if (nacre::osd::BuildWrite(*st, "1.0", req, payload, &t, &removed).ok() &&
        t.Validate(st->options().limits).ok())
      (void)st->Apply(std::move(t));
  } else {
    nacre::proto::OsdOpReply r;
    nacre::Bytes out;
    (void)nacre::osd::ExecuteRead(*st, "1.0", req, &r, &out);
  }
  return 0;
}
