// Heartbeat: OSDs ping each other and report peers that stop answering.
//
// Every osd_heartbeat_interval this OSD pings every other up OSD (over the
// same lossless connection its replication uses, so a wedged peer shows up
// exactly where it hurts). A peer silent for osd_heartbeat_grace is reported
// to the monitors, again each interval while it stays silent; the monitors
// mark it down once enough distinct OSDs agree (mon_osd_min_down_reporters).
// A reported peer that answers again gets a still-alive report that cancels
// ours. Pure bookkeeping: the OSD sends and receives.
#pragma once

#include <functional>
#include <map>
#include <set>

#include "common/event_loop.h"
#include "osd.pb.h"

namespace nacre::osd {

class Heartbeat {
 public:
  struct Hooks {
    std::function<void(int osd, const proto::OsdPing&)> send_ping;
    std::function<void(int osd, bool still_alive)> report;
  };
  Heartbeat(int whoami, EventLoop::Duration grace, Hooks hooks) : me_(whoami), grace_(grace), hooks_(std::move(hooks)) {}

  // The up OSDs of the current map; new ones get a full grace period.
  void SetPeers(const std::set<int>& up, EventLoop::Duration now, uint64_t epoch);
  // Pings everyone and reports the silent.
  void Tick(EventLoop::Duration now);
  void OnPing(int from, const proto::OsdPing& p);
  void OnReply(int from, EventLoop::Duration now);
  size_t failing() const;

 private:
  struct Peer {
    EventLoop::Duration last_rx{0};
    bool reported = false;
  };
  int me_;
  EventLoop::Duration grace_;
  Hooks hooks_;
  uint64_t epoch_ = 0;
  std::map<int, Peer> peers_;
};

}  // namespace nacre::osd
