// Small value types of a placement group shared by the PG log, peering and
// the OSD: versions, request ids, and where a PG keeps its state in its
// object-store collection.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>

#include "daemons/osd/object_id.h"
#include "osd.pb.h"

namespace nacre::osd::pg {

using osd::ObjectId;

// A PG-wide version: the epoch of the primary's map when it ordered the
// write, then a counter. Ordering by epoch first makes a new primary's writes
// newer than anything a deposed primary may have written at the same counter.
struct EVersion {
  uint64_t epoch = 0;
  uint64_t v = 0;
  auto operator<=>(const EVersion&) const = default;
  bool zero() const { return epoch == 0 && v == 0; }
  std::string ToString() const { return std::to_string(epoch) + "'" + std::to_string(v); }
};

inline EVersion FromProto(const proto::EVersion& p) { return {p.epoch(), p.v()}; }
inline void ToProto(const EVersion& e, proto::EVersion* p) {
  p->set_epoch(e.epoch);
  p->set_v(e.v);
}
inline ObjectId EntryObject(const proto::PgLogEntryProto& e) { return {e.nspace(), e.oid()}; }

// Names one client request across resends.
struct ReqId {
  std::string client;
  uint64_t inc = 0;
  uint64_t tid = 0;
  auto operator<=>(const ReqId&) const = default;
};

// What a member lacks: object -> the version it needs (zero: whatever the
// authoritative copy holds, possibly nothing).
using MissingSet = std::map<ObjectId, EVersion>;

// Keys of a PG's own state in its collection's kv space (store CollPut).
inline constexpr const char* kInfoKey = "info";
std::string LogKey(const EVersion& v);       // "log/" + 16 hex + 16 hex: sorts by version
inline constexpr const char* kLogPrefix = "log/";
std::string MissingKey(const ObjectId& o);   // "missing/" ns \0 name
inline constexpr const char* kMissingPrefix = "missing/";
bool ParseMissingKey(const std::string& key, ObjectId* o);

// Internal xattr holding an object's version (an encoded EVersion); user
// xattrs are stored with kUserXattrPrefix so the two never collide.
inline constexpr const char* kVersionXattr = "v";
inline constexpr const char* kUserXattrPrefix = "u.";
std::string EncodeVersion(const EVersion& v);
EVersion DecodeVersion(const std::string& s);

}  // namespace nacre::osd::pg
