// MdsDaemon: the nacre-mds process shell (doc/filesystem.md).
//
// One messenger "mds.<id>" serves clients (keys from the monitors' Auth
// map) and carries the MonSession that follows the FSMap and OSDMap. Every
// mds_beacon_interval it beacons its state. Standby until the FSMap names it
// (this incarnation) for a rank in up:replay; then it reads the rank's
// journal through librados (MdsStore, on a worker thread), replays it into
// a fresh cache, beacons up:active and serves. If a later FSMap no longer
// gives it the rank, it exits(1) at once: a supervisor restarts it as a
// standby, and no two MDSs serve one rank.
//
// Requests go to the pure MdsCore; the shell does what the Outcome asks
// (load a dir and rerun, park until caps/locks change, truncate data, or
// journal then reply). Periodic work: flush dirty dirs and advance the
// journal head (mds_journal_flush_interval, or when more than
// mds_journal_max_segments are live), trim the cache to
// mds_cache_memory_limit, expire silent sessions.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/mon_session.h"
#include "common/asio_event_loop.h"
#include "common/config.h"
#include "common/keyring.h"
#include "common/msg/tcp_messenger.h"
#include "daemons/mds/mds_cache.h"
#include "daemons/mds/mds_core.h"
#include "daemons/mds/mds_journal.h"
#include "daemons/mds/mds_store.h"

namespace nacre::mds {

class MdsDaemon : public msg::Dispatcher {
 public:
  MdsDaemon(const Config& config, AsioEventLoop& loop);
  ~MdsDaemon() override;

  Status Start();
  void Stop();

  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override;
  void OnReset(const msg::ConnectionRef& con) override;

 private:
  enum class State { kStandby, kReplay, kActive };
  struct Pending {
    msg::ConnectionRef con;
    uint64_t session = 0;
    proto::MdsRequest req;
    bool truncated = false;
    int loads = 0;
    int64_t started_ns = 0;
    bool complained = false;  // logged as slow once
  };

  int64_t NowNs() const;
  const char* StateName() const;
  Result<std::string> PeerKey(const std::string& entity) const;
  void Beacon();
  void HandleFsMap(const proto::FSMapProto& m);
  void StartReplay(int fs_id, int rank, int64_t meta_pool, int64_t data_pool);
  void FinishReplay(Result<RankState> st);
  [[noreturn]] void Fail(const std::string& why);

  void OnSession(const msg::ConnectionRef& con, const msg::Message& m);
  void OnRequest(const msg::ConnectionRef& con, const msg::Message& m);
  void OnCap(const msg::ConnectionRef& con, const msg::Message& m);
  void Run(Pending p);
  void RunCap(uint64_t session, proto::CapProto cap, int loads);
  void SendReply(const msg::ConnectionRef& con, const proto::MdsReply& r);
  void ReplyError(const Pending& p, int err, const std::string& why);
  void SendCap(uint64_t session, const proto::CapProto& c);
  // Loads a directory once (other requests wanting it wait on the same
  // load), then runs `then(ok)`.
  void LoadDir(uint64_t ino, std::function<void(bool)> then);
  // Appends an entry; after it is durable, purges what it purges, then `then`.
  void Journal(const proto::JournalEntry& e, std::function<void()> then);
  // Outbox, internal entries, and reruns of parked requests after a wake.
  void Drain();
  void Tick();
  void MaybeFlush(bool force);
  void TrimCache();
  void WriteFlush(std::shared_ptr<FlushBatch> batch, proto::JournalHeadProto head, uint64_t old_expire);
  void UpdateStatfs();

  const Config& config_;
  AsioEventLoop& loop_;
  std::string id_;
  uint64_t incarnation_;
  Keyring keyring_;
  std::unique_ptr<msg::TcpMessenger> ms_;
  std::unique_ptr<monc::MonSession> mons_;
  EventLoop::TimerId beacon_timer_ = 0, tick_timer_ = 0;
  uint64_t beacon_seq_ = 0;

  State state_ = State::kStandby;
  int fs_id_ = -1, rank_ = -1;
  int64_t data_pool_ = -1;
  std::unique_ptr<MdsStore> store_;
  std::unique_ptr<MdsCache> cache_;
  std::unique_ptr<MdsCore> core_;
  std::unique_ptr<MdsJournal> journal_;
  uint64_t expire_seg_ = 0;
  bool flushing_ = false;
  int64_t last_flush_ns_ = 0;
  int64_t strays_due_ns_ = 0;  // when unheld strays are purged after a takeover (0: done)

  std::map<const msg::Connection*, uint64_t> con_session_;
  std::map<uint64_t, msg::ConnectionRef> session_con_;
  std::map<uint64_t, std::vector<std::function<void(bool)>>> loads_;
  std::deque<Pending> parked_;
  uint64_t last_wakes_ = 0;
  bool draining_ = false;
  uint64_t requests_ = 0, requests_at_beacon_ = 0;
  int64_t last_beacon_ns_ = 0;
  double rate_ = 0;

  size_t cache_limit_;
  double flush_interval_;
  uint64_t max_segments_;
  int64_t complaint_ns_;
  static constexpr size_t kMaxParked = 4096;
  static constexpr int kMaxLoads = 100000;
};

}  // namespace nacre::mds
