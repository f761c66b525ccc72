// The fixed-point logarithm behind straw2: exact at powers of two, strictly
// increasing over its whole domain, and close to the real log2.
#include <catch2/catch.hpp>

#include <cmath>

#include "crush/fixed_log.h"

namespace nacre::crush {
namespace {

TEST_CASE("FixedLog2 is exact at powers of two", "[crush][log]") {
  for (int k = 0; k <= kDrawBits; ++k)
    CHECK(FixedLog2(1u << k) == (static_cast<int64_t>(k - kDrawBits) << 32));
  static_assert(FixedLog2(1u << kDrawBits) == 0);
}

TEST_CASE("FixedLog2 is strictly increasing and within 3e-6 of log2", "[crush][log]") {
  int64_t prev = FixedLog2(1);
  double worst = 0;
  for (uint32_t u = 2; u <= (1u << kDrawBits); ++u) {
    const int64_t v = FixedLog2(u);
    if (v <= prev) FAIL("not increasing at u=" << u);
    prev = v;
    if (u % 97 == 0) {
      const double exact = std::log2(static_cast<double>(u)) - kDrawBits;
      worst = std::max(worst, std::abs(static_cast<double>(v) / 4294967296.0 - exact));
    }
  }
  CHECK(worst < 3e-6);
}

}  // namespace
}  // namespace nacre::crush
