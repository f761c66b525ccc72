// PaxosLog: one monitor's durable Paxos state and its log of committed values.
//
// It keeps in memory what the protocol consults on every message (the
// committed range, the promised and last generated proposal numbers, the
// accepted-but-uncommitted value) and turns every change into StoreWrites
// appended to the caller's Ready, so the state on disk is always what this
// object says once the caller has persisted the batch. Committed values are
// read back from the store (through PaxosStorage) for catch-up; the most
// recent ones are cached so the common case (a peon one version behind)
// does not touch the store, and values written in the batch not yet
// persisted are always in the cache.
//
// Invariants:
//  - values are stored exactly for versions [first_committed, last_committed];
//    first_committed == last_committed + 1 means none is stored;
//  - an uncommitted value, if any, is for version last_committed + 1;
//  - accepted_pn and last_pn never decrease;
//  - the cache holds at most kCacheVersions entries, all within the stored range.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemons/mon/paxos_options.h"
#include "daemons/mon/paxos_types.h"

namespace nacre::mon {

namespace paxos_keys {
inline constexpr const char* kFirstCommitted = "paxos/first_committed";
inline constexpr const char* kLastCommitted = "paxos/last_committed";
inline constexpr const char* kAcceptedPn = "paxos/accepted_pn";
inline constexpr const char* kLastPn = "paxos/last_pn";
inline constexpr const char* kBootNonce = "paxos/boot_nonce";
inline constexpr const char* kUncommitted = "paxos/uncommitted";
inline constexpr const char* kElectionEpoch = "election/epoch";
inline constexpr const char* kElectionVote = "election/vote";
// "paxos/v/00000000000000000042": zero-padded so keys sort by version.
std::string Value(uint64_t version);
}  // namespace paxos_keys

// Reads a decimal uint64 key; absent means `dflt`.
Result<uint64_t> ReadU64(const PaxosStorage& s, const std::string& key, uint64_t dflt);

class PaxosLog {
 public:
  PaxosLog(const PaxosOptions& opts, const PaxosStorage* storage, std::vector<StoreWrite>* out);

  // Reads the state back and bumps the boot nonce (a write).
  Status Load();

  uint64_t first_committed() const { return first_committed_; }
  uint64_t last_committed() const { return last_committed_; }
  uint64_t accepted_pn() const { return accepted_pn_; }
  uint64_t last_pn() const { return last_pn_; }
  uint64_t boot_nonce() const { return boot_nonce_; }
  const std::optional<proto::PaxosEntry>& uncommitted() const { return uncommitted_; }

  void SetAcceptedPn(uint64_t pn);
  void SetLastPn(uint64_t pn);
  // Records `e` (version last_committed + 1) as accepted.
  void SetUncommitted(const proto::PaxosEntry& e);
  // Commits `e` at last_committed + 1; drops the uncommitted value it decides.
  void Append(const proto::PaxosEntry& e);
  // Replaces the whole log by the application snapshot `snap` (version >
  // last_committed): no values stored, last_committed = snap.version.
  void InstallSnapshot(const PaxosSnapshotData& snap);
  // The caller persisted the last batch: the store now reflects it.
  void OnAdvance() { installed_.reset(); }
  // Trims old values beyond keep_versions (+ trim_min hysteresis), at most
  // max_trim_per_step of them. Returns true if it trimmed.
  bool MaybeTrim();

  Result<proto::PaxosEntry> Read(uint64_t version) const;
  // Adds to `m` what a peer whose last committed version is `peer_lc` needs
  // next: the snapshot if its next version was trimmed, then committed
  // entries, within max_catchup_versions and max_message_bytes.
  void FillCatchUp(uint64_t peer_lc, proto::PaxosMessage* m) const;

 private:
  static constexpr size_t kMinCacheVersions = 64;

  void Put(const std::string& key, std::string value);
  void Delete(const std::string& key);
  void PutU64(const char* key, uint64_t v) { Put(key, std::to_string(v)); }
  void Cache(const proto::PaxosEntry& e);

  const PaxosOptions opts_;  // a copy: small, and no lifetime to track
  const PaxosStorage* storage_;
  std::vector<StoreWrite>* out_;
  size_t cache_limit_;

  uint64_t first_committed_ = 1;
  uint64_t last_committed_ = 0;
  uint64_t accepted_pn_ = 0;
  uint64_t last_pn_ = 0;
  uint64_t boot_nonce_ = 0;
  std::optional<proto::PaxosEntry> uncommitted_;
  std::map<uint64_t, proto::PaxosEntry> cache_;
  // A snapshot installed in the batch not yet persisted: until then the
  // application cannot produce it, so catch-up serves this copy.
  std::optional<PaxosSnapshotData> installed_;
};

}  // namespace nacre::mon
