#include "daemons/osd/osd_daemon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/keyring.h"
#include "common/log.h"
#include "librados/mon_client.h"
#include "messenger.pb.h"
#include "mon.pb.h"

namespace nacre::osd {

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

Status WriteFileSynced(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << text << "\n";
    if (!f.flush()) return IOError("cannot write " + tmp);
  }
  // rename is atomic; the OSD never sees half a file.
  if (rename(tmp.c_str(), path.c_str()) != 0) return IOError("cannot rename " + tmp);
  return Status::OK();
}

std::string Hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf[0] ? buf : "localhost";
}

}  // namespace

OsdDaemon::OsdDaemon(const Config& config, AsioEventLoop& loop) : config_(config), loop_(loop) {}

OsdDaemon::~OsdDaemon() = default;

Status OsdDaemon::Mkfs(const Config& config) {
  std::string dir = config.GetString("osd_data");
  if (dir.empty()) return Invalid("osd_data is not set");
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IOError("cannot create " + dir);
  if (!ReadFile(dir + "/uuid").empty()) return Exists("OSD data directory " + dir + " already exists");
  std::string uuid = ReadFile("/proc/sys/kernel/random/uuid");
  if (uuid.empty()) return IOError("cannot make a uuid");
  return WriteFileSynced(dir + "/uuid", uuid);
}

Status OsdDaemon::Start() {
  data_ = config_.GetString("osd_data");
  uuid_ = ReadFile(data_ + "/uuid");
  if (uuid_.empty()) return NotFound("no OSD in " + data_ + ": run nacre-osd --mkfs first");
  std::string whoami = ReadFile(data_ + "/whoami");
  if (!whoami.empty()) id_ = std::stoi(whoami);

  std::string entity = config_.GetString("osd_auth_entity");
  NACRE_ASSIGN_OR_RETURN(Keyring kr, Keyring::Load(config_.GetString("keyring")));
  const KeyEntry* key = kr.Get(entity);
  if (!key) return NotFound("no key for " + entity + " in " + config_.GetString("keyring"));
  NACRE_ASSIGN_OR_RETURN(auto mons, monc::ParseMonHost(config_.GetString("mon_host")));

  ms_ = std::make_unique<msg::TcpMessenger>(
      loop_, entity, [](const std::string& e) -> Result<std::string> { return NotFound("no peer keys yet: " + e); },
      key->secret, msg::TcpMessengerOptions::FromConfig(config_));
  ms_->SetDispatcher(this);
  NACRE_RETURN_IF_ERROR(ms_->Bind({config_.GetString("public_addr"), static_cast<uint16_t>(config_.GetInt("public_port"))}));
  NACRE_RETURN_IF_ERROR(ms_->Start());

  monc::MonSession::Options o;
  o.mons = std::move(mons);
  // The handshake checks the monitor's name; mon_initial_members gives the
  // names in mon_host order (else the session learns them from the MonMap).
  std::string members = config_.GetString("mon_initial_members");
  for (size_t pos = 0; pos < members.size();) {
    size_t end = members.find_first_of(", ", pos);
    if (end == std::string::npos) end = members.size();
    if (end > pos) o.mon_names.push_back("mon." + members.substr(pos, end - pos));
    pos = end + 1;
  }
  if (o.mon_names.size() != o.mons.size()) o.mon_names.clear();
  // Boot once the first map arrives (a monitor is answering), and again if
  // a map says we are down while we are alive ("wrongly marked me down").
  o.on_osdmap = [this](const proto::OSDMapProto& m) {
    if (booted_) {
      auto it = m.osds().find(id_);
      if (it != m.osds().end() && it->second.up()) return;
      NLOG(osd, kWarn) << "osd." << id_ << " is marked down in osdmap epoch " << m.epoch() << "; booting again";
      booted_ = false;
      loop_.Cancel(beacon_timer_);
    }
    if (boot_timer_ == 0) SendBoot();
  };
  mons_ = std::make_unique<monc::MonSession>(ms_.get(), o);
  mons_->Start();
  NLOG(osd, kInfo) << "osd " << uuid_ << (id_ >= 0 ? " (osd." + std::to_string(id_) + ")" : "") << " at "
                   << ms_->my_addr().ToString() << ", booting";
  return Status::OK();
}

void OsdDaemon::Stop() {
  loop_.Cancel(boot_timer_);
  loop_.Cancel(beacon_timer_);
  if (mons_) mons_->Stop();
  if (ms_) ms_->Shutdown();
}

void OsdDaemon::SendBoot() {
  proto::OsdBoot boot;
  boot.set_uuid(uuid_);
  boot.set_want_id(id_);
  boot.mutable_addr()->set_host(ms_->my_addr().host);
  boot.mutable_addr()->set_port(ms_->my_addr().port);
  std::string host = config_.GetString("osd_crush_host");
  boot.set_host(host.empty() ? Hostname() : host);
  boot.set_device_class(config_.GetString("osd_device_class"));
  boot.set_crush_weight(0x10000);
  Status s = mons_->SendToMon(msg::Message::Make(proto::MSG_OSD_BOOT, boot));
  if (!s.ok()) NLOG(osd, kDebug) << "boot: " << s.ToString();
  // Until an answer comes, ask again (the monitor may be electing or gone).
  boot_timer_ = loop_.CallAfter(std::chrono::seconds(1), [this] {
    boot_timer_ = 0;
    if (!booted_) SendBoot();
  });
}

void OsdDaemon::OnBootReply(const msg::Message& m) {
  proto::OsdBootReply r;
  if (!m.ParseHeader(&r) || booted_) return;
  if (r.status().code() == EAGAIN && !r.leader().empty()) {
    mons_->SwitchTo(r.leader());  // boots are decided by the leader
    return;                       // the boot timer resends
  }
  if (r.status().code() != 0) {
    NLOG(osd, kWarn) << "boot refused: " << r.status().message();
    return;
  }
  booted_ = true;
  id_ = r.id();
  Status s = WriteFileSynced(data_ + "/whoami", std::to_string(id_));
  if (!s.ok()) NLOG(osd, kError) << s.ToString();
  log::SetProcessTag("osd." + std::to_string(id_));
  NLOG(osd, kInfo) << "booted as osd." << id_ << " in osdmap epoch " << r.epoch();
  Beacon();
}

void OsdDaemon::Beacon() {
  proto::OsdBeacon b;
  b.set_id(id_);
  b.set_osdmap_epoch(mons_->osdmap().epoch());
  Status s = mons_->SendToMon(msg::Message::Make(proto::MSG_OSD_BEACON, b));
  if (!s.ok()) NLOG(osd, kDebug) << "beacon: " << s.ToString();
  auto every = std::chrono::duration<double>(config_.GetDouble("osd_beacon_interval"));
  beacon_timer_ = loop_.CallAfter(std::chrono::duration_cast<EventLoop::Duration>(every), [this] { Beacon(); });
}

void OsdDaemon::OnMessage(const msg::ConnectionRef& con, msg::Message&& m) {
  if (mons_->HandleMessage(con, m)) return;
  if (m.type == proto::MSG_OSD_BOOT_REPLY) return OnBootReply(m);
  NLOG(osd, kDebug) << "unexpected message type " << m.type << " from " << con->peer_name();
}

void OsdDaemon::OnReset(const msg::ConnectionRef& con) { mons_->HandleReset(con); }

}  // namespace nacre::osd
