#include "daemons/osd/object_io.h"

#include <cstring>

namespace nacre::osd {

namespace {

constexpr size_t kMaxOpsPerRequest = 64;
constexpr uint64_t kMaxListing = 1000;  // PGLS / omap entries per op

std::string UserXattr(const std::string& name) { return pg::kUserXattrPrefix + name; }

void SetResult(proto::OsdSubOpResult* r, const Status& s) { r->set_code(static_cast<int>(s.code())); }

// One buffer for several reads' bytes; a single read is passed through as is.
Bytes Concat(std::vector<Bytes>& parts) {
  if (parts.empty()) return {};
  if (parts.size() == 1) return std::move(parts[0]);
  size_t n = 0;
  for (const auto& p : parts) n += p.size();
  char* w = nullptr;
  Bytes out = Bytes::Uninitialized(n, &w);
  for (const auto& p : parts) {
    if (p.size()) memcpy(w, p.data(), p.size());
    w += p.size();
  }
  return out;
}

}  // namespace

bool IsWriteOp(proto::OsdOpCode op) { return op >= proto::OSD_OP_WRITE && op <= proto::OSD_OP_OMAP_CLEAR; }
bool IsReadOp(proto::OsdOpCode op) { return op >= proto::OSD_OP_READ && op <= proto::OSD_OP_PGLS; }

Status ValidateRequest(const proto::OsdOpRequest& req, size_t payload_size, const store::StoreLimits& limits) {
  if (req.ops_size() == 0) return Invalid("request without ops");
  if (req.ops_size() > static_cast<int>(kMaxOpsPerRequest)) return TooBig("too many ops in one request");
  if (req.oid().size() > limits.max_name_size || req.nspace().size() > limits.max_name_size)
    return TooBig("object name too long");
  if (req.nspace().find('\0') != std::string::npos) return Invalid("namespace holds a NUL byte");
  bool reads = false, writes = false;
  uint64_t data = 0;
  for (const auto& op : req.ops()) {
    if (IsReadOp(op.op())) reads = true;
    else if (IsWriteOp(op.op())) writes = true;
    else return Invalid("unknown op " + std::to_string(op.op()));
    if (op.op() == proto::OSD_OP_PGLS) {
      if (req.ops_size() != 1) return Invalid("pgls must be alone");
    } else if (req.oid().empty()) {
      return Invalid("op without an object name");
    }
    if (op.data_len() > limits.max_object_size) return TooBig("write larger than the object size limit");
    if (op.off() > limits.max_object_size || op.len() > limits.max_object_size)
      return TooBig("offset beyond the object size limit");
    data += op.data_len();
  }
  if (reads && writes) return Invalid("a request may not mix reads and writes");
  if (data != payload_size) return Invalid("op data lengths do not add up to the payload");
  return Status::OK();
}

Status ExecuteRead(const ObjectStore& st, const std::string& coll, const proto::OsdOpRequest& req,
                   proto::OsdOpReply* reply, Bytes* payload) {
  ObjectId oid{req.nspace(), req.oid()};
  std::vector<Bytes> parts;
  Status first = Status::OK();
  for (const auto& op : req.ops()) {
    auto* r = reply->add_results();
    Status s = Status::OK();
    switch (op.op()) {
      case proto::OSD_OP_READ: {
        auto d = st.Read(coll, oid, op.off(), op.len());
        if ((s = d.status()).ok()) {
          r->set_data_len(d->size());
          parts.push_back(std::move(*d));
        }
        break;
      }
      case proto::OSD_OP_STAT: {
        auto m = st.Stat(coll, oid);
        if ((s = m.status()).ok()) {
          r->set_size(m->size);
          r->set_mtime_ns(m->mtime_ns);
        }
        break;
      }
      case proto::OSD_OP_GETXATTR: {
        if ((s = st.Stat(coll, oid).status()).ok()) {
          auto v = st.GetXattr(coll, oid, UserXattr(op.name()));
          if ((s = v.status()).ok()) r->set_value(*v);
          else if (s.code() == Code::kNotFound) s = Status(Code::kNoData, "no such attribute");
        }
        break;
      }
      case proto::OSD_OP_GETXATTRS: {
        auto v = st.GetXattrs(coll, oid);
        if ((s = v.status()).ok())
          for (const auto& [k, val] : *v) {
            if (k.rfind(pg::kUserXattrPrefix, 0) != 0) continue;
            auto* kv = r->add_kvs();
            kv->set_key(k.substr(strlen(pg::kUserXattrPrefix)));
            kv->set_value(val);
          }
        break;
      }
      case proto::OSD_OP_OMAP_GET_KEYS:
      case proto::OSD_OP_OMAP_GET_VALS: {
        uint64_t max = op.max() == 0 || op.max() > kMaxListing ? kMaxListing : op.max();
        // Strictly after `name`: the smallest key above it is name + NUL.
        std::string first = op.name().empty() ? "" : op.name() + std::string(1, '\0');
        if ((s = st.Stat(coll, oid).status()).ok()) {
          auto v = st.OmapGetRange(coll, oid, first, "", max + 1);
          if ((s = v.status()).ok()) {
            for (size_t i = 0; i < v->size() && i < max; ++i) {
              auto* kv = r->add_kvs();
              kv->set_key((*v)[i].first);
              if (op.op() == proto::OSD_OP_OMAP_GET_VALS) kv->set_value((*v)[i].second);
            }
            r->set_more(v->size() > max);
          }
        }
        break;
      }
      case proto::OSD_OP_OMAP_GET_VALS_BY_KEYS: {
        std::vector<std::string> keys(op.keys().begin(), op.keys().end());
        auto v = st.OmapGetKeys(coll, oid, keys);
        if ((s = v.status()).ok())
          for (const auto& [k, val] : *v) {
            auto* kv = r->add_kvs();
            kv->set_key(k);
            kv->set_value(val);
          }
        break;
      }
      case proto::OSD_OP_PGLS: {
        uint64_t max = op.max() == 0 || op.max() > kMaxListing ? kMaxListing : op.max();
        std::optional<ObjectId> after;
        if (!op.name().empty()) {
          size_t z = op.name().find('\0');
          if (z == std::string::npos) after = ObjectId{"", op.name()};
          else after = ObjectId{op.name().substr(0, z), op.name().substr(z + 1)};
        }
        auto l = st.ListObjects(coll, after, max);
        if (l.status().code() == Code::kNotFound) {
          r->set_more(false);  // a PG with nothing stored yet
          break;
        }
        if ((s = l.status()).ok()) {
          for (const auto& o : l->objects) {
            auto* kv = r->add_kvs();
            kv->set_key(o.ns);
            kv->set_value(o.name);
          }
          r->set_more(l->more);
        }
        break;
      }
      default:
        s = Invalid("not a read op");
    }
    SetResult(r, s);
    if (!s.ok() && first.ok()) first = s;
    if (!s.ok()) break;  // later ops are not run, as in Ceph
  }
  *payload = Concat(parts);
  return first;
}

Status BuildWrite(const ObjectStore& st, const std::string& coll, const proto::OsdOpRequest& req,
                  const Bytes& payload, Transaction* txn, bool* removed) {
  ObjectId oid{req.nspace(), req.oid()};
  auto stat = st.Stat(coll, oid);
  if (!stat.ok() && stat.status().code() != Code::kNotFound) return stat.status();
  // The object as these ops leave it, so later ops in the same request see
  // the effects of earlier ones (an append after a truncate...).
  bool exists = stat.ok();
  uint64_t size = stat.ok() ? stat->size : 0;
  size_t pos = 0;
  *removed = false;
  for (const auto& op : req.ops()) {
    Bytes data = payload.Slice(pos, op.data_len());
    pos += op.data_len();
    switch (op.op()) {
      case proto::OSD_OP_WRITE:
        txn->Write(coll, oid, op.off(), data);
        if (data.size()) size = std::max<uint64_t>(size, op.off() + data.size());
        exists = true;
        break;
      case proto::OSD_OP_WRITE_FULL:
        txn->WriteFull(coll, oid, data);
        size = data.size();
        exists = true;
        break;
      case proto::OSD_OP_APPEND:
        txn->Write(coll, oid, size, data);
        size += data.size();
        exists = true;
        break;
      case proto::OSD_OP_TRUNCATE:
        txn->Truncate(coll, oid, op.off());
        size = op.off();
        exists = true;
        break;
      case proto::OSD_OP_ZERO:
        txn->Zero(coll, oid, op.off(), op.len());
        exists = true;
        break;
      case proto::OSD_OP_REMOVE:
        if (!exists) return NotFound("no such object");
        txn->Remove(coll, oid);
        exists = false;
        size = 0;
        break;
      case proto::OSD_OP_CREATE:
        if (exists && op.exclusive()) return Exists("object exists");
        txn->Touch(coll, oid);
        exists = true;
        break;
      case proto::OSD_OP_SETXATTR:
        txn->SetXattr(coll, oid, UserXattr(op.name()), op.value());
        exists = true;
        break;
      case proto::OSD_OP_RMXATTR:
        if (!exists) return NotFound("no such object");
        txn->RmXattr(coll, oid, UserXattr(op.name()));
        break;
      case proto::OSD_OP_OMAP_SET: {
        std::vector<std::pair<std::string, std::string>> kvs;
        kvs.reserve(op.kvs_size());
        for (const auto& kv : op.kvs()) kvs.emplace_back(kv.key(), kv.value());
        txn->OmapSet(coll, oid, std::move(kvs));
        exists = true;
        break;
      }
      case proto::OSD_OP_OMAP_RM_KEYS:
        if (!exists) return NotFound("no such object");
        txn->OmapRm(coll, oid, std::vector<std::string>(op.keys().begin(), op.keys().end()));
        break;
      case proto::OSD_OP_OMAP_RM_RANGE:
        if (!exists) return NotFound("no such object");
        txn->OmapRmRange(coll, oid, op.name(), op.name2());
        break;
      case proto::OSD_OP_OMAP_CLEAR:
        if (!exists) return NotFound("no such object");
        txn->OmapClear(coll, oid);
        break;
      default:
        return Invalid("not a write op");
    }
  }
  *removed = !exists;
  return Status::OK();
}

void EncodeRepTxn(const Transaction& txn, proto::RepOp* rep, Bytes* payload) {
  std::vector<Bytes> parts;
  for (const auto& op : txn.ops()) {
    auto* r = rep->add_ops();
    r->set_type(static_cast<uint32_t>(op.type));
    r->set_off(op.off);
    r->set_len(op.len);
    r->set_key(op.key);
    r->set_key2(op.key2);
    r->set_value(op.value);
    for (const auto& [k, v] : op.kvs) {
      auto* kv = r->add_kvs();
      kv->set_key(k);
      kv->set_value(v);
    }
    for (const auto& k : op.keys) r->add_keys(k);
    if (op.type == store::OpType::kWrite || op.type == store::OpType::kWriteFull) {
      r->set_data_len(op.data.size());
      parts.push_back(op.data);
    }
  }
  *payload = Concat(parts);
}

Status DecodeRepTxn(const proto::RepOp& rep, const Bytes& payload, const std::string& coll, const ObjectId& oid,
                    const store::StoreLimits& limits, Transaction* txn) {
  if (rep.ops_size() > static_cast<int>(limits.max_txn_ops)) return TooBig("replicated transaction too long");
  uint64_t total = 0;
  for (const auto& r : rep.ops()) total += r.data_len();
  if (total != payload.size()) return Invalid("replicated op data lengths do not add up to the payload");
  size_t pos = 0;
  for (const auto& r : rep.ops()) {
    Bytes data = payload.Slice(pos, r.data_len());
    pos += r.data_len();
    switch (static_cast<store::OpType>(r.type())) {
      case store::OpType::kTouch: txn->Touch(coll, oid); break;
      case store::OpType::kWrite: txn->Write(coll, oid, r.off(), data); break;
      case store::OpType::kWriteFull: txn->WriteFull(coll, oid, data); break;
      case store::OpType::kTruncate: txn->Truncate(coll, oid, r.off()); break;
      case store::OpType::kZero: txn->Zero(coll, oid, r.off(), r.len()); break;
      case store::OpType::kRemove: txn->Remove(coll, oid); break;
      case store::OpType::kSetXattr: txn->SetXattr(coll, oid, r.key(), r.value()); break;
      case store::OpType::kRmXattr: txn->RmXattr(coll, oid, r.key()); break;
      case store::OpType::kOmapSet: {
        std::vector<std::pair<std::string, std::string>> kvs;
        for (const auto& kv : r.kvs()) kvs.emplace_back(kv.key(), kv.value());
        txn->OmapSet(coll, oid, std::move(kvs));
        break;
      }
      case store::OpType::kOmapRm: txn->OmapRm(coll, oid, {r.keys().begin(), r.keys().end()}); break;
      case store::OpType::kOmapRmRange: txn->OmapRmRange(coll, oid, r.key(), r.key2()); break;
      case store::OpType::kOmapClear: txn->OmapClear(coll, oid); break;
      default: return Invalid("op type " + std::to_string(r.type()) + " may not be replicated");
    }
  }
  return txn->Validate(limits);
}

Result<WholeObject> ReadWholeObject(const ObjectStore& st, const std::string& coll, const ObjectId& oid) {
  WholeObject w;
  auto stat = st.Stat(coll, oid);
  if (!stat.ok()) {
    if (stat.status().code() == Code::kNotFound) return w;
    return stat.status();
  }
  w.exists = true;
  NACRE_ASSIGN_OR_RETURN(w.data, st.Read(coll, oid, 0, 0));
  NACRE_ASSIGN_OR_RETURN(w.xattrs, st.GetXattrs(coll, oid));
  NACRE_ASSIGN_OR_RETURN(w.omap, st.OmapGetAll(coll, oid));
  for (const auto& [k, v] : w.xattrs)
    if (k == pg::kVersionXattr) w.version = pg::DecodeVersion(v);
  return w;
}

void FillPush(const WholeObject& w, proto::PgPush* push, Bytes* payload) {
  pg::ToProto(w.version, push->mutable_version());
  push->set_removed(!w.exists);
  proto::PgObjectMeta meta;
  for (const auto& [k, v] : w.xattrs) {
    auto* kv = meta.add_xattrs();
    kv->set_key(k);
    kv->set_value(v);
  }
  for (const auto& [k, v] : w.omap) {
    auto* kv = meta.add_omap();
    kv->set_key(k);
    kv->set_value(v);
  }
  std::vector<Bytes> parts{Bytes(meta.SerializeAsString()), w.data};
  push->set_meta_len(parts[0].size());
  push->set_data_len(w.data.size());
  *payload = Concat(parts);
}

Status BuildPushTxn(const proto::PgPush& push, const Bytes& payload, const std::string& coll, Transaction* txn) {
  if (payload.size() != push.meta_len() + push.data_len() || push.meta_len() > payload.size())
    return Invalid("push lengths do not add up to the payload");
  proto::PgObjectMeta meta;
  if (!meta.ParseFromArray(payload.data(), static_cast<int>(push.meta_len())))
    return Invalid("undecodable object metadata in a push");
  ObjectId oid{push.nspace(), push.oid()};
  RemoveIfExists(txn, coll, oid);
  if (push.removed()) return Status::OK();
  txn->WriteFull(coll, oid, payload.Slice(push.meta_len(), push.data_len()));
  for (const auto& kv : meta.xattrs()) txn->SetXattr(coll, oid, kv.key(), kv.value());
  if (meta.omap_size()) {
    std::vector<std::pair<std::string, std::string>> kvs;
    for (const auto& kv : meta.omap()) kvs.emplace_back(kv.key(), kv.value());
    txn->OmapSet(coll, oid, std::move(kvs));
  }
  return Status::OK();
}

void RemoveIfExists(Transaction* txn, const std::string& coll, const ObjectId& oid) {
  txn->Touch(coll, oid);
  txn->Remove(coll, oid);
}

}  // namespace nacre::osd
