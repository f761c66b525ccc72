// WaitFor: the one way tests wait for a condition. It polls `pred` with a
// growing nap (1 ms up to 20 ms) until it holds or `deadline` passes, and
// returns whether it held. Deadlines are generous on purpose: tests run on a
// loaded two-core machine, and a condition that never comes true fails the
// test at the deadline, so a long deadline costs nothing when all is well.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

namespace nacre {

inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  auto nap = std::chrono::milliseconds(1);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace nacre
