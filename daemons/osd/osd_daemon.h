// OsdDaemon: the nacre-osd process shell. Today it does what an OSD does
// with the monitors: it boots (the monitors give a new OSD the lowest free
// id and place it in CRUSH under its host; an OSD that booted before gets
// its id back by its uuid), follows the OSDMap through a MonSession, and
// sends beacons so it stays up. Placement groups and object I/O on the
// object store (daemons/osd/store/) come next.
//
// Data directory (osd_data): `uuid` (fixed at mkfs) and, once booted,
// `whoami` (the id the monitors gave it).
#pragma once

#include <memory>
#include <string>

#include "common/asio_event_loop.h"
#include "common/config.h"
#include "common/msg/tcp_messenger.h"
#include "librados/mon_session.h"

namespace nacre::osd {

class OsdDaemon : public msg::Dispatcher {
 public:
  OsdDaemon(const Config& config, AsioEventLoop& loop);
  ~OsdDaemon() override;

  // Creates the data directory with a new uuid.
  static Status Mkfs(const Config& config);

  Status Start();
  void Stop();

  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override;
  void OnReset(const msg::ConnectionRef& con) override;

 private:
  void SendBoot();
  void OnBootReply(const msg::Message& m);
  void Beacon();

  const Config& config_;
  AsioEventLoop& loop_;
  std::string data_;
  std::string uuid_;
  int32_t id_ = -1;          // from `whoami`, or the boot reply
  bool booted_ = false;      // the monitors answered our boot
  std::unique_ptr<msg::TcpMessenger> ms_;
  std::unique_ptr<monc::MonSession> mons_;
  EventLoop::TimerId boot_timer_ = 0, beacon_timer_ = 0;
};

}  // namespace nacre::osd
