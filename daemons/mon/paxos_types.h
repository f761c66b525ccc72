// The vocabulary between the Paxos core and its caller: what the core asks
// the caller to do (Ready), and what it reads from the caller's store
// (PaxosStorage).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "paxos.pb.h"

namespace nacre::mon {

enum class PaxosRole { kElecting, kLeader, kPeon };
const char* PaxosRoleName(PaxosRole r);

// One store operation: a put, or a delete when `value` is nullopt.
struct StoreWrite {
  std::string key;
  std::optional<std::string> value;
};

// The application's (map services') whole state at `version`.
struct PaxosSnapshotData {
  uint64_t version = 0;
  std::string data;
};

struct CommittedValue {
  uint64_t version = 0;
  std::string data;
};

struct RoleChange {
  PaxosRole role = PaxosRole::kElecting;
  uint64_t epoch = 0;
  int leader = -1;          // -1 while electing
  std::vector<int> quorum;  // ranks, ascending; empty while electing
};

// What became of a value this monitor proposed (Propose's id).
struct ProposalOutcome {
  uint64_t id = 0;
  Status status;         // OK: committed at `version`; kTimeout: unknown
  uint64_t version = 0;
};

struct OutMessage {
  int to = -1;  // rank
  proto::PaxosMessage msg;
};

// One batch of work for the caller, in this order:
//  1. make `writes` durable, atomically and in order (sync before going on);
//     install `snapshot` (if set) and apply `committed` in the same atomic
//     batch if the application's state lives in the same store;
//  2. send `messages` (never before step 1: they promise what it persisted);
//  3. hand `committed` to the map services in order (after `snapshot`, if
//     any; every committed version is above the snapshot's);
//  4. act on `roles` and `outcomes`;
//  5. call Paxos::Advance().
struct Ready {
  std::vector<StoreWrite> writes;
  std::optional<PaxosSnapshotData> snapshot;
  std::vector<CommittedValue> committed;
  std::vector<OutMessage> messages;
  std::vector<RoleChange> roles;  // every change, oldest first
  std::vector<ProposalOutcome> outcomes;

  bool empty() const {
    return writes.empty() && !snapshot && committed.empty() && messages.empty() && roles.empty() &&
           outcomes.empty();
  }
};

// What the core reads from the caller's store. It reflects every Ready the
// caller has Advance()d past (the core never reads between TakeReady and
// Advance).
class PaxosStorage {
 public:
  virtual ~PaxosStorage() = default;
  // nullopt when the key is absent; an error only for a failing store.
  virtual Result<std::optional<std::string>> Get(const std::string& key) const = 0;
  // The application's state at its latest applied version, which must be a
  // version the core committed and has not trimmed past (the caller applies
  // committed values in the same batch as the core's writes, so it is the
  // core's last_committed).
  virtual Result<PaxosSnapshotData> GetSnapshot() const = 0;
};

}  // namespace nacre::mon
