#include "daemons/osd/osd_daemon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/keyring.h"
#include "daemons/osd/store/object_store.h"
#include "common/log.h"
#include "cluster/mon_client.h"
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
  NACRE_ASSIGN_OR_RETURN(auto opts, store::StoreOptions::FromConfig(config));
  NACRE_ASSIGN_OR_RETURN(auto st, ObjectStore::Open(opts));
  st.reset();
  // The uuid last: a directory with a uuid is a complete OSD.
  return WriteFileSynced(dir + "/uuid", uuid);
}

Result<std::string> OsdDaemon::PeerKey(const std::string& entity) const {
  // Peer OSDs prove membership with the bootstrap-osd secret, the same trust
  // that lets a host create OSDs at all.
  if (entity.rfind("osd.", 0) == 0) return secret_;
  if (const KeyEntry* k = keyring_.Get(entity)) return k->secret;
  if (mons_) {
    const auto& auth = mons_->authmap().entities();
    auto it = auth.find(entity);
    if (it != auth.end()) {
      auto secret = Base64Decode(it->second.key());
      if (secret.ok()) return *secret;
    }
  }
  return NotFound("unknown entity " + entity);
}

Status OsdDaemon::Start() {
  data_ = config_.GetString("osd_data");
  uuid_ = ReadFile(data_ + "/uuid");
  if (uuid_.empty()) return NotFound("no OSD in " + data_ + ": run nacre-osd --mkfs first");
  std::string whoami = ReadFile(data_ + "/whoami");
  if (!whoami.empty()) id_ = std::stoi(whoami);

  std::string entity = config_.GetString("osd_auth_entity");
  NACRE_ASSIGN_OR_RETURN(keyring_, Keyring::Load(config_.GetString("keyring")));
  const KeyEntry* key = keyring_.Get(entity);
  if (!key) return NotFound("no key for " + entity + " in " + config_.GetString("keyring"));
  secret_ = key->secret;
  NACRE_ASSIGN_OR_RETURN(auto mons, monc::ParseMonHost(config_.GetString("mon_host")));
  log_max_ = static_cast<size_t>(config_.GetInt("osd_pg_log_max_entries"));
  recovery_max_ = static_cast<size_t>(config_.GetInt("osd_recovery_max_active"));
  max_header_ = static_cast<size_t>(config_.GetInt("ms_max_header_bytes"));

  NACRE_ASSIGN_OR_RETURN(auto store_opts, store::StoreOptions::FromConfig(config_));
  NACRE_ASSIGN_OR_RETURN(store_, ObjectStore::Open(store_opts));
  NACRE_RETURN_IF_ERROR(LoadPgs());

  auto ms_opts = msg::TcpMessengerOptions::FromConfig(config_);
  ms_ = std::make_unique<msg::TcpMessenger>(
      loop_, entity, [](const std::string& e) -> Result<std::string> { return NotFound("monitors only: " + e); },
      key->secret, ms_opts);
  ms_->SetDispatcher(this);
  NACRE_RETURN_IF_ERROR(ms_->Start());
  // Bound now so the boot message carries the address; started (and named)
  // once the monitors confirm our id.
  osd_ms_ = std::make_unique<msg::TcpMessenger>(
      loop_, id_ >= 0 ? "osd." + std::to_string(id_) : "osd.new",
      [this](const std::string& e) { return PeerKey(e); }, key->secret, ms_opts);
  osd_ms_->SetDispatcher(this);
  NACRE_RETURN_IF_ERROR(
      osd_ms_->Bind({config_.GetString("public_addr"), static_cast<uint16_t>(config_.GetInt("public_port"))}));

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
  o.want_auth = true;
  o.on_osdmap = [this](const proto::OSDMapProto& m) {
    if (serving_) HandleMap(m);
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
                   << osd_ms_->my_addr().ToString() << ", booting";
  return Status::OK();
}

void OsdDaemon::Stop() {
  loop_.Cancel(boot_timer_);
  loop_.Cancel(beacon_timer_);
  loop_.Cancel(hb_timer_);
  loop_.Cancel(stats_timer_);
  if (mons_) mons_->Stop();
  if (ms_) ms_->Shutdown();
  if (osd_ms_) osd_ms_->Shutdown();
  pgs_.clear();
  store_.reset();  // drains the commit queue
}

void OsdDaemon::SendBoot() {
  proto::OsdBoot boot;
  boot.set_uuid(uuid_);
  boot.set_want_id(id_);
  boot.mutable_addr()->set_host(osd_ms_->my_addr().host);
  boot.mutable_addr()->set_port(osd_ms_->my_addr().port);
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
  if (!serving_) {
    s = osd_ms_->SetName("osd." + std::to_string(id_));
    if (s.ok()) s = osd_ms_->Start();
    if (!s.ok()) {
      NLOG(osd, kError) << "cannot start serving: " << s.ToString();
      return;
    }
    serving_ = true;
    auto grace = std::chrono::duration<double>(config_.GetDouble("osd_heartbeat_grace"));
    Heartbeat::Hooks hooks;
    hooks.send_ping = [this](int osd, const proto::OsdPing& p) {
      SendToOsd(osd, msg::Message::Make(proto::MSG_OSD_PING, p));
    };
    hooks.report = [this](int osd, bool alive) {
      proto::OsdFailureReport f;
      f.set_reporter(id_);
      f.set_target(osd);
      f.set_epoch(epoch());
      f.set_still_alive(alive);
      if (!alive) NLOG(osd, kWarn) << "osd." << osd << " has not answered heartbeats; reporting it";
      (void)mons_->SendToMon(msg::Message::Make(proto::MSG_OSD_FAILURE, f));
    };
    heartbeat_ = std::make_unique<Heartbeat>(id_, std::chrono::duration_cast<EventLoop::Duration>(grace), hooks);
    HandleMap(mons_->osdmap());
    HeartbeatTick();
    SendPgStats();
  }
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
  if (!serving_) return;
  if (m.type == proto::MSG_OSD_OP) return HandleClientOp(con, std::move(m));
  if (HandlePeerMessage(con, m)) return;
  NLOG(osd, kDebug) << "unexpected message type " << m.type << " from " << con->peer_name();
}

void OsdDaemon::OnReset(const msg::ConnectionRef& con) { mons_->HandleReset(con); }

}  // namespace nacre::osd
