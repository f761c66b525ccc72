// POSIX suite through a real nacre-fuse mount: each operation's success path
// and its errors, permissions (as a non-root user in a child process),
// sticky bit, setgid inheritance, hard-link counts, and the times each call
// updates. One cluster and mount serve every case (posix_env.h).
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "qa/posix/posix_env.h"

using namespace nacre::qa;

namespace {

std::set<std::string> List(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = readdir(d)) out.insert(e->d_name);
  closedir(d);
  return out;
}

int64_t Ns(const timespec& t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }

int Renameat2(const std::string& a, const std::string& b, unsigned flags) {
  return static_cast<int>(syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), flags));
}

constexpr uid_t kUser = 4242, kOther = 4343;
constexpr gid_t kGroup = 4242;

}  // namespace

TEST_CASE("files: create, write, read, stat, truncate, unlink") {
  std::string d = TestDir("files");
  std::string f = d + "/a";
  int fd = open(f.c_str(), O_CREAT | O_RDWR | O_EXCL, 0640);
  REQUIRE(fd >= 0);
  CHECK(write(fd, "hello world", 11) == 11);
  char buf[64] = {};
  CHECK(pread(fd, buf, sizeof(buf), 0) == 11);
  CHECK(std::string(buf) == "hello world");
  CHECK(pwrite(fd, "X", 1, 100) == 1);  // a hole reads as zeros
  struct stat st;
  REQUIRE(fstat(fd, &st) == 0);
  CHECK(st.st_size == 101);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(S_ISREG(st.st_mode));
  CHECK(st.st_nlink == 1);
  CHECK(pread(fd, buf, 10, 50) == 10);
  CHECK(std::string(buf, 10) == std::string(10, '\0'));
  REQUIRE(close(fd) == 0);
  CHECK(StatOf(f).st_size == 101);
  REQUIRE_OK(truncate(f.c_str(), 5));
  CHECK(ReadFile(f) == "hello");
  REQUIRE_OK(truncate(f.c_str(), 8));
  CHECK(ReadFile(f) == std::string("hello\0\0\0", 8));
  // O_TRUNC and O_APPEND
  fd = open(f.c_str(), O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK(st.st_size == 0);
  CHECK(write(fd, "abc", 3) == 3);
  close(fd);
  fd = open(f.c_str(), O_WRONLY | O_APPEND);
  REQUIRE(fd >= 0);
  CHECK(pwrite(fd, "def", 3, 0) == 3);  // O_APPEND ignores the offset on Linux
  close(fd);
  CHECK(ReadFile(f) == "abcdef");
  CHECK_ERRNO(open(f.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
  REQUIRE_OK(unlink(f.c_str()));
  CHECK_ERRNO(access(f.c_str(), F_OK), ENOENT);
  CHECK_ERRNO(unlink(f.c_str()), ENOENT);
}

TEST_CASE("files: O_TRUNC while another descriptor holds a size the MDS has not seen") {
  // The size the client buffers under its caps is the file's size: an
  // O_TRUNC open must truncate it even though the MDS still says 0.
  std::string f = TestDir("otrunc") + "/t";
  int fd1 = open(f.c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd1 >= 0);
  REQUIRE(pwrite(fd1, "hello world", 11, 0) == 11);
  int fd2 = open(f.c_str(), O_RDWR | O_TRUNC);
  REQUIRE(fd2 >= 0);
  struct stat st;
  REQUIRE(fstat(fd2, &st) == 0);
  CHECK(st.st_size == 0);
  char buf[32];
  CHECK(pread(fd2, buf, sizeof(buf), 0) == 0);
  close(fd2);
  close(fd1);
  CHECK(StatOf(f).st_size == 0);
}

TEST_CASE("files: writes and sizes past the largest file size are EFBIG") {
  std::string f = TestDir("efbig") + "/big";
  int fd = open(f.c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  const off_t limit = off_t(1) << 40;  // 1 TiB, as Ceph's max_file_size
  CHECK_ERRNO(pwrite(fd, "x", 1, limit), EFBIG);
  CHECK_ERRNO(ftruncate(fd, limit + 1), EFBIG);
  CHECK_ERRNO(fallocate(fd, 0, limit - 1, 2), EFBIG);
  // (A write across the limit may also be cut short at it, as on ext4;
  // not tried here: a file of 1 TiB would then have to be deleted, which
  // removes 262,144 objects.) Nothing was changed by the refusals.
  CHECK(pwrite(fd, "ok", 2, 0) == 2);
  struct stat st;
  REQUIRE(fstat(fd, &st) == 0);
  CHECK(st.st_size == 2);
  close(fd);
  CHECK(ReadFile(f) == "ok");
}

TEST_CASE("files: a large file spanning several objects reads back") {
  std::string f = TestDir("large") + "/big";
  std::string data(9 * 1024 * 1024 + 12345, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  WriteFile(f, data);
  CHECK(StatOf(f).st_size == static_cast<off_t>(data.size()));
  CHECK(ReadFile(f) == data);
  REQUIRE_OK(truncate(f.c_str(), 5 * 1024 * 1024 + 7));  // cuts object 1, removes object 2
  CHECK(ReadFile(f) == data.substr(0, 5 * 1024 * 1024 + 7));
  REQUIRE_OK(truncate(f.c_str(), 9 * 1024 * 1024));
  std::string back = ReadFile(f);
  REQUIRE(back.size() == 9 * 1024 * 1024);
  CHECK(back.substr(5 * 1024 * 1024 + 7) == std::string(back.size() - (5 * 1024 * 1024 + 7), '\0'));
}

TEST_CASE("directories: mkdir, readdir, rename, rmdir") {
  std::string d = TestDir("dirs");
  REQUIRE_OK(mkdir((d + "/sub").c_str(), 0755));
  WriteFile(d + "/f1", "1");
  WriteFile(d + "/sub/f2", "2");
  CHECK(List(d) == std::set<std::string>{".", "..", "sub", "f1"});
  CHECK(S_ISDIR(StatOf(d + "/sub").st_mode));
  CHECK(StatOf(d + "/sub").st_nlink >= 2);
  REQUIRE_OK(rename((d + "/f1").c_str(), (d + "/sub/f1").c_str()));
  CHECK(List(d + "/sub") == std::set<std::string>{".", "..", "f1", "f2"});
  CHECK(ReadFile(d + "/sub/f1") == "1");
  // Rename over an existing file replaces it.
  REQUIRE_OK(rename((d + "/sub/f1").c_str(), (d + "/sub/f2").c_str()));
  CHECK(ReadFile(d + "/sub/f2") == "1");
  CHECK_ERRNO(rmdir((d + "/sub").c_str()), ENOTEMPTY);
  REQUIRE_OK(unlink((d + "/sub/f2").c_str()));
  REQUIRE_OK(rename((d + "/sub").c_str(), (d + "/sub2").c_str()));
  REQUIRE_OK(rmdir((d + "/sub2").c_str()));
  CHECK(List(d) == std::set<std::string>{".", ".."});
  // Many entries: readdir pages through them all.
  for (int i = 0; i < 300; ++i) {
    int fd = open((d + "/e" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    close(fd);
  }
  CHECK(List(d).size() == 302);
}

TEST_CASE("errors: ENOENT EEXIST ENOTEMPTY EISDIR ENOTDIR ELOOP ENAMETOOLONG EINVAL EPERM") {
  std::string d = TestDir("errors");
  WriteFile(d + "/file", "x");
  REQUIRE_OK(mkdir((d + "/dir").c_str(), 0755));
  REQUIRE_OK(mkdir((d + "/dir/inner").c_str(), 0755));
  CHECK_ERRNO(open((d + "/nope/x").c_str(), O_RDONLY), ENOENT);
  CHECK_ERRNO(mkdir((d + "/dir").c_str(), 0755), EEXIST);
  CHECK_ERRNO(mkdir((d + "/file").c_str(), 0755), EEXIST);
  CHECK_ERRNO(rmdir((d + "/dir").c_str()), ENOTEMPTY);
  CHECK_ERRNO(open((d + "/dir").c_str(), O_WRONLY), EISDIR);
  CHECK_ERRNO(unlink((d + "/dir").c_str()), EISDIR);
  CHECK_ERRNO(rmdir((d + "/file").c_str()), ENOTDIR);
  CHECK_ERRNO(open((d + "/file/x").c_str(), O_CREAT | O_WRONLY, 0644), ENOTDIR);
  CHECK_ERRNO(rename((d + "/dir").c_str(), (d + "/file").c_str()), ENOTDIR);
  CHECK_ERRNO(rename((d + "/file").c_str(), (d + "/dir").c_str()), EISDIR);
  REQUIRE_OK(symlink("loop2", (d + "/loop1").c_str()));
  REQUIRE_OK(symlink("loop1", (d + "/loop2").c_str()));
  CHECK_ERRNO(open((d + "/loop1").c_str(), O_RDONLY), ELOOP);
  std::string longname(256, 'n');
  CHECK_ERRNO(open((d + "/" + longname).c_str(), O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
  CHECK_ERRNO(rename((d + "/dir").c_str(), (d + "/dir/inner/moved").c_str()), EINVAL);
  CHECK_ERRNO(link((d + "/dir").c_str(), (d + "/dirlink").c_str()), EPERM);
  CHECK_ERRNO(rmdir((d + "/dir/.").c_str()), EINVAL);
}

TEST_CASE("rename flags: RENAME_NOREPLACE and RENAME_EXCHANGE") {
  std::string d = TestDir("renameflags");
  WriteFile(d + "/a", "A");
  WriteFile(d + "/b", "B");
  CHECK_ERRNO(Renameat2(d + "/a", d + "/b", RENAME_NOREPLACE), EEXIST);
  REQUIRE_OK(Renameat2(d + "/a", d + "/b", RENAME_EXCHANGE));
  CHECK(ReadFile(d + "/a") == "B");
  CHECK(ReadFile(d + "/b") == "A");
  REQUIRE_OK(Renameat2(d + "/a", d + "/c", RENAME_NOREPLACE));
  CHECK(ReadFile(d + "/c") == "B");
  CHECK_ERRNO(Renameat2(d + "/a", d + "/b", RENAME_EXCHANGE), ENOENT);
}

TEST_CASE("hard links: counts and shared contents") {
  std::string d = TestDir("links");
  WriteFile(d + "/f", "data");
  REQUIRE_OK(link((d + "/f").c_str(), (d + "/g").c_str()));
  REQUIRE_OK(mkdir((d + "/sub").c_str(), 0755));
  REQUIRE_OK(link((d + "/f").c_str(), (d + "/sub/h").c_str()));
  CHECK(StatOf(d + "/f").st_nlink == 3);
  CHECK(StatOf(d + "/g").st_ino == StatOf(d + "/f").st_ino);
  WriteFile(d + "/g", "changed");
  CHECK(ReadFile(d + "/sub/h") == "changed");
  REQUIRE_OK(unlink((d + "/f").c_str()));
  CHECK(StatOf(d + "/g").st_nlink == 2);
  REQUIRE_OK(unlink((d + "/sub/h").c_str()));
  CHECK(StatOf(d + "/g").st_nlink == 1);
  CHECK(ReadFile(d + "/g") == "changed");
  CHECK_ERRNO(link((d + "/g").c_str(), (d + "/g").c_str()), EEXIST);
  // Directory link counts: 2 + subdirectories.
  REQUIRE_OK(mkdir((d + "/sub/x").c_str(), 0755));
  CHECK(StatOf(d + "/sub").st_nlink == 3);
}

TEST_CASE("symlinks and readlink") {
  std::string d = TestDir("symlinks");
  WriteFile(d + "/target", "T");
  REQUIRE_OK(symlink("target", (d + "/l").c_str()));
  char buf[64] = {};
  CHECK(readlink((d + "/l").c_str(), buf, sizeof(buf)) == 6);
  CHECK(std::string(buf) == "target");
  CHECK(S_ISLNK(StatOf(d + "/l").st_mode));
  CHECK(StatOf(d + "/l").st_size == 6);
  CHECK(ReadFile(d + "/l") == "T");
  CHECK_ERRNO(readlink((d + "/target").c_str(), buf, sizeof(buf)), EINVAL);
  CHECK_ERRNO(symlink("x", (d + "/l").c_str()), EEXIST);
}

TEST_CASE("special files: fifo, socket, char device") {
  std::string d = TestDir("special");
  REQUIRE_OK(mkfifo((d + "/fifo").c_str(), 0644));
  CHECK(S_ISFIFO(StatOf(d + "/fifo").st_mode));
  REQUIRE_OK(mknod((d + "/sock").c_str(), S_IFSOCK | 0644, 0));
  CHECK(S_ISSOCK(StatOf(d + "/sock").st_mode));
  REQUIRE_OK(mknod((d + "/chr").c_str(), S_IFCHR | 0644, makedev(1, 3)));
  struct stat st = StatOf(d + "/chr");
  CHECK(S_ISCHR(st.st_mode));
  CHECK(major(st.st_rdev) == 1);
  CHECK(minor(st.st_rdev) == 3);
  REQUIRE_OK(mknod((d + "/blk").c_str(), S_IFBLK | 0600, makedev(7, 0)));
  CHECK(S_ISBLK(StatOf(d + "/blk").st_mode));
}

TEST_CASE("xattrs: set, get, list, remove, flags") {
  std::string d = TestDir("xattrs");
  std::string f = d + "/f";
  WriteFile(f, "");
  REQUIRE_OK(setxattr(f.c_str(), "user.a", "one", 3, 0));
  REQUIRE_OK(setxattr(f.c_str(), "user.b", "two!", 4, 0));
  char buf[256] = {};
  CHECK(getxattr(f.c_str(), "user.a", buf, sizeof(buf)) == 3);
  CHECK(std::string(buf, 3) == "one");
  CHECK(getxattr(f.c_str(), "user.b", nullptr, 0) == 4);
  CHECK_ERRNO(getxattr(f.c_str(), "user.b", buf, 2), ERANGE);
  CHECK_ERRNO(setxattr(f.c_str(), "user.a", "x", 1, XATTR_CREATE), EEXIST);
  CHECK_ERRNO(setxattr(f.c_str(), "user.c", "x", 1, XATTR_REPLACE), ENODATA);
  ssize_t n = listxattr(f.c_str(), buf, sizeof(buf));
  REQUIRE(n > 0);
  std::set<std::string> names;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(strlen(buf + i)) + 1) names.insert(buf + i);
  CHECK(names.count("user.a") == 1);
  CHECK(names.count("user.b") == 1);
  REQUIRE_OK(removexattr(f.c_str(), "user.a"));
  CHECK_ERRNO(getxattr(f.c_str(), "user.a", buf, sizeof(buf)), ENODATA);
  CHECK_ERRNO(removexattr(f.c_str(), "user.a"), ENODATA);
}

TEST_CASE("permissions: a non-root user gets EACCES and EPERM") {
  std::string d = TestDir("perms");
  std::string priv = d + "/private";
  REQUIRE_OK(mkdir(priv.c_str(), 0700));
  WriteFile(d + "/rootfile", "secret");
  REQUIRE_OK(chmod((d + "/rootfile").c_str(), 0600));
  CHECK(RunAs(kUser, kGroup, [&] { return open((priv + "/x").c_str(), O_CREAT | O_WRONLY, 0644) < 0 ? errno : 0; }) ==
        EACCES);
  CHECK(RunAs(kUser, kGroup, [&] { return open((d + "/rootfile").c_str(), O_RDONLY) < 0 ? errno : 0; }) == EACCES);
  CHECK(RunAs(kUser, kGroup, [&] { return chmod((d + "/rootfile").c_str(), 0777) < 0 ? errno : 0; }) == EPERM);
  CHECK(RunAs(kUser, kGroup, [&] { return chown((d + "/rootfile").c_str(), kUser, kGroup) < 0 ? errno : 0; }) ==
        EPERM);
  // The user creates in a world-writable directory; the file is theirs.
  CHECK(RunAs(kUser, kGroup, [&] {
          int fd = open((d + "/mine").c_str(), O_CREAT | O_WRONLY, 0600);
          if (fd < 0) return errno;
          close(fd);
          return 0;
        }) == 0);
  struct stat st = StatOf(d + "/mine");
  CHECK(st.st_uid == kUser);
  CHECK(st.st_gid == kGroup);
  // Only the owner (or root) may change times to arbitrary values.
  CHECK(RunAs(kOther, kGroup, [&] {
          timespec ts[2] = {{1, 0}, {1, 0}};
          return utimensat(AT_FDCWD, (d + "/mine").c_str(), ts, 0) < 0 ? errno : 0;
        }) == EPERM);
}

TEST_CASE("permissions: sticky bit and setgid inheritance") {
  std::string d = TestDir("sticky");
  REQUIRE_OK(chmod(d.c_str(), 01777));
  CHECK(RunAs(kUser, kGroup, [&] {
          int fd = open((d + "/users").c_str(), O_CREAT | O_WRONLY, 0666);
          if (fd < 0) return errno;
          close(fd);
          return 0;
        }) == 0);
  // Another user may not remove or rename it in a sticky directory.
  CHECK(RunAs(kOther, kGroup, [&] { return unlink((d + "/users").c_str()) < 0 ? errno : 0; }) == EPERM);
  CHECK(RunAs(kOther, kGroup, [&] { return rename((d + "/users").c_str(), (d + "/x").c_str()) < 0 ? errno : 0; }) ==
        EPERM);
  CHECK(RunAs(kUser, kGroup, [&] { return unlink((d + "/users").c_str()) < 0 ? errno : 0; }) == 0);

  std::string g = TestDir("setgid");
  REQUIRE_OK(chown(g.c_str(), 0, 777));
  REQUIRE_OK(chmod(g.c_str(), 02777));
  WriteFile(g + "/f", "");
  CHECK(StatOf(g + "/f").st_gid == 777);
  REQUIRE_OK(mkdir((g + "/sub").c_str(), 0755));
  struct stat st = StatOf(g + "/sub");
  CHECK(st.st_gid == 777);
  CHECK((st.st_mode & S_ISGID) != 0);
}

TEST_CASE("times: what each call updates") {
  std::string d = TestDir("times");
  std::string f = d + "/f";
  WriteFile(f, "a");
  struct stat s0 = StatOf(f);
  struct stat d0 = StatOf(d);
  CHECK(Ns(s0.st_mtim) > 0);
  // A write moves mtime and ctime.
  // No sleeps: each step is a network round trip, far longer than the
  // nanosecond clock's resolution, so stamps taken in order differ.
  int fd = open(f.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "bb", 2) == 2);
  close(fd);
  struct stat s1 = StatOf(f);
  CHECK(Ns(s1.st_mtim) > Ns(s0.st_mtim));
  CHECK(Ns(s1.st_ctim) > Ns(s0.st_ctim));
  // chmod moves ctime only.
  REQUIRE_OK(chmod(f.c_str(), 0600));
  struct stat s2 = StatOf(f);
  CHECK(Ns(s2.st_mtim) == Ns(s1.st_mtim));
  CHECK(Ns(s2.st_ctim) > Ns(s1.st_ctim));
  // utimensat with explicit times, UTIME_OMIT and UTIME_NOW.
  timespec ts[2] = {{1000, 5}, {2000, 7}};
  REQUIRE_OK(utimensat(AT_FDCWD, f.c_str(), ts, 0));
  struct stat s3 = StatOf(f);
  CHECK(s3.st_atim.tv_sec == 1000);
  CHECK(s3.st_mtim.tv_sec == 2000);
  CHECK(s3.st_mtim.tv_nsec == 7);
  timespec omit_now[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  REQUIRE_OK(utimensat(AT_FDCWD, f.c_str(), omit_now, 0));
  struct stat s4 = StatOf(f);
  CHECK(s4.st_atim.tv_sec == 1000);
  CHECK(s4.st_mtim.tv_sec > 2000);
  // Creating and removing entries moves the directory's mtime and ctime.
  WriteFile(d + "/g", "");
  struct stat d1 = StatOf(d);
  CHECK(Ns(d1.st_mtim) > Ns(d0.st_mtim));
  REQUIRE_OK(unlink((d + "/g").c_str()));
  struct stat d2 = StatOf(d);
  CHECK(Ns(d2.st_mtim) > Ns(d1.st_mtim));
  // A link moves the target's ctime.
  REQUIRE_OK(link(f.c_str(), (d + "/h").c_str()));
  CHECK(Ns(StatOf(f).st_ctim) > Ns(s4.st_ctim));
  // Truncate moves mtime.
  REQUIRE_OK(truncate(f.c_str(), 1));
  CHECK(Ns(StatOf(f).st_mtim) > Ns(s4.st_mtim));
}

TEST_CASE("fallocate: keep size, grow, punch hole") {
  std::string f = TestDir("falloc") + "/f";
  WriteFile(f, std::string(10000, 'z'));
  int fd = open(f.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 50000));
  struct stat st;
  REQUIRE_OK(fstat(fd, &st));
  CHECK(st.st_size == 10000);
  REQUIRE_OK(fallocate(fd, 0, 0, 20000));
  REQUIRE_OK(fstat(fd, &st));
  CHECK(st.st_size == 20000);
  REQUIRE_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 200));
  close(fd);
  std::string want = std::string(100, 'z') + std::string(200, '\0') + std::string(9700, 'z') + std::string(10000, '\0');
  CHECK(ReadFile(f) == want);
}

TEST_CASE("statfs and fsync") {
  struct statvfs sv;
  REQUIRE_OK(statvfs(Mnt().c_str(), &sv));
  CHECK(sv.f_blocks > 0);
  CHECK(sv.f_namemax == 255);
  std::string f = TestDir("fsync") + "/f";
  int fd = open(f.c_str(), O_CREAT | O_RDWR, 0644);
  REQUIRE(fd >= 0);
  CHECK(write(fd, "abc", 3) == 3);
  CHECK(fsync(fd) == 0);
  CHECK(fdatasync(fd) == 0);
  close(fd);
  int dfd = open((Mnt() + "/fsync").c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dfd >= 0);
  CHECK(fsync(dfd) == 0);
  close(dfd);
}
