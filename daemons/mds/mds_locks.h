// FileLocks: fcntl (POSIX byte-range) and flock (whole-file BSD) locks of
// one MDS, per inode and holder (session, owner). Pure.
//
// Semantics as the kernel's: a holder's own locks never conflict with it;
// a new fcntl lock replaces the holder's overlapping ranges (splitting them),
// and F_UNLCK removes ranges; read locks share, write locks exclude; flock
// locks conflict only with flock locks. length 0 means "to the end".
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "mds.pb.h"

namespace nacre::mds {

constexpr uint32_t kRdLck = 0, kWrLck = 1, kUnLck = 2;

class FileLocks {
 public:
  // The first lock of another holder that conflicts with `l` (on `ino`),
  // or nullptr.
  const proto::FileLockProto* Conflict(uint64_t ino, const proto::FileLockProto& l) const;
  // Sets or releases (type kUnLck) `l`; the caller checked Conflict first.
  void Set(uint64_t ino, const proto::FileLockProto& l);
  // Drops every lock of a session (it closed or timed out); returns the
  // inodes that changed.
  std::vector<uint64_t> DropSession(uint64_t session);
  // Drops the locks of (session, owner) on ino (the file was closed).
  bool DropOwner(uint64_t ino, uint64_t session, uint64_t owner);
  size_t count(uint64_t ino) const;

 private:
  std::map<uint64_t, std::vector<proto::FileLockProto>> locks_;
};

}  // namespace nacre::mds
