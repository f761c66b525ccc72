// Rados and RadosImpl: connecting, the loop thread, the map snapshot.
#include <future>
#include <random>

#include "common/keyring.h"
#include "common/log.h"
#include "cluster/mon_client.h"
#include "librados/rados_impl.h"

namespace nacre::rados {

namespace {

EventLoop::Duration Seconds(double s) {
  return std::chrono::duration_cast<EventLoop::Duration>(std::chrono::duration<double>(s));
}

std::vector<std::string> MonNames(const Config& config, size_t count) {
  // The handshake checks each monitor's name; mon_initial_members gives them
  // in mon_host order (else MonSession learns them from the MonMap).
  std::vector<std::string> names;
  std::string members = config.GetString("mon_initial_members");
  for (size_t pos = 0; pos < members.size();) {
    size_t end = members.find_first_of(", ", pos);
    if (end == std::string::npos) end = members.size();
    if (end > pos) names.push_back("mon." + members.substr(pos, end - pos));
    pos = end + 1;
  }
  if (names.size() != count) names.clear();
  return names;
}

}  // namespace

// --- RadosImpl ----------------------------------------------------------------------

RadosImpl::~RadosImpl() { Shutdown(); }

Status RadosImpl::Start(const Config& config) {
  entity = config.entity();
  std::string keyring_path = config.GetString("keyring");
  if (keyring_path.empty()) return Invalid("no keyring: set keyring in the config or pass --keyring");
  NACRE_ASSIGN_OR_RETURN(Keyring kr, Keyring::Load(keyring_path));
  const KeyEntry* key = kr.Get(entity);
  if (!key) return NotFound("no key for " + entity + " in " + keyring_path);
  NACRE_ASSIGN_OR_RETURN(auto mons, monc::ParseMonHost(config.GetString("mon_host")));

  // A client accepts no connections: nobody's key is needed to verify peers.
  ms_ = std::make_unique<msg::TcpMessenger>(
      loop_, entity, [](const std::string& e) -> Result<std::string> { return NotFound("client accepts no peers: " + e); },
      key->secret, msg::TcpMessengerOptions::FromConfig(config));
  ms_->SetDispatcher(this);
  NACRE_RETURN_IF_ERROR(ms_->Start());

  // client_inc tells this instance's tids from an earlier instance's of the
  // same entity, so the OSD's dedup never confuses the two.
  std::random_device rd;
  uint64_t inc = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  Objecter::Options oo;
  oo.op_timeout = Seconds(config.GetDouble("rados_osd_op_timeout"));
  oo.backoff_min = Seconds(config.GetDouble("rados_osd_backoff_min"));
  oo.backoff_max = Seconds(config.GetDouble("rados_osd_backoff_max"));
  objecter_ = std::make_unique<Objecter>(ms_.get(), inc, oo);

  monc::MonSession::Options mo;
  mo.mon_names = MonNames(config, mons.size());
  mo.mons = std::move(mons);
  mo.on_osdmap = [this](const proto::OSDMapProto& m) { OnMap(m); };
  mons_ = std::make_unique<monc::MonSession>(ms_.get(), mo);

  {
    std::lock_guard<std::mutex> g(mu_);
    running_ = true;
  }
  loop_.Post([this] { mons_->Start(); });
  thread_ = std::thread([this] { loop_.Run(); });
  NLOG(rados, kDebug) << entity << " started, client_inc " << inc;
  return Status::OK();
}

void RadosImpl::Shutdown() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (!running_) return;
    running_ = false;
  }
  // Every submission made before running_ went false is already posted, so
  // this runs after them and completes whatever they left in flight.
  std::promise<void> done;
  loop_.Post([this, &done] {
    objecter_->Shutdown();
    mons_->Stop();
    done.set_value();
  });
  done.get_future().wait();
  ms_->Shutdown();
  loop_.Stop();
  if (thread_.joinable()) thread_.join();
  map_cv_.notify_all();
}

void RadosImpl::Submit(Objecter::Request r) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (running_) {
      // Posted under the lock, so Shutdown's own post comes after it.
      loop_.Post([this, r = std::move(r)]() mutable { objecter_->Submit(std::move(r)); });
      return;
    }
  }
  r.done(ShuttingDown("rados client is not connected"), nullptr);
}

std::shared_ptr<const proto::OSDMapProto> RadosImpl::map() const {
  std::lock_guard<std::mutex> g(mu_);
  return map_;
}

Status RadosImpl::WaitForEpoch(uint64_t epoch, double timeout_secs) {
  std::unique_lock<std::mutex> l(mu_);
  bool ok = map_cv_.wait_for(l, std::chrono::duration<double>(timeout_secs), [&] {
    return !running_ || (map_->epoch() > 0 && map_->epoch() >= epoch);
  });
  if (!running_) return ShuttingDown("rados client is shut down");
  if (!ok)
    return TimedOut("no OSDMap" + (epoch ? " of epoch " + std::to_string(epoch) : std::string()) +
                    " from the monitors within " + std::to_string(static_cast<int>(timeout_secs)) + " s");
  return Status::OK();
}

void RadosImpl::OnMap(const proto::OSDMapProto& m) {
  objecter_->HandleMap(m);
  auto copy = std::make_shared<const proto::OSDMapProto>(m);
  {
    std::lock_guard<std::mutex> g(mu_);
    map_ = std::move(copy);
  }
  map_cv_.notify_all();
}

void RadosImpl::OnMessage(const msg::ConnectionRef& con, msg::Message&& m) {
  if (mons_->HandleMessage(con, m)) return;
  if (objecter_->HandleMessage(con, m)) return;
  NLOG(rados, kDebug) << "unexpected message type " << m.type << " from " << con->peer_name();
}

void RadosImpl::OnReset(const msg::ConnectionRef& con) {
  mons_->HandleReset(con);
  objecter_->HandleReset(con);
}

// --- Rados --------------------------------------------------------------------------

Rados::Rados() : impl_(std::make_shared<RadosImpl>()) {}

Rados::~Rados() { Shutdown(); }

Status Rados::Connect(const Config& config, double timeout_secs) {
  if (timeout_secs < 0) timeout_secs = config.GetDouble("client_mount_timeout");
  NACRE_RETURN_IF_ERROR(impl_->Start(config));
  Status s = impl_->WaitForEpoch(0, timeout_secs);
  if (!s.ok()) {
    impl_->Shutdown();
    return s;
  }
  return Status::OK();
}

void Rados::Shutdown() { impl_->Shutdown(); }

Status Rados::WaitForMaps(uint64_t epoch, double timeout_secs) { return impl_->WaitForEpoch(epoch, timeout_secs); }

uint64_t Rados::osdmap_epoch() const { return impl_->map()->epoch(); }

const std::string& Rados::entity() const { return impl_->entity; }

Result<int64_t> Rados::PoolLookup(const std::string& pool_name) const {
  auto m = impl_->map();
  for (const auto& [id, p] : m->pools())
    if (p.name() == pool_name) return id;
  return NotFound("pool '" + pool_name + "' does not exist");
}

std::vector<std::string> Rados::PoolList() const {
  auto m = impl_->map();
  std::vector<std::string> out;
  for (const auto& [id, p] : m->pools()) out.push_back(p.name());
  return out;
}

Result<IoCtx> Rados::CreateIoCtx(const std::string& pool_name) {
  NACRE_ASSIGN_OR_RETURN(int64_t id, PoolLookup(pool_name));
  return IoCtx(impl_, id, pool_name);
}

}  // namespace nacre::rados
