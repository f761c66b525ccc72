// Transaction: an ordered list of object-store operations applied atomically.
//
// The OSD builds one per client write (plus its PG log entry, as collection
// kv puts) and hands it to ObjectStore::Queue. Operations apply in order and
// later ones see the effects of earlier ones; if any operation fails, none of
// them is applied. Validate() checks everything that does not depend on the
// store's contents (sizes, limits, names), so most bad transactions are
// refused before they reach the commit thread.
//
// Semantics (the OSD relies on these):
//  - Object operations need their collection to exist (ENOENT otherwise).
//  - touch, write, write_full, truncate, zero, setxattr and omap_set create a
//    missing object; remove, rmxattr and the omap removals need it (ENOENT).
//  - zero never changes the size (the range is clamped to it); truncate does.
//    A zero-length write only creates the object; it does not extend it.
//  - rmxattr of a missing attribute and omap_rm of missing keys are no-ops.
//  - remove_collection removes the collection and everything in it.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "daemons/osd/object_id.h"

namespace nacre::osd::store {

using osd::ObjectId;

// Static limits every transaction must respect (from config, StoreOptions).
struct StoreLimits {
  uint64_t max_object_size = 128ull << 20;
  uint64_t max_xattr_size = 64 << 10;
  uint64_t max_omap_key_size = 4 << 10;
  uint64_t max_omap_value_size = 1 << 20;
  uint64_t max_name_size = 4096;  // collection, namespace, object, xattr names
  uint64_t max_txn_ops = 1024;
  uint64_t max_txn_bytes = 256ull << 20;  // payload bytes of all ops together
};

enum class OpType {
  kCreateCollection, kRemoveCollection,
  kTouch, kWrite, kWriteFull, kTruncate, kZero, kRemove,
  kSetXattr, kRmXattr,
  kOmapSet, kOmapRm, kOmapRmRange, kOmapClear,
  kCollPut, kCollDelete,
};
const char* OpName(OpType t);

struct Op {
  OpType type;
  std::string coll;
  ObjectId oid;
  uint64_t off = 0;   // write, zero; new size for truncate
  uint64_t len = 0;   // zero
  Bytes data;         // write, write_full
  std::string key;    // xattr name, omap range start, coll kv key
  std::string key2;   // omap range end (exclusive; "" = to the end)
  std::string value;  // xattr value, coll kv value
  std::vector<std::pair<std::string, std::string>> kvs;  // omap_set
  std::vector<std::string> keys;                          // omap_rm
};

class Transaction {
 public:
  Transaction& CreateCollection(std::string coll);
  Transaction& RemoveCollection(std::string coll);
  Transaction& Touch(std::string coll, ObjectId oid);
  Transaction& Write(std::string coll, ObjectId oid, uint64_t off, Bytes data);
  Transaction& WriteFull(std::string coll, ObjectId oid, Bytes data);
  Transaction& Truncate(std::string coll, ObjectId oid, uint64_t size);
  Transaction& Zero(std::string coll, ObjectId oid, uint64_t off, uint64_t len);
  Transaction& Remove(std::string coll, ObjectId oid);
  Transaction& SetXattr(std::string coll, ObjectId oid, std::string name, std::string value);
  Transaction& RmXattr(std::string coll, ObjectId oid, std::string name);
  Transaction& OmapSet(std::string coll, ObjectId oid, std::vector<std::pair<std::string, std::string>> kvs);
  Transaction& OmapRm(std::string coll, ObjectId oid, std::vector<std::string> keys);
  // Removes keys in [first, last); an empty `last` means to the end.
  Transaction& OmapRmRange(std::string coll, ObjectId oid, std::string first, std::string last);
  Transaction& OmapClear(std::string coll, ObjectId oid);
  Transaction& CollPut(std::string coll, std::string key, std::string value);
  Transaction& CollDelete(std::string coll, std::string key);

  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  // Total payload bytes, for limits and throttling.
  uint64_t bytes() const { return bytes_; }

  // Checks every limit that does not depend on the store's contents:
  // EINVAL for malformed ops, E2BIG for anything over a limit.
  Status Validate(const StoreLimits& limits) const;

 private:
  Op& Add(OpType t, std::string coll);

  std::vector<Op> ops_;
  uint64_t bytes_ = 0;
};

}  // namespace nacre::osd::store
