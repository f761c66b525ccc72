// SimEventLoop: nacre::EventLoop on the simulator's virtual time.
//
// One per node incarnation. Timers become world events tied to the node, so a
// crash drops them with the node; Cancel forgets the id so the event finds
// nothing to run. Post is a timer of zero delay: it runs after the current
// event, in order. The simulator is single-threaded, so "safe from any
// thread" reduces to "safe from any callback".
//
// Invariant: live_ holds exactly the ids of timers scheduled and neither run
// nor cancelled.
#pragma once

#include <functional>
#include <set>

#include "common/event_loop.h"

namespace nacre::sim {

class SimWorld;

class SimEventLoop : public EventLoop {
 public:
  SimEventLoop(SimWorld& world, int node) : world_(world), node_(node) {}

  Duration Now() const override;
  TimerId CallAfter(Duration delay, std::function<void()> fn) override;
  void Cancel(TimerId id) override;
  void Post(std::function<void()> fn) override;

  size_t pending_timers() const { return live_.size(); }
  int node() const { return node_; }

 private:
  SimWorld& world_;
  int node_;
  TimerId next_id_ = 1;
  std::set<TimerId> live_;
};

}  // namespace nacre::sim
