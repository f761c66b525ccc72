// Striping: how a byte range of a file maps onto its data objects.
//
// Block b of inode i is the object "<i hex>.<b as %08x>" (Ceph's naming: the
// inode number in lowercase hex without leading zeros). With stripe_count 1
// (the only layout served, doc/filesystem.md) byte x of the file lives in
// object x / object_size at offset x % object_size. These functions are
// pure, so the mapping is unit-tested without a cluster.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nacre::fs {

// The default object size when an inode's layout names none.
inline constexpr uint32_t kDefaultObjectSize = 4u << 20;

// One piece of a file range that falls in one object.
struct ObjectExtent {
  uint64_t objno = 0;       // block number
  uint64_t obj_off = 0;     // offset inside the object
  uint64_t len = 0;         // bytes
  uint64_t buf_off = 0;     // offset of this piece inside the caller's buffer
  bool operator==(const ObjectExtent&) const = default;
};

// Splits [off, off + len) into per-object pieces, in file order. Invariant:
// the pieces are contiguous, each within one object, and their lengths sum
// to len. object_size 0 means kDefaultObjectSize.
std::vector<ObjectExtent> MapFileRange(uint64_t object_size, uint64_t off, uint64_t len);

// "<ino hex>.<objno %08x>"
std::string DataObjectName(uint64_t ino, uint64_t objno);

// For truncating a file from old_size down to new_size: the objects to
// remove entirely, and the object to cut (with its new length), if any.
struct TruncatePlan {
  std::vector<uint64_t> remove;   // objects wholly past new_size
  bool cut = false;               // object cut_objno keeps cut_len bytes
  uint64_t cut_objno = 0;
  uint64_t cut_len = 0;
};
TruncatePlan PlanTruncate(uint64_t object_size, uint64_t old_size, uint64_t new_size);

}  // namespace nacre::fs
