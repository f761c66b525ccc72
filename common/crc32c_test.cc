#include <catch2/catch.hpp>

#include <string>

#include "common/crc32c.h"

using nacre::Crc32c;

TEST_CASE("crc32c matches the standard check value", "[crc32c]") {
  CHECK(Crc32c("123456789") == 0xE3069283u);
  CHECK(Crc32c("") == 0u);
}

TEST_CASE("crc32c chains across pieces", "[crc32c]") {
  std::string s(100000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 131 + 7);
  uint32_t whole = Crc32c(s);
  uint32_t chained = Crc32c(s.substr(37000), Crc32c(s.substr(0, 37000)));
  CHECK(whole == chained);
  s[5000] ^= 1;
  CHECK(Crc32c(s) != whole);
}
