// The shared mount of the POSIX suite: one cluster and one nacre-fuse
// mount for the whole binary (started on first use, torn down at exit by
// FsTestEnv's destructor), and small helpers for syscall checks.
#pragma once

#include <errno.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "qa/fs/fs_test_util.h"

namespace nacre::qa {

// The mount point (REQUIREs that the environment came up).
const std::string& Mnt();
// A fresh directory on the mount for one test: MNT/<name>.
std::string TestDir(const std::string& name);
struct stat StatOf(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);

}  // namespace nacre::qa

// The syscall must fail with this errno.
#define CHECK_ERRNO(call, err)            \
  do {                                    \
    errno = 0;                            \
    CHECK((call) == -1);                  \
    CHECK(errno == (err));                \
  } while (0)
#define REQUIRE_OK(call) REQUIRE((call) == 0)
