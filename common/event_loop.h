// EventLoop: time, timers and deferred work, behind one interface so that the
// same daemon code runs on real time (AsioEventLoop) and on the simulator's
// virtual time (sim::SimEventLoop).
//
// Every callback posted to a loop runs on that loop's thread, one at a time:
// code driven by one loop needs no locks of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace nacre {

class EventLoop {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimerId = uint64_t;

  virtual ~EventLoop() = default;

  // Monotonic time since an arbitrary origin (virtual under the simulator).
  virtual Duration Now() const = 0;
  // Runs fn on the loop after `delay`. Returns an id for Cancel().
  virtual TimerId CallAfter(Duration delay, std::function<void()> fn) = 0;
  // Cancels a pending timer; a no-op if it already ran or was cancelled.
  virtual void Cancel(TimerId id) = 0;
  // Runs fn on the loop as soon as possible. Safe from any thread.
  virtual void Post(std::function<void()> fn) = 0;
};

}  // namespace nacre
