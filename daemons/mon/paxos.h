// Paxos: the monitors' Multi-Paxos, as a pure state machine.
//
// Shaped like etcd raft: the core never touches disk, network or clocks.
// Inputs are Step(from, message), Tick() and Propose(value); the output is a
// Ready batch (store writes, then messages, committed values, role changes,
// proposal outcomes) that the caller carries out before calling Advance().
// The protocol is Ceph's monitor Paxos:
//
// Election (election.h): a leader elected by rank among a majority; its
// quorum is the set of monitors that voted for it. Epochs are odd while
// electing, even when stable; no epoch has two leaders.
//
// Recovery ("collect"): the new leader picks a proposal number pn above any
// it has seen (counter * kPnStride + rank, so pns are unique per monitor),
// and sends COLLECT. Each peon promises not to accept anything below pn and
// answers LAST with its committed range, its accepted-but-uncommitted value
// (with the pn it was accepted under) and any committed values the leader
// lacks. Once every quorum member answered and the leader holds everything
// any of them committed, the uncommitted value with the highest pn at
// last_committed + 1 (if any) is proposed again first: it may already have
// been chosen.
//
// Normal case: one version at a time. BEGIN (pn, version, value) -> each
// peon persists it as accepted and answers ACCEPT -> once every member of
// the quorum accepted (as Ceph: not just a majority, so that peons with a
// lease are never behind) the leader commits and sends COMMIT. A peon that
// is behind gets the missing committed values in the same message (catch-up),
// or the application's snapshot if they were trimmed.
//
// Leases: a peon may serve reads while its lease is valid. To be safe
// without synchronized clocks, a lease counts from the peon's own tick at
// the moment it sent the reply the leader echoes back (so it starts before
// the leader granted it); the leader grants leases only while every quorum
// member has answered one of its messages sent within the last lease_ticks;
// and a new leader commits nothing until commit_wait_ticks (2 leases + slack)
// after its victory, by which time any lease granted by an earlier leader
// has run out -- unless every monitor is in its quorum: each dropped its
// lease when it voted, so none can still read under an old one. A peon
// holding an accepted-but-uncommitted value is not readable (that value may
// be committed already). IsReadable() therefore implies last_committed() is
// the newest committed version (given ticks of equal length on every
// monitor).
//
// Proposals: Propose() on the leader queues the value; on a peon it is
// forwarded to the leader (and forwarded again after a leader change or
// while no commit is seen), so delivery is at least once; values carry
// their origin (rank, boot nonce, sequence) so the leader drops duplicates
// and the proposer reports the outcome (Ready::outcomes). While electing,
// Propose fails with kAgain ("not in quorum"), which the caller retries.
//
// Liveness: the leader calls an election when collect or begin does not
// finish within phase_timeout_ticks or a quorum member is silent for
// lease_ack_timeout_ticks; a peon calls one when the leader is silent for
// lease_timeout_ticks. Every unanswered message is resent every
// retransmit_ticks, and every handler is idempotent, so loss, duplication
// and reordering cost time, never safety.
//
// Driving it (see paxos_driver.h for the shell the daemon uses):
//   Paxos p(opts, &storage);  p.Load();
//   on a message:  p.Step(rank_of_sender, msg);   every tick: p.Tick();
//   after each:    while (p.HasReady()) { Ready r = p.TakeReady();
//                    persist r.writes (+snapshot, committed) atomically, synced;
//                    send r.messages; apply r.committed; p.Advance(); }
// Step, Tick and Propose must not be called between TakeReady and Advance.
//
// What is persisted, and when (all through Ready::writes, before the
// messages of the same Ready leave): the election epoch and vote (before an
// ACK or PROPOSE), the promised pn (before LAST), the last generated pn
// (before COLLECT), the accepted value (before ACCEPT, and on the leader
// before BEGIN), each committed value with last_committed (before COMMIT),
// trimming, and the boot nonce at Load.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "daemons/mon/election.h"
#include "daemons/mon/paxos_log.h"
#include "daemons/mon/paxos_options.h"
#include "daemons/mon/paxos_types.h"

namespace nacre::mon {

class Paxos : private ElectionHost {
 public:
  // `storage` must outlive the Paxos object.
  Paxos(PaxosOptions opts, const PaxosStorage* storage);

  // Reads the persisted state and starts an election. Call once, first.
  Status Load();

  void Tick();
  void Step(int from, const proto::PaxosMessage& m);
  // Returns the proposal's id (see Ready::outcomes). Ids are unique within
  // this Paxos object; proposals made before a restart are not reported.
  Result<uint64_t> Propose(std::string value);

  bool HasReady() const { return !ready_.empty(); }
  Ready TakeReady();
  void Advance();

  PaxosRole role() const { return elector_.role(); }
  uint64_t epoch() const { return elector_.epoch(); }
  int leader() const { return elector_.leader(); }
  const std::vector<int>& quorum() const { return elector_.quorum(); }
  int rank() const { return opts_.rank; }
  uint64_t first_committed() const { return log_.first_committed(); }
  uint64_t last_committed() const { return log_.last_committed(); }
  uint64_t accepted_pn() const { return log_.accepted_pn(); }
  // True when this monitor may answer reads from its state at
  // last_committed() (see "Leases" above).
  bool IsReadable() const;
  // Leader: recovery is done and it may propose (after the commit wait).
  bool IsActiveLeader() const;
  uint64_t now_tick() const { return now_; }
  size_t pending_proposals() const { return mine_.size(); }
  const PaxosOptions& options() const { return opts_; }

 private:
  enum class Phase { kNone, kCollecting, kActive, kUpdating };
  // What the leader knows of each monitor during its term.
  struct Peer {
    bool replied = false;        // answered the current COLLECT
    bool accepted = false;       // accepted the version being begun
    bool lc_known = false;
    uint64_t lc = 0;             // its last_committed, as last reported
    uint64_t last_reply = 0;     // our tick when it last answered
    uint64_t confirmed = 0;      // our send tick of the newest message it answered
    uint64_t peer_tick = 0;      // its tick when it sent its newest answer
  };
  struct Mine {
    std::string data;
    uint64_t deadline = 0;
    uint64_t last_sent = 0;
  };
  using ProposalKey = std::tuple<int, uint64_t, uint64_t>;  // origin rank, nonce, seq
  static ProposalKey KeyOf(const proto::PaxosEntry& e) {
    return {e.origin_rank(), e.origin_nonce(), e.origin_seq()};
  }
  // The keys of the last kRecentKeys committed proposals, to drop duplicates.
  class RecentKeys {
   public:
    void Add(const ProposalKey& k);
    bool Contains(const ProposalKey& k) const { return set_.count(k) != 0; }
    const std::deque<ProposalKey>& keys() const { return order_; }  // oldest first

   private:
    static constexpr size_t kRecentKeys = 1024;
    std::set<ProposalKey> set_;
    std::deque<ProposalKey> order_;
  };

  // ElectionHost.
  void ElectionSend(int to, proto::PaxosMessage m) override { Send(to, std::move(m)); }
  void ElectionWrite(StoreWrite w) override { ready_.writes.push_back(std::move(w)); }
  void OnElectionStarted(uint64_t epoch) override;
  void OnWonElection(uint64_t epoch, const std::vector<int>& quorum) override;
  void OnLostElection(uint64_t epoch, int leader, const std::vector<int>& quorum) override;

  // paxos.cc: plumbing shared by both roles.
  proto::PaxosMessage NewMessage(proto::PaxosOp op) const;
  void Send(int to, proto::PaxosMessage m);
  void Reply(int to, proto::PaxosMessage m, const proto::PaxosMessage& request);
  bool WithinLimits(const proto::PaxosMessage& m) const;
  void ResetTerm();
  void ReportRole();
  void StartElection(const char* why);
  void Learn(const proto::PaxosMessage& m);
  // log_.FillCatchUp, plus our recent proposal keys on a snapshot.
  void FillCatchUp(uint64_t peer_lc, proto::PaxosMessage* m) const;
  // A proposal known committed (at `version`, or at/below it for a snapshot).
  void NoteCommittedKey(const ProposalKey& k, uint64_t version);
  void OnCommitted(const proto::PaxosEntry& e);
  void Submit(uint64_t seq);
  void ProposalsTick();
  void LoadRecentKeys();

  // paxos_leader.cc
  void Collect(uint64_t above_pn);
  void SendCollect(int to);
  void HandleLast(int from, const proto::PaxosMessage& m);
  void MaybeFinishCollect();
  void AddCandidate(const proto::PaxosEntry& e);
  void Enqueue(const proto::PaxosEntry& e);
  void MaybeBegin();
  void Begin(proto::PaxosEntry e);
  void SendBegin(int to);
  void HandleAccept(int from, const proto::PaxosMessage& m);
  void MaybeCommit();
  void Commit();
  void SendCommit(int to);
  void SendLeases();
  void HandleLeaseAck(int from, const proto::PaxosMessage& m);
  void HandleForward(int from, const proto::PaxosMessage& m);
  void NotePeerReply(int from, const proto::PaxosMessage& m);
  bool QuorumFresh() const;
  bool LeaderReadable() const;
  void LeaderTick();

  // paxos_peon.cc
  void HandleCollect(int from, const proto::PaxosMessage& m);
  void HandleBegin(int from, const proto::PaxosMessage& m);
  void HandleCommit(int from, const proto::PaxosMessage& m);
  void HandleLease(int from, const proto::PaxosMessage& m);
  bool PeonReadable() const;
  void PeonTick();

  const PaxosOptions opts_;
  const PaxosStorage* storage_;
  Ready ready_;  // before log_: the log appends to ready_.writes
  bool loaded_ = false;
  bool awaiting_advance_ = false;
  PaxosLog log_;
  Elector elector_;
  uint64_t now_ = 0;  // ticks since Load

  // --- the current term (reset by ResetTerm on every role change)
  Phase phase_ = Phase::kNone;  // the leader's; a peon's stays kNone
  // Leader.
  uint64_t pn_ = 0;
  uint64_t term_start_ = 0;
  uint64_t phase_start_ = 0;
  uint64_t last_retransmit_ = 0;
  uint64_t last_lease_ = 0;
  std::vector<Peer> peers_;                            // by rank
  std::map<uint64_t, proto::PaxosEntry> candidates_;   // version -> highest-pn accepted value
  std::optional<proto::PaxosEntry> recovered_;         // to propose first
  std::optional<uint64_t> recovery_version_;           // recovery done once committed
  bool recovery_done_ = false;
  std::deque<proto::PaxosEntry> queue_;                // proposals waiting for BEGIN
  std::set<ProposalKey> queued_keys_;
  // Peon.
  uint64_t last_heard_ = 0;    // our tick when the leader last spoke
  uint64_t lease_anchor_ = 0;  // our tick the current lease counts from
  uint64_t lease_lc_ = 0;      // the leader's last_committed when it granted it

  // --- proposals this monitor made (kept across terms)
  uint64_t next_seq_ = 0;
  std::map<uint64_t, Mine> mine_;
  RecentKeys recent_;
};

}  // namespace nacre::mon
