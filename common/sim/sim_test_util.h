// Test helpers for the simulator's own tests: a Chatter process that sends
// numbered messages to random peers on a timer and records what it receives,
// so tests can measure what the simulated network did to the traffic.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/sim/sim_event_loop.h"
#include "common/sim/sim_messenger.h"
#include "common/sim/sim_world.h"
#include "proto/messenger.pb.h"

namespace nacre::sim::testing {

// What every Chatter of a world received, kept outside the processes so it
// survives crashes: received[node] = list of (sender name, seq).
struct ChatLog {
  std::map<int, std::vector<std::pair<std::string, uint64_t>>> received;
  std::map<int, uint64_t> sent;
};

class Chatter : public SimProcess, public msg::Dispatcher {
 public:
  Chatter(SimNodeContext& ctx, ChatLog* log, std::vector<std::string> peers, msg::Policy policy, Duration period)
      : world_(ctx.world), node_(ctx.node), loop_(ctx.loop), ms_(ctx.messenger), disk_(ctx.disk), log_(log),
        peers_(std::move(peers)), policy_(policy), period_(period) {
    ms_.SetDispatcher(this);
    (void)ms_.Start();
    // Resume the sequence from disk, so sequence numbers stay unique across
    // restarts (and so the test sees whether the disk survived).
    auto v = disk_.Get("seq");
    if (v) seq_ = std::stoull(*v);
    timer_ = loop_.CallAfter(period_, [this] { Fire(); });
  }
  ~Chatter() override { loop_.Cancel(timer_); }

  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override {
    proto::TestMsg t;
    if (!m.ParseHeader(&t)) return;
    log_->received[node_].emplace_back(con->peer_name(), t.seq());
  }

 private:
  void Fire() {
    if (!peers_.empty()) {
      const std::string& to = peers_[world_.rng().Uniform(peers_.size())];
      proto::TestMsg t;
      t.set_seq(++seq_);
      (void)disk_.Write({{"seq", std::to_string(seq_)}});
      disk_.Sync();
      auto con = ms_.Connect(to, msg::EntityAddr{}, policy_);
      if (con->Send(msg::Message::Make(proto::MSG_TEST, t)).ok()) log_->sent[node_]++;
    }
    timer_ = loop_.CallAfter(period_, [this] { Fire(); });
  }

  SimWorld& world_;
  int node_;
  EventLoop& loop_;
  SimMessenger& ms_;
  SimDisk& disk_;
  ChatLog* log_;
  std::vector<std::string> peers_;
  msg::Policy policy_;
  Duration period_;
  uint64_t seq_ = 0;
  EventLoop::TimerId timer_ = 0;
};

// Adds `n` chatters named "node.0".. that talk to each other.
inline void AddChatters(SimWorld& w, int n, ChatLog* log, msg::Policy policy,
                        Duration period = std::chrono::milliseconds(10)) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back("node." + std::to_string(i));
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> peers;
    for (int j = 0; j < n; ++j)
      if (j != i) peers.push_back(names[static_cast<size_t>(j)]);
    w.AddNode(names[static_cast<size_t>(i)], [log, peers, policy, period](SimNodeContext& ctx) {
      return std::make_unique<Chatter>(ctx, log, peers, policy, period);
    });
  }
}

}  // namespace nacre::sim::testing
