#include "common/sim/sim_messenger.h"

#include <algorithm>
#include <cassert>

#include "common/log.h"

namespace nacre::sim {

namespace {

uint64_t Fingerprint(const msg::Message& m) {
  uint64_t h = HashBytes(std::string_view(reinterpret_cast<const char*>(&m.type), sizeof(m.type)));
  h = HashBytes(m.header, h);
  return HashBytes(m.payload.view(), h);
}

Duration SampleDelay(SimWorld& w) {
  const NetworkOptions& n = w.network();
  uint64_t lo = static_cast<uint64_t>(std::max<int64_t>(0, n.min_delay.count()));
  uint64_t hi = static_cast<uint64_t>(std::max<int64_t>(0, n.max_delay.count()));
  if (hi < lo) hi = lo;
  return Duration(static_cast<int64_t>(w.rng().Range(lo, hi)));
}

}  // namespace

// ---------------------------------------------------------------- connection

SimConnection::SimConnection(SimWorld& world, SimMessenger* owner, std::string peer_name, msg::Policy policy,
                             uint64_t peer_incarnation, bool open)
    : world_(world),
      owner_(owner),
      node_(owner->node()),
      my_inc_(owner->incarnation()),
      peer_name_(std::move(peer_name)),
      policy_(policy),
      peer_inc_(peer_incarnation),
      open_(open) {}

msg::EntityAddr SimConnection::peer_addr() const {
  int to = world_.NodeByName(peer_name_);
  return msg::EntityAddr{"sim", static_cast<uint16_t>(to < 0 ? 0 : to)};
}

void SimConnection::Close() {
  open_ = false;
  owner_ = nullptr;
  outq_.clear();
}

void SimConnection::MarkDown() {
  if (!open_) return;
  SimMessenger* owner = owner_;
  Close();
  if (owner) owner->PostReset(shared_from_this(), false);
}

Status SimConnection::Send(msg::Message m) {
  if (!open_) return ShuttingDown("connection to " + peer_name_ + " is closed");
  const NetworkOptions& net = world_.network();
  if (policy_ == msg::Policy::kLossless && outq_.size() >= net.max_queued_per_connection)
    return TooBig("connection to " + peer_name_ + ": send queue full");
  int to = world_.NodeByName(peer_name_);
  uint64_t fp = Fingerprint(m);
  world_.stats().sent++;
  world_.trace().Record(TraceKind::kSend, world_.Now(), node_, to, fp, world_.Describe(m));
  if (policy_ == msg::Policy::kLossy) {
    SendLossy(std::move(m), to, fp);
    return Status::OK();
  }
  Duration due = std::max(world_.Now() + SampleDelay(world_), last_due_);
  last_due_ = due;
  outq_.push_back(Pending{std::move(m), due, fp});
  if (!pump_scheduled_) SchedulePump(due - world_.Now());
  return Status::OK();
}

void SimConnection::SendLossy(msg::Message m, int to, uint64_t fp) {
  SimWorld& w = world_;
  const NetworkOptions& net = w.network();
  bool peer_gone = to < 0 || !w.IsUp(to) || (peer_inc_ != 0 && w.Incarnation(to) != peer_inc_);
  if (peer_gone) {
    // A real lossy connection to a dead or restarted peer fails: drop the
    // message and reset, so the application reconnects.
    w.stats().dropped_crash++;
    w.trace().Record(TraceKind::kDropCrash, w.Now(), node_, to, fp);
    SimMessenger* owner = owner_;
    Close();
    if (owner) owner->PostReset(shared_from_this(), false);
    return;
  }
  if (peer_inc_ == 0) peer_inc_ = w.Incarnation(to);
  if (w.IsBlocked(node_, to)) {
    w.stats().dropped_partition++;
    w.trace().Record(TraceKind::kDropPartition, w.Now(), node_, to, fp);
    return;
  }
  if (w.rng().Chance(net.loss)) {
    w.stats().lost++;
    w.trace().Record(TraceKind::kDropLoss, w.Now(), node_, to, fp);
    return;
  }
  int copies = 1;
  if (w.rng().Chance(net.duplicate)) {
    copies = 2;
    w.stats().duplicated++;
    w.trace().Record(TraceKind::kDuplicate, w.Now(), node_, to, fp);
  }
  uint64_t seq = w.NextLinkSeq(node_, to);
  const std::string& from_name = owner_->my_name();
  for (int c = 0; c < copies; ++c) {
    Duration delay = SampleDelay(w);
    if (w.rng().Chance(net.reorder)) delay += net.reorder_delay;
    uint64_t to_inc = peer_inc_;
    w.Schedule(delay, -1,
               [&w, from = node_, from_inc = my_inc_, to, to_inc, from_name, seq, fp, m]() mutable {
                 // In flight across a crash of either end: lost with the process.
                 if (!w.IsUp(from) || w.Incarnation(from) != from_inc || !w.IsUp(to) ||
                     w.Incarnation(to) != to_inc) {
                   w.stats().dropped_crash++;
                   w.trace().Record(TraceKind::kDropCrash, w.Now(), from, to, fp);
                   return;
                 }
                 if (w.IsBlocked(from, to)) {  // the link was cut while in flight
                   w.stats().dropped_partition++;
                   w.trace().Record(TraceKind::kDropPartition, w.Now(), from, to, fp);
                   return;
                 }
                 w.NoteLinkDelivery(from, to, seq);
                 w.stats().delivered++;
                 w.trace().Record(TraceKind::kDeliver, w.Now(), from, to, fp, w.Describe(m));
                 w.messenger(to)->Deliver(from_name, from_inc, msg::Policy::kLossy, std::move(m));
               });
  }
}

void SimConnection::SchedulePump(Duration delay) {
  assert(policy_ == msg::Policy::kLossless);
  pump_scheduled_ = true;
  std::weak_ptr<SimConnection> weak = shared_from_this();
  uint64_t ev = world_.Schedule(std::max(delay, Duration::zero()), node_, [weak] {
    if (auto self = weak.lock()) self->Pump();
  });
  if (ev == 0) pump_scheduled_ = false;
}

void SimConnection::Pump() {
  pump_scheduled_ = false;
  if (!open_ || outq_.empty()) return;
  SimWorld& w = world_;
  const NetworkOptions& net = w.network();
  int to = w.NodeByName(peer_name_);
  Pending& head = outq_.front();
  // A lossless connection needs both directions (acks flow back).
  if (to < 0 || !w.IsUp(to) || w.IsBlocked(node_, to) || w.IsBlocked(to, node_)) {
    w.stats().held++;
    w.trace().Record(TraceKind::kHold, w.Now(), node_, to, head.fingerprint);
    SchedulePump(net.lossless_retry);
    return;
  }
  uint64_t inc = w.Incarnation(to);
  if (peer_inc_ != 0 && inc != peer_inc_ && owner_) owner_->PostReset(shared_from_this(), true);
  peer_inc_ = inc;
  if (w.rng().Chance(net.loss)) {
    w.stats().retransmitted++;
    w.trace().Record(TraceKind::kRetransmit, w.Now(), node_, to, head.fingerprint);
    SchedulePump(net.lossless_retry);
    return;
  }
  msg::Message m = std::move(head.m);
  uint64_t fp = head.fingerprint;
  outq_.pop_front();
  w.stats().delivered++;
  w.trace().Record(TraceKind::kDeliver, w.Now(), node_, to, fp, w.Describe(m));
  // Keep ourselves alive: the peer's handler may drop its last reference.
  std::shared_ptr<SimConnection> keep = shared_from_this();
  w.messenger(to)->Deliver(owner_->my_name(), my_inc_, msg::Policy::kLossless, std::move(m));
  if (open_ && !outq_.empty() && !pump_scheduled_) SchedulePump(outq_.front().due - w.Now());
}

// ---------------------------------------------------------------- messenger

SimMessenger::SimMessenger(SimWorld& world, int node, std::string name, uint64_t incarnation, EventLoop& loop)
    : world_(world),
      node_(node),
      name_(std::move(name)),
      incarnation_(incarnation),
      loop_(loop),
      addr_{"sim", static_cast<uint16_t>(node)} {}

SimMessenger::~SimMessenger() { Shutdown(); }

Status SimMessenger::Bind(const msg::EntityAddr& addr) {
  // The simulated network routes by name; the address is kept for my_addr().
  addr_ = addr;
  if (addr_.port == 0) addr_.port = static_cast<uint16_t>(node_);
  return Status::OK();
}

Status SimMessenger::Start() {
  if (shutdown_) return ShuttingDown("messenger was shut down");
  started_ = true;
  return Status::OK();
}

void SimMessenger::Shutdown() {
  shutdown_ = true;
  dispatcher_ = nullptr;
  for (auto& [name, c] : conns_) c->Close();
  conns_.clear();
}

msg::ConnectionRef SimMessenger::Connect(const std::string& peer_name, const msg::EntityAddr&, msg::Policy policy) {
  if (shutdown_) return std::make_shared<SimConnection>(world_, this, peer_name, policy, 0, false);
  auto it = conns_.find(peer_name);
  if (it != conns_.end() && it->second->IsOpen()) return it->second;
  assert(conns_.size() <= static_cast<size_t>(SimWorld::kMaxNodes));
  auto c = std::make_shared<SimConnection>(world_, this, peer_name, policy, 0, true);
  conns_[peer_name] = c;
  std::weak_ptr<SimConnection> weak = c;
  loop_.Post([this, weak] {
    auto c2 = weak.lock();
    if (c2 && c2->IsOpen() && dispatcher_) dispatcher_->OnConnect(c2);
  });
  return c;
}

void SimMessenger::Deliver(const std::string& from_name, uint64_t from_inc, msg::Policy policy, msg::Message&& m) {
  if (!started_ || shutdown_ || !dispatcher_) {
    world_.stats().dropped_crash++;  // nobody listening
    return;
  }
  std::shared_ptr<SimConnection> c;
  auto it = conns_.find(from_name);
  if (it != conns_.end() && it->second->IsOpen()) c = it->second;
  if (c && c->peer_incarnation() != 0 && c->peer_incarnation() != from_inc) {
    // The peer restarted. A lossless session carries on with the new
    // incarnation; a lossy one is dropped and replaced.
    if (c->policy() == msg::Policy::kLossless) {
      c->set_peer_incarnation(from_inc);
      PostReset(c, true);
    } else {
      c->Close();
      PostReset(c, false);
      c.reset();
    }
  }
  bool fresh = false;
  if (!c) {
    c = std::make_shared<SimConnection>(world_, this, from_name, policy, from_inc, true);
    conns_[from_name] = c;
    fresh = true;
  } else if (c->peer_incarnation() == 0) {
    c->set_peer_incarnation(from_inc);
  }
  if (fresh) dispatcher_->OnConnect(c);
  if (dispatcher_) dispatcher_->OnMessage(c, std::move(m));
}

void SimMessenger::PostReset(const std::shared_ptr<SimConnection>& c, bool remote) {
  std::weak_ptr<SimConnection> weak = c;
  loop_.Post([this, weak, remote] {
    auto c2 = weak.lock();
    if (!c2 || !dispatcher_) return;
    if (remote) {
      dispatcher_->OnRemoteReset(c2);
    } else {
      dispatcher_->OnReset(c2);
    }
  });
}

}  // namespace nacre::sim
