// The wall clock, in the units the wire and the stores use (time stamps in
// maps, object mtimes, the handshake's replay window). Intervals and
// deadlines use steady_clock (or the event loop's clock), never this.
#pragma once

#include <chrono>
#include <cstdint>

namespace nacre {

inline int64_t WallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t WallClockMs() { return WallClockNs() / 1000000; }

}  // namespace nacre
