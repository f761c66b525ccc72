// IoCtx: object operations on one pool. Every call is a compound op under
// the hood; the synchronous forms wait on a completion.
#include "librados/rados_impl.h"

namespace nacre::rados {

namespace {

// Objects listed per PGLS round trip.
constexpr uint64_t kListBatch = 1024;
// Omap entries per round trip when a caller asks for all of them.
constexpr uint64_t kOmapBatch = 1024;

// Fills the caller's outputs from the OSD's per-op results.
void FillReadOutputs(const ObjectReadOperation& op, const Status& s, const DecodedReply* reply) {
  const auto& outs = op.outputs();
  for (size_t i = 0; i < outs.size(); ++i) {
    const auto& o = outs[i];
    bool have = reply && i < static_cast<size_t>(reply->header.results().size());
    if (o.rval) *o.rval = have ? reply->header.results(static_cast<int>(i)).code() : -s.err();
    if (!s.ok() || !have) continue;
    const auto& res = reply->header.results(static_cast<int>(i));
    const Bytes& data = reply->data[i];
    if (o.data) *o.data = data;
    if (o.stat) {
      o.stat->size = res.size();
      o.stat->mtime_ns = res.mtime_ns();
    }
    // A value may come in the header or, if large, in the payload.
    if (o.value) *o.value = data.empty() ? res.value() : data.ToString();
    if (o.kvs) {
      o.kvs->clear();
      for (const auto& kv : res.kvs()) (*o.kvs)[kv.key()] = kv.value();
    }
    if (o.keys) {
      o.keys->clear();
      for (const auto& kv : res.kvs()) o.keys->insert(kv.key());
    }
    if (o.more) *o.more = res.more();
  }
}

Status Await(const AioCompletionRef& c) {
  c->Wait();
  return c->status();
}

}  // namespace

void IoCtx::Submit(const std::string& oid, std::vector<proto::OsdSubOp> ops, Bytes payload, bool /*write*/,
                   std::function<void(Status, const DecodedReply*)> done) {
  if (!impl_) return done(Invalid("IoCtx is not open"), nullptr);
  Objecter::Request r;
  r.pool = pool_;
  r.nspace = nspace_;
  r.oid = oid;
  r.ops = std::move(ops);
  r.payload = std::move(payload);
  r.done = std::move(done);
  impl_->Submit(std::move(r));
}

void IoCtx::AioOperate(const std::string& oid, const ObjectWriteOperation& op, AioCompletionRef c) {
  if (op.size() == 0) return c->Complete(Invalid("empty write operation"), 0);
  if (oid.empty()) return c->Complete(Invalid("empty object name"), 0);
  Submit(oid, op.ops(), op.Payload(), true, [c](Status s, const DecodedReply*) { c->Complete(std::move(s), 0); });
}

void IoCtx::AioOperate(const std::string& oid, const ObjectReadOperation& op, AioCompletionRef c) {
  if (op.size() == 0) return c->Complete(Invalid("empty read operation"), 0);
  if (oid.empty()) return c->Complete(Invalid("empty object name"), 0);
  // The outputs are copied (pointers only): the caller's op object may go
  // away before completion, its out buffers may not.
  auto keep = std::make_shared<ObjectReadOperation>(op);
  Submit(oid, op.ops(), {}, false, [c, keep](Status s, const DecodedReply* reply) {
    FillReadOutputs(*keep, s, reply);
    int64_t value = 0;
    // Like Ceph: a lone read reports the bytes it got.
    if (s.ok() && keep->size() == 1 && keep->ops()[0].op() == proto::OSD_OP_READ && reply && !reply->data.empty())
      value = static_cast<int64_t>(reply->data[0].size());
    c->Complete(std::move(s), value);
  });
}

void IoCtx::AioWrite(const std::string& oid, Bytes data, uint64_t off, AioCompletionRef c) {
  ObjectWriteOperation op;
  op.Write(off, std::move(data));
  AioOperate(oid, op, std::move(c));
}

void IoCtx::AioWriteFull(const std::string& oid, Bytes data, AioCompletionRef c) {
  ObjectWriteOperation op;
  op.WriteFull(std::move(data));
  AioOperate(oid, op, std::move(c));
}

void IoCtx::AioAppend(const std::string& oid, Bytes data, AioCompletionRef c) {
  ObjectWriteOperation op;
  op.Append(std::move(data));
  AioOperate(oid, op, std::move(c));
}

void IoCtx::AioRead(const std::string& oid, uint64_t off, uint64_t len, Bytes* out, AioCompletionRef c) {
  ObjectReadOperation op;
  op.Read(off, len, out);
  AioOperate(oid, op, std::move(c));
}

void IoCtx::AioRemove(const std::string& oid, AioCompletionRef c) {
  ObjectWriteOperation op;
  op.Remove();
  AioOperate(oid, op, std::move(c));
}

void IoCtx::AioStat(const std::string& oid, ObjectStat* out, AioCompletionRef c) {
  ObjectReadOperation op;
  op.Stat(out);
  AioOperate(oid, op, std::move(c));
}

Status IoCtx::Operate(const std::string& oid, const ObjectWriteOperation& op) {
  auto c = MakeCompletion();
  AioOperate(oid, op, c);
  return Await(c);
}

Status IoCtx::Operate(const std::string& oid, const ObjectReadOperation& op) {
  auto c = MakeCompletion();
  AioOperate(oid, op, c);
  return Await(c);
}

Status IoCtx::Write(const std::string& oid, Bytes data, uint64_t off) {
  return Operate(oid, ObjectWriteOperation().Write(off, std::move(data)));
}
Status IoCtx::WriteFull(const std::string& oid, Bytes data) {
  return Operate(oid, ObjectWriteOperation().WriteFull(std::move(data)));
}
Status IoCtx::Append(const std::string& oid, Bytes data) {
  return Operate(oid, ObjectWriteOperation().Append(std::move(data)));
}
Status IoCtx::Truncate(const std::string& oid, uint64_t size) {
  return Operate(oid, ObjectWriteOperation().Truncate(size));
}
Status IoCtx::Zero(const std::string& oid, uint64_t off, uint64_t len) {
  return Operate(oid, ObjectWriteOperation().Zero(off, len));
}
Status IoCtx::Remove(const std::string& oid) { return Operate(oid, ObjectWriteOperation().Remove()); }
Status IoCtx::Create(const std::string& oid, bool exclusive) {
  return Operate(oid, ObjectWriteOperation().Create(exclusive));
}
Status IoCtx::SetXattr(const std::string& oid, const std::string& name, const std::string& value) {
  return Operate(oid, ObjectWriteOperation().SetXattr(name, value));
}
Status IoCtx::RmXattr(const std::string& oid, const std::string& name) {
  return Operate(oid, ObjectWriteOperation().RmXattr(name));
}
Status IoCtx::OmapSet(const std::string& oid, const std::map<std::string, std::string>& kvs) {
  return Operate(oid, ObjectWriteOperation().OmapSet(kvs));
}
Status IoCtx::OmapRmKeys(const std::string& oid, const std::set<std::string>& keys) {
  return Operate(oid, ObjectWriteOperation().OmapRmKeys(keys));
}
Status IoCtx::OmapRmRange(const std::string& oid, const std::string& start, const std::string& end) {
  return Operate(oid, ObjectWriteOperation().OmapRmRange(start, end));
}
Status IoCtx::OmapClear(const std::string& oid) { return Operate(oid, ObjectWriteOperation().OmapClear()); }

Result<Bytes> IoCtx::Read(const std::string& oid, uint64_t off, uint64_t len) {
  Bytes out;
  NACRE_RETURN_IF_ERROR(Operate(oid, ObjectReadOperation().Read(off, len, &out)));
  return out;
}

Result<ObjectStat> IoCtx::Stat(const std::string& oid) {
  ObjectStat st;
  NACRE_RETURN_IF_ERROR(Operate(oid, ObjectReadOperation().Stat(&st)));
  return st;
}

Result<std::string> IoCtx::GetXattr(const std::string& oid, const std::string& name) {
  std::string v;
  NACRE_RETURN_IF_ERROR(Operate(oid, ObjectReadOperation().GetXattr(name, &v)));
  return v;
}

Result<std::map<std::string, std::string>> IoCtx::GetXattrs(const std::string& oid) {
  std::map<std::string, std::string> v;
  NACRE_RETURN_IF_ERROR(Operate(oid, ObjectReadOperation().GetXattrs(&v)));
  return v;
}

Result<std::set<std::string>> IoCtx::OmapGetKeys(const std::string& oid, const std::string& start_after,
                                                 uint64_t max) {
  std::set<std::string> all;
  std::string after = start_after;
  while (true) {
    uint64_t want = max == 0 ? kOmapBatch : std::min(kOmapBatch, max - all.size());
    std::set<std::string> batch;
    bool more = false;
    NACRE_RETURN_IF_ERROR(Operate(oid, ObjectReadOperation().OmapGetKeys(after, want, &batch, &more)));
    if (batch.empty()) break;
    after = *batch.rbegin();
    all.insert(batch.begin(), batch.end());
    if (!more || (max != 0 && all.size() >= max)) break;
  }
  return all;
}

Result<std::map<std::string, std::string>> IoCtx::OmapGetVals(const std::string& oid, const std::string& start_after,
                                                              uint64_t max) {
  std::map<std::string, std::string> all;
  std::string after = start_after;
  while (true) {
    uint64_t want = max == 0 ? kOmapBatch : std::min(kOmapBatch, max - all.size());
    std::map<std::string, std::string> batch;
    bool more = false;
    NACRE_RETURN_IF_ERROR(Operate(oid, ObjectReadOperation().OmapGetVals(after, want, &batch, &more)));
    if (batch.empty()) break;
    after = batch.rbegin()->first;
    all.insert(batch.begin(), batch.end());
    if (!more || (max != 0 && all.size() >= max)) break;
  }
  return all;
}

Result<std::map<std::string, std::string>> IoCtx::OmapGetValsByKeys(const std::string& oid,
                                                                    const std::set<std::string>& keys) {
  std::map<std::string, std::string> v;
  NACRE_RETURN_IF_ERROR(Operate(oid, ObjectReadOperation().OmapGetValsByKeys(keys, &v)));
  return v;
}

Result<std::vector<ObjectEntry>> IoCtx::ListObjects(bool all_namespaces) {
  if (!impl_) return Invalid("IoCtx is not open");
  auto m = impl_->map();
  auto pit = m->pools().find(pool_);
  if (pit == m->pools().end()) return NotFound("pool '" + pool_name_ + "' does not exist");
  const uint32_t pg_num = pit->second.pg_num();
  std::vector<ObjectEntry> out;
  for (uint32_t seed = 0; seed < pg_num; ++seed) {
    std::string cursor;
    while (true) {
      proto::OsdSubOp op;
      op.set_op(proto::OSD_OP_PGLS);
      op.set_name(cursor);
      op.set_max(kListBatch);
      auto c = MakeCompletion();
      std::vector<ObjectEntry> batch;
      bool more = false;
      Objecter::Request r;
      r.pool = pool_;
      r.nspace = nspace_;
      r.pg_seed = seed;
      r.ops.push_back(op);
      r.done = [c, &batch, &more](Status s, const DecodedReply* reply) {
        if (s.ok() && reply && !reply->header.results().empty()) {
          const auto& res = reply->header.results(0);
          for (const auto& kv : res.kvs()) batch.push_back({kv.key(), kv.value()});
          more = res.more();
        }
        c->Complete(std::move(s), 0);
      };
      impl_->Submit(std::move(r));
      NACRE_RETURN_IF_ERROR(Await(c).Annotate("listing PG " + std::to_string(pool_) + "." + std::to_string(seed)));
      for (auto& e : batch)
        if (all_namespaces || e.nspace == nspace_) out.push_back(e);
      if (!more || batch.empty()) break;
      cursor = batch.back().nspace + std::string(1, '\0') + batch.back().oid;
    }
  }
  return out;
}

}  // namespace nacre::rados
