// The compound operation builders and AioCompletion: plain data, no I/O.
#include <chrono>

#include "librados/rados.h"

namespace nacre::rados {

// --- AioCompletion -------------------------------------------------------------

void AioCompletion::Wait() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return done_; });
}

bool AioCompletion::WaitFor(double seconds) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, std::chrono::duration<double>(seconds), [&] { return done_; });
}

bool AioCompletion::IsComplete() const {
  std::lock_guard<std::mutex> l(mu_);
  return done_;
}

const Status& AioCompletion::status() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

int64_t AioCompletion::return_value() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_.ok() ? value_ : -static_cast<int64_t>(status_.err());
}

void AioCompletion::Complete(Status s, int64_t value) {
  Callback cb;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (done_) return;  // completed once only (a late reply after a timeout)
    status_ = std::move(s);
    value_ = value;
    done_ = true;
    cb = std::move(cb_);
  }
  cv_.notify_all();
  // Outside the lock: the callback may read status() or drop the last ref.
  if (cb) cb(*this);
}

// --- ObjectWriteOperation ----------------------------------------------------------

namespace {

proto::OsdSubOp Op(proto::OsdOpCode code) {
  proto::OsdSubOp op;
  op.set_op(code);
  return op;
}

}  // namespace

ObjectWriteOperation& ObjectWriteOperation::AddData(proto::OsdSubOp op, Bytes data) {
  op.set_data_len(data.size());
  ops_.push_back(std::move(op));
  data_.push_back(std::move(data));
  return *this;
}

ObjectWriteOperation& ObjectWriteOperation::Create(bool exclusive) {
  auto op = Op(proto::OSD_OP_CREATE);
  op.set_exclusive(exclusive);
  return AddData(std::move(op), {});
}

ObjectWriteOperation& ObjectWriteOperation::Write(uint64_t off, Bytes data) {
  auto op = Op(proto::OSD_OP_WRITE);
  op.set_off(off);
  op.set_len(data.size());
  return AddData(std::move(op), std::move(data));
}

ObjectWriteOperation& ObjectWriteOperation::WriteFull(Bytes data) {
  auto op = Op(proto::OSD_OP_WRITE_FULL);
  op.set_len(data.size());
  return AddData(std::move(op), std::move(data));
}

ObjectWriteOperation& ObjectWriteOperation::Append(Bytes data) {
  auto op = Op(proto::OSD_OP_APPEND);
  op.set_len(data.size());
  return AddData(std::move(op), std::move(data));
}

ObjectWriteOperation& ObjectWriteOperation::Truncate(uint64_t size) {
  auto op = Op(proto::OSD_OP_TRUNCATE);
  op.set_off(size);
  return AddData(std::move(op), {});
}

ObjectWriteOperation& ObjectWriteOperation::Zero(uint64_t off, uint64_t len) {
  auto op = Op(proto::OSD_OP_ZERO);
  op.set_off(off);
  op.set_len(len);
  return AddData(std::move(op), {});
}

ObjectWriteOperation& ObjectWriteOperation::Remove() { return AddData(Op(proto::OSD_OP_REMOVE), {}); }

ObjectWriteOperation& ObjectWriteOperation::SetXattr(const std::string& name, const std::string& value) {
  auto op = Op(proto::OSD_OP_SETXATTR);
  op.set_name(name);
  op.set_value(value);
  return AddData(std::move(op), {});
}

ObjectWriteOperation& ObjectWriteOperation::RmXattr(const std::string& name) {
  auto op = Op(proto::OSD_OP_RMXATTR);
  op.set_name(name);
  return AddData(std::move(op), {});
}

ObjectWriteOperation& ObjectWriteOperation::OmapSet(const std::map<std::string, std::string>& kvs) {
  auto op = Op(proto::OSD_OP_OMAP_SET);
  for (const auto& [k, v] : kvs) {
    auto* kv = op.add_kvs();
    kv->set_key(k);
    kv->set_value(v);
  }
  return AddData(std::move(op), {});
}

ObjectWriteOperation& ObjectWriteOperation::OmapRmKeys(const std::set<std::string>& keys) {
  auto op = Op(proto::OSD_OP_OMAP_RM_KEYS);
  for (const auto& k : keys) op.add_keys(k);
  return AddData(std::move(op), {});
}

ObjectWriteOperation& ObjectWriteOperation::OmapRmRange(const std::string& start, const std::string& end) {
  auto op = Op(proto::OSD_OP_OMAP_RM_RANGE);
  op.set_name(start);
  op.set_name2(end);
  return AddData(std::move(op), {});
}

ObjectWriteOperation& ObjectWriteOperation::OmapClear() { return AddData(Op(proto::OSD_OP_OMAP_CLEAR), {}); }

Bytes ObjectWriteOperation::Payload() const {
  size_t total = 0, carriers = 0;
  const Bytes* only = nullptr;
  for (const auto& d : data_) {
    if (d.empty()) continue;
    total += d.size();
    ++carriers;
    only = &d;
  }
  if (carriers == 0) return {};
  if (carriers == 1) return *only;  // shared, no copy
  std::string all;
  all.reserve(total);
  for (const auto& d : data_) all.append(d.view());
  return Bytes(std::move(all));
}

// --- ObjectReadOperation -------------------------------------------------------------

ObjectReadOperation& ObjectReadOperation::Add(proto::OsdSubOp op, Outputs out) {
  ops_.push_back(std::move(op));
  outs_.push_back(out);
  return *this;
}

ObjectReadOperation& ObjectReadOperation::Read(uint64_t off, uint64_t len, Bytes* out, int* rval) {
  auto op = Op(proto::OSD_OP_READ);
  op.set_off(off);
  op.set_len(len);
  Outputs o;
  o.data = out;
  o.rval = rval;
  return Add(std::move(op), o);
}

ObjectReadOperation& ObjectReadOperation::Stat(ObjectStat* out, int* rval) {
  Outputs o;
  o.stat = out;
  o.rval = rval;
  return Add(Op(proto::OSD_OP_STAT), o);
}

ObjectReadOperation& ObjectReadOperation::GetXattr(const std::string& name, std::string* out, int* rval) {
  auto op = Op(proto::OSD_OP_GETXATTR);
  op.set_name(name);
  Outputs o;
  o.value = out;
  o.rval = rval;
  return Add(std::move(op), o);
}

ObjectReadOperation& ObjectReadOperation::GetXattrs(std::map<std::string, std::string>* out, int* rval) {
  Outputs o;
  o.kvs = out;
  o.rval = rval;
  return Add(Op(proto::OSD_OP_GETXATTRS), o);
}

ObjectReadOperation& ObjectReadOperation::OmapGetKeys(const std::string& start_after, uint64_t max,
                                                      std::set<std::string>* out, bool* more, int* rval) {
  auto op = Op(proto::OSD_OP_OMAP_GET_KEYS);
  op.set_name(start_after);
  op.set_max(max);
  Outputs o;
  o.keys = out;
  o.more = more;
  o.rval = rval;
  return Add(std::move(op), o);
}

ObjectReadOperation& ObjectReadOperation::OmapGetVals(const std::string& start_after, uint64_t max,
                                                      std::map<std::string, std::string>* out, bool* more,
                                                      int* rval) {
  auto op = Op(proto::OSD_OP_OMAP_GET_VALS);
  op.set_name(start_after);
  op.set_max(max);
  Outputs o;
  o.kvs = out;
  o.more = more;
  o.rval = rval;
  return Add(std::move(op), o);
}

ObjectReadOperation& ObjectReadOperation::OmapGetValsByKeys(const std::set<std::string>& keys,
                                                            std::map<std::string, std::string>* out, int* rval) {
  auto op = Op(proto::OSD_OP_OMAP_GET_VALS_BY_KEYS);
  for (const auto& k : keys) op.add_keys(k);
  Outputs o;
  o.kvs = out;
  o.rval = rval;
  return Add(std::move(op), o);
}

}  // namespace nacre::rados
