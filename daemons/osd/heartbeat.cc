#include "daemons/osd/heartbeat.h"

namespace nacre::osd {

void Heartbeat::SetPeers(const std::set<int>& up, EventLoop::Duration now, uint64_t epoch) {
  epoch_ = epoch;
  for (auto it = peers_.begin(); it != peers_.end();)
    it = up.count(it->first) ? std::next(it) : peers_.erase(it);
  for (int osd : up)
    if (osd != me_ && !peers_.count(osd)) peers_[osd].last_rx = now;
}

void Heartbeat::Tick(EventLoop::Duration now) {
  for (auto& [osd, p] : peers_) {
    proto::OsdPing ping;
    ping.set_from(me_);
    ping.set_epoch(epoch_);
    ping.set_stamp_ns(static_cast<uint64_t>(now.count()));
    hooks_.send_ping(osd, ping);
    if (now - p.last_rx > grace_) {
      p.reported = true;
      hooks_.report(osd, false);
    }
  }
}

void Heartbeat::OnPing(int from, const proto::OsdPing& p) {
  proto::OsdPing r = p;
  r.set_from(me_);
  r.set_epoch(epoch_);
  r.set_reply(true);
  hooks_.send_ping(from, r);
}

void Heartbeat::OnReply(int from, EventLoop::Duration now) {
  auto it = peers_.find(from);
  if (it == peers_.end()) return;
  it->second.last_rx = now;
  if (it->second.reported) {
    it->second.reported = false;
    hooks_.report(from, true);
  }
}

size_t Heartbeat::failing() const {
  size_t n = 0;
  for (const auto& [osd, p] : peers_) n += p.reported;
  return n;
}

}  // namespace nacre::osd
