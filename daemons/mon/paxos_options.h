// PaxosOptions: every tunable and every limit of the monitor Paxos core.
//
// Times are in ticks: the core has no clock, its caller calls Tick() every
// `paxos_tick_interval` seconds and FromConfig converts the operator's
// seconds (Ceph's names: mon_lease, mon_election_timeout, paxos_min, ...)
// into ticks. Validate() states the relations the protocol depends on (for
// example a lease must be renewed before it runs out).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/config.h"
#include "common/status.h"

namespace nacre::mon {

// Ranks are 0..num_mons-1; a proposal number is counter * kPnStride + rank,
// so ranks must stay below the stride.
inline constexpr int kMaxMons = 100;
inline constexpr uint64_t kPnStride = 100;

struct PaxosOptions {
  int rank = 0;
  int num_mons = 1;

  // --- timing, in ticks
  uint32_t election_timeout_ticks = 10;  // + rank, so lower ranks retry first
  uint32_t retransmit_ticks = 2;         // resend unanswered messages
  uint32_t lease_ticks = 5;              // how long a lease lets a peon read
  uint32_t lease_renew_ticks = 2;        // leader renews leases this often
  uint32_t lease_ack_timeout_ticks = 10; // leader: a silent quorum member -> election
  uint32_t lease_timeout_ticks = 10;     // peon: a silent leader -> election
  uint32_t phase_timeout_ticks = 20;     // collect or begin not done -> election
  uint32_t forward_retry_ticks = 10;     // re-send an uncommitted proposal
  uint32_t proposal_timeout_ticks = 300; // give up on a proposal (outcome unknown)

  // --- log trimming
  uint64_t keep_versions = 500;  // committed versions kept (Ceph's paxos_min)
  uint64_t trim_min = 250;       // trim only once this many more accumulated

  // --- limits
  size_t max_pending_proposals = 64;      // per node, and in the leader's queue
  size_t max_value_bytes = size_t{4} << 20;
  size_t max_message_bytes = size_t{32} << 20;  // catch-up batches stay below
  size_t max_catchup_versions = 100;      // versions per catch-up message
  size_t max_trim_per_step = 1000;        // deletes per Ready

  Status Validate() const;
  static Result<PaxosOptions> FromConfig(const Config& config, int rank, int num_mons);

  int majority() const { return num_mons / 2 + 1; }
  // A new leader commits nothing until every lease an earlier leader may
  // have granted has run out (see paxos.h, "Leases"), plus slack for tick
  // granularity on three clocks.
  uint32_t commit_wait_ticks() const { return 2 * lease_ticks + 3; }
};

}  // namespace nacre::mon
