// MdsCore: extended attributes. Stored: user.*, trusted.* (root only),
// security.*. Virtual, read-only: nacre.dir.rbytes/rfiles/rsubdirs (walked
// over the subtree, loading it), nacre.file.layout[.field] and
// nacre.dir.layout[.field]; nacre.dir.pin is settable on directories.
#include <cerrno>
#include <string>

#include "daemons/mds/mds_core.h"

namespace nacre::mds {

namespace {

constexpr uint32_t kXattrCreate = 1, kXattrReplace = 2;
// Every reply carries the whole inode, and a message header is at most
// 64 KiB: one value, and all of an inode's xattrs together, stay below.
constexpr size_t kMaxXattrValue = 32 * 1024;
constexpr size_t kMaxXattrTotal = 48 * 1024;

bool HasPrefix(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

std::string LayoutField(const proto::FileLayoutProto& l, const std::string& f) {
  if (f == "object_size") return std::to_string(l.object_size());
  if (f == "stripe_unit") return std::to_string(l.stripe_unit());
  if (f == "stripe_count") return std::to_string(l.stripe_count());
  if (f == "pool") return std::to_string(l.pool());
  if (f == "pool_namespace") return l.pool_namespace();
  if (f.empty())
    return "stripe_unit=" + std::to_string(l.stripe_unit()) + " stripe_count=" + std::to_string(l.stripe_count()) +
           " object_size=" + std::to_string(l.object_size()) + " pool=" + std::to_string(l.pool());
  return "\x01";  // unknown field
}

}  // namespace

bool MdsCore::RStats(uint64_t dir, uint64_t* bytes, uint64_t* files, uint64_t* subdirs, Outcome* o) {
  CachedDir* d = Dir(dir, o);
  if (!d) return false;
  std::vector<uint64_t> subs;
  for (const auto& [name, dn] : d->dentries) {
    const proto::InodeProto* i = cache_->DentryInode(dn);
    if (!i) continue;
    if (IsDir(*i)) {
      ++*subdirs;
      subs.push_back(i->ino());
    } else {
      ++*files;
      if (IsReg(*i)) *bytes += i->size();
    }
  }
  for (uint64_t s : subs)
    if (!RStats(s, bytes, files, subdirs, o)) return false;
  return true;
}

Outcome MdsCore::OpGetxattr(Ctx& c) {
  Outcome o;
  const proto::InodeProto* ip = Inode(c.req.ino(), &o);
  if (!ip) return o;
  proto::InodeProto i = *ip;
  const std::string& n = c.req.xattr_name();
  if (HasPrefix(n, "nacre.")) {
    std::string v = "\x01";
    if (IsDir(i) && (n == "nacre.dir.rbytes" || n == "nacre.dir.rfiles" || n == "nacre.dir.rsubdirs")) {
      uint64_t b = 0, f = 0, s = 0;
      Outcome w;
      if (!RStats(i.ino(), &b, &f, &s, &w)) return w;
      v = std::to_string(n == "nacre.dir.rbytes" ? b : n == "nacre.dir.rfiles" ? f : s);
    } else if (IsDir(i) && n == "nacre.dir.pin") {
      v = std::to_string(i.dir_pin());
    } else if (IsDir(i) && HasPrefix(n, "nacre.dir.layout")) {
      std::string f = n.size() > 16 ? n.substr(17) : "";
      proto::FileLayoutProto l = i.layout();
      if (l.pool() == 0) l.set_pool(opts_.data_pool);
      v = LayoutField(l, f);
    } else if (!IsDir(i) && HasPrefix(n, "nacre.file.layout")) {
      v = LayoutField(i.layout(), n.size() > 17 ? n.substr(18) : "");
    }
    if (v == "\x01") return Reply(c, ENODATA);
    c.out.reply.set_xattr_value(v);
    return Reply(c, 0);
  }
  if (HasPrefix(n, "user.") && !MayAccess(i, c.caller, 4)) return Reply(c, EACCES);
  if (HasPrefix(n, "trusted.") && c.caller.uid != 0) return Reply(c, ENODATA);
  auto it = i.xattrs().find(n);
  if (it == i.xattrs().end()) return Reply(c, ENODATA);
  c.out.reply.set_xattr_value(it->second);
  return Reply(c, 0);
}

Outcome MdsCore::OpListxattr(Ctx& c) {
  Outcome o;
  const proto::InodeProto* ip = Inode(c.req.ino(), &o);
  if (!ip) return o;
  std::map<std::string, std::string> sorted(ip->xattrs().begin(), ip->xattrs().end());
  for (const auto& [k, v] : sorted) {
    if (HasPrefix(k, "trusted.") && c.caller.uid != 0) continue;
    c.out.reply.add_entries()->set_name(k);
  }
  return Reply(c, 0);
}

Outcome MdsCore::OpSetxattr(Ctx& c) {
  Outcome o;
  const proto::InodeProto* ip = Inode(c.req.ino(), &o);
  if (!ip) return o;
  proto::InodeProto i = *ip;
  const std::string& n = c.req.xattr_name();
  bool owner = c.caller.uid == 0 || c.caller.uid == i.uid();
  if (n.empty() || n.size() > 255) return Reply(c, n.empty() ? EINVAL : ERANGE);
  if (HasPrefix(n, "nacre.")) {
    if (n != "nacre.dir.pin") return Reply(c, EPERM, "read-only virtual attribute");
    if (!IsDir(i)) return Reply(c, EINVAL);
    if (!owner) return Reply(c, EPERM);
    int pin = 0;
    try {
      pin = std::stoi(c.req.xattr_value());
    } catch (...) {
      return Reply(c, EINVAL);
    }
    if (pin < -1) return Reply(c, EINVAL);
    i.set_dir_pin(pin);
  } else {
    if (HasPrefix(n, "user.")) {
      if (!IsReg(i) && !IsDir(i)) return Reply(c, EPERM);
      if (!MayAccess(i, c.caller, 2)) return Reply(c, EACCES);
      if (IsDir(i) && (i.mode() & 01000) && !owner) return Reply(c, EPERM);
    } else if (HasPrefix(n, "trusted.")) {
      if (c.caller.uid != 0) return Reply(c, EPERM);
    } else if (HasPrefix(n, "security.") || HasPrefix(n, "system.")) {
      if (!owner) return Reply(c, EPERM);
    } else {
      return Reply(c, EOPNOTSUPP);
    }
    if (c.req.xattr_value().size() > kMaxXattrValue) return Reply(c, E2BIG);
    bool exists = i.xattrs().count(n) > 0;
    if ((c.req.flags() & kXattrCreate) && exists) return Reply(c, EEXIST);
    if ((c.req.flags() & kXattrReplace) && !exists) return Reply(c, ENODATA);
    size_t total = n.size() + c.req.xattr_value().size();
    for (const auto& [k, v] : i.xattrs())
      if (k != n) total += k.size() + v.size();
    if (total > kMaxXattrTotal) return Reply(c, ENOSPC);
    (*i.mutable_xattrs())[n] = c.req.xattr_value();
  }
  i.set_ctime_ns(c.now);
  PutInode(c, i);
  *c.out.reply.mutable_target() = i;
  return Reply(c, 0);
}

Outcome MdsCore::OpRmxattr(Ctx& c) {
  Outcome o;
  const proto::InodeProto* ip = Inode(c.req.ino(), &o);
  if (!ip) return o;
  proto::InodeProto i = *ip;
  const std::string& n = c.req.xattr_name();
  if (HasPrefix(n, "nacre.")) return Reply(c, EPERM, "virtual attribute");
  if (HasPrefix(n, "user.") && !MayAccess(i, c.caller, 2)) return Reply(c, EACCES);
  if (HasPrefix(n, "trusted.") && c.caller.uid != 0) return Reply(c, EPERM);
  if (!i.xattrs().count(n)) return Reply(c, ENODATA);
  i.mutable_xattrs()->erase(n);
  i.set_ctime_ns(c.now);
  PutInode(c, i);
  *c.out.reply.mutable_target() = i;
  return Reply(c, 0);
}

}  // namespace nacre::mds
