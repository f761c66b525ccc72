// FileIo: file data through librados (see file_io.h).
#include "libfs/file_io.h"

#include <cstring>
#include <vector>

#include "common/log.h"
#include "libfs/striping.h"

namespace nacre::fs {

namespace {

// Waits for every completion; the first failure that is not "no such
// object" (when `enoent_ok`) is the result.
Status WaitAll(const std::vector<rados::AioCompletionRef>& cs, bool enoent_ok) {
  Status first;
  for (const auto& c : cs) {
    c->Wait();
    const Status& s = c->status();
    if (s.ok() || (enoent_ok && s.code() == Code::kNotFound)) continue;
    if (first.ok()) first = s;
  }
  return first;
}

}  // namespace

Result<rados::IoCtx> FileIo::IoCtxFor(const proto::FileLayoutProto& layout) {
  int64_t pool = layout.pool() > 0 ? layout.pool() : default_pool_;
  std::lock_guard<std::mutex> g(mu_);
  auto it = ioctxs_.find(pool);
  if (it != ioctxs_.end()) return it->second;
  for (const auto& name : rados_->PoolList()) {
    auto id = rados_->PoolLookup(name);
    if (id.ok() && *id == pool) {
      NACRE_ASSIGN_OR_RETURN(rados::IoCtx io, rados_->CreateIoCtx(name));
      io.SetNamespace(layout.pool_namespace());
      ioctxs_[pool] = io;
      return io;
    }
  }
  return NotFound("data pool " + std::to_string(pool) + " is not in the OSDMap");
}

Result<std::string> FileIo::Read(uint64_t ino, const proto::FileLayoutProto& layout, uint64_t file_size,
                                 uint64_t off, uint64_t len) {
  if (off >= file_size) return std::string();
  len = std::min(len, file_size - off);
  NACRE_ASSIGN_OR_RETURN(rados::IoCtx io, IoCtxFor(layout));
  auto extents = MapFileRange(layout.object_size(), off, len);
  std::vector<Bytes> bufs(extents.size());
  std::vector<rados::AioCompletionRef> cs;
  for (size_t i = 0; i < extents.size(); ++i) {
    cs.push_back(rados::MakeCompletion());
    io.AioRead(DataObjectName(ino, extents[i].objno), extents[i].obj_off, extents[i].len, &bufs[i], cs.back());
  }
  NACRE_RETURN_IF_ERROR(WaitAll(cs, /*enoent_ok=*/true));
  // Zeros first; each piece copies what its object had (a short or
  // missing object leaves the rest zero).
  std::string out(len, '\0');
  for (size_t i = 0; i < extents.size(); ++i) {
    if (!cs[i]->status().ok()) continue;
    size_t n = std::min<size_t>(bufs[i].size(), extents[i].len);
    if (n) std::memcpy(out.data() + extents[i].buf_off, bufs[i].data(), n);
  }
  return out;
}

Status FileIo::Write(uint64_t ino, const proto::FileLayoutProto& layout, uint64_t off, std::string_view data) {
  if (data.empty()) return Status::OK();
  NACRE_ASSIGN_OR_RETURN(rados::IoCtx io, IoCtxFor(layout));
  std::vector<rados::AioCompletionRef> cs;
  for (const auto& e : MapFileRange(layout.object_size(), off, data.size())) {
    cs.push_back(rados::MakeCompletion());
    io.AioWrite(DataObjectName(ino, e.objno), Bytes::Copy(data.substr(e.buf_off, e.len)), e.obj_off, cs.back());
  }
  return WaitAll(cs, /*enoent_ok=*/false);
}

Status FileIo::Truncate(uint64_t ino, const proto::FileLayoutProto& layout, uint64_t old_size, uint64_t new_size) {
  TruncatePlan plan = PlanTruncate(layout.object_size(), old_size, new_size);
  if (!plan.cut && plan.remove.empty()) return Status::OK();
  NACRE_ASSIGN_OR_RETURN(rados::IoCtx io, IoCtxFor(layout));
  std::vector<rados::AioCompletionRef> cs;
  for (uint64_t o : plan.remove) {
    cs.push_back(rados::MakeCompletion());
    io.AioRemove(DataObjectName(ino, o), cs.back());
  }
  if (plan.cut) {
    // If the object is missing the OSD may answer ENOENT or create it
    // zero-filled; both read back as zeros, so either is fine.
    rados::ObjectWriteOperation op;
    op.Truncate(plan.cut_len);
    cs.push_back(rados::MakeCompletion());
    io.AioOperate(DataObjectName(ino, plan.cut_objno), op, cs.back());
  }
  return WaitAll(cs, /*enoent_ok=*/true);
}

Status FileIo::Zero(uint64_t ino, const proto::FileLayoutProto& layout, uint64_t off, uint64_t len) {
  if (len == 0) return Status::OK();
  NACRE_ASSIGN_OR_RETURN(rados::IoCtx io, IoCtxFor(layout));
  uint64_t os = layout.object_size() ? layout.object_size() : kDefaultObjectSize;
  std::vector<rados::AioCompletionRef> cs;
  for (const auto& e : MapFileRange(os, off, len)) {
    cs.push_back(rados::MakeCompletion());
    std::string oid = DataObjectName(ino, e.objno);
    if (e.obj_off == 0 && e.len == os) {
      io.AioRemove(oid, cs.back());
    } else {
      rados::ObjectWriteOperation op;
      op.Zero(e.obj_off, e.len);
      io.AioOperate(oid, op, cs.back());
    }
  }
  return WaitAll(cs, /*enoent_ok=*/true);
}

}  // namespace nacre::fs
