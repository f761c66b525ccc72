// The POSIX suite's shared mount (see posix_env.h).
#include "qa/posix/posix_env.h"

#include <fcntl.h>
#include <unistd.h>

namespace nacre::qa {

namespace {

struct Shared {
  std::unique_ptr<FsTestEnv> env;
  std::string mnt;
  Status status = Status(Code::kAgain, "not started");
};

Shared& Get() {
  static Shared s = [] {
    Shared x;
    x.env = std::make_unique<FsTestEnv>();
    x.status = x.env->Start();
    if (x.status.ok()) {
      auto m = x.env->Mount();
      if (m.ok()) x.mnt = *m;
      else x.status = m.status();
    }
    return x;
  }();
  return s;
}

}  // namespace

const std::string& Mnt() {
  Shared& s = Get();
  INFO(s.status.ToString());
  REQUIRE(s.status.ok());
  return s.mnt;
}

std::string TestDir(const std::string& name) {
  std::string d = Mnt() + "/" + name;
  REQUIRE(mkdir(d.c_str(), 0777) == 0);
  REQUIRE(chmod(d.c_str(), 0777) == 0);
  return d;
}

struct stat StatOf(const std::string& path) {
  struct stat st;
  INFO(path);
  REQUIRE(lstat(path.c_str(), &st) == 0);
  return st;
}

void WriteFile(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  INFO(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  REQUIRE(close(fd) == 0);
}

}  // namespace nacre::qa
