#include "daemons/mon/paxos_driver.h"

#include <cassert>
#include <cstdlib>

#include "common/log.h"
#include "daemons/mon/paxos_codec.h"
#include "messenger.pb.h"

namespace nacre::mon {

PaxosDriver::PaxosDriver(PaxosOptions opts, std::vector<MonPeer> monmap, msg::Messenger* messenger,
                         PaxosDurableStore* store, PaxosApplication* app, EventLoop::Duration tick_interval,
                         msg::Policy policy)
    : monmap_(std::move(monmap)),
      ms_(messenger),
      store_(store),
      app_(app),
      tick_(tick_interval),
      policy_(policy),
      view_(store, app),
      paxos_(std::move(opts), &view_) {
  assert(ms_ && store_ && app_);
  assert(static_cast<int>(monmap_.size()) == paxos_.options().num_mons);
  assert(tick_ > EventLoop::Duration::zero());
}

PaxosDriver::~PaxosDriver() {
  *alive_ = false;
  Stop();
}

Status PaxosDriver::Start() {
  assert(!running_);
  NACRE_RETURN_IF_ERROR(paxos_.Load());
  running_ = true;
  Pump();
  timer_ = ms_->loop().CallAfter(tick_, [this] { OnTick(); });
  return Status::OK();
}

void PaxosDriver::Stop() {
  if (!running_) return;
  running_ = false;
  ms_->loop().Cancel(timer_);
}

void PaxosDriver::OnTick() {
  if (!running_) return;
  paxos_.Tick();
  Pump();
  timer_ = ms_->loop().CallAfter(tick_, [this] { OnTick(); });
}

int PaxosDriver::RankOf(const std::string& name) const {
  for (size_t r = 0; r < monmap_.size(); ++r)
    if (monmap_[r].name == name) return static_cast<int>(r);
  return -1;
}

bool PaxosDriver::HandleMessage(const msg::ConnectionRef& con, const msg::Message& m) {
  if (m.type != proto::MSG_PAXOS) return false;
  if (!running_) return true;
  int from = RankOf(con->peer_name());
  if (from < 0) {
    NLOG(paxos, kWarn) << "paxos message from " << con->peer_name() << ", not in the monmap; dropped";
    return true;
  }
  auto decoded = DecodePaxosMessage(m);
  if (!decoded.ok()) {
    NLOG(paxos, kWarn) << "bad paxos message from " << con->peer_name() << ": " << decoded.status().ToString();
    return true;
  }
  paxos_.Step(from, *decoded);
  Pump();
  return true;
}

Result<uint64_t> PaxosDriver::Propose(std::string value) {
  if (!running_) return ShuttingDown("paxos driver stopped");
  auto r = paxos_.Propose(std::move(value));
  // Pumped from the loop, not here: with a quorum of one the value commits
  // inside this Pump, and its outcome must not reach the application before
  // the application has the id this call returns.
  std::weak_ptr<bool> alive = alive_;
  ms_->loop().Post([this, alive] {
    auto a = alive.lock();
    if (a && *a && running_) Pump();
  });
  return r;
}

void PaxosDriver::Pump() {
  // One Ready per input; nothing new appears without input, so one round is
  // the norm and two the bound.
  for (int round = 0; round < 2 && paxos_.HasReady(); ++round) {
    Ready r = paxos_.TakeReady();
    std::vector<StoreWrite> batch = std::move(r.writes);
    Status s = Status::OK();
    if (r.snapshot) s = app_->InstallSnapshot(*r.snapshot, &batch);
    for (size_t i = 0; s.ok() && i < r.committed.size(); ++i) s = app_->Apply(r.committed[i], &batch);
    if (s.ok() && !batch.empty()) s = store_->Commit(std::move(batch));
    if (!s.ok()) {
      NLOG(paxos, kError) << "mon." << paxos_.rank() << ": cannot persist or apply Paxos state: " << s.ToString()
                          << "; stopping";
      std::abort();
    }
    for (OutMessage& om : r.messages) {
      assert(om.to >= 0 && static_cast<size_t>(om.to) < monmap_.size());
      const MonPeer& peer = monmap_[static_cast<size_t>(om.to)];
      Status sent = ms_->Connect(peer.name, peer.addr, policy_)->Send(EncodePaxosMessage(std::move(om.msg)));
      // A lost message is the protocol's business (it resends); just note it.
      if (!sent.ok()) {
        NLOG(paxos, kDebug) << "send to " << peer.name << ": " << sent.ToString();
      }
    }
    paxos_.Advance();
    // After Advance: the application may propose from these callbacks.
    for (const RoleChange& rc : r.roles) app_->OnRoleChange(rc);
    for (const ProposalOutcome& o : r.outcomes) app_->OnProposalOutcome(o);
  }
  assert(!paxos_.HasReady());
}

}  // namespace nacre::mon
