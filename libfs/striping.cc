// Striping: file range -> object extents (see striping.h).
#include "libfs/striping.h"

#include <algorithm>
#include <cstdio>

namespace nacre::fs {

std::vector<ObjectExtent> MapFileRange(uint64_t object_size, uint64_t off, uint64_t len) {
  if (object_size == 0) object_size = kDefaultObjectSize;
  std::vector<ObjectExtent> out;
  uint64_t done = 0;
  while (done < len) {
    uint64_t pos = off + done;
    ObjectExtent e;
    e.objno = pos / object_size;
    e.obj_off = pos % object_size;
    e.len = std::min(len - done, object_size - e.obj_off);
    e.buf_off = done;
    out.push_back(e);
    done += e.len;
  }
  return out;
}

std::string DataObjectName(uint64_t ino, uint64_t objno) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%llx.%08llx", static_cast<unsigned long long>(ino),
                static_cast<unsigned long long>(objno));
  return buf;
}

TruncatePlan PlanTruncate(uint64_t object_size, uint64_t old_size, uint64_t new_size) {
  if (object_size == 0) object_size = kDefaultObjectSize;
  TruncatePlan p;
  if (new_size >= old_size) return p;
  // Objects that hold any byte at or after new_size. The first may keep a
  // prefix; the rest go.
  uint64_t first = new_size / object_size;
  uint64_t end = (old_size + object_size - 1) / object_size;  // one past the last object
  uint64_t keep = new_size % object_size;
  if (keep > 0) {
    p.cut = true;
    p.cut_objno = first;
    p.cut_len = keep;
    ++first;
  }
  for (uint64_t o = first; o < end; ++o) p.remove.push_back(o);
  return p;
}

}  // namespace nacre::fs
