// Paxos, the peon's half: promises (COLLECT -> LAST), acceptance
// (BEGIN -> ACCEPT), learning commits, leases, and the peon's timer.
#include <cassert>

#include "common/log.h"
#include "daemons/mon/paxos.h"

namespace nacre::mon {

void Paxos::HandleCollect(int from, const proto::PaxosMessage& m) {
  last_heard_ = now_;
  // The promise: nothing below m.pn() from now on. Persisted in this Ready,
  // before LAST leaves.
  if (m.pn() > log_.accepted_pn()) log_.SetAcceptedPn(m.pn());
  proto::PaxosMessage r = NewMessage(proto::PAXOS_OP_LAST);
  // Our promise; when above m.pn() the leader starts over above it.
  r.set_pn(log_.accepted_pn());
  if (log_.uncommitted()) *r.mutable_proposal() = *log_.uncommitted();
  if (log_.last_committed() > m.last_committed()) FillCatchUp(m.last_committed(), &r);
  Reply(from, std::move(r), m);
}

void Paxos::HandleBegin(int from, const proto::PaxosMessage& m) {
  last_heard_ = now_;
  Learn(m);  // catch-up first: it may bring us to m.version() - 1
  proto::PaxosMessage r = NewMessage(proto::PAXOS_OP_ACCEPT);
  r.set_version(m.version());
  const bool can_accept = m.pn() >= log_.accepted_pn() && m.version() == log_.last_committed() + 1 &&
                          m.has_proposal();
  if (!can_accept) {
    // Refuse (stale pn, or behind even after the catch-up, or already
    // committed): the answer tells the leader where we are.
    r.set_pn(log_.accepted_pn());
    r.set_accepted(false);
    Reply(from, std::move(r), m);
    return;
  }
  proto::PaxosEntry e = m.proposal();
  e.set_version(m.version());
  e.set_pn(m.pn());
  e.clear_data_len();
  if (m.pn() > log_.accepted_pn()) log_.SetAcceptedPn(m.pn());
  const auto& u = log_.uncommitted();
  // A duplicated BEGIN changes nothing; skip the identical rewrite.
  if (!u || u->pn() != e.pn() || u->data() != e.data()) log_.SetUncommitted(e);
  r.set_pn(m.pn());
  r.set_accepted(true);
  Reply(from, std::move(r), m);
}

void Paxos::HandleCommit(int, const proto::PaxosMessage& m) {
  last_heard_ = now_;
  Learn(m);
}

void Paxos::HandleLease(int from, const proto::PaxosMessage& m) {
  last_heard_ = now_;
  Learn(m);
  // The anchor is one of our own ticks, from a reply the leader received
  // before granting; a newer anchor supersedes an older (maybe delayed) one.
  if (m.lease_anchor() > 0 && m.lease_anchor() <= now_ && m.lease_anchor() >= lease_anchor_) {
    lease_anchor_ = m.lease_anchor();
    lease_lc_ = m.last_committed();
  }
  Reply(from, NewMessage(proto::PAXOS_OP_LEASE_ACK), m);
}

bool Paxos::PeonReadable() const {
  if (role() != PaxosRole::kPeon || lease_anchor_ == 0) return false;
  if (now_ >= lease_anchor_ + opts_.lease_ticks) return false;
  // An accepted value may be committed already: we might be one behind.
  if (log_.uncommitted()) return false;
  return log_.last_committed() >= lease_lc_;
}

void Paxos::PeonTick() {
  if (now_ - last_heard_ > opts_.lease_timeout_ticks) StartElection("the leader went silent");
}

}  // namespace nacre::mon
