// Paxos: inputs, outputs, role changes and proposals; the leader's and the
// peon's halves of the protocol are in paxos_leader.cc and paxos_peon.cc.
#include "daemons/mon/paxos.h"

#include <algorithm>
#include <cassert>

#include "common/log.h"

namespace nacre::mon {

const char* PaxosRoleName(PaxosRole r) {
  switch (r) {
    case PaxosRole::kElecting: return "electing";
    case PaxosRole::kLeader: return "leader";
    case PaxosRole::kPeon: return "peon";
  }
  return "?";
}

void Paxos::RecentKeys::Add(const ProposalKey& k) {
  if (!set_.insert(k).second) return;
  order_.push_back(k);
  if (order_.size() > kRecentKeys) {
    set_.erase(order_.front());
    order_.pop_front();
  }
  assert(set_.size() == order_.size());
}

Paxos::Paxos(PaxosOptions opts, const PaxosStorage* storage)
    : opts_(std::move(opts)), storage_(storage), log_(opts_, storage, &ready_.writes), elector_(opts_, this) {
  assert(storage_);
}

Status Paxos::Load() {
  assert(!loaded_);
  NACRE_RETURN_IF_ERROR(opts_.Validate());
  NACRE_RETURN_IF_ERROR(log_.Load());
  NACRE_RETURN_IF_ERROR(elector_.Load(*storage_));
  LoadRecentKeys();
  peers_.assign(static_cast<size_t>(opts_.num_mons), Peer{});
  loaded_ = true;
  // A monitor that (re)starts is out of any quorum; it asks to be let in,
  // lower ranks first (see Elector::StartAfter).
  elector_.StartAfter(2 * static_cast<uint32_t>(opts_.rank));
  return Status::OK();
}

void Paxos::LoadRecentKeys() {
  // Rebuild the duplicate filter from the newest stored values, so a leader
  // that restarted still recognises proposals it committed just before.
  uint64_t lc = log_.last_committed();
  uint64_t from = std::max<uint64_t>(log_.first_committed(), lc >= 256 ? lc - 255 : 1);
  for (uint64_t v = from; v <= lc; ++v) {
    auto e = log_.Read(v);
    if (e.ok()) recent_.Add(KeyOf(*e));
  }
}

Ready Paxos::TakeReady() {
  assert(!awaiting_advance_);
  awaiting_advance_ = true;
  Ready r = std::move(ready_);
  ready_ = Ready();
  return r;
}

void Paxos::Advance() {
  assert(awaiting_advance_);
  awaiting_advance_ = false;
  log_.OnAdvance();
}

// ------------------------------------------------------------------ inputs

void Paxos::Tick() {
  assert(loaded_ && !awaiting_advance_);
  ++now_;
  elector_.Tick();
  switch (role()) {
    case PaxosRole::kLeader: LeaderTick(); break;
    case PaxosRole::kPeon: PeonTick(); break;
    case PaxosRole::kElecting: break;
  }
  ProposalsTick();
}

bool Paxos::WithinLimits(const proto::PaxosMessage& m) const {
  // Epochs grow by at most 2 per election and pns by kPnStride per collect:
  // nothing honest comes near 2^62, and the arithmetic on them cannot wrap.
  constexpr uint64_t kSaneMax = uint64_t{1} << 62;
  if (m.epoch() >= kSaneMax || m.pn() >= kSaneMax || m.proposal().pn() >= kSaneMax) return false;
  if (static_cast<size_t>(m.entries_size()) > opts_.max_catchup_versions) return false;
  if (m.quorum_size() > opts_.num_mons) return false;
  if (m.proposal().data().size() > opts_.max_value_bytes) return false;
  for (const auto& e : m.entries())
    if (e.data().size() > opts_.max_value_bytes) return false;
  return true;
}

void Paxos::Step(int from, const proto::PaxosMessage& m) {
  assert(loaded_ && !awaiting_advance_);
  if (from < 0 || from >= opts_.num_mons || from == opts_.rank || m.from_rank() != from) {
    NLOG(paxos, kWarn) << "mon." << opts_.rank << ": message claiming mon." << m.from_rank() << " from rank " << from
                       << " dropped";
    return;
  }
  if (!WithinLimits(m)) {
    NLOG(paxos, kWarn) << "mon." << opts_.rank << ": oversized message from mon." << from << " dropped";
    return;
  }
  const bool from_leader = role() == PaxosRole::kPeon && m.epoch() == epoch() && from == leader();
  const bool from_peon = role() == PaxosRole::kLeader && m.epoch() == epoch() && elector_.InQuorum(from);
  switch (m.op()) {
    case proto::PAXOS_OP_PROPOSE:
    case proto::PAXOS_OP_ACK:
    case proto::PAXOS_OP_VICTORY:
      elector_.Handle(from, m);
      break;
    case proto::PAXOS_OP_COLLECT:
      if (from_leader) HandleCollect(from, m);
      break;
    case proto::PAXOS_OP_BEGIN:
      if (from_leader) HandleBegin(from, m);
      break;
    case proto::PAXOS_OP_COMMIT:
      if (from_leader) HandleCommit(from, m);
      break;
    case proto::PAXOS_OP_LEASE:
      if (from_leader) HandleLease(from, m);
      break;
    case proto::PAXOS_OP_LAST:
      if (from_peon) HandleLast(from, m);
      break;
    case proto::PAXOS_OP_ACCEPT:
      if (from_peon) HandleAccept(from, m);
      break;
    case proto::PAXOS_OP_LEASE_ACK:
      if (from_peon) HandleLeaseAck(from, m);
      break;
    case proto::PAXOS_OP_FORWARD:
      if (from_peon) HandleForward(from, m);
      break;
    default:
      NLOG(paxos, kWarn) << "mon." << opts_.rank << ": unknown paxos op " << m.op() << " from mon." << from;
      break;
  }
}

Result<uint64_t> Paxos::Propose(std::string value) {
  assert(loaded_ && !awaiting_advance_);
  if (value.size() > opts_.max_value_bytes) return TooBig("paxos value larger than paxos_max_value_bytes");
  if (role() == PaxosRole::kElecting) return TryAgain("not in quorum: election in progress");
  if (mine_.size() >= opts_.max_pending_proposals) return TryAgain("too many proposals in flight");
  uint64_t seq = ++next_seq_;
  mine_[seq] = Mine{std::move(value), now_ + opts_.proposal_timeout_ticks, now_};
  Submit(seq);
  return seq;
}

// ------------------------------------------------------------------ outputs

proto::PaxosMessage Paxos::NewMessage(proto::PaxosOp op) const {
  proto::PaxosMessage m;
  m.set_op(op);
  m.set_epoch(epoch());
  m.set_first_committed(log_.first_committed());
  m.set_last_committed(log_.last_committed());
  return m;
}

void Paxos::Send(int to, proto::PaxosMessage m) {
  assert(to >= 0 && to < opts_.num_mons && to != opts_.rank);
  m.set_from_rank(opts_.rank);
  m.set_sender_tick(now_);
  ready_.messages.push_back(OutMessage{to, std::move(m)});
}

void Paxos::Reply(int to, proto::PaxosMessage m, const proto::PaxosMessage& request) {
  m.set_echo_tick(request.sender_tick());
  Send(to, std::move(m));
}

void Paxos::ReportRole() {
  ready_.roles.push_back(RoleChange{role(), epoch(), leader(), quorum()});
}

void Paxos::StartElection(const char* why) {
  NLOG(paxos, kInfo) << "mon." << opts_.rank << " (" << PaxosRoleName(role()) << ", epoch " << epoch()
                     << "): " << why << "; calling an election";
  elector_.Start();
}

// ------------------------------------------------------------------ roles

void Paxos::ResetTerm() {
  phase_ = Phase::kNone;
  pn_ = 0;
  term_start_ = phase_start_ = last_retransmit_ = last_lease_ = now_;
  for (Peer& p : peers_) p = Peer{};
  for (Peer& p : peers_) p.last_reply = now_;
  candidates_.clear();
  recovered_.reset();
  recovery_version_.reset();
  recovery_done_ = false;
  queue_.clear();
  queued_keys_.clear();
  last_heard_ = now_;
  lease_anchor_ = 0;
  lease_lc_ = 0;
}

void Paxos::OnElectionStarted(uint64_t) {
  ResetTerm();
  ReportRole();
}

void Paxos::OnWonElection(uint64_t, const std::vector<int>&) {
  ResetTerm();
  ReportRole();
  Collect(0);
  for (auto& [seq, mine] : mine_) Submit(seq);
}

void Paxos::OnLostElection(uint64_t, int, const std::vector<int>&) {
  ResetTerm();
  ReportRole();
  for (auto& [seq, mine] : mine_) Submit(seq);
}

// ------------------------------------------------------------------ values

void Paxos::Learn(const proto::PaxosMessage& m) {
  bool appended = false;
  if (m.has_snapshot() && m.snapshot().version() > log_.last_committed()) {
    const uint64_t v = m.snapshot().version();
    ready_.snapshot = PaxosSnapshotData{v, m.snapshot().data()};
    log_.InstallSnapshot(*ready_.snapshot);
    // The snapshot subsumes whatever this batch committed below it.
    auto& c = ready_.committed;
    c.erase(std::remove_if(c.begin(), c.end(), [v](const CommittedValue& x) { return x.version <= v; }), c.end());
    for (const auto& k : m.snapshot().recent()) NoteCommittedKey({k.origin_rank(), k.origin_nonce(), k.origin_seq()}, v);
    NLOG(paxos, kInfo) << "mon." << opts_.rank << " installed a snapshot at version " << v;
  }
  for (const proto::PaxosEntry& e : m.entries()) {
    if (e.version() <= log_.last_committed()) continue;
    if (e.version() != log_.last_committed() + 1) break;  // a gap: the rest comes later
    log_.Append(e);
    OnCommitted(e);
    appended = true;
  }
  if (appended) log_.MaybeTrim();
}

void Paxos::OnCommitted(const proto::PaxosEntry& e) {
  ready_.committed.push_back(CommittedValue{e.version(), e.data()});
  NoteCommittedKey(KeyOf(e), e.version());
}

void Paxos::NoteCommittedKey(const ProposalKey& k, uint64_t version) {
  recent_.Add(k);
  if (std::get<0>(k) != opts_.rank || std::get<1>(k) != log_.boot_nonce()) return;
  auto it = mine_.find(std::get<2>(k));
  if (it == mine_.end()) return;
  ready_.outcomes.push_back(ProposalOutcome{it->first, Status::OK(), version});
  mine_.erase(it);
}

void Paxos::FillCatchUp(uint64_t peer_lc, proto::PaxosMessage* m) const {
  log_.FillCatchUp(peer_lc, m);
  if (!m->has_snapshot()) return;
  // Bounded by RecentKeys' capacity. Keys of versions above the snapshot
  // come along too; they are committed all the same.
  for (const ProposalKey& k : recent_.keys()) {
    auto* pk = m->mutable_snapshot()->add_recent();
    pk->set_origin_rank(std::get<0>(k));
    pk->set_origin_nonce(std::get<1>(k));
    pk->set_origin_seq(std::get<2>(k));
  }
}

void Paxos::Submit(uint64_t seq) {
  auto it = mine_.find(seq);
  assert(it != mine_.end());
  it->second.last_sent = now_;
  proto::PaxosEntry e;
  e.set_origin_rank(opts_.rank);
  e.set_origin_nonce(log_.boot_nonce());
  e.set_origin_seq(seq);
  e.set_data(it->second.data);
  if (role() == PaxosRole::kLeader) {
    Enqueue(e);
    MaybeBegin();
  } else if (role() == PaxosRole::kPeon) {
    proto::PaxosMessage m = NewMessage(proto::PAXOS_OP_FORWARD);
    *m.mutable_proposal() = std::move(e);
    Send(leader(), std::move(m));
  }
}

void Paxos::ProposalsTick() {
  // Bounded by max_pending_proposals.
  for (auto it = mine_.begin(); it != mine_.end();) {
    Mine& mine = it->second;
    if (now_ >= mine.deadline) {
      ready_.outcomes.push_back(ProposalOutcome{it->first, TimedOut("proposal not seen committed in time"), 0});
      it = mine_.erase(it);
      continue;
    }
    if (role() != PaxosRole::kElecting && now_ - mine.last_sent >= opts_.forward_retry_ticks) Submit(it->first);
    ++it;
  }
}

bool Paxos::IsReadable() const {
  switch (role()) {
    case PaxosRole::kLeader: return LeaderReadable();
    case PaxosRole::kPeon: return PeonReadable();
    case PaxosRole::kElecting: return false;
  }
  return false;
}

bool Paxos::IsActiveLeader() const {
  return role() == PaxosRole::kLeader && (phase_ == Phase::kActive || phase_ == Phase::kUpdating) &&
         recovery_done_;
}

}  // namespace nacre::mon
