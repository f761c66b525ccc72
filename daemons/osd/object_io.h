// The OSD's object I/O on its store, shared by the primary's client-op path,
// replicas and recovery:
//  - ExecuteRead: a client's read ops against committed state.
//  - BuildWrite: a client's write ops resolved into a store Transaction
//    (an append becomes a write at the size seen now, an exclusive create
//    fails with EEXIST...), so replicas can apply exactly the same thing.
//  - Encode/DecodeRepTxn: that transaction on the wire (RepOp).
//  - ReadWholeObject / BuildPushTxn: an object as recovery copies it.
//
// Requests come from the network: every size and count is checked against
// the store's limits before anything is allocated for it.
#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "daemons/osd/pg/pg_types.h"
#include "daemons/osd/store/object_store.h"
#include "osd.pb.h"

namespace nacre::osd {

using store::ObjectId;
using store::ObjectStore;
using store::Transaction;

bool IsWriteOp(proto::OsdOpCode op);
bool IsReadOp(proto::OsdOpCode op);

// Checks a request's shape: known op codes, not mixing reads and writes,
// per-op data lengths that add up to the payload, sizes within limits.
Status ValidateRequest(const proto::OsdOpRequest& req, size_t payload_size, const store::StoreLimits& limits);

// Runs read ops; fills one result per op and the reply payload. The status
// is the first failing op's.
Status ExecuteRead(const ObjectStore& st, const std::string& coll, const proto::OsdOpRequest& req,
                   proto::OsdOpReply* reply, Bytes* payload);

// Resolves write ops into `txn` (object ops only; the caller adds the PG
// log). `*removed` is set when the object ends up deleted.
Status BuildWrite(const ObjectStore& st, const std::string& coll, const proto::OsdOpRequest& req,
                  const Bytes& payload, Transaction* txn, bool* removed);

// The object ops of `txn` on the wire, and back (for collection `coll`).
void EncodeRepTxn(const Transaction& txn, proto::RepOp* rep, Bytes* payload);
Status DecodeRepTxn(const proto::RepOp& rep, const Bytes& payload, const std::string& coll, const ObjectId& oid,
                    const store::StoreLimits& limits, Transaction* txn);

// Everything recovery copies; `exists` false for an absent object.
struct WholeObject {
  bool exists = false;
  Bytes data;
  store::KvList xattrs;  // raw names, the version xattr included
  store::KvList omap;
  pg::EVersion version;
};
Result<WholeObject> ReadWholeObject(const ObjectStore& st, const std::string& coll, const ObjectId& oid);
void FillPush(const WholeObject& w, proto::PgPush* push, Bytes* payload);
// Replaces the object with a push's contents (or removes it).
Status BuildPushTxn(const proto::PgPush& push, const Bytes& payload, const std::string& coll, Transaction* txn);

// Removes an object whether or not it exists (touch, then remove: the store
// refuses to remove what is not there, and queued writes may create it).
void RemoveIfExists(Transaction* txn, const std::string& coll, const ObjectId& oid);

}  // namespace nacre::osd
