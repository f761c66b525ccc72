#include "daemons/mon/paxos_options.h"

#include <cmath>
#include <string>

namespace nacre::mon {

namespace {

uint32_t ToTicks(double seconds, double tick) {
  double t = std::ceil(seconds / tick - 1e-9);
  if (t < 1) return 1;
  if (t > 1e9) return 1000000000;
  return static_cast<uint32_t>(t);
}

}  // namespace

Status PaxosOptions::Validate() const {
  if (num_mons < 1 || num_mons > kMaxMons) return Invalid("num_mons must be 1.." + std::to_string(kMaxMons));
  if (rank < 0 || rank >= num_mons) return Invalid("rank out of range");
  if (election_timeout_ticks < 2 || retransmit_ticks < 1) return Invalid("election timeout and retransmit must be >= 2, 1 ticks");
  if (lease_renew_ticks < 1 || lease_renew_ticks >= lease_ticks)
    return Invalid("lease renew interval must be shorter than the lease");
  if (lease_ack_timeout_ticks <= lease_renew_ticks || lease_timeout_ticks <= lease_renew_ticks)
    return Invalid("lease timeouts must exceed the renew interval");
  if (phase_timeout_ticks <= retransmit_ticks) return Invalid("phase timeout must exceed the retransmit interval");
  // One step may append a catch-up batch and then trim; the application's
  // snapshot (at the version before the step) must still be in the log.
  if (keep_versions <= max_catchup_versions + 1) return Invalid("keep_versions must exceed max_catchup_versions + 1");
  if (max_pending_proposals < 1 || max_catchup_versions < 1 || max_trim_per_step < 1)
    return Invalid("limits must be >= 1");
  // A catch-up message must fit at least one value and its envelope.
  if (max_value_bytes + 4096 > max_message_bytes) return Invalid("max_message_bytes must exceed max_value_bytes");
  return Status::OK();
}

Result<PaxosOptions> PaxosOptions::FromConfig(const Config& c, int rank, int num_mons) {
  PaxosOptions o;
  o.rank = rank;
  o.num_mons = num_mons;
  double tick = c.GetDouble("paxos_tick_interval");
  if (!(tick > 0)) return Invalid("paxos_tick_interval must be > 0");
  double lease = c.GetDouble("mon_lease");
  o.election_timeout_ticks = ToTicks(c.GetDouble("mon_election_timeout"), tick);
  o.lease_ticks = ToTicks(lease, tick);
  o.lease_renew_ticks = ToTicks(lease * c.GetDouble("mon_lease_renew_interval_factor"), tick);
  o.lease_ack_timeout_ticks = ToTicks(lease * c.GetDouble("mon_lease_ack_timeout_factor"), tick);
  o.lease_timeout_ticks = o.lease_ack_timeout_ticks;
  o.retransmit_ticks = ToTicks(lease * c.GetDouble("mon_lease_renew_interval_factor") / 2, tick);
  o.phase_timeout_ticks = 2 * o.lease_ack_timeout_ticks;
  o.forward_retry_ticks = 2 * o.lease_ack_timeout_ticks;
  o.proposal_timeout_ticks = ToTicks(c.GetDouble("paxos_propose_timeout"), tick);
  o.keep_versions = static_cast<uint64_t>(c.GetInt("paxos_min"));
  o.trim_min = static_cast<uint64_t>(c.GetInt("paxos_trim_min"));
  o.max_pending_proposals = static_cast<size_t>(c.GetInt("paxos_max_pending_proposals"));
  o.max_value_bytes = static_cast<size_t>(c.GetInt("paxos_max_value_bytes"));
  o.max_message_bytes = static_cast<size_t>(c.GetInt("paxos_max_message_bytes"));
  o.max_catchup_versions = static_cast<size_t>(c.GetInt("paxos_max_catchup_versions"));
  NACRE_RETURN_IF_ERROR(o.Validate());
  return o;
}

}  // namespace nacre::mon
