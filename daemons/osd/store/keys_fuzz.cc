// Fuzzes the decoders of on-disk records and keys: whatever bytes RocksDB
// hands back (a corrupted SST, a bit flip), decoding must fail cleanly, and
// escaping must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemons/osd/store/keys.h"

using namespace nacre::osd::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  BlockRecord b;
  if (DecodeBlock(in, &b).ok() && b.inline_data && b.data.size() != b.len) std::abort();
  Onode o;
  (void)DecodeOnode(in, &o);
  DataTail t;
  (void)DecodeDataTail(in, &t);
  ObjectId oid;
  (void)DecodeOnodeKey(in, 1, &oid);
  std::string_view rest = in;
  std::string out;
  (void)ConsumeEscaped(&rest, &out);
  // Round trip: escape then consume gives the input back, and nothing more.
  std::string enc;
  AppendEscaped(&enc, in);
  std::string_view e = enc;
  if (!ConsumeEscaped(&e, &out) || out != in || !e.empty()) std::abort();
  return 0;
}
