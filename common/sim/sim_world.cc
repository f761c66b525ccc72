#include "common/sim/sim_world.h"

#include <cassert>

#include "common/log.h"
#include "common/sim/sim_event_loop.h"
#include "common/sim/sim_messenger.h"

namespace nacre::sim {

SimWorld::SimWorld(uint64_t seed, size_t trace_lines) : seed_(seed), rng_(seed), trace_(trace_lines) {}

SimWorld::~SimWorld() {
  // Tear processes down before the queue, whose closures may refer to them.
  for (auto& n : nodes_) {
    n->process.reset();
    if (n->messenger) n->messenger->Shutdown();
    n->messenger.reset();
    n->loop.reset();
  }
}

uint64_t SimWorld::Schedule(Duration delay, int node, std::function<void()> fn) {
  if (delay < Duration::zero()) delay = Duration::zero();
  if (queue_.size() >= kMaxPendingEvents) {
    NLOG(sim, kError) << "event queue full (" << queue_.size() << "); event refused";
    return 0;
  }
  uint64_t inc = 0;
  if (node >= 0) {
    const Node& n = node_ref(node);
    if (!n.up) return 0;
    inc = n.incarnation;
  }
  uint64_t seq = ++next_seq_;
  queue_.push(Event{now_ + delay, seq, node, inc, std::move(fn)});
  return seq;
}

bool SimWorld::RunOne() {
  if (queue_.empty()) return false;
  // priority_queue::top is const; the event is moved out before pop.
  Event ev = std::move(const_cast<Event&>(queue_.top()));
  queue_.pop();
  assert(ev.at >= now_);
  now_ = ev.at;
  if (ev.node >= 0) {
    const Node& n = node_ref(ev.node);
    if (!n.up || n.incarnation != ev.incarnation) {
      stats_.events_dropped++;
      return true;
    }
  }
  ev.fn();
  return true;
}

bool SimWorld::RunFor(Duration d, uint64_t max_events) {
  Duration end = now_ + d;
  for (uint64_t i = 0; i < max_events; ++i) {
    if (queue_.empty() || queue_.top().at > end) {
      now_ = end;
      return true;
    }
    RunOne();
  }
  NLOG(sim, kError) << "RunFor stopped after " << max_events << " events";
  return false;
}

bool SimWorld::RunUntil(const std::function<bool()>& done, Duration limit, uint64_t max_events) {
  Duration end = now_ + limit;
  for (uint64_t i = 0; i < max_events; ++i) {
    if (done()) return true;
    if (queue_.empty() || queue_.top().at > end) {
      now_ = end;
      return done();
    }
    RunOne();
  }
  return done();
}

SimWorld::Node& SimWorld::node_ref(int node) {
  assert(node >= 0 && node < num_nodes());
  return *nodes_[static_cast<size_t>(node)];
}

const SimWorld::Node& SimWorld::node_ref(int node) const {
  assert(node >= 0 && node < num_nodes());
  return *nodes_[static_cast<size_t>(node)];
}

int SimWorld::AddNode(std::string name, SimNodeFactory factory) {
  assert(by_name_.count(name) == 0);
  assert(num_nodes() < kMaxNodes);
  int id = num_nodes();
  auto n = std::make_unique<Node>();
  n->name = std::move(name);
  n->factory = std::move(factory);
  n->disk = std::make_unique<SimDisk>();
  by_name_[n->name] = id;
  nodes_.push_back(std::move(n));
  Boot(id);
  return id;
}

int SimWorld::NodeByName(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

const std::string& SimWorld::NodeName(int node) const { return node_ref(node).name; }
bool SimWorld::IsUp(int node) const { return node_ref(node).up; }
uint64_t SimWorld::Incarnation(int node) const { return node_ref(node).incarnation; }
SimDisk& SimWorld::disk(int node) { return *node_ref(node).disk; }
SimProcess* SimWorld::process(int node) { return node_ref(node).process.get(); }
SimMessenger* SimWorld::messenger(int node) { return node_ref(node).messenger.get(); }
SimEventLoop* SimWorld::loop(int node) { return node_ref(node).loop.get(); }

void SimWorld::Boot(int id) {
  Node& n = node_ref(id);
  assert(!n.up);
  n.incarnation++;
  n.up = true;
  n.loop = std::make_unique<SimEventLoop>(*this, id);
  n.messenger = std::make_unique<SimMessenger>(*this, id, n.name, n.incarnation, *n.loop);
  SimNodeContext ctx{*this, id, n.name, n.incarnation, *n.loop, *n.messenger, *n.disk};
  n.process = n.factory(ctx);
}

void SimWorld::Crash(int id) {
  Node& n = node_ref(id);
  if (!n.up) return;
  // Down first, so nothing the teardown does can schedule work for the node.
  n.up = false;
  n.process.reset();
  n.messenger->Shutdown();
  n.messenger.reset();
  n.loop.reset();
  n.disk->OnCrash(rng_, net_.lose_unsynced_on_crash);
  stats_.crashes++;
  trace_.Record(TraceKind::kCrash, now_, id, -1, n.incarnation);
  NLOG(sim, kDebug) << "crash " << n.name << " incarnation " << n.incarnation;
}

void SimWorld::Restart(int id) {
  Node& n = node_ref(id);
  if (n.up) return;
  stats_.restarts++;
  trace_.Record(TraceKind::kRestart, now_, id, -1, n.incarnation + 1);
  NLOG(sim, kDebug) << "restart " << n.name;
  Boot(id);
}

void SimWorld::Block(int from, int to) {
  assert(from >= 0 && from < num_nodes() && to >= 0 && to < num_nodes());
  if (from == to) return;
  if (blocked_.insert({from, to}).second) trace_.Record(TraceKind::kPartition, now_, from, to, 0);
}

void SimWorld::Unblock(int from, int to) {
  if (blocked_.erase({from, to}) != 0) trace_.Record(TraceKind::kHeal, now_, from, to, 0);
}

void SimWorld::BlockGroups(const std::vector<int>& a, const std::vector<int>& b, bool both_ways) {
  for (int x : a) {
    for (int y : b) {
      Block(x, y);
      if (both_ways) Block(y, x);
    }
  }
}

void SimWorld::HealPartitions() {
  if (blocked_.empty()) return;
  blocked_.clear();
  trace_.Record(TraceKind::kHeal, now_, -1, -1, 0);
}

void SimWorld::NoteLinkDelivery(int from, int to, uint64_t seq) {
  uint64_t& max = link_delivered_max_[{from, to}];
  if (seq < max) stats_.reordered++;
  if (seq > max) max = seq;
}

}  // namespace nacre::sim
