// librados: the object client every other Nacre client builds on.
//
// `Rados` is one client instance: an event-loop thread that owns the
// messenger, the monitor session (which follows the OSDMap) and the Objecter
// (which sends operations to PG primaries and resends them when the map or a
// connection changes). `IoCtx` names a pool (and a namespace) and offers
// every object operation synchronously and asynchronously. Compound
// operations (ObjectWriteOperation / ObjectReadOperation) apply several ops
// to one object atomically: that is what one MSG_OSD_OP carries anyway.
//
// Thread safety: every public call may be made from any thread, many at
// once. Completions run their callbacks on the loop thread, so a callback
// must not block (in particular, not wait on another completion).
//
// Retry semantics (doc/librados.md): an op is resent with the same tid, so
// the OSD's dedup makes a resend of a write harmless, when the OSD answers
// `retry`, when the connection to the primary resets, and when a new map
// moves the PG's primary. It completes only with the OSD's answer, or with
// ETIMEDOUT after `rados_osd_op_timeout` (0: never), or ESHUTDOWN when the
// Rados instance goes away.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/config.h"
#include "common/status.h"
#include "osd.pb.h"

namespace nacre::rados {

struct ObjectStat {
  uint64_t size = 0;
  uint64_t mtime_ns = 0;  // wall clock, nanoseconds since the epoch
};

// One object of a listing.
struct ObjectEntry {
  std::string nspace;
  std::string oid;
  bool operator==(const ObjectEntry&) const = default;
  bool operator<(const ObjectEntry& o) const { return nspace != o.nspace ? nspace < o.nspace : oid < o.oid; }
};

// The outcome of one asynchronous operation. Wait() blocks until it is done;
// the callback (if set before completion) runs once, on the loop thread.
class AioCompletion {
 public:
  using Callback = std::function<void(AioCompletion&)>;
  AioCompletion() = default;
  explicit AioCompletion(Callback cb) : cb_(std::move(cb)) {}

  void Wait();
  // Waits at most `seconds`; true if complete.
  bool WaitFor(double seconds);
  bool IsComplete() const;
  const Status& status() const;  // valid once complete
  // Ceph's convention: negative errno on failure, else bytes read for a
  // plain read and 0 for everything else.
  int64_t return_value() const;

  // Called by the library when the operation finishes.
  void Complete(Status s, int64_t value);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Status status_;
  int64_t value_ = 0;
  Callback cb_;
};
using AioCompletionRef = std::shared_ptr<AioCompletion>;
inline AioCompletionRef MakeCompletion(AioCompletion::Callback cb = {}) {
  return std::make_shared<AioCompletion>(std::move(cb));
}

// Several mutations of one object, applied atomically in order.
class ObjectWriteOperation {
 public:
  ObjectWriteOperation& Create(bool exclusive);
  ObjectWriteOperation& Write(uint64_t off, Bytes data);
  ObjectWriteOperation& WriteFull(Bytes data);
  ObjectWriteOperation& Append(Bytes data);
  ObjectWriteOperation& Truncate(uint64_t size);
  ObjectWriteOperation& Zero(uint64_t off, uint64_t len);
  ObjectWriteOperation& Remove();
  ObjectWriteOperation& SetXattr(const std::string& name, const std::string& value);
  ObjectWriteOperation& RmXattr(const std::string& name);
  ObjectWriteOperation& OmapSet(const std::map<std::string, std::string>& kvs);
  ObjectWriteOperation& OmapRmKeys(const std::set<std::string>& keys);
  // Removes keys in [start, end).
  ObjectWriteOperation& OmapRmRange(const std::string& start, const std::string& end);
  ObjectWriteOperation& OmapClear();

  size_t size() const { return ops_.size(); }
  const std::vector<proto::OsdSubOp>& ops() const { return ops_; }
  // The payload: every op's data in op order (shared, not copied, when only
  // one op carries data).
  Bytes Payload() const;

 private:
  ObjectWriteOperation& AddData(proto::OsdSubOp op, Bytes data);
  std::vector<proto::OsdSubOp> ops_;
  std::vector<Bytes> data_;
};

// Several reads of one object, answered together. The out pointers must
// stay valid until the operation completes; they are filled on success
// (and each op's `rval`, if given, also on failure).
class ObjectReadOperation {
 public:
  // len 0 reads to the end.
  ObjectReadOperation& Read(uint64_t off, uint64_t len, Bytes* out, int* rval = nullptr);
  ObjectReadOperation& Stat(ObjectStat* out, int* rval = nullptr);
  ObjectReadOperation& GetXattr(const std::string& name, std::string* out, int* rval = nullptr);
  ObjectReadOperation& GetXattrs(std::map<std::string, std::string>* out, int* rval = nullptr);
  ObjectReadOperation& OmapGetKeys(const std::string& start_after, uint64_t max, std::set<std::string>* out,
                                   bool* more = nullptr, int* rval = nullptr);
  ObjectReadOperation& OmapGetVals(const std::string& start_after, uint64_t max,
                                   std::map<std::string, std::string>* out, bool* more = nullptr,
                                   int* rval = nullptr);
  ObjectReadOperation& OmapGetValsByKeys(const std::set<std::string>& keys, std::map<std::string, std::string>* out,
                                         int* rval = nullptr);

  size_t size() const { return ops_.size(); }
  const std::vector<proto::OsdSubOp>& ops() const { return ops_; }

  // Where each op's result goes (used by the library).
  struct Outputs {
    Bytes* data = nullptr;
    ObjectStat* stat = nullptr;
    std::string* value = nullptr;
    std::map<std::string, std::string>* kvs = nullptr;
    std::set<std::string>* keys = nullptr;
    bool* more = nullptr;
    int* rval = nullptr;
  };
  const std::vector<Outputs>& outputs() const { return outs_; }

 private:
  ObjectReadOperation& Add(proto::OsdSubOp op, Outputs out);
  std::vector<proto::OsdSubOp> ops_;
  std::vector<Outputs> outs_;
};

class RadosImpl;
struct DecodedReply;

// Operations on the objects of one pool (and namespace). Cheap to copy; all
// copies share the Rados instance, which must outlive them.
class IoCtx {
 public:
  IoCtx() = default;

  int64_t pool_id() const { return pool_; }
  const std::string& pool_name() const { return pool_name_; }
  void SetNamespace(std::string ns) { nspace_ = std::move(ns); }
  const std::string& nspace() const { return nspace_; }

  // --- asynchronous: `c` completes with the outcome
  void AioOperate(const std::string& oid, const ObjectWriteOperation& op, AioCompletionRef c);
  void AioOperate(const std::string& oid, const ObjectReadOperation& op, AioCompletionRef c);
  void AioWrite(const std::string& oid, Bytes data, uint64_t off, AioCompletionRef c);
  void AioWriteFull(const std::string& oid, Bytes data, AioCompletionRef c);
  void AioAppend(const std::string& oid, Bytes data, AioCompletionRef c);
  // *out must stay valid until completion; return_value() is the length read.
  void AioRead(const std::string& oid, uint64_t off, uint64_t len, Bytes* out, AioCompletionRef c);
  void AioRemove(const std::string& oid, AioCompletionRef c);
  void AioStat(const std::string& oid, ObjectStat* out, AioCompletionRef c);

  // --- synchronous
  Status Operate(const std::string& oid, const ObjectWriteOperation& op);
  Status Operate(const std::string& oid, const ObjectReadOperation& op);
  Status Write(const std::string& oid, Bytes data, uint64_t off);
  Status WriteFull(const std::string& oid, Bytes data);
  Status Append(const std::string& oid, Bytes data);
  Status Truncate(const std::string& oid, uint64_t size);
  Status Zero(const std::string& oid, uint64_t off, uint64_t len);
  Status Remove(const std::string& oid);
  Status Create(const std::string& oid, bool exclusive);
  // len 0: to the end of the object.
  Result<Bytes> Read(const std::string& oid, uint64_t off = 0, uint64_t len = 0);
  Result<ObjectStat> Stat(const std::string& oid);
  Status SetXattr(const std::string& oid, const std::string& name, const std::string& value);
  Result<std::string> GetXattr(const std::string& oid, const std::string& name);
  Result<std::map<std::string, std::string>> GetXattrs(const std::string& oid);
  Status RmXattr(const std::string& oid, const std::string& name);
  Status OmapSet(const std::string& oid, const std::map<std::string, std::string>& kvs);
  // Keys after `start_after`, at most `max` (0: all, fetched in batches).
  Result<std::set<std::string>> OmapGetKeys(const std::string& oid, const std::string& start_after = "",
                                            uint64_t max = 0);
  Result<std::map<std::string, std::string>> OmapGetVals(const std::string& oid, const std::string& start_after = "",
                                                         uint64_t max = 0);
  Result<std::map<std::string, std::string>> OmapGetValsByKeys(const std::string& oid,
                                                               const std::set<std::string>& keys);
  Status OmapRmKeys(const std::string& oid, const std::set<std::string>& keys);
  Status OmapRmRange(const std::string& oid, const std::string& start, const std::string& end);
  Status OmapClear(const std::string& oid);

  // Every object of the pool in this IoCtx's namespace (all namespaces with
  // `all_namespaces`), PG by PG; order is by PG, then by name within a PG.
  Result<std::vector<ObjectEntry>> ListObjects(bool all_namespaces = false);

 private:
  friend class Rados;
  IoCtx(std::shared_ptr<RadosImpl> impl, int64_t pool, std::string name)
      : impl_(std::move(impl)), pool_(pool), pool_name_(std::move(name)) {}
  void Submit(const std::string& oid, std::vector<proto::OsdSubOp> ops, Bytes payload, bool write,
              std::function<void(Status, const DecodedReply*)> done);

  std::shared_ptr<RadosImpl> impl_;
  int64_t pool_ = -1;
  std::string pool_name_;
  std::string nspace_;
};

class Rados {
 public:
  Rados();
  ~Rados();  // completes what is in flight with ESHUTDOWN
  Rados(const Rados&) = delete;
  Rados& operator=(const Rados&) = delete;

  // Connects as config.entity() using `mon_host` and the key from
  // `keyring`, and waits (at most `timeout_secs`; <0: client_mount_timeout)
  // for the first OSDMap.
  Status Connect(const Config& config, double timeout_secs = -1);
  void Shutdown();

  // Waits until the client holds an OSDMap of at least `epoch` (0: any).
  Status WaitForMaps(uint64_t epoch = 0, double timeout_secs = 30);
  uint64_t osdmap_epoch() const;
  // ENOENT for a pool the current map does not have.
  Result<IoCtx> CreateIoCtx(const std::string& pool_name);
  Result<int64_t> PoolLookup(const std::string& pool_name) const;
  std::vector<std::string> PoolList() const;
  const std::string& entity() const;

 private:
  std::shared_ptr<RadosImpl> impl_;
};

}  // namespace nacre::rados
