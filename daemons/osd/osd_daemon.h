// OsdDaemon: the nacre-osd process shell.
//
// With the monitors (osd_daemon.cc) it boots (the monitors give a new OSD the
// lowest free id and place it in CRUSH under its host; an OSD that booted
// before gets its id back by its uuid), follows the OSDMap through a
// MonSession, sends beacons, PG statistics and failure reports.
//
// With clients and peers (osd_pgs.cc) it maps every PG of every pool on each
// new map, keeps a Pg (pg.h) for each PG it serves or holds data of, routes
// client ops and peer messages to them, and pings its peers (heartbeat.h).
//
// Two messengers: one named by osd_auth_entity (client.bootstrap-osd) for
// the monitors, and "osd.N" for clients and peers, bound before boot (its
// address goes in the boot message) and named once the id is known. Peers
// prove they are OSDs with the bootstrap-osd secret; clients with their own
// keys (from the keyring, or the monitors' auth map).
//
// Data directory (osd_data): `uuid` (fixed at mkfs), `whoami` (the id the
// monitors gave it), and the object store (db/, data/).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/asio_event_loop.h"
#include "common/config.h"
#include "common/keyring.h"
#include "common/msg/tcp_messenger.h"
#include "crush/crush_map.h"
#include "daemons/osd/heartbeat.h"
#include "daemons/osd/pg.h"
#include "cluster/mon_session.h"

namespace nacre::osd {

class OsdDaemon : public msg::Dispatcher, public PgHost {
 public:
  OsdDaemon(const Config& config, AsioEventLoop& loop);
  ~OsdDaemon() override;

  // Creates the data directory with a new uuid and an empty store.
  static Status Mkfs(const Config& config);

  Status Start();
  void Stop();

  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override;
  void OnReset(const msg::ConnectionRef& con) override;

  // PgHost
  int whoami() const override { return id_; }
  ObjectStore& store() override { return *store_; }
  EventLoop& loop() override { return loop_; }
  uint64_t epoch() const override { return mons_ ? mons_->osdmap().epoch() : 0; }
  void SendToOsd(int osd, msg::Message m) override;
  bool IsUp(int osd) const override;
  size_t log_max_entries() const override { return log_max_; }
  size_t recovery_max_active() const override { return recovery_max_; }
  size_t max_header_bytes() const override { return max_header_; }

 private:
  // osd_daemon.cc: the monitors.
  void SendBoot();
  void OnBootReply(const msg::Message& m);
  void Beacon();
  Result<std::string> PeerKey(const std::string& entity) const;

  // osd_pgs.cc: placement groups, peers, clients.
  Status LoadPgs();
  void HandleMap(const proto::OSDMapProto& m);
  Pg* GetPg(const placement::PgId& id, bool create);
  void MapOnePg(Pg* pg);
  void HandleClientOp(const msg::ConnectionRef& con, msg::Message&& m);
  void DispatchClientOp(ClientOp op);
  void ReplyError(const msg::ConnectionRef& con, uint64_t tid, const Status& s, bool retry);
  bool HandlePeerMessage(const msg::ConnectionRef& con, msg::Message& m);
  void HeartbeatTick();
  void SendPgStats();

  const Config& config_;
  AsioEventLoop& loop_;
  std::string data_;
  std::string uuid_;
  int32_t id_ = -1;          // from `whoami`, or the boot reply
  bool booted_ = false;      // the monitors answered our boot
  bool serving_ = false;     // the osd messenger is started under our name
  std::string secret_;       // bootstrap-osd: ours and every peer OSD's
  Keyring keyring_;
  std::unique_ptr<msg::TcpMessenger> ms_;      // to the monitors
  std::unique_ptr<msg::TcpMessenger> osd_ms_;  // clients and peers
  std::unique_ptr<monc::MonSession> mons_;
  std::unique_ptr<ObjectStore> store_;
  EventLoop::TimerId boot_timer_ = 0, beacon_timer_ = 0, hb_timer_ = 0, stats_timer_ = 0;

  // The current map, decoded.
  std::unique_ptr<crush::CrushMap> crush_;
  std::string crush_bytes_;
  std::map<placement::PgId, std::unique_ptr<Pg>> pgs_;
  std::vector<ClientOp> waiting_for_map_;  // ops from clients with a newer map
  std::vector<std::pair<msg::ConnectionRef, msg::Message>> waiting_peer_msgs_;  // peers with a newer map
  std::unique_ptr<Heartbeat> heartbeat_;
  size_t log_max_ = 3000, recovery_max_ = 4, max_waiting_ops_ = 4096, max_header_ = 64 << 10;
};

}  // namespace nacre::osd
