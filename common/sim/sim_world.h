// SimWorld: a whole cluster in one deterministic process.
//
// The world owns virtual time, one seeded PRNG, the event queue, the nodes
// and the network's fault state. Every callback (a timer, a message delivery,
// a fault) is an event ordered by (time, sequence number), so a run is a pure
// function of its seed and the code under test: no threads, no real clock, no
// std::random_device, and no container whose iteration order depends on
// pointers. Virtual time jumps from event to event; nothing sleeps.
//
// Nodes run a SimProcess built by a factory, with a SimEventLoop, a
// SimMessenger and a SimDisk (see SimNodeContext). Crash() destroys the
// process, its loop (so its pending timers are dropped) and its messenger
// (so its in-flight messages are dropped); the disk survives, minus unsynced
// writes. Restart() builds a fresh process from the factory over that disk.
//
// Invariants: time never goes backwards; an event tied to a node runs only if
// that node is up and in the incarnation it was scheduled in; at most
// kMaxPendingEvents events are queued (Schedule refuses more).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/event_loop.h"
#include "common/msg/message.h"
#include "common/sim/sim_disk.h"
#include "common/sim/sim_rng.h"
#include "common/sim/sim_trace.h"

namespace nacre::sim {

class SimEventLoop;
class SimMessenger;
class SimWorld;

using Duration = EventLoop::Duration;

// The network's behaviour; may be changed at any time (the nemesis does).
// Lossy connections see every fault as a datagram network would: loss,
// duplication and reordering of single messages. Lossless connections see
// them as a real lossless messenger shows them to the application: a lost
// message is resent after `lossless_retry` (in order), nothing is duplicated
// or reordered, and a partition or a down peer holds the queue until healed.
struct NetworkOptions {
  Duration min_delay = std::chrono::milliseconds(1);
  Duration max_delay = std::chrono::milliseconds(10);
  double loss = 0;        // probability a message is lost
  double duplicate = 0;   // probability a (lossy) message is delivered twice
  double reorder = 0;     // probability a (lossy) message gets `reorder_delay` extra
  Duration reorder_delay = std::chrono::milliseconds(50);
  Duration lossless_retry = std::chrono::milliseconds(20);
  size_t max_queued_per_connection = 4096;  // lossless: Send fails beyond this
  bool lose_unsynced_on_crash = true;       // see SimDisk::OnCrash
};

struct SimStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;  // delivered after a later message of the same link
  uint64_t dropped_partition = 0;
  uint64_t dropped_crash = 0;
  uint64_t held = 0;
  uint64_t retransmitted = 0;
  uint64_t timers = 0;
  uint64_t events_dropped = 0;  // node events dropped because the node crashed
  uint64_t crashes = 0;
  uint64_t restarts = 0;
};

// What runs on a node: a daemon's shell, or a test's stand-in for one.
class SimProcess {
 public:
  virtual ~SimProcess() = default;
};

struct SimNodeContext {
  SimWorld& world;
  int node;
  const std::string& name;
  uint64_t incarnation;
  SimEventLoop& loop;
  SimMessenger& messenger;
  SimDisk& disk;
};

using SimNodeFactory = std::function<std::unique_ptr<SimProcess>(SimNodeContext&)>;

class SimWorld {
 public:
  static constexpr size_t kMaxPendingEvents = size_t{1} << 22;
  static constexpr int kMaxNodes = 1024;

  // `trace_lines` > 0 keeps that many readable trace lines for debugging.
  explicit SimWorld(uint64_t seed, size_t trace_lines = 0);
  ~SimWorld();
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  uint64_t seed() const { return seed_; }
  Duration Now() const { return now_; }
  SimRng& rng() { return rng_; }
  Trace& trace() { return trace_; }
  SimStats& stats() { return stats_; }
  NetworkOptions& network() { return net_; }

  // --- events
  // Runs fn at Now() + delay. With node >= 0 the event belongs to that node's
  // current incarnation and is dropped if the node crashes first (and not
  // scheduled at all if the node is down). Returns 0 when refused.
  uint64_t Schedule(Duration delay, int node, std::function<void()> fn);
  // Runs the next event; false when there is none.
  bool RunOne();
  // Runs every event due within `d`, then sets the clock to Now() + d.
  // Stops early (returning false) after `max_events`.
  bool RunFor(Duration d, uint64_t max_events = 100'000'000);
  // Runs events until done() holds (checked after each event) or `limit` of
  // virtual time passes. Returns done().
  bool RunUntil(const std::function<bool()>& done, Duration limit, uint64_t max_events = 100'000'000);
  size_t pending_events() const { return queue_.size(); }

  // --- nodes
  // Adds a node and starts it. Names are entity names ("mon.a"), unique.
  int AddNode(std::string name, SimNodeFactory factory);
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  int NodeByName(std::string_view name) const;  // -1 if unknown
  const std::string& NodeName(int node) const;
  bool IsUp(int node) const;
  uint64_t Incarnation(int node) const;
  void Crash(int node);
  void Restart(int node);
  SimDisk& disk(int node);
  SimProcess* process(int node);       // nullptr while down
  SimMessenger* messenger(int node);   // nullptr while down
  SimEventLoop* loop(int node);        // nullptr while down

  // --- partitions (directed links between node ids)
  void Block(int from, int to);
  void Unblock(int from, int to);
  // Blocks every link from a node of `a` to a node of `b`, and back if
  // `both_ways`.
  void BlockGroups(const std::vector<int>& a, const std::vector<int>& b, bool both_ways);
  void HealPartitions();
  bool IsBlocked(int from, int to) const { return blocked_.count({from, to}) != 0; }
  size_t blocked_links() const { return blocked_.size(); }

  // --- readable traces: a test may say what its messages are (only used
  // for the kept trace lines, so it never changes a run).
  using MessageDescriber = std::function<std::string(const msg::Message&)>;
  void SetMessageDescriber(MessageDescriber d) { describer_ = std::move(d); }
  std::string Describe(const msg::Message& m) const {
    return trace_.keeps_lines() && describer_ ? describer_(m) : std::string();
  }

  // --- for SimMessenger: per-link sequence numbers to measure reordering.
  uint64_t NextLinkSeq(int from, int to) { return ++link_sent_[{from, to}]; }
  void NoteLinkDelivery(int from, int to, uint64_t seq);

 private:
  struct Event {
    Duration at;
    uint64_t seq;
    int node;
    uint64_t incarnation;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  struct Node {
    std::string name;
    SimNodeFactory factory;
    uint64_t incarnation = 0;
    bool up = false;
    std::unique_ptr<SimDisk> disk;
    std::unique_ptr<SimEventLoop> loop;
    std::unique_ptr<SimMessenger> messenger;
    std::unique_ptr<SimProcess> process;
  };

  void Boot(int node);
  Node& node_ref(int node);
  const Node& node_ref(int node) const;

  uint64_t seed_;
  SimRng rng_;
  Trace trace_;
  SimStats stats_;
  NetworkOptions net_;
  Duration now_{0};
  uint64_t next_seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::vector<std::unique_ptr<Node>> nodes_;  // stable addresses: contexts refer to names
  std::map<std::string, int, std::less<>> by_name_;
  std::set<std::pair<int, int>> blocked_;
  std::map<std::pair<int, int>, uint64_t> link_sent_;
  std::map<std::pair<int, int>, uint64_t> link_delivered_max_;
  MessageDescriber describer_;
};

}  // namespace nacre::sim
