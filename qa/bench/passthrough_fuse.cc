// passthrough_fuse: the baseline the filesystem benchmark compares
// nacre-fuse against. It mirrors a local directory through FUSE (libfuse3's
// path-based API, multithreaded, the same max_write and page-cache settings
// as nacre-fuse) and does nothing else, so the ratio nacre-fuse / passthrough
// is what Nacre costs above FUSE itself on the same machine.
//
//   passthrough_fuse SOURCE_DIR MOUNTPOINT [-f] [-o opts]
//
// Only for benchmarks: no permission model beyond the kernel's
// default_permissions, no locking, no xattrs.
#define FUSE_USE_VERSION 35

#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string g_source;

std::string Real(const char* path) { return g_source + path; }

int Errno(int rc) { return rc < 0 ? -errno : rc; }

void* Init(fuse_conn_info* conn, fuse_config* cfg) {
  cfg->use_ino = 1;
  cfg->kernel_cache = 0;
  // The same cache timeouts as nacre-fuse (PASSTHROUGH_TIMEOUT seconds,
  // default 0), so stat and lookup rates compare like with like.
  const char* t = getenv("PASSTHROUGH_TIMEOUT");
  double timeout = t ? atof(t) : 0.0;
  cfg->entry_timeout = timeout;
  cfg->attr_timeout = timeout;
  cfg->negative_timeout = timeout;
  conn->max_write = 1 << 20;
  return nullptr;
}

int GetAttr(const char* path, struct stat* st, fuse_file_info* fi) {
  if (fi) return Errno(fstat(static_cast<int>(fi->fh), st));
  return Errno(lstat(Real(path).c_str(), st));
}

int ReadDir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*, fuse_readdir_flags) {
  DIR* d = opendir(Real(path).c_str());
  if (!d) return -errno;
  while (dirent* e = readdir(d)) {
    struct stat st {};
    st.st_ino = e->d_ino;
    st.st_mode = static_cast<mode_t>(e->d_type) << 12;
    if (fill(buf, e->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0))) break;
  }
  closedir(d);
  return 0;
}

int MkDir(const char* path, mode_t mode) { return Errno(mkdir(Real(path).c_str(), mode)); }
int Unlink(const char* path) { return Errno(unlink(Real(path).c_str())); }
int RmDir(const char* path) { return Errno(rmdir(Real(path).c_str())); }
int Rename(const char* from, const char* to, unsigned int flags) {
  if (flags) return -EINVAL;
  return Errno(rename(Real(from).c_str(), Real(to).c_str()));
}
int Chmod(const char* path, mode_t mode, fuse_file_info*) { return Errno(chmod(Real(path).c_str(), mode)); }
int Truncate(const char* path, off_t size, fuse_file_info* fi) {
  if (fi) return Errno(ftruncate(static_cast<int>(fi->fh), size));
  return Errno(truncate(Real(path).c_str(), size));
}
int Utimens(const char* path, const struct timespec tv[2], fuse_file_info*) {
  return Errno(utimensat(AT_FDCWD, Real(path).c_str(), tv, AT_SYMLINK_NOFOLLOW));
}

int Create(const char* path, mode_t mode, fuse_file_info* fi) {
  int fd = open(Real(path).c_str(), fi->flags, mode);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}
int Open(const char* path, fuse_file_info* fi) {
  int fd = open(Real(path).c_str(), fi->flags);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}
int Read(const char*, char* buf, size_t size, off_t off, fuse_file_info* fi) {
  ssize_t n = pread(static_cast<int>(fi->fh), buf, size, off);
  return n < 0 ? -errno : static_cast<int>(n);
}
int Write(const char*, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  ssize_t n = pwrite(static_cast<int>(fi->fh), buf, size, off);
  return n < 0 ? -errno : static_cast<int>(n);
}
int StatFs(const char* path, struct statvfs* st) { return Errno(statvfs(Real(path).c_str(), st)); }
int Release(const char*, fuse_file_info* fi) {
  close(static_cast<int>(fi->fh));
  return 0;
}
int Fsync(const char*, int datasync, fuse_file_info* fi) {
  int fd = static_cast<int>(fi->fh);
  return Errno(datasync ? fdatasync(fd) : fsync(fd));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SOURCE_DIR MOUNTPOINT [fuse options]\n", argv[0]);
    return 2;
  }
  char resolved[PATH_MAX];
  if (!realpath(argv[1], resolved)) {
    std::fprintf(stderr, "passthrough_fuse: %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  g_source = resolved;
  fuse_operations ops{};
  ops.init = Init;
  ops.getattr = GetAttr;
  ops.readdir = ReadDir;
  ops.mkdir = MkDir;
  ops.unlink = Unlink;
  ops.rmdir = RmDir;
  ops.rename = Rename;
  ops.chmod = Chmod;
  ops.truncate = Truncate;
  ops.utimens = Utimens;
  ops.create = Create;
  ops.open = Open;
  ops.read = Read;
  ops.write = Write;
  ops.statfs = StatFs;
  ops.release = Release;
  ops.fsync = Fsync;
  // argv for fuse_main: program, mountpoint, then the caller's options.
  std::vector<char*> args{argv[0], argv[2]};
  std::string def = "-odefault_permissions";
  args.push_back(def.data());
  for (int i = 3; i < argc; ++i) args.push_back(argv[i]);
  return fuse_main(static_cast<int>(args.size()), args.data(), &ops, nullptr);
}
