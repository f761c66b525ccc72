#include "daemons/osd/store/transaction.h"

#include <string>

namespace nacre::osd::store {

const char* OpName(OpType t) {
  switch (t) {
    case OpType::kCreateCollection: return "create_collection";
    case OpType::kRemoveCollection: return "remove_collection";
    case OpType::kTouch: return "touch";
    case OpType::kWrite: return "write";
    case OpType::kWriteFull: return "write_full";
    case OpType::kTruncate: return "truncate";
    case OpType::kZero: return "zero";
    case OpType::kRemove: return "remove";
    case OpType::kSetXattr: return "setxattr";
    case OpType::kRmXattr: return "rmxattr";
    case OpType::kOmapSet: return "omap_set";
    case OpType::kOmapRm: return "omap_rm";
    case OpType::kOmapRmRange: return "omap_rm_range";
    case OpType::kOmapClear: return "omap_clear";
    case OpType::kCollPut: return "coll_put";
    case OpType::kCollDelete: return "coll_delete";
  }
  return "?";
}

Op& Transaction::Add(OpType t, std::string coll) {
  Op& op = ops_.emplace_back();
  op.type = t;
  op.coll = std::move(coll);
  return op;
}

Transaction& Transaction::CreateCollection(std::string coll) {
  Add(OpType::kCreateCollection, std::move(coll));
  return *this;
}
Transaction& Transaction::RemoveCollection(std::string coll) {
  Add(OpType::kRemoveCollection, std::move(coll));
  return *this;
}
Transaction& Transaction::Touch(std::string coll, ObjectId oid) {
  Add(OpType::kTouch, std::move(coll)).oid = std::move(oid);
  return *this;
}
Transaction& Transaction::Write(std::string coll, ObjectId oid, uint64_t off, Bytes data) {
  Op& op = Add(OpType::kWrite, std::move(coll));
  op.oid = std::move(oid);
  op.off = off;
  bytes_ += data.size();
  op.data = std::move(data);
  return *this;
}
Transaction& Transaction::WriteFull(std::string coll, ObjectId oid, Bytes data) {
  Op& op = Add(OpType::kWriteFull, std::move(coll));
  op.oid = std::move(oid);
  bytes_ += data.size();
  op.data = std::move(data);
  return *this;
}
Transaction& Transaction::Truncate(std::string coll, ObjectId oid, uint64_t size) {
  Op& op = Add(OpType::kTruncate, std::move(coll));
  op.oid = std::move(oid);
  op.off = size;
  return *this;
}
Transaction& Transaction::Zero(std::string coll, ObjectId oid, uint64_t off, uint64_t len) {
  Op& op = Add(OpType::kZero, std::move(coll));
  op.oid = std::move(oid);
  op.off = off;
  op.len = len;
  return *this;
}
Transaction& Transaction::Remove(std::string coll, ObjectId oid) {
  Add(OpType::kRemove, std::move(coll)).oid = std::move(oid);
  return *this;
}
Transaction& Transaction::SetXattr(std::string coll, ObjectId oid, std::string name, std::string value) {
  Op& op = Add(OpType::kSetXattr, std::move(coll));
  op.oid = std::move(oid);
  op.key = std::move(name);
  bytes_ += op.key.size() + value.size();
  op.value = std::move(value);
  return *this;
}
Transaction& Transaction::RmXattr(std::string coll, ObjectId oid, std::string name) {
  Op& op = Add(OpType::kRmXattr, std::move(coll));
  op.oid = std::move(oid);
  op.key = std::move(name);
  return *this;
}
Transaction& Transaction::OmapSet(std::string coll, ObjectId oid,
                                  std::vector<std::pair<std::string, std::string>> kvs) {
  Op& op = Add(OpType::kOmapSet, std::move(coll));
  op.oid = std::move(oid);
  for (const auto& [k, v] : kvs) bytes_ += k.size() + v.size();
  op.kvs = std::move(kvs);
  return *this;
}
Transaction& Transaction::OmapRm(std::string coll, ObjectId oid, std::vector<std::string> keys) {
  Op& op = Add(OpType::kOmapRm, std::move(coll));
  op.oid = std::move(oid);
  op.keys = std::move(keys);
  return *this;
}
Transaction& Transaction::OmapRmRange(std::string coll, ObjectId oid, std::string first, std::string last) {
  Op& op = Add(OpType::kOmapRmRange, std::move(coll));
  op.oid = std::move(oid);
  op.key = std::move(first);
  op.key2 = std::move(last);
  return *this;
}
Transaction& Transaction::OmapClear(std::string coll, ObjectId oid) {
  Add(OpType::kOmapClear, std::move(coll)).oid = std::move(oid);
  return *this;
}
Transaction& Transaction::CollPut(std::string coll, std::string key, std::string value) {
  Op& op = Add(OpType::kCollPut, std::move(coll));
  op.key = std::move(key);
  bytes_ += op.key.size() + value.size();
  op.value = std::move(value);
  return *this;
}
Transaction& Transaction::CollDelete(std::string coll, std::string key) {
  Op& op = Add(OpType::kCollDelete, std::move(coll));
  op.key = std::move(key);
  return *this;
}

namespace {

bool IsObjectOp(OpType t) {
  return t != OpType::kCreateCollection && t != OpType::kRemoveCollection && t != OpType::kCollPut &&
         t != OpType::kCollDelete;
}

Status OpError(size_t i, const Op& op, Code code, const std::string& what) {
  return Status(code, "op " + std::to_string(i) + " (" + OpName(op.type) + "): " + what);
}

}  // namespace

Status Transaction::Validate(const StoreLimits& l) const {
  if (ops_.size() > l.max_txn_ops)
    return TooBig("transaction has " + std::to_string(ops_.size()) + " ops, limit " + std::to_string(l.max_txn_ops));
  if (bytes_ > l.max_txn_bytes) return TooBig("transaction carries " + std::to_string(bytes_) + " bytes");
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    if (op.coll.empty()) return OpError(i, op, Code::kInvalid, "empty collection id");
    if (op.coll.size() > l.max_name_size) return OpError(i, op, Code::kTooBig, "collection id too long");
    if (IsObjectOp(op.type)) {
      if (op.oid.name.empty()) return OpError(i, op, Code::kInvalid, "empty object name");
      if (op.oid.name.size() > l.max_name_size || op.oid.ns.size() > l.max_name_size)
        return OpError(i, op, Code::kTooBig, "object name too long");
    }
    switch (op.type) {
      case OpType::kWrite:
      case OpType::kWriteFull:
        // Written this way round so that off + size cannot overflow.
        if (op.off > l.max_object_size || op.data.size() > l.max_object_size - op.off)
          return OpError(i, op, Code::kTooBig, "object would exceed osd_store_max_object_size");
        break;
      case OpType::kTruncate:
        if (op.off > l.max_object_size) return OpError(i, op, Code::kTooBig, "size over osd_store_max_object_size");
        break;
      case OpType::kZero:
        if (op.len > UINT64_MAX - op.off) return OpError(i, op, Code::kInvalid, "offset + length overflows");
        break;
      case OpType::kSetXattr:
      case OpType::kRmXattr:
        if (op.key.empty()) return OpError(i, op, Code::kInvalid, "empty xattr name");
        if (op.key.size() > l.max_name_size) return OpError(i, op, Code::kTooBig, "xattr name too long");
        if (op.value.size() > l.max_xattr_size) return OpError(i, op, Code::kTooBig, "xattr value over osd_store_max_xattr_size");
        break;
      case OpType::kOmapSet:
        for (const auto& [k, v] : op.kvs) {
          if (k.size() > l.max_omap_key_size) return OpError(i, op, Code::kTooBig, "omap key over osd_store_max_omap_key_size");
          if (v.size() > l.max_omap_value_size)
            return OpError(i, op, Code::kTooBig, "omap value over osd_store_max_omap_value_size");
        }
        break;
      case OpType::kOmapRm:
        for (const auto& k : op.keys)
          if (k.size() > l.max_omap_key_size) return OpError(i, op, Code::kTooBig, "omap key too long");
        break;
      case OpType::kOmapRmRange:
        if (!op.key2.empty() && op.key2 < op.key) return OpError(i, op, Code::kInvalid, "range end before start");
        break;
      case OpType::kCollPut:
        if (op.key.size() > l.max_omap_key_size) return OpError(i, op, Code::kTooBig, "kv key too long");
        if (op.value.size() > l.max_omap_value_size) return OpError(i, op, Code::kTooBig, "kv value too big");
        break;
      default:
        break;
    }
  }
  return Status::OK();
}

}  // namespace nacre::osd::store
