// Test-only: a cluster of Paxos cores wired by hand, for unit tests that
// need exact control of which message goes where and when (the seeded
// random schedules use the simulator instead, paxos_sim_harness.h).
//
// Each node has an in-memory "disk" (the Paxos keys and the application's
// applied values) that survives Crash(); Boot() builds a fresh core over it.
// Messages wait in one FIFO until delivered, dropped or duplicated.
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemons/mon/paxos.h"

namespace nacre::mon::testing {

// The application state of the tests: every applied value by version,
// encoded as a PaxosMessage's entries for snapshots.
inline std::string EncodeAppState(const std::map<uint64_t, std::string>& app) {
  proto::PaxosMessage m;
  for (const auto& [v, d] : app) {
    auto* e = m.add_entries();
    e->set_version(v);
    e->set_data(d);
  }
  return m.SerializeAsString();
}

inline std::map<uint64_t, std::string> DecodeAppState(const std::string& s) {
  proto::PaxosMessage m;
  REQUIRE(m.ParseFromString(s));
  std::map<uint64_t, std::string> out;
  for (const auto& e : m.entries()) out[e.version()] = e.data();
  return out;
}

struct MemNode : public PaxosStorage {
  std::map<std::string, std::string> kv;  // the disk
  std::map<uint64_t, std::string> app;    // applied values (also "on disk")
  uint64_t app_version = 0;
  int snapshots_installed = 0;
  std::unique_ptr<Paxos> paxos;
  std::vector<RoleChange> roles;
  std::vector<ProposalOutcome> outcomes;
  std::vector<Ready> readies;  // every Ready, kept when `keep_readies`

  Result<std::optional<std::string>> Get(const std::string& key) const override {
    auto it = kv.find(key);
    if (it == kv.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<PaxosSnapshotData> GetSnapshot() const override { return PaxosSnapshotData{app_version, EncodeAppState(app)}; }
};

class TestCluster {
 public:
  struct Envelope {
    int from;
    int to;
    proto::PaxosMessage m;
  };

  // `keep_readies`: keep every Ready from the first boot on (for tests that
  // replay them).
  TestCluster(int n, PaxosOptions base, bool keep = false)
      : keep_readies(keep), base_(base), nodes_(static_cast<size_t>(n)) {
    for (int r = 0; r < n; ++r) Boot(r);
  }

  MemNode& node(int r) { return nodes_[static_cast<size_t>(r)]; }
  Paxos& p(int r) { return *node(r).paxos; }
  bool up(int r) { return node(r).paxos != nullptr; }
  int size() const { return static_cast<int>(nodes_.size()); }

  void Boot(int r) {
    PaxosOptions o = base_;
    o.rank = r;
    o.num_mons = size();
    node(r).paxos = std::make_unique<Paxos>(o, &node(r));
    REQUIRE(node(r).paxos->Load().ok());
    Process(r);
  }
  // The disk survives; what the process knew (proposal ids and outcomes
  // are per Paxos instance) does not.
  void Crash(int r) {
    node(r).paxos.reset();
    node(r).outcomes.clear();
  }

  // Carries out r's Ready batches: disk, application, network.
  void Process(int r) {
    MemNode& n = node(r);
    while (n.paxos && n.paxos->HasReady()) {
      Ready rd = n.paxos->TakeReady();
      for (const StoreWrite& w : rd.writes) {
        if (w.value) {
          n.kv[w.key] = *w.value;
        } else {
          n.kv.erase(w.key);
        }
      }
      if (rd.snapshot) {
        n.app = DecodeAppState(rd.snapshot->data);
        n.app_version = rd.snapshot->version;
        n.snapshots_installed++;
      }
      for (const CommittedValue& c : rd.committed) {
        REQUIRE(c.version == n.app_version + 1);
        n.app[c.version] = c.data;
        n.app_version = c.version;
      }
      for (const OutMessage& om : rd.messages) net.push_back(Envelope{r, om.to, om.msg});
      for (const RoleChange& rc : rd.roles) n.roles.push_back(rc);
      for (const ProposalOutcome& o : rd.outcomes) n.outcomes.push_back(o);
      if (keep_readies) n.readies.push_back(std::move(rd));
      n.paxos->Advance();
    }
  }

  void Step(int to, int from, const proto::PaxosMessage& m) {
    if (!up(to)) return;
    p(to).Step(from, m);
    Process(to);
  }

  // Delivers queued messages in order (those `drop` rejects are lost; those
  // `dup` selects are delivered twice). Returns how many were delivered.
  size_t DeliverAll(size_t max = 100000) {
    size_t n = 0;
    for (; n < max && !net.empty(); ++n) {
      Envelope e = std::move(net.front());
      net.pop_front();
      if (drop && drop(e)) continue;
      Step(e.to, e.from, e.m);
      if (dup && dup(e)) Step(e.to, e.from, e.m);
    }
    return n;
  }

  void Tick(int r) {
    if (!up(r)) return;
    p(r).Tick();
    Process(r);
  }
  // Each round: every node ticks once, then the network drains.
  void Run(int rounds) {
    for (int i = 0; i < rounds; ++i) {
      for (int r = 0; r < size(); ++r) Tick(r);
      DeliverAll();
    }
  }
  // Runs rounds until `done` (at most `max_rounds`); returns done().
  bool RunUntil(const std::function<bool()>& done, int max_rounds = 500) {
    for (int i = 0; i < max_rounds && !done(); ++i) Run(1);
    return done();
  }

  int ActiveLeader() {
    for (int r = 0; r < size(); ++r)
      if (up(r) && p(r).IsActiveLeader()) return r;
    return -1;
  }
  bool AllAt(uint64_t version) {
    for (int r = 0; r < size(); ++r)
      if (up(r) && node(r).app_version != version) return false;
    return true;
  }
  // Proposes on r and runs until r's proposal is committed there.
  uint64_t ProposeAndCommit(int r, const std::string& value, int max_rounds = 200) {
    auto id = p(r).Propose(value);
    REQUIRE(id.ok());
    Process(r);
    bool done = RunUntil(
        [&] {
          for (const auto& o : node(r).outcomes)
            if (o.id == *id) return true;
          return false;
        },
        max_rounds);
    REQUIRE(done);
    for (const auto& o : node(r).outcomes)
      if (o.id == *id) {
        REQUIRE(o.status.ok());
        return o.version;
      }
    return 0;
  }

  bool keep_readies = false;
  std::deque<Envelope> net;
  std::function<bool(const Envelope&)> drop;
  std::function<bool(const Envelope&)> dup;

 private:
  PaxosOptions base_;
  std::vector<MemNode> nodes_;
};

// Small timings so tests need few rounds.
inline PaxosOptions TestOptions() {
  PaxosOptions o;
  o.election_timeout_ticks = 6;
  o.retransmit_ticks = 1;
  o.lease_ticks = 3;
  o.lease_renew_ticks = 1;
  o.lease_ack_timeout_ticks = 6;
  o.lease_timeout_ticks = 6;
  o.phase_timeout_ticks = 12;
  o.forward_retry_ticks = 4;
  o.proposal_timeout_ticks = 200;
  o.keep_versions = 1000;
  o.trim_min = 10;
  o.max_catchup_versions = 4;
  return o;
}

}  // namespace nacre::mon::testing
