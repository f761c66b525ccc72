// Monitor: the nacre-mon daemon's core object, a thin shell that joins
// - the Paxos core (through PaxosDriver) and the RocksDB store,
// - the cluster maps (ClusterMaps, applied from committed values),
// - the admin commands (commands.h) arriving over gRPC (AdminServer),
// - subscriptions and daemon reports arriving over the messenger.
//
// Threads: everything but the gRPC handler threads runs on the event loop.
// A gRPC thread posts its command to the loop and waits for the answer; a
// write is answered only once the value carrying it has committed.
//
// Writes: only the active leader runs write commands. It validates each
// against `projected_` (the committed maps plus everything it has proposed
// and not yet seen commit), so commands in flight see each other, and
// batches the updates of all commands that arrive while a proposal is in
// flight into the next value. A peon forwards writes to the leader. When
// leadership changes, or a value commits that this monitor did not propose,
// every waiting command fails with EAGAIN and the CLI retries: every
// command is idempotent, as in Ceph.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "admin.pb.h"
#include "common/asio_event_loop.h"
#include "common/config.h"
#include "common/metrics.h"
#include "common/msg/tcp_messenger.h"
#include "daemons/mon/admin_server.h"
#include "daemons/mon/cluster_maps.h"
#include "daemons/mon/commands.h"
#include "daemons/mon/mds_monitor.h"
#include "daemons/mon/mon_store.h"
#include "daemons/mon/osd_monitor.h"
#include "daemons/mon/paxos_driver.h"
#include "daemons/mon/pg_stats.h"
#include "daemons/mon/subscriptions.h"

namespace nacre::mon {

// Store keys of the applied maps (beside the Paxos core's own keys).
inline constexpr char kMapsKey[] = "maps/state";
inline constexpr char kMapsVersionKey[] = "maps/version";

class Monitor : public PaxosApplication, public msg::Dispatcher {
 public:
  Monitor(const Config& config, AsioEventLoop& loop);
  ~Monitor() override;

  // Creates the store at mon_data from the initial maps (nacre-mon --mkfs).
  static Status Mkfs(const Config& config);

  // Opens the store, binds the messenger and the admin API, starts Paxos.
  Status Start();
  // On the loop thread: stops Paxos, the messenger and the admin API.
  void Stop();

  // The gRPC entry point: runs on a gRPC thread, blocks until answered.
  proto::CommandReply HandleAdminCommand(const proto::CommandRequest& req);

  // PaxosApplication
  Status InstallSnapshot(const PaxosSnapshotData& snap, std::vector<StoreWrite>* batch) override;
  Status Apply(const CommittedValue& value, std::vector<StoreWrite>* batch) override;
  Result<PaxosSnapshotData> Snapshot() const override;
  void OnRoleChange(const RoleChange& rc) override;
  void OnProposalOutcome(const ProposalOutcome& o) override;

  // msg::Dispatcher
  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override;
  void OnReset(const msg::ConnectionRef& con) override;

 private:
  using Reply = std::function<void(proto::CommandReply)>;
  // Answers "send this to the leader at ADDR" instead of replying.
  using Forward = std::function<void(std::string)>;
  struct PendingWrite {
    proto::MonUpdate update;
    CommandOutcome outcome;  // the reply to send once committed
    Reply reply;
  };

  // Loop thread.
  void RunCommand(const proto::CommandRequest& req, Reply reply, Forward forward);
  void QueueWrite(CommandOutcome outcome, Reply reply);
  void MaybePropose();
  void FailWaiters(const Status& why);
  QuorumInfo Quorum() const;
  Result<std::string> PeerKey(const std::string& entity) const;
  std::string LeaderAdminAddr() const;
  void PersistMaps(std::vector<StoreWrite>* batch) const;
  // OSD reports (osd_monitor.h): only the active leader decides; a peon
  // forwards beacons and failure reports and turns boots away.
  void HandleOsdMessage(const msg::ConnectionRef& con, const msg::Message& m);
  bool MayActAsOsd(const msg::ConnectionRef& con) const;
  // PG reports (pg_stats.h): kept here, and relayed to the rest of the
  // quorum when they came straight from an OSD.
  void HandlePgStats(const msg::ConnectionRef& con, const msg::Message& m);
  // MDS beacons (mds_monitor.h): every monitor keeps their statistics; the
  // one a beacon reaches relays it to the rest of the quorum, and only the
  // active leader turns it into FSMap changes.
  void HandleMdsBeacon(const msg::ConnectionRef& con, const msg::Message& m);
  void RelayToQuorum(const msg::Message& m, const char* what);
  void OsdTick();
  int64_t WallMs() const;

  const Config& config_;
  AsioEventLoop& loop_;
  std::string name_;  // "a"
  int rank_ = -1;
  std::unique_ptr<MonStore> store_;
  std::unique_ptr<msg::TcpMessenger> ms_;
  std::unique_ptr<PaxosDriver> driver_;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<Subscriptions> subs_;
  OsdMonitor osd_mon_;
  MdsMonitor mds_mon_;
  PgStatsStore pg_stats_;
  // Metrics (common/metrics.h), served at /metrics.
  Counter* m_commits_;
  Counter* m_commands_ok_;
  Counter* m_commands_err_;
  Counter* m_elections_;
  Gauge* m_quorum_size_;
  Gauge* m_is_leader_;
  Gauge* m_version_;
  Histogram* m_commit_latency_;
  std::map<uint64_t, std::chrono::steady_clock::time_point> proposed_at_;
  EventLoop::TimerId osd_tick_timer_ = 0;

  ClusterMaps maps_;         // committed
  uint64_t applied_version_ = 0;
  ClusterMaps projected_;    // committed + pending; meaningful only while Pending()
  bool Pending() const { return !in_flight_.empty() || !queued_.empty(); }
  // What write commands validate against: the committed maps plus every
  // update proposed or queued and not yet committed.
  const ClusterMaps& Projected() const { return Pending() ? projected_ : maps_; }
  std::deque<PendingWrite> queued_;  // not yet proposed
  std::map<uint64_t, std::vector<PendingWrite>> in_flight_;  // proposal id -> its commands
  RoleChange role_;
  int64_t quorum_since_ms_ = 0;
  std::string mon_secret_;
  uint64_t proposal_seq_ = 0;
  const uint64_t nonce_;  // tells this incarnation's proposals apart
  bool stopped_ = false;             // loop thread
  std::atomic<bool> stopping_{false};  // read by gRPC threads
};

}  // namespace nacre::mon
