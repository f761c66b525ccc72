#include "cluster/mon_session.h"

#include <random>

#include "common/log.h"
#include "cluster/osdmap_incremental.h"
#include "messenger.pb.h"

namespace nacre::monc {

MonSession::MonSession(msg::Messenger* ms, Options opts) : ms_(ms), opts_(std::move(opts)) {}

MonSession::~MonSession() { Stop(); }

void MonSession::Start() {
  if (running_ || opts_.mons.empty()) return;
  running_ = true;
  Connect(std::random_device{}() % opts_.mons.size());
  ArmTimer();
}

void MonSession::Stop() {
  if (!running_) return;
  running_ = false;
  ms_->loop().Cancel(timer_);
  if (con_) con_->MarkDown();
  con_.reset();
}

std::string MonSession::NameOf(size_t index) const {
  if (index < opts_.mon_names.size()) return opts_.mon_names[index];
  // The monmap names monitors by rank; mon_host lists them in rank order.
  if (index < static_cast<size_t>(monmap_.mons_size())) return "mon." + monmap_.mons(static_cast<int>(index)).name();
  static const char* kDefault[] = {"a", "b", "c", "d", "e", "f", "g"};
  return std::string("mon.") + (index < 7 ? kDefault[index] : std::to_string(index).c_str());
}

std::string MonSession::current_mon() const { return running_ ? NameOf(current_) : ""; }

void MonSession::Connect(size_t index) {
  current_ = index % opts_.mons.size();
  if (con_) con_->MarkDown();
  // Lossy: a dead monitor must not hold our messages; hunting resubscribes.
  con_ = ms_->Connect(NameOf(current_), opts_.mons[current_], msg::Policy::kLossy);
  last_heard_ = ms_->loop().Now();
  Subscribe();
}

void MonSession::Subscribe() {
  proto::MonSubscribe sub;
  sub.set_osdmap(true);
  sub.set_osdmap_have(osdmap_.epoch());
  sub.set_monmap(true);
  sub.set_monmap_have(monmap_.epoch());
  if (opts_.want_auth) {
    sub.set_auth(true);
    sub.set_auth_have(authmap_.epoch());
  }
  if (opts_.want_fsmap) {
    sub.set_fsmap(true);
    sub.set_fsmap_have(fsmap_.epoch());
  }
  Status s = con_->Send(msg::Message::Make(proto::MSG_MON_SUBSCRIBE, sub));
  if (!s.ok()) NLOG(client, kDebug) << "subscribe to " << NameOf(current_) << ": " << s.ToString();
}

void MonSession::Hunt(const char* why) {
  if (!running_) return;
  ++hunts_;
  NLOG(client, kInfo) << ms_->my_name() << ": leaving " << NameOf(current_) << " (" << why << "), hunting";
  Connect(current_ + 1);
}

void MonSession::ArmTimer() {
  timer_ = ms_->loop().CallAfter(opts_.hunt_timeout / 2, [this] {
    if (!running_) return;
    // Monitors answer a subscription at once and then on every change; a
    // session that hears nothing for hunt_timeout re-asks elsewhere.
    if (ms_->loop().Now() - last_heard_ > opts_.hunt_timeout) Hunt("silent");
    else Subscribe();  // cheap, and revives a subscription a monitor dropped
    ArmTimer();
  });
}

bool MonSession::HandleMessage(const msg::ConnectionRef& con, const msg::Message& m) {
  if (m.type != proto::MSG_MON_MAPS) return false;
  if (con != con_) return true;  // from a monitor we left
  last_heard_ = ms_->loop().Now();
  proto::MonMaps maps;
  if (!maps.ParseFromString(std::string(m.payload.view()))) {
    NLOG(client, kWarn) << "undecodable maps from " << con->peer_name();
    return true;
  }
  if (maps.has_monmap() && maps.monmap().epoch() > monmap_.epoch()) monmap_ = maps.monmap();
  if (opts_.want_auth && maps.has_auth() && maps.auth().epoch() > authmap_.epoch()) {
    authmap_ = maps.auth();
    if (opts_.on_authmap) opts_.on_authmap(authmap_);
  }
  if (opts_.want_fsmap && maps.has_fsmap() && maps.fsmap().epoch() > fsmap_.epoch()) {
    fsmap_ = maps.fsmap();
    if (opts_.on_fsmap) opts_.on_fsmap(fsmap_);
  }
  bool changed = false;
  if (maps.has_osdmap_full() && maps.osdmap_full().epoch() > osdmap_.epoch()) {
    osdmap_ = maps.osdmap_full();
    changed = true;
  }
  for (const auto& inc : maps.osdmap_incrementals()) {
    if (inc.epoch() <= osdmap_.epoch()) continue;  // already have it
    Status s = monc::ApplyOsdMapIncremental(inc, &osdmap_);
    if (!s.ok()) {
      // A gap: ask again from what we hold.
      NLOG(client, kWarn) << "osdmap incremental " << inc.epoch() << ": " << s.ToString();
      Subscribe();
      break;
    }
    changed = true;
  }
  if (changed && opts_.on_osdmap) opts_.on_osdmap(osdmap_);
  return true;
}

void MonSession::HandleReset(const msg::ConnectionRef& con) {
  if (running_ && con == con_) Hunt("connection reset");
}

bool MonSession::SwitchTo(const std::string& mon_name) {
  for (size_t i = 0; i < opts_.mons.size(); ++i) {
    if (NameOf(i) != mon_name) continue;
    if (i != current_ || !con_) Connect(i);
    return true;
  }
  return false;
}

Status MonSession::SendToMon(msg::Message m) {
  if (!con_) return TryAgain("no monitor session");
  return con_->Send(std::move(m));
}

}  // namespace nacre::monc
