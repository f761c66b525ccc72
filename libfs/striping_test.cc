// Unit tests of the pure striping functions.
#include "libfs/striping.h"

#include <catch2/catch.hpp>

using namespace nacre::fs;

TEST_CASE("MapFileRange splits at object boundaries") {
  auto v = MapFileRange(4096, 4000, 5000);
  REQUIRE(v.size() == 3);
  CHECK(v[0] == ObjectExtent{0, 4000, 96, 0});
  CHECK(v[1] == ObjectExtent{1, 0, 4096, 96});
  CHECK(v[2] == ObjectExtent{2, 0, 808, 4192});
}

TEST_CASE("MapFileRange: empty range, exact object, default size") {
  CHECK(MapFileRange(4096, 123, 0).empty());
  auto v = MapFileRange(4096, 8192, 4096);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == ObjectExtent{2, 0, 4096, 0});
  auto d = MapFileRange(0, (4u << 20) - 1, 2);
  REQUIRE(d.size() == 2);
  CHECK(d[0].objno == 0);
  CHECK(d[1] == ObjectExtent{1, 0, 1, 1});
}

TEST_CASE("MapFileRange pieces are contiguous and sum to the length") {
  for (uint64_t os : {1u, 7u, 4096u}) {
    for (uint64_t off = 0; off < 20; off += 3) {
      for (uint64_t len = 0; len < 40; len += 5) {
        auto v = MapFileRange(os, off, len);
        uint64_t pos = off, sum = 0;
        for (const auto& e : v) {
          CHECK(e.objno * os + e.obj_off == pos);
          CHECK(e.obj_off + e.len <= os);
          CHECK(e.buf_off == sum);
          pos += e.len;
          sum += e.len;
        }
        CHECK(sum == len);
      }
    }
  }
}

TEST_CASE("DataObjectName uses Ceph's naming") {
  CHECK(DataObjectName(0x10000000000ull, 0) == "10000000000.00000000");
  CHECK(DataObjectName(0x1abc, 0x1f) == "1abc.0000001f");
  CHECK(DataObjectName(1, 0x123456789ull) == "1.123456789");
}

TEST_CASE("PlanTruncate removes and cuts the right objects") {
  auto p = PlanTruncate(100, 450, 120);
  CHECK(p.cut);
  CHECK(p.cut_objno == 1);
  CHECK(p.cut_len == 20);
  CHECK(p.remove == std::vector<uint64_t>{2, 3, 4});
  auto q = PlanTruncate(100, 450, 200);
  CHECK_FALSE(q.cut);
  CHECK(q.remove == std::vector<uint64_t>{2, 3, 4});
  auto z = PlanTruncate(100, 450, 0);
  CHECK(z.remove == std::vector<uint64_t>{0, 1, 2, 3, 4});
  CHECK(PlanTruncate(100, 100, 300).remove.empty());
}
