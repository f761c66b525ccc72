// The fsx checker: first against a local file (checks the checker itself),
// then >= 100,000 ops on a file on a nacre-fuse mount. The seed is printed;
// NACRE_SEED replays a run, NACRE_FSX_OPS changes the count.
#include <unistd.h>

#include <iostream>

#include <catch2/catch.hpp>

#include "qa/fs/fs_test_util.h"
#include "qa/fs/fsx.h"

using namespace nacre::qa;

namespace {

uint64_t OpsFromEnv(uint64_t dflt) {
  const char* s = getenv("NACRE_FSX_OPS");
  return s ? std::strtoull(s, nullptr, 0) : dflt;
}

void Report(const char* where, const FsxOptions& o, const FsxResult& r) {
  std::cout << "fsx " << where << ": seed " << o.seed << " (NACRE_SEED=" << o.seed << " replays), " << r.ops_done
            << " ops:";
  for (int i = 0; i < 8; ++i) std::cout << " " << FsxOpName(i) << "=" << r.counts[i];
  std::cout << "\n";
  if (!r.first_error.empty()) {
    std::cout << "fsx " << where << ": " << r.first_error << "; the last ops:\n";
    for (const auto& op : r.last_ops) std::cout << "  " << op << "\n";
  }
}

}  // namespace

TEST_CASE("fsx: the checker agrees with a local file") {
  char tmpl[] = "/tmp/nacre-fsx-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  FsxOptions o;
  o.seed = SeedFromEnv();
  o.ops = 5000;
  FsxResult r = RunFsx(dir + "/f", o);
  Report("local", o, r);
  unlink((dir + "/f").c_str());
  rmdir(dir.c_str());
  INFO("seed " << o.seed << ": " << r.first_error);
  CHECK(r.first_error.empty());
  CHECK(r.ops_done == o.ops);
  CHECK(r.counts[1] > 0);  // it wrote
}

TEST_CASE("fsx: 100000 random ops on the mount match the model") {
  FsTestEnv env;
  nacre::Status s = env.Start();
  INFO(s.ToString());
  REQUIRE(s.ok());
  auto mnt = env.Mount();
  INFO(mnt.status().ToString());
  REQUIRE(mnt.ok());
  FsxOptions o;
  o.seed = SeedFromEnv();
  o.ops = OpsFromEnv(100000);
  FsxResult r = RunFsx(*mnt + "/fsx.file", o);
  Report("mount", o, r);
  INFO("seed " << o.seed << ": " << r.first_error);
  CHECK(r.first_error.empty());
  CHECK(r.mismatches == 0);
  CHECK(r.ops_done == o.ops);
}
