// Journal framing, pure: a segment is a sequence of records
//   u32 length (little endian), u32 crc32c of the body, body = JournalEntry.
// Decoding stops at the first short or corrupt record: a torn append at the
// tail of the last segment is where the journal ends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mds.pb.h"

namespace nacre::mds {

// Appends one framed record to *out.
void EncodeRecord(const proto::JournalEntry& e, std::string* out);
// Decodes every whole, intact record; *consumed is how far that went.
std::vector<proto::JournalEntry> DecodeRecords(std::string_view data, size_t* consumed = nullptr);

std::string JournalHeadObject(int rank);
std::string JournalSegmentObject(int rank, uint64_t seg);

}  // namespace nacre::mds
