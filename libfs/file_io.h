// FileIo: a file's bytes in its data pool, through librados.
//
// Reads and writes are split into per-object pieces (striping.h) issued in
// parallel with aio; a call returns only when every piece completed, so a
// write that returned is durable on the OSDs (fsync needs nothing more for
// data). A missing object, or a short one, reads as zeros up to the file's
// size. Nothing here knows about the MDS: callers pass the inode's number,
// layout and size.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "common/bytes.h"
#include "common/status.h"
#include "librados/rados.h"
#include "mds.pb.h"

namespace nacre::fs {

class FileIo {
 public:
  // `default_pool`: the pool of inodes whose layout names none.
  FileIo(rados::Rados* rados, int64_t default_pool) : rados_(rados), default_pool_(default_pool) {}

  // Bytes [off, off + len) clipped to file_size; holes read as zeros.
  Result<std::string> Read(uint64_t ino, const proto::FileLayoutProto& layout, uint64_t file_size, uint64_t off,
                           uint64_t len);
  Status Write(uint64_t ino, const proto::FileLayoutProto& layout, uint64_t off, std::string_view data);
  // Removes or cuts the objects holding bytes at or past new_size (of a file
  // that was old_size long).
  Status Truncate(uint64_t ino, const proto::FileLayoutProto& layout, uint64_t old_size, uint64_t new_size);
  // Zeroes [off, off + len): whole objects are removed, partial ones zeroed.
  Status Zero(uint64_t ino, const proto::FileLayoutProto& layout, uint64_t off, uint64_t len);

 private:
  Result<rados::IoCtx> IoCtxFor(const proto::FileLayoutProto& layout);

  rados::Rados* rados_;
  int64_t default_pool_;
  std::mutex mu_;
  std::map<int64_t, rados::IoCtx> ioctxs_;
};

}  // namespace nacre::fs
