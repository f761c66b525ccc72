// SimMessenger: nacre::msg::Messenger over the simulated network.
//
// Daemon code written against msg::Messenger runs unchanged on it. Connect
// takes the peer's entity name (the address is ignored: the world knows where
// every node is) and the handshake is assumed to succeed. What the network
// does to a message is decided by SimWorld's NetworkOptions and partitions:
//
// - kLossy connections behave like datagrams: each message may be lost,
//   duplicated or delayed past later ones, and is dropped if the link is
//   partitioned or either end crashed while it was in flight. A peer found
//   down or restarted resets the connection (OnReset, then Connect again),
//   as a real lossy connection is dropped on any fault. This is harsher than
//   TCP, on purpose: a core correct here is correct over TCP.
// - kLossless connections keep the messenger contract: in order, exactly
//   once while both ends live. A lost message is retransmitted after a delay;
//   a partition or a down peer holds the queue (bounded by
//   max_queued_per_connection) until it heals; a restarted peer gets
//   OnRemoteReset and the undelivered messages.
//
// Every send, delivery and drop is recorded in the world's trace.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "common/msg/messenger.h"
#include "common/sim/sim_world.h"

namespace nacre::sim {

class SimMessenger;

class SimConnection : public msg::Connection, public std::enable_shared_from_this<SimConnection> {
 public:
  SimConnection(SimWorld& world, SimMessenger* owner, std::string peer_name, msg::Policy policy,
                uint64_t peer_incarnation, bool open);

  const std::string& peer_name() const override { return peer_name_; }
  msg::EntityAddr peer_addr() const override;
  msg::Policy policy() const override { return policy_; }
  Status Send(msg::Message m) override;
  void MarkDown() override;
  bool IsOpen() const override { return open_; }

  // For SimMessenger: closes without callbacks (shutdown, crash).
  void Close();
  uint64_t peer_incarnation() const { return peer_inc_; }
  void set_peer_incarnation(uint64_t inc) { peer_inc_ = inc; }
  size_t queued() const { return outq_.size(); }

 private:
  struct Pending {
    msg::Message m;
    Duration due;
    uint64_t fingerprint;
  };

  void SendLossy(msg::Message m, int to, uint64_t fp);
  void SchedulePump(Duration delay);
  void Pump();

  SimWorld& world_;
  SimMessenger* owner_;  // nullptr once closed
  int node_;             // our node id
  uint64_t my_inc_;      // our incarnation
  std::string peer_name_;
  msg::Policy policy_;
  uint64_t peer_inc_;    // 0 until known
  bool open_;
  // Lossless only.
  std::deque<Pending> outq_;
  Duration last_due_{0};
  bool pump_scheduled_ = false;
};

class SimMessenger : public msg::Messenger {
 public:
  SimMessenger(SimWorld& world, int node, std::string name, uint64_t incarnation, EventLoop& loop);
  ~SimMessenger() override;

  const std::string& my_name() const override { return name_; }
  Status Bind(const msg::EntityAddr& addr) override;
  msg::EntityAddr my_addr() const override { return addr_; }
  void SetDispatcher(msg::Dispatcher* d) override { dispatcher_ = d; }
  Status Start() override;
  void Shutdown() override;
  msg::ConnectionRef Connect(const std::string& peer_name, const msg::EntityAddr& addr, msg::Policy policy) override;
  EventLoop& loop() override { return loop_; }

  // --- for SimConnection and the world
  int node() const { return node_; }
  uint64_t incarnation() const { return incarnation_; }
  // A message from `from_name` (node `from_node`, incarnation `from_inc`)
  // arrives; dispatched at once on this node.
  void Deliver(const std::string& from_name, uint64_t from_inc, msg::Policy policy, msg::Message&& m);
  // Tells the dispatcher (on the loop) that `c` was reset or that its peer
  // restarted.
  void PostReset(const std::shared_ptr<SimConnection>& c, bool remote);

 private:
  SimWorld& world_;
  int node_;
  std::string name_;
  uint64_t incarnation_;
  EventLoop& loop_;
  msg::EntityAddr addr_;
  msg::Dispatcher* dispatcher_ = nullptr;
  bool started_ = false;
  bool shutdown_ = false;
  // One connection per peer entity, at most one per node of the world.
  std::map<std::string, std::shared_ptr<SimConnection>, std::less<>> conns_;
};

}  // namespace nacre::sim
