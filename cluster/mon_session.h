// MonSession: a daemon's or client's messenger session with the monitors.
//
// It keeps one connection to one monitor at a time, subscribes there to the
// OSDMap (and MonMap, and for daemons that want them the Auth map and the
// FSMap), applies the incrementals it receives to its own copy,
// and calls `on_osdmap` after every change. When that monitor goes away (its
// connection resets, or nothing arrives for `hunt_timeout` while maps are
// wanted) it hunts: it moves to another monitor, chosen round-robin from a
// random start, and subscribes again from the epoch it holds, so nothing is
// missed and nothing is applied twice.
//
// It is not a Dispatcher of its own: the owner's dispatcher hands it every
// message (HandleMessage returns false for what is not its business), as
// PaxosDriver does, because a messenger has one dispatcher. Everything runs
// on the messenger's loop.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "common/msg/messenger.h"
#include "mon.pb.h"

namespace nacre::monc {

class MonSession {
 public:
  struct Options {
    std::vector<msg::EntityAddr> mons;  // mon_host
    // "mon.a"..., in mon_host order: the handshake checks who answers. Empty:
    // taken from the MonMap once one arrives, and "mon.a", "mon.b"... until then.
    std::vector<std::string> mon_names;
    EventLoop::Duration hunt_timeout = std::chrono::seconds(3);
    std::function<void(const proto::OSDMapProto&)> on_osdmap;
    // OSDs and MDSs: also follow the Auth map (every entity's key, to
    // authenticate their own clients). Monitors serve it only to sessions
    // authenticated as osd.* or mds.*; for others it never arrives.
    bool want_auth = false;
    std::function<void(const proto::AuthMapProto&)> on_authmap;
    // MDSs and filesystem clients: also follow the FSMap (always sent whole);
    // on_fsmap is called with every newer one.
    bool want_fsmap = false;
    std::function<void(const proto::FSMapProto&)> on_fsmap;
  };

  MonSession(msg::Messenger* ms, Options opts);
  ~MonSession();

  // Connects and subscribes. Call on the loop.
  void Start();
  void Stop();

  // True if `m` was a monitor message this session consumed.
  bool HandleMessage(const msg::ConnectionRef& con, const msg::Message& m);
  // Connection reset: if it was our monitor's, hunt.
  void HandleReset(const msg::ConnectionRef& con);

  // Sends to the current monitor (boot, beacons, failure reports).
  Status SendToMon(msg::Message m);
  // Moves to the named monitor ("mon.b"), e.g. the leader an OSD must boot
  // with; false if the name is unknown.
  bool SwitchTo(const std::string& mon_name);

  const proto::OSDMapProto& osdmap() const { return osdmap_; }
  const proto::MonMapProto& monmap() const { return monmap_; }
  // Empty (epoch 0) until the first Auth map arrives; see want_auth.
  const proto::AuthMapProto& authmap() const { return authmap_; }
  // Empty (epoch 0) until the first FSMap arrives; see want_fsmap.
  const proto::FSMapProto& fsmap() const { return fsmap_; }
  size_t hunts() const { return hunts_; }
  std::string current_mon() const;

 private:
  void Connect(size_t index);
  void Subscribe();
  void Hunt(const char* why);
  void ArmTimer();
  std::string NameOf(size_t index) const;

  msg::Messenger* ms_;
  Options opts_;
  size_t current_ = 0;
  msg::ConnectionRef con_;
  proto::OSDMapProto osdmap_;
  proto::MonMapProto monmap_;
  proto::AuthMapProto authmap_;
  proto::FSMapProto fsmap_;
  EventLoop::Duration last_heard_{0};
  EventLoop::TimerId timer_ = 0;
  size_t hunts_ = 0;
  bool running_ = false;
};

}  // namespace nacre::monc
