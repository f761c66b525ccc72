// Pg: one placement group on this OSD, as primary, replica or stray.
//
// Primary:
//  - On every change of its acting set it peers (pg_peering.cc): it queries
//    the acting members (and strays that were in the last active set), plans
//    with pg/peering.h, persists the authoritative log, and activates the
//    replicas with what each lacks.
//  - Active, it orders client writes (pg_write.cc): each gets the next
//    version and a log entry, goes to its own store and to every replica,
//    and is acknowledged once all of the acting set has committed it.
//    Reads are served from its store. Below min_size nothing is served.
//  - It recovers (pg_recovery.cc): pulls what it lacks, pushes what the
//    replicas lack, a few objects at a time so client I/O continues; a
//    client op on an object someone lacks waits for that object first.
// Replica: applies activations, replicated writes and pushes in the order
// they arrive (one lossless connection from the primary, one ordered store
// queue), and acknowledges each once durable.
//
// Everything runs on the OSD's event loop; store completions are posted back
// to it. A PG is told of each new map by OnMap.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/event_loop.h"
#include "common/msg/messenger.h"
#include "daemons/osd/object_io.h"
#include "daemons/osd/pg/peering.h"
#include "cluster/placement.h"
#include "mon.pb.h"

namespace nacre::osd {

// What a PG needs from its OSD.
class PgHost {
 public:
  virtual ~PgHost() = default;
  virtual int whoami() const = 0;
  virtual ObjectStore& store() = 0;
  virtual EventLoop& loop() = 0;
  virtual uint64_t epoch() const = 0;  // the OSD's current map epoch
  virtual void SendToOsd(int osd, msg::Message m) = 0;
  virtual bool IsUp(int osd) const = 0;
  virtual size_t log_max_entries() const = 0;
  virtual size_t recovery_max_active() const = 0;
  virtual size_t max_header_bytes() const = 0;  // a message header's cap (ms_max_header_bytes)
};

struct ClientOp {
  msg::ConnectionRef con;
  proto::OsdOpRequest req;
  Bytes payload;
  std::string client;  // authenticated entity
};

class Pg {
 public:
  Pg(PgHost* host, placement::PgId id);
  ~Pg();

  // Reads persisted state (info, log, missing) if the collection exists.
  Status Load();
  const placement::PgId& id() const { return id_; }
  const std::string& coll() const { return coll_; }

  void OnMap(uint64_t epoch, const proto::PoolInfo& pool, const std::vector<int>& up, const std::vector<int>& acting);
  // Drops the collection and every record of it (pool deleted, or a stray
  // copy purged once the PG is clean without it).
  void Remove();

  void HandleClientOp(ClientOp op);
  void HandleRepOp(int from, const proto::RepOp& rep, const Bytes& payload);
  void HandleRepOpReply(int from, const proto::RepOpReply& r);
  void HandleQuery(int from, const proto::PgQuery& q);
  void HandleNotify(int from, const proto::PgNotify& n);
  void HandleActivate(int from, const proto::PgActivate& a);
  void HandlePull(int from, const proto::PgPull& p);
  void HandlePush(int from, const proto::PgPush& p, const Bytes& payload);
  void HandlePushReply(int from, const proto::PgPushReply& r);

  // Periodic: a primary still peering asks again those that have not
  // answered (a query can reach a peer before its map has the pool); a
  // stray copy announces itself again.
  void Tick();
  // A stray copy (not in the acting set) announces itself to the primary;
  // `now` skips the rate limit (a new map).
  void AnnounceStray(bool now);

  bool is_primary() const { return role_ == Role::kPrimary; }
  bool in_acting() const { return role_ != Role::kStray; }
  bool has_data() const { return coll_exists_; }
  // Recomputed lazily: counts and a digest of this copy.
  proto::PgStatProto Stat();
  std::string StateString() const;

 private:
  enum class Role { kStray, kReplica, kPrimary };
  enum class State { kIdle, kPeering, kWaitListing, kActivating, kActive, kPeered, kIncomplete };

  struct InFlight {
    ClientOp op;
    pg::EVersion version;
    std::set<int> waiting;  // replicas yet to commit
    bool local_done = false;
    Status status;
  };

  // pg.cc
  void ResetPrimaryState(bool requeue);
  void Persist(std::vector<Transaction> txns, std::function<void(Status)> done);
  void AddLogOps(Transaction* t, const proto::PgLogEntryProto& e);
  void PutInfo(Transaction* t);
  bool ObjectLacked(const ObjectId& o) const;
  void Reply(const ClientOp& op, const Status& s, uint64_t version, proto::OsdOpReply* r = nullptr,
             Bytes payload = {});
  void ReplyRetry(const ClientOp& op);
  template <class P>
  void Send(int osd, uint16_t type, const P& p, Bytes payload = {}) {
    host_->SendToOsd(osd, msg::Message::Make(type, p, std::move(payload)));
  }
  // For messages that grow with the PG (logs, missing sets, listings): the
  // whole proto goes in the payload, with no header, since a header is
  // capped at ms_max_header_bytes (64 KiB) and a frame at ms_max_frame_bytes.
  template <class P>
  void SendBulk(int osd, uint16_t type, const P& p) {
    msg::Message m;
    m.type = type;
    m.payload = Bytes(p.SerializeAsString());
    host_->SendToOsd(osd, std::move(m));
  }

  // pg_peering.cc
  void StartPeering();
  void Query(int osd, bool want_objects);
  void MaybeProceed();
  // Listings (object -> version) of the authoritative member and of every
  // member to backfill, by OSD.
  using Listings = std::map<int, std::vector<proto::PgObjectVersion>>;
  void Activate(const pg::PeeringPlan& plan, const Listings& listings);
  std::vector<Transaction> AdoptLog(const proto::PgInfoProto& auth_info,
                                    const std::vector<proto::PgLogEntryProto>& log, const pg::MissingSet& missing,
                                    uint64_t les, const std::vector<int>& acting);
  std::vector<proto::PgObjectVersion> ListLocal();
  void OnActive();
  void PurgeStrays();

  // pg_write.cc
  void DoOp(ClientOp op);
  void DoWrite(ClientOp op);
  void FinishWrite(uint64_t rep_tid);
  void WaitForObject(const ObjectId& o, ClientOp op);
  void Requeue(std::deque<ClientOp> ops);

  // pg_recovery.cc
  void Recover();
  // What a pull is answered with; an error (push and payload untouched) if
  // this copy cannot vouch for it.
  Status ServePull(const proto::PgPull& p, proto::PgPush* push, Bytes* payload);
  void StartPull(const ObjectId& o, int from);
  void OnPulled(int from, const proto::PgPush& p, const Bytes& payload);
  void StartPush(const ObjectId& o);
  void ObjectRecovered(const ObjectId& o);
  size_t TotalMissing() const;

  PgHost* host_;
  placement::PgId id_;
  std::string coll_;
  bool coll_exists_ = false;
  proto::PoolInfo pool_;

  // Persistent state (this OSD's copy).
  proto::PgInfoProto info_;
  pg::PgLog log_;
  pg::MissingSet missing_;

  Role role_ = Role::kStray;
  State state_ = State::kIdle;
  std::vector<int> up_, acting_;
  uint64_t interval_ = 0;          // epoch this interval began (primary) / was activated in (replica)
  int primary_ = -1;

  // Primary: peering.
  std::set<int> probing_;
  EventLoop::Duration last_query_{0};
  EventLoop::Duration last_announce_{0};  // a stray's last notify to the primary
  std::map<int, pg::PeerReport> reports_;
  pg::PeeringPlan plan_;
  std::set<int> want_listing_;      // members whose object listing we wait for
  Listings listings_;
  std::set<int> strays_;            // reporters outside the acting set
  // Primary: what each replica lacks, and where to pull what we lack.
  std::map<int, pg::MissingSet> peer_missing_;
  std::map<ObjectId, int> pull_from_;
  std::map<ObjectId, std::set<int>> pushing_;  // object -> replicas yet to confirm
  std::set<ObjectId> pulling_;
  std::map<ObjectId, std::set<int>> pull_failed_;  // sources that could not serve it
  size_t recovered_ = 0;
  EventLoop::Duration recovery_paused_until_{0};  // after a member failed to store

  // Primary: client ops.
  uint64_t next_rep_tid_ = 1;
  std::map<uint64_t, InFlight> in_flight_;
  std::map<ObjectId, std::deque<ClientOp>> object_queue_;  // serialized writes per object
  std::map<ObjectId, std::vector<ClientOp>> waiting_recovery_;
  std::deque<ClientOp> waiting_active_;

  // Stats cache.
  bool stat_dirty_ = true;
  proto::PgStatProto stat_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nacre::osd
