#include <catch2/catch.hpp>

#include <cstring>

#include "common/bytes.h"

using nacre::Bytes;

TEST_CASE("Bytes owns strings and raw buffers without copying", "[bytes]") {
  std::string s(1000, 'a');
  const char* where = s.data();
  Bytes b(std::move(s));
  CHECK(b.size() == 1000);
  CHECK(b.data() == where);  // moved in, not copied

  char* w = nullptr;
  Bytes raw = Bytes::Uninitialized(4096, &w);
  REQUIRE(w != nullptr);
  std::memset(w, 'z', 4096);
  CHECK(raw.size() == 4096);
  CHECK(raw.data() == w);
  CHECK(raw.view() == std::string(4096, 'z'));
}

TEST_CASE("Bytes slices share storage and clamp to the end", "[bytes]") {
  Bytes b = Bytes::Copy("0123456789");
  Bytes mid = b.Slice(3, 4);
  CHECK(mid.view() == "3456");
  CHECK(mid.data() == b.data() + 3);
  CHECK(mid.Slice(2).view() == "56");
  CHECK(b.Slice(8, 100).view() == "89");
  CHECK(b.Slice(20).empty());
  Bytes keep;
  {
    Bytes tmp = Bytes::Copy("short-lived owner");
    keep = tmp.Slice(6, 5);
  }
  CHECK(keep.view() == "lived");  // the slice keeps its owner alive
  CHECK(Bytes().view().empty());
}
