#include "daemons/mon/paxos_sim_harness.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>

#include "common/sim/sim_event_loop.h"
#include "common/sim/sim_messenger.h"
#include "common/sim/sim_nemesis.h"
#include "common/sim/sim_world.h"
#include "daemons/mon/paxos_codec.h"
#include "daemons/mon/paxos_driver.h"

namespace nacre::mon::simtest {

namespace {

using namespace std::chrono_literals;
using sim::Duration;

constexpr Duration kTick = 100ms;
constexpr size_t kMaxErrors = 20;

PaxosOptions SimOptions() {
  PaxosOptions o;
  o.election_timeout_ticks = 10;
  o.retransmit_ticks = 2;
  o.lease_ticks = 5;
  o.lease_renew_ticks = 2;
  o.lease_ack_timeout_ticks = 10;
  o.lease_timeout_ticks = 10;
  o.phase_timeout_ticks = 20;
  o.forward_retry_ticks = 10;
  o.proposal_timeout_ticks = 300;
  o.keep_versions = 20;  // small, so trimmed catch-up (snapshots) happens
  o.trim_min = 5;
  o.max_catchup_versions = 8;
  o.max_pending_proposals = 16;
  o.max_value_bytes = 64 << 10;
  o.max_message_bytes = 1 << 20;
  return o;
}

std::string EncodeApp(const std::map<uint64_t, std::string>& app) {
  proto::PaxosMessage m;
  for (const auto& [v, d] : app) {
    auto* e = m.add_entries();
    e->set_version(v);
    e->set_data(d);
  }
  return m.SerializeAsString();
}

std::string AppKey(uint64_t v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "app/v/%020llu", static_cast<unsigned long long>(v));
  return buf;
}

// Watches every monitor of one schedule (see the header for what).
class Checker {
 public:
  explicit Checker(int n) : live_(static_cast<size_t>(n), nullptr), max_applied_(static_cast<size_t>(n), 0) {}

  void Error(std::string e) {
    // The trace tail as it was at the first violation is what a replay needs.
    if (errors.empty() && trace_tail) trace_at_first_error = trace_tail();
    if (errors.size() < kMaxErrors) errors.push_back(std::move(e));
  }

  void SetLive(int node, const Paxos* p) { live_[static_cast<size_t>(node)] = p; }

  void Booted(int node, uint64_t app_version, uint64_t paxos_lc) {
    if (app_version < max_applied_[static_cast<size_t>(node)])
      Error("mon." + std::to_string(node) + " lost committed values: restarted at " + std::to_string(app_version) +
            " after applying " + std::to_string(max_applied_[static_cast<size_t>(node)]));
    if (app_version != paxos_lc)
      Error("mon." + std::to_string(node) + " restarted with application at " + std::to_string(app_version) +
            " but paxos at " + std::to_string(paxos_lc));
  }

  void Applied(int node, uint64_t v, const std::string& data) {
    auto it = committed.find(v);
    if (it == committed.end()) {
      committed[v] = data;
      auto [vit, fresh] = version_of.emplace(data, v);
      if (!fresh) ++duplicates;
      if (v > max_version) {
        max_version = v;
        for (size_t r = 0; r < live_.size(); ++r) CheckReadable(static_cast<int>(r));
      }
    } else if (it->second != data) {
      Error("version " + std::to_string(v) + ": mon." + std::to_string(node) + " has '" + data + "' but '" +
            it->second + "' was committed");
    }
    uint64_t& m = max_applied_[static_cast<size_t>(node)];
    m = std::max(m, v);
  }

  void Leader(int node, uint64_t epoch) {
    auto [it, fresh] = leaders.emplace(epoch, node);
    if (!fresh && it->second != node)
      Error("two leaders in epoch " + std::to_string(epoch) + ": mon." + std::to_string(it->second) + " and mon." +
            std::to_string(node));
  }

  void CheckReadable(int node) {
    const Paxos* p = live_[static_cast<size_t>(node)];
    if (!p || !p->IsReadable()) return;
    ++readable_checks;
    if (p->last_committed() < max_version)
      Error("mon." + std::to_string(node) + " is readable at version " + std::to_string(p->last_committed()) +
            " while " + std::to_string(max_version) + " is committed");
  }

  std::map<uint64_t, std::string> committed;
  std::map<std::string, uint64_t> version_of;
  std::map<uint64_t, int> leaders;
  uint64_t max_version = 0;
  uint64_t duplicates = 0;
  uint64_t snapshots = 0;
  uint64_t readable_checks = 0;
  std::vector<std::string> errors;
  std::function<std::string()> trace_tail;
  std::string trace_at_first_error;

 private:
  std::vector<const Paxos*> live_;
  std::vector<uint64_t> max_applied_;
};

// One monitor: the driver, a SimDisk-backed store, and the toy application.
class SimMon : public sim::SimProcess,
               public msg::Dispatcher,
               public PaxosDurableStore,
               public PaxosApplication {
 public:
  SimMon(sim::SimNodeContext& ctx, Checker* chk, const std::vector<MonPeer>& monmap, msg::Policy policy)
      : node_(ctx.node), disk_(ctx.disk), chk_(chk) {
    for (const auto& [k, v] : disk_.Scan("app/v/", 1u << 20)) app_[std::stoull(k.substr(6))] = v;
    auto ver = disk_.Get("app/version");
    version_ = ver ? std::stoull(*ver) : 0;
    PaxosOptions o = SimOptions();
    o.rank = node_;
    o.num_mons = static_cast<int>(monmap.size());
    driver_ = std::make_unique<PaxosDriver>(o, monmap, &ctx.messenger, this, this, kTick, policy);
    ctx.messenger.SetDispatcher(this);
    (void)ctx.messenger.Start();
    Status s = driver_->Start();
    if (!s.ok()) chk_->Error("mon." + std::to_string(node_) + " failed to start: " + s.ToString());
    chk_->Booted(node_, version_, driver_->paxos().last_committed());
    chk_->SetLive(node_, &driver_->paxos());
  }
  ~SimMon() override { chk_->SetLive(node_, nullptr); }

  PaxosDriver& driver() { return *driver_; }
  uint64_t version() const { return version_; }
  const std::map<uint64_t, std::string>& app() const { return app_; }

  // msg::Dispatcher
  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override {
    driver_->HandleMessage(con, m);
    chk_->CheckReadable(node_);
  }

  // PaxosDurableStore
  Result<std::optional<std::string>> Get(const std::string& key) const override { return disk_.Get(key); }
  Status Commit(std::vector<StoreWrite> batch) override {
    sim::SimDisk::Batch b;
    b.reserve(batch.size());
    for (StoreWrite& w : batch) b.push_back(sim::SimDisk::Op{std::move(w.key), std::move(w.value)});
    NACRE_RETURN_IF_ERROR(disk_.Write(std::move(b)));
    disk_.Sync();
    return Status::OK();
  }

  // PaxosApplication
  Status InstallSnapshot(const PaxosSnapshotData& snap, std::vector<StoreWrite>* batch) override {
    proto::PaxosMessage m;
    if (!m.ParseFromString(snap.data)) return Corruption("bad snapshot");
    chk_->snapshots++;
    for (const auto& e : m.entries()) {
      chk_->Applied(node_, e.version(), e.data());  // values learned by snapshot are checked too
      if (!app_.count(e.version())) batch->push_back(StoreWrite{AppKey(e.version()), e.data()});
      app_[e.version()] = e.data();
    }
    version_ = snap.version;
    batch->push_back(StoreWrite{"app/version", std::to_string(version_)});
    return Status::OK();
  }
  Status Apply(const CommittedValue& c, std::vector<StoreWrite>* batch) override {
    if (c.version != version_ + 1)
      chk_->Error("mon." + std::to_string(node_) + " applied " + std::to_string(c.version) + " after " +
                  std::to_string(version_));
    chk_->Applied(node_, c.version, c.data);
    app_[c.version] = c.data;
    version_ = c.version;
    batch->push_back(StoreWrite{AppKey(c.version), c.data});
    batch->push_back(StoreWrite{"app/version", std::to_string(version_)});
    return Status::OK();
  }
  Result<PaxosSnapshotData> Snapshot() const override { return PaxosSnapshotData{version_, EncodeApp(app_)}; }
  void OnRoleChange(const RoleChange& rc) override {
    if (rc.role == PaxosRole::kLeader) chk_->Leader(node_, rc.epoch);
  }

 private:
  int node_;
  sim::SimDisk& disk_;
  Checker* chk_;
  std::map<uint64_t, std::string> app_;
  uint64_t version_ = 0;
  std::unique_ptr<PaxosDriver> driver_;
};

SimMon* Mon(sim::SimWorld& w, int node) { return w.IsUp(node) ? static_cast<SimMon*>(w.process(node)) : nullptr; }

// The active leader with a majority quorum, or -1.
int ActiveLeader(sim::SimWorld& w, int n) {
  for (int r = 0; r < n; ++r) {
    SimMon* m = Mon(w, r);
    if (!m) continue;
    const Paxos& p = m->driver().paxos();
    if (p.IsActiveLeader() && static_cast<int>(p.quorum().size()) >= n / 2 + 1) return r;
  }
  return -1;
}

template <class T>
T Pick(sim::SimWorld& w, std::initializer_list<T> choices) {
  return *(choices.begin() + w.rng().Uniform(choices.size()));
}

}  // namespace

ScheduleResult RunSchedule(const ScheduleConfig& cfg) {
  ScheduleResult res;
  const int n = cfg.num_mons;
  Checker chk(n);  // before the world: monitors report to it until the world goes
  sim::SimWorld w(cfg.seed, cfg.trace_lines);
  chk.trace_tail = [&w] { return w.trace().Dump(); };

  // The schedule's weather, from the seed.
  sim::NetworkOptions& net = w.network();
  net.loss = Pick(w, {0.0, 0.02, 0.1, 0.25});
  net.duplicate = Pick(w, {0.0, 0.05, 0.2});
  net.reorder = Pick(w, {0.0, 0.1, 0.3});
  net.max_delay = Pick<Duration>(w, {5ms, 30ms, 100ms});
  const msg::Policy policy = w.rng().Chance(0.25) ? msg::Policy::kLossless : msg::Policy::kLossy;
  const Duration fault_time(static_cast<int64_t>(w.rng().Range(30000, 120000)) * 1000000);
  const bool stormy = w.rng().Chance(0.5);
  char params[200];
  std::snprintf(params, sizeof(params), "mons=%d loss=%.2f dup=%.2f reorder=%.2f max_delay=%lldms %s faults=%.1fs %s",
                n, net.loss, net.duplicate, net.reorder, static_cast<long long>(net.max_delay.count() / 1000000),
                policy == msg::Policy::kLossy ? "lossy" : "lossless", static_cast<double>(fault_time.count()) / 1e9,
                stormy ? "stormy" : "calm");
  res.params = params;

  w.SetMessageDescriber([](const msg::Message& m) {
    auto d = DecodePaxosMessage(m);
    if (!d.ok()) return std::string("?");
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%s e=%llu pn=%llu v=%llu lc=%llu%s entries=%d%s",
                  proto::PaxosOp_Name(d->op()).c_str() + 9, static_cast<unsigned long long>(d->epoch()),
                  static_cast<unsigned long long>(d->pn()), static_cast<unsigned long long>(d->version()),
                  static_cast<unsigned long long>(d->last_committed()), d->accepted() ? " accepted" : "",
                  d->entries_size(), d->has_snapshot() ? " +snapshot" : "");
    return std::string(buf);
  });
  std::vector<MonPeer> monmap;
  for (int r = 0; r < n; ++r) monmap.push_back(MonPeer{"mon." + std::to_string(r), msg::EntityAddr{"sim", 0}});
  std::vector<int> nodes;
  for (int r = 0; r < n; ++r) {
    nodes.push_back(w.AddNode(monmap[static_cast<size_t>(r)].name, [&chk, monmap, policy](sim::SimNodeContext& ctx) {
      return std::make_unique<SimMon>(ctx, &chk, monmap, policy);
    }));
  }

  // Faults, and clients proposing to random monitors, until fault_time.
  // Calm schedules put faults seconds apart, so quorums form and commit
  // between them (a schedule that never commits checks nothing); stormy
  // ones pile faults up, for the races between a fault and the next
  // election (a restart right after a vote, a partition right after a lease).
  sim::NemesisOptions nopts;
  if (stormy) {
    nopts.min_interval = 50ms;
    nopts.max_interval = 800ms;
    nopts.min_down = 20ms;
    nopts.max_down = 2s;
  } else {
    nopts.min_interval = 300ms;
    nopts.max_interval = 3s;
    nopts.min_down = 300ms;
    nopts.max_down = 5s;
  }
  nopts.max_down_nodes = n;  // anything, even all of them
  sim::SimNemesis nemesis(w, nodes, nopts);
  nemesis.RunFor(fault_time);
  uint64_t proposals = 0;
  const Duration fault_end = w.Now() + fault_time;
  std::function<void()> client = [&] {
    int r = static_cast<int>(w.rng().Uniform(static_cast<uint64_t>(n)));
    if (SimMon* m = Mon(w, r)) (void)m->driver().Propose("s" + std::to_string(cfg.seed) + "-" + std::to_string(++proposals));
    Duration next(static_cast<int64_t>(w.rng().Range(50, 300)) * 1000000);
    if (w.Now() + next < fault_end) w.Schedule(next, -1, client);
  };
  w.Schedule(10ms, -1, client);
  w.RunFor(fault_time);

  // Heal everything; from now on a leader must emerge and commit.
  nemesis.HealAll();
  net.loss = 0;
  w.trace().Note(w.Now(), "healed");
  const Duration healed_at = w.Now();
  const std::string probe = "probe-" + std::to_string(cfg.seed);
  std::map<std::pair<int, uint64_t>, bool> probed;  // (leader, epoch) already asked
  std::function<void()> prober = [&] {
    if (chk.version_of.count(probe)) return;
    int l = ActiveLeader(w, n);
    if (l >= 0) {
      SimMon* m = Mon(w, l);
      auto key = std::make_pair(l, m->driver().paxos().epoch());
      if (!probed[key] && m->driver().Propose(probe).ok()) probed[key] = true;
    }
    w.Schedule(kTick, -1, prober);
  };
  w.Schedule(Duration(0), -1, prober);
  const Duration bound = kTick * cfg.liveness_bound_ticks;
  bool live = w.RunUntil([&] { return chk.version_of.count(probe) && ActiveLeader(w, n) >= 0; }, bound);
  res.liveness_ticks = static_cast<uint64_t>((w.Now() - healed_at) / kTick);
  if (!live) {
    chk.Error("no leader with a committed proposal " + std::to_string(cfg.liveness_bound_ticks) +
              " ticks after healing (leader: " + std::to_string(ActiveLeader(w, n)) + ")");
  } else {
    // Every monitor catches up to the same state.
    auto converged = [&] {
      for (int r = 0; r < n; ++r) {
        SimMon* m = Mon(w, r);
        if (!m || m->version() != chk.max_version) return false;
      }
      return true;
    };
    if (!w.RunUntil(converged, bound)) chk.Error("monitors did not converge after healing");
    for (int r = 0; r < n && chk.errors.empty(); ++r) {
      SimMon* m = Mon(w, r);
      if (m && m->app() != chk.committed) chk.Error("mon." + std::to_string(r) + " state differs from the committed log");
    }
  }

  res.errors = chk.errors;
  res.trace_hash = w.trace().hash();
  res.commits = chk.max_version;
  res.leaders = chk.leaders.size();
  res.crashes = w.stats().crashes;
  res.snapshots = chk.snapshots;
  res.duplicates = chk.duplicates;
  res.readable_checks = chk.readable_checks;
  res.trace = chk.errors.empty() ? w.trace().Dump() : chk.trace_at_first_error;
  chk.trace_tail = nullptr;  // the world goes first
  return res;
}

}  // namespace nacre::mon::simtest
