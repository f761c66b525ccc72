// On-disk layout of the OSD object store: RocksDB keys and value records.
//
// Everything lives in RocksDB's default column family, one byte of prefix per
// key space so that every key space is one contiguous, ordered range:
//
//   'S' name                               superblock values ("data_tail")
//   'C' E(coll)                            collection marker (empty value)
//   'K' E(coll) key                        collection kv (PG log, PG info)
//   'O' E(coll) E(ns) E(name)              onode: size, mtime, crc
//   'D' E(coll) E(ns) E(name) be32(block)  one 64 KiB data block (BlockRecord)
//   'X' E(coll) E(ns) E(name) attr         xattr value
//   'M' E(coll) E(ns) E(name) key          omap value
//
// E(s) escapes each 0x00 byte of s as 0x00 0xFF and ends s with 0x00 0x01.
// The encoding is order-preserving (E(a) < E(b) iff a < b bytewise) and
// prefix-free, so a component may be followed by further key material and a
// scan over 'O' E(coll) lists objects sorted by (namespace, name). Raw keys
// (collection kv, xattr names, omap keys) come last and are stored verbatim,
// so omap ranges sort exactly as the caller's keys do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "daemons/osd/store/transaction.h"

namespace nacre::osd::store {

// Data blocks: the unit of checksumming and of read-modify-write. Fixed:
// changing it would change the meaning of every stored block index.
inline constexpr uint32_t kBlockSize = 64 * 1024;

void AppendEscaped(std::string* out, std::string_view s);
// Consumes one escaped component from the front of *in.
bool ConsumeEscaped(std::string_view* in, std::string* out);

std::string DataTailKey();
std::string CollKey(std::string_view coll);
std::string CollKvPrefix(std::string_view coll);
std::string CollKvKey(std::string_view coll, std::string_view key);
std::string OnodePrefix(std::string_view coll);  // all onodes of a collection
std::string OnodeKey(std::string_view coll, const ObjectId& oid);
std::string BlockPrefix(std::string_view coll, const ObjectId& oid);
std::string BlockKey(std::string_view coll, const ObjectId& oid, uint32_t block);
std::string XattrPrefix(std::string_view coll, const ObjectId& oid);
std::string OmapPrefix(std::string_view coll, const ObjectId& oid);
// Every key that belongs to a collection, by key space ('K','O','D','X','M').
std::string CollSpacePrefix(char space, std::string_view coll);

// Parses an onode key (from OnodePrefix(coll)) back into its object id.
bool DecodeOnodeKey(std::string_view key, size_t prefix_len, ObjectId* oid);
bool DecodeBlockIndex(std::string_view key, uint32_t* block);

// Object metadata. A block never holds bytes at or beyond `size`.
struct Onode {
  uint64_t size = 0;
  uint64_t mtime_ns = 0;
};
std::string EncodeOnode(const Onode& o);
Status DecodeOnode(std::string_view v, Onode* o);

// Where the bytes of the data files stop being referenced: everything past
// it is garbage from an interrupted commit and is truncated on open.
struct DataTail {
  uint32_t file = 0;
  uint64_t offset = 0;
};
std::string EncodeDataTail(const DataTail& t);
Status DecodeDataTail(std::string_view v, DataTail* t);

// One block: `len` valid bytes (the rest of the block reads as zeros), their
// crc32c, and either the bytes themselves (inline) or a data-file extent.
struct BlockRecord {
  bool inline_data = true;
  uint32_t len = 0;
  uint32_t crc = 0;
  uint32_t file = 0;      // when !inline_data
  uint64_t offset = 0;    // when !inline_data
  std::string_view data;  // when inline_data: points into the encoded value
};
std::string EncodeInlineBlock(std::string_view data);
std::string EncodeFileBlock(uint32_t len, uint32_t crc, uint32_t file, uint64_t offset);
Status DecodeBlock(std::string_view v, BlockRecord* b);

}  // namespace nacre::osd::store
