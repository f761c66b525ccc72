// Helpers shared by the object store tests: a temp directory that cleans up
// after itself and a deterministic content generator.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace nacre::osd::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nacre-store-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Bytes that depend on (seed, position) only, so any reader can check them.
inline std::string Pattern(uint64_t seed, size_t len) {
  std::string s(len, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < len; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x & 0xff);
  }
  return s;
}

}  // namespace nacre::osd::store::testing

#include "daemons/osd/store/object_store.h"

namespace nacre::osd::store::testing {

// The crash test's writer and checker agree on these.
inline const char* const kCrashColl = "2.1f";
inline size_t CrashSize(uint64_t id) { return id % 4 == 0 ? 64 * 1024 + (id * 7919) % (400 << 10) : (id * 131) % 20000; }
inline ObjectId CrashOid(uint64_t id) { return ObjectId{"", "obj." + std::to_string(id)}; }
inline StoreOptions CrashOpts(const std::string& dir) {
  StoreOptions o;
  o.path = dir;
  o.data_file_max = 1 << 20;    // data files roll (and get reclaimed) under crashes too
  o.reclaim_interval = 0;       // the writer reclaims back to back itself
  o.compact_chunk = 128 << 10;  // several commit-thread steps per file
  return o;
}

// Pipe messages from the writer: an acknowledged write is the bare id; the
// flags below mark the other events (id in the low bits).
inline constexpr uint64_t kCrashRemoving = 1ull << 62;   // removal of id submitted
inline constexpr uint64_t kCrashRemoved = 1ull << 61;    // removal of id acknowledged
inline constexpr uint64_t kCrashReclaimed = 1ull << 63;  // a reclaim round deleted files (id 0) or moved blocks (id 1)
inline constexpr uint64_t kCrashIdMask = (1ull << 60) - 1;
// After writing id, the writer revisits the id it wrote kCrashLag earlier
// (same thread): rewrites it with the same bytes, removes it, or leaves it.
inline constexpr uint64_t kCrashLag = 64;
enum class CrashFate { kKeep, kRewrite, kRemove };
inline CrashFate CrashFateOf(uint64_t id) {
  switch ((id / 4) % 3) {
    case 0: return CrashFate::kRewrite;
    case 1: return CrashFate::kRemove;
    default: return CrashFate::kKeep;
  }
}

}  // namespace nacre::osd::store::testing
