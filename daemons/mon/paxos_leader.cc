// Paxos, the leader's half: collect (recovery), begin/accept/commit, leases,
// forwarded proposals, and the leader's timers.
#include <algorithm>
#include <cassert>

#include "common/log.h"
#include "daemons/mon/paxos.h"

namespace nacre::mon {

// ------------------------------------------------------------------ collect

void Paxos::Collect(uint64_t above_pn) {
  assert(role() == PaxosRole::kLeader);
  uint64_t base = std::max({log_.last_pn(), log_.accepted_pn(), above_pn});
  pn_ = (base / kPnStride + 1) * kPnStride + static_cast<uint64_t>(opts_.rank);
  assert(pn_ > base);
  // Persisted before COLLECT leaves: a restarted leader never reuses a pn.
  log_.SetLastPn(pn_);
  log_.SetAcceptedPn(pn_);  // the leader promises itself
  phase_ = Phase::kCollecting;
  phase_start_ = last_retransmit_ = now_;
  for (Peer& p : peers_) p.replied = p.accepted = false;
  candidates_.clear();
  if (log_.uncommitted()) AddCandidate(*log_.uncommitted());
  NLOG(paxos, kDebug) << "mon." << opts_.rank << " collects with pn " << pn_ << " at lc " << log_.last_committed();
  for (int r : quorum())
    if (r != opts_.rank) SendCollect(r);
  MaybeFinishCollect();
}

void Paxos::SendCollect(int to) {
  proto::PaxosMessage m = NewMessage(proto::PAXOS_OP_COLLECT);
  m.set_pn(pn_);
  Send(to, std::move(m));
}

void Paxos::AddCandidate(const proto::PaxosEntry& e) {
  // Only last_committed + 1 can matter in the end (a value at or below it is
  // decided already); anything far ahead is a confused peer. At most one
  // version per quorum member is kept.
  if (e.version() <= log_.last_committed()) return;
  auto it = candidates_.find(e.version());
  if (it != candidates_.end()) {
    if (e.pn() > it->second.pn()) it->second = e;
    return;
  }
  if (candidates_.size() >= static_cast<size_t>(opts_.num_mons)) return;
  candidates_[e.version()] = e;
}

void Paxos::HandleLast(int from, const proto::PaxosMessage& m) {
  NotePeerReply(from, m);
  if (phase_ != Phase::kCollecting) return;  // late or duplicated
  if (m.pn() > pn_) {
    // It promised a higher pn to someone: start over above it.
    Collect(m.pn());
    return;
  }
  if (m.pn() < pn_) return;  // an answer to an earlier COLLECT
  Learn(m);
  peers_[static_cast<size_t>(from)].replied = true;
  if (m.has_proposal()) AddCandidate(m.proposal());
  MaybeFinishCollect();
}

void Paxos::MaybeFinishCollect() {
  if (phase_ != Phase::kCollecting) return;
  for (int r : quorum())
    if (r != opts_.rank && !peers_[static_cast<size_t>(r)].replied) return;
  // Every member answered. Until we hold everything any of them committed we
  // may not choose a value for last_committed + 1: ask again those ahead
  // (each answer brings the next batch).
  bool behind = false;
  for (int r : quorum()) {
    Peer& p = peers_[static_cast<size_t>(r)];
    if (r != opts_.rank && p.lc_known && p.lc > log_.last_committed()) {
      p.replied = false;
      SendCollect(r);
      behind = true;
    }
  }
  if (behind) return;
  phase_ = Phase::kActive;
  auto it = candidates_.find(log_.last_committed() + 1);
  if (it != candidates_.end()) {
    recovered_ = it->second;
    recovery_version_ = log_.last_committed() + 1;
    NLOG(paxos, kInfo) << "mon." << opts_.rank << " recovers an uncommitted value at " << *recovery_version_;
  } else {
    recovery_done_ = true;
  }
  candidates_.clear();
  NLOG(paxos, kDebug) << "mon." << opts_.rank << " finished collect, lc " << log_.last_committed();
  SendLeases();
  MaybeBegin();
}

// ------------------------------------------------------------------ proposals

void Paxos::Enqueue(const proto::PaxosEntry& e) {
  ProposalKey k = KeyOf(e);
  if (recent_.Contains(k) || queued_keys_.count(k) != 0) return;
  if (recovered_ && KeyOf(*recovered_) == k) return;
  const auto& u = log_.uncommitted();
  if (phase_ == Phase::kUpdating && u && KeyOf(*u) == k) return;
  if (queue_.size() >= opts_.max_pending_proposals) {
    NLOG(paxos, kDebug) << "mon." << opts_.rank << ": proposal queue full, dropping one from mon." << e.origin_rank();
    return;  // its proposer retries
  }
  queue_.push_back(e);
  queued_keys_.insert(k);
}

void Paxos::HandleForward(int, const proto::PaxosMessage& m) {
  if (!m.has_proposal()) return;
  Enqueue(m.proposal());
  MaybeBegin();
}

void Paxos::MaybeBegin() {
  if (role() != PaxosRole::kLeader || phase_ != Phase::kActive) return;
  // No commit until every lease an earlier leader may have granted is over.
  // A monitor drops its lease when it votes in a new election (ResetTerm),
  // so when every monitor is in this quorum none can still read under an
  // old lease, and there is nothing to wait for: a fresh cluster, or one
  // whose members all came back, commits at once.
  const bool all_voted = quorum().size() == static_cast<size_t>(opts_.num_mons);
  if (!all_voted && now_ < term_start_ + opts_.commit_wait_ticks()) return;
  if (recovered_) {
    proto::PaxosEntry e = std::move(*recovered_);
    recovered_.reset();
    Begin(std::move(e));
    return;
  }
  while (!queue_.empty()) {  // bounded by the queue's limit
    proto::PaxosEntry e = std::move(queue_.front());
    queue_.pop_front();
    queued_keys_.erase(KeyOf(e));
    if (recent_.Contains(KeyOf(e))) continue;  // committed meanwhile
    Begin(std::move(e));
    return;
  }
}

// ------------------------------------------------------------------ begin / commit

void Paxos::Begin(proto::PaxosEntry e) {
  assert(phase_ == Phase::kActive);
  e.set_version(log_.last_committed() + 1);
  e.set_pn(pn_);
  e.clear_data_len();
  log_.SetUncommitted(e);  // the leader's own acceptance, durable before BEGIN
  phase_ = Phase::kUpdating;
  phase_start_ = last_retransmit_ = now_;
  for (Peer& p : peers_) p.accepted = false;
  for (int r : quorum())
    if (r != opts_.rank) SendBegin(r);
  MaybeCommit();
}

void Paxos::SendBegin(int to) {
  assert(phase_ == Phase::kUpdating && log_.uncommitted());
  const Peer& p = peers_[static_cast<size_t>(to)];
  proto::PaxosMessage m = NewMessage(proto::PAXOS_OP_BEGIN);
  m.set_pn(pn_);
  m.set_version(log_.uncommitted()->version());
  *m.mutable_proposal() = *log_.uncommitted();
  if (p.lc_known && p.lc < log_.last_committed()) FillCatchUp(p.lc, &m);
  Send(to, std::move(m));
}

void Paxos::HandleAccept(int from, const proto::PaxosMessage& m) {
  NotePeerReply(from, m);
  if (phase_ != Phase::kUpdating) return;
  const proto::PaxosEntry& u = *log_.uncommitted();
  if (m.version() != u.version()) return;  // about another version: stale
  if (m.pn() > pn_) {
    Collect(m.pn());  // it promised more to someone else; our value is re-found
    return;
  }
  if (m.accepted() && m.pn() == pn_) {
    peers_[static_cast<size_t>(from)].accepted = true;
    MaybeCommit();
  } else if (!m.accepted() && m.last_committed() < log_.last_committed()) {
    SendBegin(from);  // it was behind; this one carries the catch-up
  }
}

void Paxos::MaybeCommit() {
  if (phase_ != Phase::kUpdating) return;
  for (int r : quorum())
    if (r != opts_.rank && !peers_[static_cast<size_t>(r)].accepted) return;
  Commit();
}

void Paxos::Commit() {
  assert(phase_ == Phase::kUpdating && log_.uncommitted());
  proto::PaxosEntry e = *log_.uncommitted();
  log_.Append(e);  // durable before COMMIT leaves
  OnCommitted(e);
  if (recovery_version_ && *recovery_version_ <= e.version()) recovery_done_ = true;
  phase_ = Phase::kActive;
  NLOG(paxos, kDebug) << "mon." << opts_.rank << " committed version " << e.version();
  for (int r : quorum())
    if (r != opts_.rank) SendCommit(r);
  log_.MaybeTrim();
  SendLeases();  // as Ceph: extend the lease after each commit
  MaybeBegin();
}

void Paxos::SendCommit(int to) {
  const Peer& p = peers_[static_cast<size_t>(to)];
  proto::PaxosMessage m = NewMessage(proto::PAXOS_OP_COMMIT);
  uint64_t lc = log_.last_committed();
  FillCatchUp(p.lc_known && p.lc < lc ? p.lc : lc - 1, &m);
  Send(to, std::move(m));
}

// ------------------------------------------------------------------ leases

void Paxos::NotePeerReply(int from, const proto::PaxosMessage& m) {
  Peer& p = peers_[static_cast<size_t>(from)];
  p.last_reply = now_;
  if (m.echo_tick() <= now_) p.confirmed = std::max(p.confirmed, m.echo_tick());
  p.peer_tick = std::max(p.peer_tick, m.sender_tick());
  if (!p.lc_known || m.last_committed() > p.lc) {
    p.lc = m.last_committed();
    p.lc_known = true;
  }
}

bool Paxos::QuorumFresh() const {
  for (int r : quorum()) {
    if (r == opts_.rank) continue;
    const Peer& p = peers_[static_cast<size_t>(r)];
    if (p.confirmed == 0 || p.confirmed + opts_.lease_ticks < now_) return false;
  }
  return true;
}

bool Paxos::LeaderReadable() const { return IsActiveLeader() && QuorumFresh(); }

void Paxos::SendLeases() {
  last_lease_ = now_;
  // Grant only what we hold ourselves: a fresh quorum and a finished recovery.
  const bool grant = LeaderReadable();
  for (int r : quorum()) {
    if (r == opts_.rank) continue;
    const Peer& p = peers_[static_cast<size_t>(r)];
    proto::PaxosMessage m = NewMessage(proto::PAXOS_OP_LEASE);
    if (grant && p.peer_tick > 0) m.set_lease_anchor(p.peer_tick);
    if (p.lc_known && p.lc < log_.last_committed()) FillCatchUp(p.lc, &m);
    Send(r, std::move(m));
  }
}

void Paxos::HandleLeaseAck(int from, const proto::PaxosMessage& m) { NotePeerReply(from, m); }

// ------------------------------------------------------------------ timers

void Paxos::LeaderTick() {
  const bool retransmit = now_ - last_retransmit_ >= opts_.retransmit_ticks;
  if (phase_ == Phase::kCollecting) {
    if (now_ - phase_start_ >= opts_.phase_timeout_ticks) {
      StartElection("collect did not finish");
      return;
    }
    if (retransmit) {
      last_retransmit_ = now_;
      for (int r : quorum()) {
        if (r == opts_.rank || peers_[static_cast<size_t>(r)].replied) continue;
        Send(r, elector_.VictoryMessage());  // it may have missed the victory
        SendCollect(r);
      }
    }
    return;
  }
  for (int r : quorum()) {
    if (r != opts_.rank && now_ - peers_[static_cast<size_t>(r)].last_reply > opts_.lease_ack_timeout_ticks) {
      StartElection("a quorum member stopped answering");
      return;
    }
  }
  if (phase_ == Phase::kUpdating) {
    if (now_ - phase_start_ >= opts_.phase_timeout_ticks) {
      StartElection("begin was not accepted in time");
      return;
    }
    if (retransmit) {
      last_retransmit_ = now_;
      for (int r : quorum())
        if (r != opts_.rank && !peers_[static_cast<size_t>(r)].accepted) SendBegin(r);
    }
  }
  if (now_ - last_lease_ >= opts_.lease_renew_ticks) SendLeases();
  MaybeBegin();
}

}  // namespace nacre::mon
