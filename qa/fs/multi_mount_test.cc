// Two nacre-fuse mounts of the same filesystem (two clients): what one
// writes and closes the other reads; an append on one is seen by a stat on
// the other; an fcntl lock held through one blocks the other; a rename on
// one is seen on the other; both writing one file at once. One cluster for
// the whole binary.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "common/wait_for.h"
#include "qa/fs/fs_test_util.h"

using namespace nacre::qa;

namespace {

struct TwoMounts {
  FsTestEnv env;
  std::string a, b;
  nacre::Status status;
  TwoMounts() {
    status = env.Start();
    if (!status.ok()) return;
    auto m1 = env.Mount();
    auto m2 = m1.ok() ? env.Mount() : m1;
    if (!m2.ok()) {
      status = m2.status();
      return;
    }
    a = *m1;
    b = *m2;
  }
};

TwoMounts& Mounts() {
  static TwoMounts m;
  INFO(m.status.ToString());
  REQUIRE(m.status.ok());
  return m;
}

void Write(const std::string& path, const std::string& data, int flags = O_TRUNC) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | flags, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  REQUIRE(close(fd) == 0);
}

}  // namespace

TEST_CASE("two mounts: a write closed on one is read on the other") {
  auto& m = Mounts();
  std::string data(3 * 1024 * 1024 + 17, 'q');
  Write(m.a + "/shared", data);
  CHECK(ReadFile(m.b + "/shared") == data);
  Write(m.b + "/shared", "short");
  CHECK(ReadFile(m.a + "/shared") == "short");
}

TEST_CASE("two mounts: append on one, stat on the other sees the size") {
  auto& m = Mounts();
  Write(m.a + "/log", "line1\n");
  int fd = open((m.a + "/log").c_str(), O_WRONLY | O_APPEND);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "line2\n", 6) == 6);
  // While a still has the file open: b's stat makes the MDS recall a's size.
  struct stat st;
  REQUIRE(stat((m.b + "/log").c_str(), &st) == 0);
  CHECK(st.st_size == 12);
  REQUIRE(write(fd, "line3\n", 6) == 6);
  REQUIRE(fsync(fd) == 0);
  REQUIRE(stat((m.b + "/log").c_str(), &st) == 0);
  CHECK(st.st_size == 18);
  close(fd);
  CHECK(ReadFile(m.b + "/log") == "line1\nline2\nline3\n");
}

TEST_CASE("two mounts: an fcntl lock held on one blocks the other") {
  auto& m = Mounts();
  Write(m.a + "/lockfile", "x");
  int fa = open((m.a + "/lockfile").c_str(), O_RDWR);
  REQUIRE(fa >= 0);
  struct flock l = {};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  REQUIRE(fcntl(fa, F_SETLK, &l) == 0);
  // A child process on mount b: F_SETLK fails, F_GETLK names the holder,
  // F_SETLKW waits until a unlocks.
  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(pipefd[0]);
    int fb = open((m.b + "/lockfile").c_str(), O_RDWR);
    struct flock w = {};
    w.l_type = F_WRLCK;
    w.l_whence = SEEK_SET;
    char code = 'o';
    if (fb < 0) code = 'n';
    else if (fcntl(fb, F_SETLK, &w) == 0 || (errno != EAGAIN && errno != EACCES)) code = 's';
    else {
      struct flock g = w;
      if (fcntl(fb, F_GETLK, &g) != 0 || g.l_type != F_WRLCK) code = 'g';
    }
    (void)!write(pipefd[1], &code, 1);
    if (code == 'o' && fcntl(fb, F_SETLKW, &w) != 0) code = 'w';
    else if (code == 'o') code = 'L';
    (void)!write(pipefd[1], &code, 1);
    _exit(0);
  }
  close(pipefd[1]);
  char first = 0, second = 0;
  REQUIRE(read(pipefd[0], &first, 1) == 1);
  CHECK(first == 'o');
  // The child is now waiting in F_SETLKW: nothing more arrives until we unlock.
  fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
  bool early = nacre::WaitFor([&] { return read(pipefd[0], &second, 1) == 1; }, std::chrono::milliseconds(1500));
  CHECK_FALSE(early);
  l.l_type = F_UNLCK;
  REQUIRE(fcntl(fa, F_SETLK, &l) == 0);
  bool got = nacre::WaitFor([&] { return read(pipefd[0], &second, 1) == 1; }, std::chrono::seconds(60));
  CHECK(got);
  CHECK(second == 'L');
  close(pipefd[0]);
  close(fa);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st));
}

TEST_CASE("two mounts: flock is exclusive across clients") {
  auto& m = Mounts();
  Write(m.a + "/flockfile", "x");
  int fa = open((m.a + "/flockfile").c_str(), O_RDONLY);
  int fb = open((m.b + "/flockfile").c_str(), O_RDONLY);
  REQUIRE(fa >= 0);
  REQUIRE(fb >= 0);
  REQUIRE(flock(fa, LOCK_EX | LOCK_NB) == 0);
  errno = 0;
  CHECK(flock(fb, LOCK_EX | LOCK_NB) == -1);
  CHECK(errno == EWOULDBLOCK);
  REQUIRE(flock(fa, LOCK_UN) == 0);
  CHECK(flock(fb, LOCK_EX | LOCK_NB) == 0);
  close(fa);
  close(fb);
}

TEST_CASE("two mounts: a rename on one is seen on the other") {
  auto& m = Mounts();
  REQUIRE(mkdir((m.a + "/rdir").c_str(), 0755) == 0);
  Write(m.a + "/rdir/old", "content");
  CHECK(ReadFile(m.b + "/rdir/old") == "content");
  REQUIRE(rename((m.a + "/rdir/old").c_str(), (m.a + "/rdir/new").c_str()) == 0);
  struct stat st;
  CHECK(stat((m.b + "/rdir/old").c_str(), &st) == -1);
  CHECK(stat((m.b + "/rdir/new").c_str(), &st) == 0);
  CHECK(ReadFile(m.b + "/rdir/new") == "content");
}

TEST_CASE("two mounts: both write one file at once (no Fb: sizes go to the MDS synchronously)") {
  auto& m = Mounts();
  int fa = open((m.a + "/both").c_str(), O_CREAT | O_RDWR, 0644);
  REQUIRE(fa >= 0);
  REQUIRE(pwrite(fa, "aaaaaaaaaa", 10, 0) == 10);
  // b opening for write makes the MDS take Fb back from a.
  int fb = open((m.b + "/both").c_str(), O_RDWR);
  REQUIRE(fb >= 0);
  REQUIRE(pwrite(fb, "bbbbbbbbbb", 10, 100) == 10);
  REQUIRE(pwrite(fa, "cccccccccc", 10, 200) == 10);
  struct stat sa, sb;
  REQUIRE(fstat(fa, &sa) == 0);
  REQUIRE(fstat(fb, &sb) == 0);
  CHECK(sa.st_size == 210);
  CHECK(sb.st_size == 210);
  // A smaller extending write from b must not shrink the file.
  REQUIRE(pwrite(fb, "dd", 2, 150) == 2);
  REQUIRE(fstat(fa, &sa) == 0);
  CHECK(sa.st_size == 210);
  CHECK(close(fa) == 0);
  CHECK(close(fb) == 0);
  std::string want(210, '\0');
  want.replace(0, 10, "aaaaaaaaaa");
  want.replace(100, 10, "bbbbbbbbbb");
  want.replace(150, 2, "dd");
  want.replace(200, 10, "cccccccccc");
  CHECK(ReadFile(m.a + "/both") == want);
  CHECK(ReadFile(m.b + "/both") == want);
}

TEST_CASE("two mounts: unmount is clean and the other mount keeps working") {
  auto& m = Mounts();
  Write(m.b + "/before", "b");
  REQUIRE(m.env.Unmount(m.b).ok());
  CHECK_FALSE(IsFuseMount(m.b));
  CHECK(ReadFile(m.a + "/before") == "b");
}
