#include "daemons/mds/mds_journal_codec.h"

#include <cstdio>

#include "common/crc32c.h"

namespace nacre::mds {

namespace {
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
}  // namespace

void EncodeRecord(const proto::JournalEntry& e, std::string* out) {
  std::string body = e.SerializeAsString();
  PutU32(out, static_cast<uint32_t>(body.size()));
  PutU32(out, Crc32c(body));
  out->append(body);
}

std::vector<proto::JournalEntry> DecodeRecords(std::string_view data, size_t* consumed) {
  std::vector<proto::JournalEntry> out;
  size_t pos = 0;
  while (data.size() - pos >= 8) {
    uint32_t len = GetU32(data.data() + pos), crc = GetU32(data.data() + pos + 4);
    if (data.size() - pos - 8 < len) break;
    std::string_view body = data.substr(pos + 8, len);
    if (Crc32c(body) != crc) break;
    proto::JournalEntry e;
    if (!e.ParseFromArray(body.data(), static_cast<int>(body.size()))) break;
    out.push_back(std::move(e));
    pos += 8 + len;
  }
  if (consumed) *consumed = pos;
  return out;
}

std::string JournalHeadObject(int rank) { return "mds" + std::to_string(rank) + "_journal_head"; }

std::string JournalSegmentObject(int rank, uint64_t seg) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "mds%d_journal.%016llx", rank, static_cast<unsigned long long>(seg));
  return buf;
}

}  // namespace nacre::mds
