// Fuzz target: bytes read back from a journal segment. DecodeRecords must
// stop at the first short or corrupt record without crashing or
// over-reading, and report how far it got. (Records carry a crc32c, so a
// corrupt segment is caught here and never reaches replay.)
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemons/mds/mds_journal_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 20)) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t consumed = 0;
  auto entries = nacre::mds::DecodeRecords(in, &consumed);
  if (consumed > size || entries.size() * 8 > consumed) abort();  // every record has an 8-byte frame
  return 0;
}
