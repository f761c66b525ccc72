#include "daemons/osd/store/data_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>

#include "common/log.h"

namespace nacre::osd::store {

namespace {

Status ErrnoStatus(const std::string& what, int err) {
  Code c = err == ENOSPC || err == EDQUOT ? Code::kNoSpace : Code::kIO;
  return Status(c, what + ": " + std::strerror(err));
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::OK() : ErrnoStatus("fsync " + dir, err);
}

}  // namespace

DataFiles::~DataFiles() = default;

DataFiles::Handle::~Handle() { ::close(fd); }

DataFiles::HandlePtr DataFiles::Get(uint32_t file) const {
  std::shared_lock lk(mu_);
  auto it = fds_.find(file);
  return it == fds_.end() ? nullptr : it->second;
}

std::string DataFiles::PathOf(uint32_t file) const { return dir_ + "/" + std::to_string(file) + ".dat"; }

Status DataFiles::OpenFile(uint32_t file, bool create, int* fd) {
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  *fd = ::open(PathOf(file).c_str(), flags, 0644);
  if (*fd < 0) return ErrnoStatus("open " + PathOf(file), errno);
  return Status::OK();
}

Status DataFiles::Open(const std::string& dir, const DataTail& tail, uint64_t max_file_size) {
  dir_ = dir;
  max_file_size_ = max_file_size;
  tail_ = tail;
  tail_file_.store(tail.file);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus("mkdir " + dir, errno);
  std::vector<uint32_t> found;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoStatus("opendir " + dir, errno);
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 5 || name.substr(name.size() - 4) != ".dat") continue;
    char* end = nullptr;
    unsigned long id = std::strtoul(name.c_str(), &end, 10);
    if (end != name.c_str() + name.size() - 4 || id > UINT32_MAX) continue;
    found.push_back(static_cast<uint32_t>(id));
  }
  ::closedir(d);
  bool changed = false;
  for (uint32_t id : found) {
    if (id > tail.file) {
      // Created by a roll whose commit never made it: nothing references it.
      NLOG(store, kInfo) << "removing unreferenced data file " << PathOf(id);
      if (::unlink(PathOf(id).c_str()) != 0) return ErrnoStatus("unlink " + PathOf(id), errno);
      changed = true;
      continue;
    }
    int fd;
    NACRE_RETURN_IF_ERROR(OpenFile(id, false, &fd));
    fds_[id] = std::make_shared<Handle>(fd);
  }
  if (!fds_.count(tail.file)) {
    int fd;
    NACRE_RETURN_IF_ERROR(OpenFile(tail.file, true, &fd));
    fds_[tail.file] = std::make_shared<Handle>(fd);
    changed = true;
  }
  int fd = fds_[tail.file]->fd;
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("fstat " + PathOf(tail.file), errno);
  if (static_cast<uint64_t>(st.st_size) < tail.offset)
    return Corruption("data file " + PathOf(tail.file) + " is shorter (" + std::to_string(st.st_size) +
                      ") than its committed tail " + std::to_string(tail.offset));
  if (static_cast<uint64_t>(st.st_size) > tail.offset) {
    // A torn or unacknowledged append: garbage by construction.
    NLOG(store, kInfo) << "truncating " << PathOf(tail.file) << " from " << st.st_size << " to committed tail "
                       << tail.offset;
    if (::ftruncate(fd, static_cast<off_t>(tail.offset)) != 0) return ErrnoStatus("ftruncate", errno);
    if (::fdatasync(fd) != 0) return ErrnoStatus("fdatasync", errno);
  }
  if (changed) NACRE_RETURN_IF_ERROR(SyncDir(dir_));
  return Status::OK();
}

Status DataFiles::Roll() {
  // The old file's appends are in dirty_ and get synced with the group.
  int fd;
  NACRE_RETURN_IF_ERROR(OpenFile(tail_.file + 1, true, &fd));
  // A leftover from a failed earlier roll would have been deleted on open.
  if (::ftruncate(fd, 0) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("ftruncate new data file", err);
  }
  Status s = SyncDir(dir_);
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  {
    std::unique_lock lk(mu_);
    fds_[tail_.file + 1] = std::make_shared<Handle>(fd);
  }
  tail_ = DataTail{tail_.file + 1, 0};
  tail_file_.store(tail_.file);
  return Status::OK();
}

Result<DataTail> DataFiles::Append(const std::vector<iovec>& iov, uint64_t total) {
  if (tail_.offset > 0 && tail_.offset + total > max_file_size_) NACRE_RETURN_IF_ERROR(Roll());
  HandlePtr h = Get(tail_.file);
  if (!h) return IOError("tail data file " + PathOf(tail_.file) + " is not open");
  const int fd = h->fd;
  DataTail start = tail_;
  uint64_t done = 0;
  size_t idx = 0, skip = 0;  // position inside iov
  while (done < total) {
    // pwritev takes at most IOV_MAX buffers and may write short.
    std::vector<iovec> batch;
    for (size_t i = idx; i < iov.size() && batch.size() < IOV_MAX; ++i) {
      iovec v = iov[i];
      if (i == idx) {
        v.iov_base = static_cast<char*>(v.iov_base) + skip;
        v.iov_len -= skip;
      }
      batch.push_back(v);
    }
    ssize_t n = ::pwritev(fd, batch.data(), static_cast<int>(batch.size()), static_cast<off_t>(start.offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      // The tail does not move: the partial bytes are overwritten by the
      // next append and truncated on open.
      return ErrnoStatus("append to " + PathOf(start.file), errno);
    }
    if (n == 0) return IOError("append to " + PathOf(start.file) + ": wrote nothing");
    done += static_cast<uint64_t>(n);
    uint64_t left = static_cast<uint64_t>(n);
    while (left > 0) {
      uint64_t avail = iov[idx].iov_len - skip;
      if (left >= avail) {
        left -= avail;
        ++idx;
        skip = 0;
      } else {
        skip += left;
        left = 0;
      }
    }
  }
  tail_.offset += total;
  auto d = dirty_.try_emplace(start.file, start.offset, tail_.offset);
  d.first->second.second = tail_.offset;
  return start;
}

Status DataFiles::Sync() {
  for (const auto& [id, range] : dirty_) {
    HandlePtr h = Get(id);
    if (!h) return IOError("data file " + PathOf(id) + " is not open");
    const int fd = h->fd;
    if (::fdatasync(fd) != 0) return ErrnoStatus("fdatasync " + PathOf(id), errno);
    syncs_.fetch_add(1, std::memory_order_relaxed);
    // Durable now: let the kernel drop these pages rather than keep every
    // appended byte cached. Writes then reuse freed pages instead of
    // touching fresh memory (costly under a VM that backs guest memory
    // lazily), and the OSD's page-cache footprint stays bounded. Reads of
    // these bytes then come from disk. Advisory: failure is harmless.
    (void)::posix_fadvise(fd, static_cast<off_t>(range.first), static_cast<off_t>(range.second - range.first),
                          POSIX_FADV_DONTNEED);
  }
  dirty_.clear();
  return Status::OK();
}

Status DataFiles::ReadAt(uint32_t file, uint64_t offset, uint64_t len, char* out) const {
  // Holding the handle keeps the descriptor open even if the reclaimer
  // closes this file meanwhile.
  HandlePtr h = Get(file);
  if (!h) return Corruption("reference to missing data file " + PathOf(file));
  const int fd = h->fd;
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, out + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + PathOf(file), errno);
    }
    if (n == 0) return Corruption("short read of " + PathOf(file) + " at " + std::to_string(offset + done));
    done += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

Result<std::vector<DataFiles::FileInfo>> DataFiles::Files() const {
  std::vector<std::pair<uint32_t, HandlePtr>> open;
  {
    std::shared_lock lk(mu_);
    for (const auto& [id, h] : fds_)
      if (!h->unlinked) open.emplace_back(id, h);
  }
  std::vector<FileInfo> out;
  out.reserve(open.size());
  for (const auto& [id, h] : open) {
    struct stat st;
    if (::fstat(h->fd, &st) != 0) return ErrnoStatus("fstat " + PathOf(id), errno);
    out.push_back(FileInfo{id, static_cast<uint64_t>(st.st_size)});
  }
  return out;
}

Status DataFiles::Unlink(uint32_t file) {
  // The commit thread may roll concurrently, but the tail only moves up, so
  // a file below the tail seen here stays sealed.
  if (file >= tail_file_.load()) return Invalid("refusing to delete unsealed data file " + PathOf(file));
  {
    std::unique_lock lk(mu_);
    auto it = fds_.find(file);
    if (it == fds_.end() || it->second->unlinked) return NotFound("data file " + PathOf(file) + " is not open");
    it->second->unlinked = true;
  }
  if (::unlink(PathOf(file).c_str()) != 0 && errno != ENOENT) {
    int err = errno;
    std::unique_lock lk(mu_);
    fds_.at(file)->unlinked = false;  // still there: a later round retries
    return ErrnoStatus("unlink " + PathOf(file), err);
  }
  // Not syncing would only let the file reappear after a crash, where the
  // next round deletes it again; the sync makes the freed space certain.
  return SyncDir(dir_);
}

void DataFiles::Close(uint32_t file) {
  HandlePtr h;  // released outside the lock: close(2) can block
  std::unique_lock lk(mu_);
  auto it = fds_.find(file);
  if (it == fds_.end() || !it->second->unlinked) return;
  h = std::move(it->second);
  fds_.erase(it);
  lk.unlock();
}

size_t DataFiles::open_files() const {
  std::shared_lock lk(mu_);
  return fds_.size();
}

}  // namespace nacre::osd::store
