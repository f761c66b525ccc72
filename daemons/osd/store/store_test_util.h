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
  o.data_file_max = 4 << 20;  // data files roll under crashes too
  return o;
}

}  // namespace nacre::osd::store::testing
