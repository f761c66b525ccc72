#include "daemons/mds/mds_cache.h"

#include <cstdio>

#include "common/check.h"

namespace nacre::mds {

std::string InoHex(uint64_t ino) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(ino));
  return buf;
}

std::string DirObject(uint64_t ino) { return InoHex(ino) + ".00000000"; }

std::string DataObject(uint64_t ino, uint64_t block) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llx.%08llx", static_cast<unsigned long long>(ino),
                static_cast<unsigned long long>(block));
  return buf;
}

MdsCache::MdsCache(int rank) : rank_(rank), next_ino_(RankInoStart(rank)) {}

size_t MdsCache::DentryBytes(const std::string& name, const proto::DentryProto& d) {
  // Rough, but proportional to what the maps hold.
  return name.size() + d.ByteSizeLong() + 96;
}

proto::InodeProto MdsCache::MakeRootInode(int64_t now_ns) const {
  proto::InodeProto r;
  r.set_ino(kRootIno);
  r.set_mode(0040755);
  r.set_nlink(2);
  r.set_atime_ns(now_ns);
  r.set_mtime_ns(now_ns);
  r.set_ctime_ns(now_ns);
  r.set_btime_ns(now_ns);
  r.set_dir_pin(-1);
  r.set_version(1);
  r.mutable_layout()->set_object_size(4u << 20);
  r.mutable_layout()->set_stripe_unit(4u << 20);
  r.mutable_layout()->set_stripe_count(1);
  return r;
}

void MdsCache::IndexDentry(uint64_t dir, const std::string& name, const proto::DentryProto& d) {
  if (d.has_inode()) {
    where_[d.inode().ino()] = {dir, name};
    ++inodes_;
  }
}

void MdsCache::UnindexDentry(uint64_t dir, const std::string& name, const proto::DentryProto& d) {
  if (!d.has_inode()) return;
  --inodes_;
  auto it = where_.find(d.inode().ino());
  if (it != where_.end() && it->second.first == dir && it->second.second == name) where_.erase(it);
}

void MdsCache::InstallEmptyDir(uint64_t ino) { InstallDir(ino, {}); }

void MdsCache::InstallDir(uint64_t ino, const std::map<std::string, std::string>& raw) {
  if (dirs_.count(ino)) return;  // already here (and possibly newer)
  CachedDir& d = dirs_[ino];
  d.ino = ino;
  for (const auto& [name, val] : raw) {
    proto::DentryProto dn;
    if (!dn.ParseFromString(val)) continue;  // a corrupt key must not stop the dir from loading
    d.bytes += DentryBytes(name, dn);
    IndexDentry(ino, name, dn);
    d.dentries.emplace(name, std::move(dn));
  }
  bytes_ += d.bytes;
  lru_.push_front(ino);
  d.lru = lru_.begin();
}

void MdsCache::InstallRemote(const std::map<std::string, std::string>& raw) {
  for (const auto& [k, v] : raw) {
    proto::InodeProto i;
    if (i.ParseFromString(v) && i.ino() != 0) remote_[i.ino()] = std::move(i);
  }
}

CachedDir& MdsCache::MustDir(uint64_t ino) {
  auto it = dirs_.find(ino);
  NACRE_CHECK(it != dirs_.end());
  return it->second;
}

void MdsCache::Apply(const proto::MetaOp& op) {
  switch (op.op_case()) {
    case proto::MetaOp::kDentrySet: {
      const auto& s = op.dentry_set();
      CachedDir& d = MustDir(s.dir_ino());
      auto it = d.dentries.find(s.name());
      if (it != d.dentries.end()) {
        UnindexDentry(d.ino, s.name(), it->second);
        size_t b = DentryBytes(s.name(), it->second);
        d.bytes -= b;
        bytes_ -= b;
        it->second = s.dentry();
      } else {
        it = d.dentries.emplace(s.name(), s.dentry()).first;
      }
      size_t b = DentryBytes(s.name(), it->second);
      d.bytes += b;
      bytes_ += b;
      IndexDentry(d.ino, s.name(), it->second);
      d.dirty_set.insert(s.name());
      d.dirty_rm.erase(s.name());
      // A new subdirectory's own dir is empty: nothing to load.
      if (s.dentry().has_inode() && IsDir(s.dentry().inode()) && s.dentry().inode().size() == 0 &&
          !dirs_.count(s.dentry().inode().ino()))
        InstallEmptyDir(s.dentry().inode().ino());
      break;
    }
    case proto::MetaOp::kDentryRm: {
      const auto& r = op.dentry_rm();
      CachedDir& d = MustDir(r.dir_ino());
      auto it = d.dentries.find(r.name());
      if (it != d.dentries.end()) {
        UnindexDentry(d.ino, r.name(), it->second);
        size_t b = DentryBytes(r.name(), it->second);
        d.bytes -= b;
        bytes_ -= b;
        d.dentries.erase(it);
      }
      d.dirty_rm.insert(r.name());
      d.dirty_set.erase(r.name());
      break;
    }
    case proto::MetaOp::kRemoteInodeSet:
      remote_[op.remote_inode_set().ino()] = op.remote_inode_set();
      remote_dirty_.insert(op.remote_inode_set().ino());
      remote_rm_.erase(op.remote_inode_set().ino());
      break;
    case proto::MetaOp::kRemoteInodeRm:
      remote_.erase(op.remote_inode_rm());
      remote_rm_.insert(op.remote_inode_rm());
      remote_dirty_.erase(op.remote_inode_rm());
      break;
    case proto::MetaOp::kRootSet:
      root_ = op.root_set();
      root_dirty_ = true;
      break;
    default:  // purges change no metadata; the daemon acts on them
      break;
  }
}

void MdsCache::ApplyEntry(const proto::JournalEntry& e) {
  for (const auto& op : e.ops()) Apply(op);
  set_next_ino(e.next_ino());
}

CachedDir* MdsCache::GetDir(uint64_t ino) {
  auto it = dirs_.find(ino);
  if (it == dirs_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return &it->second;
}

const proto::InodeProto* MdsCache::DentryInode(const proto::DentryProto& d) const {
  if (d.has_inode()) return &d.inode();
  auto it = remote_.find(d.remote_ino());
  return it == remote_.end() ? nullptr : &it->second;
}

bool MdsCache::Where(uint64_t ino, uint64_t* parent, std::string* name) const {
  auto it = where_.find(ino);
  if (it == where_.end()) return false;
  *parent = it->second.first;
  *name = it->second.second;
  return true;
}

const proto::InodeProto* MdsCache::FindInode(uint64_t ino, uint64_t* need_dir) {
  *need_dir = 0;
  if (ino == kRootIno) return &root_;
  if (auto r = remote_.find(ino); r != remote_.end()) return &r->second;
  auto w = where_.find(ino);
  if (w == where_.end()) return nullptr;
  CachedDir* d = GetDir(w->second.first);
  if (!d) {
    *need_dir = w->second.first;
    return nullptr;
  }
  auto it = d->dentries.find(w->second.second);
  if (it == d->dentries.end() || !it->second.has_inode() || it->second.inode().ino() != ino) return nullptr;
  return &it->second.inode();
}

uint64_t MdsCache::AnyUnloadedDir() const {
  for (const auto& [ino, d] : dirs_)
    for (const auto& [name, dn] : d.dentries) {
      const proto::InodeProto* i = DentryInode(dn);
      if (i && IsDir(*i) && !dirs_.count(i->ino())) return i->ino();
    }
  if (!dirs_.count(kRootIno)) return kRootIno;
  return 0;
}

bool MdsCache::AnyDirty() const {
  if (root_dirty_ || !remote_dirty_.empty() || !remote_rm_.empty()) return true;
  for (const auto& [ino, d] : dirs_)
    if (d.dirty()) return true;
  return false;
}

FlushBatch MdsCache::TakeDirty() {
  FlushBatch b;
  for (auto& [ino, d] : dirs_) {
    if (!d.dirty()) continue;
    auto& delta = b.dirs[ino];
    for (const auto& name : d.dirty_set) {
      auto it = d.dentries.find(name);
      if (it != d.dentries.end()) delta.set[name] = it->second.SerializeAsString();
    }
    delta.rm = std::move(d.dirty_rm);
    d.dirty_set.clear();
    d.dirty_rm.clear();
  }
  for (uint64_t ino : remote_dirty_) {
    auto it = remote_.find(ino);
    if (it != remote_.end()) b.remote_set[InoHex(ino)] = it->second.SerializeAsString();
  }
  for (uint64_t ino : remote_rm_) b.remote_rm.insert(InoHex(ino));
  remote_dirty_.clear();
  remote_rm_.clear();
  b.root_dirty = root_dirty_;
  b.root = root_;
  root_dirty_ = false;
  return b;
}

size_t MdsCache::Trim(size_t limit, const std::set<uint64_t>& pinned) {
  size_t dropped = 0;
  auto it = lru_.end();
  while (bytes_ > limit && it != lru_.begin()) {
    --it;
    uint64_t ino = *it;
    CachedDir& d = dirs_.at(ino);
    if (d.dirty() || pinned.count(ino) || ino == kRootIno || ino == StrayIno(rank_)) continue;
    // Children's where_ entries stay: they locate the inodes for a reload.
    for (const auto& [name, dn] : d.dentries)
      if (dn.has_inode()) --inodes_;
    bytes_ -= d.bytes;
    it = lru_.erase(it);
    dirs_.erase(ino);
    ++dropped;
  }
  return dropped;
}

std::string MdsCache::DebugDump() const {
  std::string out = "root " + root_.SerializeAsString() + "\n";
  for (const auto& [ino, i] : remote_) out += "remote " + InoHex(ino) + " " + i.SerializeAsString() + "\n";
  for (const auto& [ino, d] : dirs_)
    for (const auto& [name, dn] : d.dentries)
      out += "dir " + InoHex(ino) + " " + name + " " + dn.SerializeAsString() + "\n";
  out += "next_ino " + InoHex(next_ino_) + "\n";
  return out;
}

}  // namespace nacre::mds
