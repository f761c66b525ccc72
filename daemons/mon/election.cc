#include "daemons/mon/election.h"

#include <algorithm>
#include <cassert>
#include <charconv>

#include "common/log.h"
#include "daemons/mon/paxos_log.h"

namespace nacre::mon {

Elector::Elector(const PaxosOptions& opts, ElectionHost* host) : opts_(opts), host_(host) { assert(host_); }

Status Elector::Load(const PaxosStorage& storage) {
  NACRE_ASSIGN_OR_RETURN(epoch_, ReadU64(storage, paxos_keys::kElectionEpoch, 0));
  NACRE_ASSIGN_OR_RETURN(auto vote, storage.Get(paxos_keys::kElectionVote));
  voted_ = -1;
  if (vote) {
    int v = -1;
    auto [p, ec] = std::from_chars(vote->data(), vote->data() + vote->size(), v);
    if (ec != std::errc() || p != vote->data() + vote->size() || v < -1 || v >= opts_.num_mons)
      return Corruption("election: bad vote record");
    voted_ = v;
  }
  role_ = PaxosRole::kElecting;
  leader_ = -1;
  quorum_.clear();
  candidate_ = yielded_ = waited_for_better_ = false;
  acked_.clear();
  elapsed_ = 0;
  return Status::OK();
}

bool Elector::InQuorum(int rank) const { return std::binary_search(quorum_.begin(), quorum_.end(), rank); }

void Elector::Persist() {
  host_->ElectionWrite(StoreWrite{paxos_keys::kElectionEpoch, std::to_string(epoch_)});
  host_->ElectionWrite(StoreWrite{paxos_keys::kElectionVote, std::to_string(voted_)});
}

void Elector::EnterEpoch(uint64_t epoch) {
  assert(epoch > epoch_ && epoch % 2 == 1);
  epoch_ = epoch;
  voted_ = -1;
  role_ = PaxosRole::kElecting;
  leader_ = -1;
  quorum_.clear();
  candidate_ = yielded_ = waited_for_better_ = deferred_ = false;
  acked_.clear();
  elapsed_ = 0;
  host_->OnElectionStarted(epoch_);
}

void Elector::Start() {
  EnterEpoch(epoch_ % 2 == 0 ? epoch_ + 1 : epoch_ + 2);
  Campaign();
}

void Elector::Campaign() {
  assert(role_ == PaxosRole::kElecting && epoch_ % 2 == 1 && voted_ == -1);
  candidate_ = true;
  voted_ = opts_.rank;
  acked_.insert(opts_.rank);
  Persist();  // the self-vote is durable before any PROPOSE leaves
  NLOG(paxos, kDebug) << "mon." << opts_.rank << " calls an election, epoch " << epoch_;
  if (static_cast<int>(acked_.size()) == opts_.num_mons) {
    Victory();
    return;
  }
  for (int r = 0; r < opts_.num_mons; ++r)
    if (r != opts_.rank) SendPropose(r);
}

void Elector::StartAfter(uint32_t ticks) {
  if (ticks == 0 || ticks >= TimeoutTicks()) return Start();
  // Enter the next election epoch without voting: a proposal from a better
  // rank that arrives meanwhile gets our vote; otherwise Tick() campaigns in
  // this same epoch when the wait is over.
  EnterEpoch(epoch_ % 2 == 0 ? epoch_ + 1 : epoch_ + 2);
  Persist();
  elapsed_ = TimeoutTicks() - ticks;
  deferred_ = true;
}

void Elector::SendPropose(int to) {
  proto::PaxosMessage m;
  m.set_op(proto::PAXOS_OP_PROPOSE);
  m.set_epoch(epoch_);
  host_->ElectionSend(to, std::move(m));
}

void Elector::SendAck(int to) {
  proto::PaxosMessage m;
  m.set_op(proto::PAXOS_OP_ACK);
  m.set_epoch(epoch_);
  host_->ElectionSend(to, std::move(m));
}

proto::PaxosMessage Elector::VictoryMessage() const {
  assert(role_ == PaxosRole::kLeader);
  proto::PaxosMessage m;
  m.set_op(proto::PAXOS_OP_VICTORY);
  m.set_epoch(epoch_);
  for (int r : quorum_) m.add_quorum(r);
  return m;
}

void Elector::Tick() {
  if (role_ != PaxosRole::kElecting) return;
  ++elapsed_;
  const bool running = candidate_ && !yielded_;
  if (elapsed_ >= TimeoutTicks()) {
    if (running && static_cast<int>(acked_.size()) >= opts_.majority()) {
      Victory();
    } else if (deferred_ && voted_ == -1) {
      deferred_ = false;
      Campaign();
    } else if (yielded_ && !waited_for_better_) {
      // A better candidate ran in this epoch and may have won without us.
      // Calling a new epoch would unseat it (and it would exclude us again,
      // forever); instead say once more that we are here, in this epoch: a
      // leader that hears that from outside its quorum re-elects with us.
      waited_for_better_ = true;
      elapsed_ = 0;
      for (int r = 0; r < opts_.num_mons; ++r)
        if (r != opts_.rank) SendPropose(r);
    } else {
      Start();
    }
    return;
  }
  if (running && elapsed_ % opts_.retransmit_ticks == 0) {
    // Proposals may have been lost: ask again those that have not voted.
    for (int r = 0; r < opts_.num_mons; ++r)
      if (acked_.count(r) == 0) SendPropose(r);
  }
}

void Elector::Handle(int from, const proto::PaxosMessage& m) {
  assert(from >= 0 && from < opts_.num_mons && from != opts_.rank);
  switch (m.op()) {
    case proto::PAXOS_OP_PROPOSE:
      HandlePropose(from, m.epoch());
      break;
    case proto::PAXOS_OP_ACK:
      HandleAck(from, m.epoch());
      break;
    case proto::PAXOS_OP_VICTORY:
      HandleVictory(from, m.epoch(), std::vector<int>(m.quorum().begin(), m.quorum().end()));
      break;
    default:
      assert(false && "not an election message");
  }
}

void Elector::HandlePropose(int from, uint64_t epoch) {
  if (epoch % 2 == 0) return;  // proposals live in odd epochs
  if (epoch < epoch_) {
    // A monitor outside the quorum wants in: re-elect so it can join. From
    // inside the quorum it is a stale or duplicated message.
    if (role_ == PaxosRole::kLeader && !InQuorum(from)) {
      NLOG(paxos, kInfo) << "mon." << opts_.rank << ": mon." << from << " outside the quorum proposes; re-electing";
      Start();
    }
    return;
  }
  if (epoch > epoch_) {
    EnterEpoch(epoch);
    Persist();
  }
  assert(epoch == epoch_ && role_ == PaxosRole::kElecting);
  if (voted_ == from) {
    SendAck(from);  // our ACK may have been lost
    return;
  }
  if (voted_ == opts_.rank) {
    if (from < opts_.rank) {
      yielded_ = true;  // a better candidate runs; let it win (next epoch if need be)
    } else {
      SendPropose(from);  // make sure the worse candidate hears of us
    }
    return;
  }
  if (voted_ >= 0) return;  // one vote per epoch, already given
  if (from < opts_.rank) {
    voted_ = from;
    Persist();  // before the ACK, in the same Ready
    SendAck(from);
    return;
  }
  // We rank better than the proposer: run ourselves in this epoch.
  candidate_ = true;
  voted_ = opts_.rank;
  acked_ = {opts_.rank};
  Persist();
  for (int r = 0; r < opts_.num_mons; ++r)
    if (r != opts_.rank) SendPropose(r);
}

void Elector::HandleAck(int from, uint64_t epoch) {
  if (epoch != epoch_ || role_ != PaxosRole::kElecting || !candidate_) return;
  assert(voted_ == opts_.rank);
  acked_.insert(from);
  if (!yielded_ && static_cast<int>(acked_.size()) == opts_.num_mons) Victory();
}

void Elector::Victory() {
  assert(role_ == PaxosRole::kElecting && candidate_ && epoch_ % 2 == 1);
  assert(static_cast<int>(acked_.size()) >= opts_.majority());
  epoch_ += 1;
  voted_ = -1;
  role_ = PaxosRole::kLeader;
  leader_ = opts_.rank;
  quorum_.assign(acked_.begin(), acked_.end());  // std::set: ascending
  candidate_ = false;
  acked_.clear();
  Persist();
  NLOG(paxos, kInfo) << "mon." << opts_.rank << " won the election, epoch " << epoch_ << ", quorum of "
                     << quorum_.size();
  for (int r : quorum_)
    if (r != opts_.rank) host_->ElectionSend(r, VictoryMessage());
  host_->OnWonElection(epoch_, quorum_);
}

void Elector::HandleVictory(int from, uint64_t epoch, const std::vector<int>& quorum) {
  if (epoch % 2 == 1 || epoch < epoch_) return;
  if (epoch == epoch_) {
    if (role_ == PaxosRole::kPeon && leader_ == from) return;  // duplicate
    NLOG(paxos, kError) << "mon." << opts_.rank << ": mon." << from << " claims epoch " << epoch
                        << " which already has leader mon." << leader_ << "; ignored";
    return;
  }
  std::vector<int> q = quorum;
  std::sort(q.begin(), q.end());
  q.erase(std::unique(q.begin(), q.end()), q.end());
  bool sane = static_cast<int>(q.size()) >= opts_.majority() && static_cast<int>(q.size()) <= opts_.num_mons &&
              std::binary_search(q.begin(), q.end(), from) && q.front() >= 0 && q.back() < opts_.num_mons;
  if (!sane || !std::binary_search(q.begin(), q.end(), opts_.rank)) return;
  epoch_ = epoch;
  voted_ = -1;
  role_ = PaxosRole::kPeon;
  leader_ = from;
  quorum_ = std::move(q);
  candidate_ = yielded_ = false;
  acked_.clear();
  elapsed_ = 0;
  Persist();
  host_->OnLostElection(epoch_, leader_, quorum_);
}

}  // namespace nacre::mon
