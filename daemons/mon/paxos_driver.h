// PaxosDriver: the thin shell that runs the Paxos core inside a monitor.
//
// It does the I/O the core asks for, in the order paxos_types.h's Ready
// prescribes: Ready::writes, the snapshot and the committed values go to the
// store in one atomic, synced batch (the application adds its own changes to
// the same batch, so applied state and Paxos state never disagree after a
// crash); then the messages go out over the messenger; then the application
// hears of role changes and proposal outcomes; then Advance(). It ticks the
// core on the EventLoop and turns messenger traffic into Step() calls. The
// same code runs on real sockets (TcpMessenger, AsioEventLoop, MonStore) and
// in the simulator (SimMessenger, SimEventLoop, SimDisk).
//
// A monitor that cannot persist, or whose application refuses a committed
// value, must not go on (its messages would promise what it did not keep):
// the driver logs and aborts, as Ceph's monitor does.
//
// Invariants: the core is only fed between Advance() and the next TakeReady
// (everything runs on the loop's thread, one callback at a time); at most one
// tick timer is pending.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "common/msg/messenger.h"
#include "daemons/mon/paxos.h"

namespace nacre::mon {

struct MonPeer {
  std::string name;  // entity name, "mon.a"
  msg::EntityAddr addr;
};

// The monitor's durable key-value store, as the driver uses it.
class PaxosDurableStore {
 public:
  virtual ~PaxosDurableStore() = default;
  virtual Result<std::optional<std::string>> Get(const std::string& key) const = 0;
  // Applies the batch atomically and durably (synced) before returning.
  virtual Status Commit(std::vector<StoreWrite> batch) = 0;
};

// The map services, as Paxos sees them.
class PaxosApplication {
 public:
  virtual ~PaxosApplication() = default;
  // Replace the whole state by `snap`; add the store changes to `batch`.
  virtual Status InstallSnapshot(const PaxosSnapshotData& snap, std::vector<StoreWrite>* batch) = 0;
  // Apply one committed value (in version order); add changes to `batch`.
  virtual Status Apply(const CommittedValue& value, std::vector<StoreWrite>* batch) = 0;
  // The whole state at the latest applied version.
  virtual Result<PaxosSnapshotData> Snapshot() const = 0;
  virtual void OnRoleChange(const RoleChange&) {}
  virtual void OnProposalOutcome(const ProposalOutcome&) {}
};

class PaxosDriver {
 public:
  // monmap[rank] names every monitor; monmap[opts.rank] is this one.
  // Monitors talk over `policy` connections (kLossless in a real cluster).
  PaxosDriver(PaxosOptions opts, std::vector<MonPeer> monmap, msg::Messenger* messenger, PaxosDurableStore* store,
              PaxosApplication* app, EventLoop::Duration tick_interval, msg::Policy policy = msg::Policy::kLossless);
  ~PaxosDriver();
  PaxosDriver(const PaxosDriver&) = delete;
  PaxosDriver& operator=(const PaxosDriver&) = delete;

  // Loads the core's state and starts ticking (and electing).
  Status Start();
  void Stop();

  // Feeds a Paxos message to the core; false if `m` is not one (the caller
  // dispatches it elsewhere).
  bool HandleMessage(const msg::ConnectionRef& con, const msg::Message& m);
  Result<uint64_t> Propose(std::string value);

  const Paxos& paxos() const { return paxos_; }

 private:
  // The core's read view: the store, plus the application's snapshot.
  class StorageView : public PaxosStorage {
   public:
    StorageView(PaxosDurableStore* s, PaxosApplication* a) : store_(s), app_(a) {}
    Result<std::optional<std::string>> Get(const std::string& key) const override { return store_->Get(key); }
    Result<PaxosSnapshotData> GetSnapshot() const override { return app_->Snapshot(); }

   private:
    PaxosDurableStore* store_;
    PaxosApplication* app_;
  };

  void OnTick();
  void Pump();
  int RankOf(const std::string& name) const;

  std::vector<MonPeer> monmap_;
  msg::Messenger* ms_;
  PaxosDurableStore* store_;
  PaxosApplication* app_;
  EventLoop::Duration tick_;
  msg::Policy policy_;
  StorageView view_;
  Paxos paxos_;
  bool running_ = false;
  EventLoop::TimerId timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted pumps
};

}  // namespace nacre::mon
