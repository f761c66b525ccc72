// Elector: chooses the monitor leader by rank among a majority, as Ceph's
// classic elector does, with one vote per epoch so that no epoch ever has two
// leaders.
//
// Epochs: odd while electing, even once a leader won (victory at epoch e+1
// for a vote held in odd epoch e). A monitor calls an election by moving to
// the next odd epoch and voting for itself; it proposes itself to every
// other monitor. A monitor votes (ACK) at most once per epoch, and persists
// the vote before the ACK leaves (the vote goes into the Ready's writes), so
// a restart cannot vote twice. A candidate that gathers every monitor's vote
// wins at once; one that gathers a majority wins when its election timer
// runs out. Because two majorities intersect and each voter votes once per
// epoch, at most one candidate wins in any epoch.
//
// Rank priority: a monitor votes for a proposer of lower rank than itself if
// it has not voted yet in that epoch; a proposer of higher rank makes it run
// itself, in the same epoch; a candidate that hears of a lower-ranked one
// stops claiming victory for that epoch (it cannot take back its own vote).
// Timers run out sooner for lower ranks (timeout + rank ticks), so after at
// most a couple of rounds the lowest rank that can reach a majority leads. A
// candidate that yielded does not open a new epoch at its first timeout (it
// would unseat the better candidate, which may have won without it); it
// repeats its proposal in the old epoch, which a leader takes as a request
// to join (below), and only calls a new election at the second timeout.
//
// A stable leader that hears a PROPOSE of an older epoch from a monitor
// outside its quorum calls a new election, so a monitor that comes back is
// taken into the quorum (Ceph does the same). Any message of a newer epoch
// moves a monitor into that epoch.
//
// The Elector is pure: it talks through ElectionHost (messages, store
// writes, role changes) and counts time in Tick()s.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "daemons/mon/paxos_options.h"
#include "daemons/mon/paxos_types.h"

namespace nacre::mon {

class ElectionHost {
 public:
  virtual ~ElectionHost() = default;
  // Queues m (op and epoch set) for rank `to`; the host stamps the rest.
  virtual void ElectionSend(int to, proto::PaxosMessage m) = 0;
  virtual void ElectionWrite(StoreWrite w) = 0;
  virtual void OnElectionStarted(uint64_t epoch) = 0;
  virtual void OnWonElection(uint64_t epoch, const std::vector<int>& quorum) = 0;
  virtual void OnLostElection(uint64_t epoch, int leader, const std::vector<int>& quorum) = 0;
};

class Elector {
 public:
  Elector(const PaxosOptions& opts, ElectionHost* host);

  // Reads the persisted epoch and vote. The monitor starts electing.
  Status Load(const PaxosStorage& storage);
  // Calls a new election (next odd epoch), now.
  void Start();
  // Calls an election after `ticks` unless a proposal arrives first. At
  // boot, ranks above 0 wait a little so rank 0's proposal reaches them
  // before they vote for themselves: otherwise every monitor votes for
  // itself in the first epoch and nobody wins until the timeout.
  void StartAfter(uint32_t ticks);
  void Tick();
  // PROPOSE, ACK and VICTORY.
  void Handle(int from, const proto::PaxosMessage& m);
  // The victory announcement of the current epoch (leader only), which the
  // leader resends to peons that have not answered yet.
  proto::PaxosMessage VictoryMessage() const;

  uint64_t epoch() const { return epoch_; }
  PaxosRole role() const { return role_; }
  int leader() const { return leader_; }
  const std::vector<int>& quorum() const { return quorum_; }
  bool InQuorum(int rank) const;
  int voted_for() const { return voted_; }

 private:
  // Votes for ourselves in the current (odd) epoch and proposes to all.
  void Campaign();
  void HandlePropose(int from, uint64_t epoch);
  void HandleAck(int from, uint64_t epoch);
  void HandleVictory(int from, uint64_t epoch, const std::vector<int>& quorum);
  // Moves to `epoch` as an elector with no vote yet (not persisted).
  void EnterEpoch(uint64_t epoch);
  void Persist();
  void SendPropose(int to);
  void SendAck(int to);
  void Victory();
  uint32_t TimeoutTicks() const { return opts_.election_timeout_ticks + static_cast<uint32_t>(opts_.rank); }

  const PaxosOptions opts_;  // a copy: small, and no lifetime to track
  ElectionHost* host_;
  uint64_t epoch_ = 0;
  int voted_ = -1;  // whom this monitor voted for in epoch_ (odd epochs only)
  PaxosRole role_ = PaxosRole::kElecting;
  int leader_ = -1;
  std::vector<int> quorum_;
  bool candidate_ = false;  // running in epoch_
  bool yielded_ = false;    // heard of a lower-ranked candidate in epoch_
  bool waited_for_better_ = false;  // already gave that candidate one more timeout
  std::set<int> acked_;     // votes received as candidate (includes self)
  bool deferred_ = false;   // StartAfter: campaign in this epoch when the wait ends
  uint32_t elapsed_ = 0;    // ticks spent electing in epoch_
};

}  // namespace nacre::mon
