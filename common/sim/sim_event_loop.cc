#include "common/sim/sim_event_loop.h"

#include <cassert>

#include "common/sim/sim_world.h"

namespace nacre::sim {

EventLoop::Duration SimEventLoop::Now() const { return world_.Now(); }

EventLoop::TimerId SimEventLoop::CallAfter(Duration delay, std::function<void()> fn) {
  if (delay < Duration::zero()) delay = Duration::zero();
  TimerId id = next_id_++;
  // The event is tied to this node's incarnation, and this loop lives exactly
  // as long as that incarnation, so `this` is valid whenever the event runs.
  uint64_t ev = world_.Schedule(delay, node_, [this, id, fn = std::move(fn)] {
    if (live_.erase(id) == 0) return;  // cancelled
    world_.stats().timers++;
    world_.trace().Record(TraceKind::kTimer, world_.Now(), node_, -1, id);
    fn();
  });
  if (ev == 0) return id;  // refused (queue full or node down): never runs
  live_.insert(id);
  assert(live_.size() <= SimWorld::kMaxPendingEvents);
  return id;
}

void SimEventLoop::Cancel(TimerId id) { live_.erase(id); }

void SimEventLoop::Post(std::function<void()> fn) { CallAfter(Duration::zero(), std::move(fn)); }

}  // namespace nacre::sim
