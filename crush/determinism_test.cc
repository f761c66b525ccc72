// Placement must be the same in every process, run and machine: golden
// checksums pin the hash, the logarithm and the rule semantics; the same
// mappings must come out after encode/decode, after the text round trip,
// and in a child process.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "crush/crush_test_util.h"
#include "crush/formats.h"
#include "crush/hash.h"
#include "proto/crush.pb.h"

namespace nacre::crush {
namespace {

using testing::ClusterSpec;
using testing::kErasureRule;
using testing::kReplicatedRule;
using testing::MakeCluster;
using testing::MapAll;

// FNV-1a over the mappings: any change in placement changes it.
uint64_t Checksum(const std::vector<int>& all) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int v : all) {
    for (int i = 0; i < 4; ++i) {
      h ^= (static_cast<uint32_t>(v) >> (8 * i)) & 0xFF;
      h *= 0x100000001b3ull;
    }
  }
  return h;
}

// A map with mixed weights and classes so the golden values cover straw2
// weighting and class views, not just the uniform case.
CrushMap GoldenMap() {
  ClusterSpec spec;
  spec.weight = [](int osd) { return static_cast<uint32_t>(kWeightOne / 2 + (osd % 7) * 0x3000); };
  spec.device_class = [](int osd) { return osd % 3 == 0 ? std::string("ssd") : std::string("hdd"); };
  return MakeCluster(spec);
}

uint64_t GoldenChecksum(const CrushMap& m) {
  std::vector<uint32_t> rw = m.AllIn();
  rw[3] = 0;             // out
  rw[17] = 0x8000;       // half in
  std::vector<int> all = MapAll(m, kReplicatedRule, 3, 10000, rw);
  const std::vector<int> ec = MapAll(m, kErasureRule, 6, 10000, rw);
  all.insert(all.end(), ec.begin(), ec.end());
  return Checksum(all);
}

// Pinned values: if a change to the hash, the log table or the mapper moves
// these, it moves data in every cluster. Update them only on purpose.
constexpr uint64_t kGoldenChecksum = 0xbe78bfac8a9bab46ull;

TEST_CASE("hash values are pinned", "[crush][determinism]") {
  CHECK(Hash2(0, 0) == 0xceb4ed8au);
  CHECK(Hash3(0, 0, 0) == 0xcdb03990u);
  CHECK(Hash3(1, 2, 3) == 0xa44f8cfeu);
  CHECK(Hash3(0xFFFFFFFFu, 0x80000000u, 7) == 0x48ff8d5eu);
}

TEST_CASE("mappings match the golden checksum", "[crush][determinism]") {
  CHECK(GoldenChecksum(GoldenMap()) == kGoldenChecksum);
}

TEST_CASE("encode, decode and text round trips keep every mapping", "[crush][determinism]") {
  const CrushMap m = GoldenMap();
  const std::string bytes = m.EncodeToString();
  CHECK(bytes == GoldenMap().EncodeToString());  // deterministic encoding
  Result<CrushMap> decoded = CrushMap::DecodeFromString(bytes);
  REQUIRE(decoded.ok());
  CHECK(decoded->EncodeToString() == bytes);
  CHECK(GoldenChecksum(*decoded) == GoldenChecksum(m));

  Result<CrushMap> reparsed = ParseCrushText(FormatCrushText(m));
  INFO(reparsed.status().ToString());
  REQUIRE(reparsed.ok());
  CHECK(FormatCrushText(*reparsed) == FormatCrushText(m));
  CHECK(GoldenChecksum(*reparsed) == GoldenChecksum(m));
}

TEST_CASE("a child process computes the same mappings", "[crush][determinism]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child builds its own map from scratch and reports its checksum.
    close(fds[0]);
    const uint64_t sum = GoldenChecksum(GoldenMap());
    const bool ok = write(fds[1], &sum, sizeof(sum)) == static_cast<ssize_t>(sizeof(sum));
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  uint64_t child = 0;
  const ssize_t n = read(fds[0], &child, sizeof(child));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(n == static_cast<ssize_t>(sizeof(child)));
  CHECK(child == GoldenChecksum(GoldenMap()));
}

TEST_CASE("the hash mixes well", "[crush][determinism]") {
  // Flipping one input bit flips about half of the output bits.
  uint64_t flipped = 0, total = 0;
  for (uint32_t x = 0; x < 2000; ++x) {
    const uint32_t h = Hash3(x, 12345, 2);
    for (int bit = 0; bit < 32; ++bit) {
      flipped += __builtin_popcount(h ^ Hash3(x ^ (1u << bit), 12345, 2));
      flipped += __builtin_popcount(h ^ Hash3(x, 12345 ^ (1u << bit), 2));
      total += 64;
    }
  }
  CHECK(static_cast<double>(flipped) / total == Approx(0.5).epsilon(0.01));
}

}  // namespace
}  // namespace nacre::crush
