#include "daemons/mon/monitor.h"

#include <sys/stat.h>

#include <chrono>
#include <random>

#include "common/keyring.h"
#include "common/clock.h"
#include "common/log.h"
#include "daemons/mon/mkfs.h"
#include "cluster/admin_auth.h"
#include "cluster/mon_client.h"
#include "messenger.pb.h"

namespace nacre::mon {

namespace {

// A batch is at most this many commands or bytes, so one value stays well
// under the Paxos value limit.
constexpr size_t kMaxBatchCommands = 256;
constexpr size_t kMaxBatchBytes = 1 << 20;

proto::CommandReply MakeReply(const Status& s, const std::string& me) {
  proto::CommandReply r;
  r.mutable_status()->set_code(s.err());
  r.mutable_status()->set_message(s.message());
  r.set_served_by(me);
  return r;
}

proto::CommandReply ReplyOf(const CommandOutcome& o, const std::string& me) {
  proto::CommandReply r = MakeReply(o.status, me);
  if (o.status.ok()) {
    r.set_json(o.json.dump());
    r.set_text(o.text);
  }
  return r;
}

}  // namespace

Monitor::Monitor(const Config& config, AsioEventLoop& loop)
    : config_(config),
      loop_(loop),
      name_(config.entity_id()),
      osd_mon_(OsdMonitorOptions{static_cast<int64_t>(config.GetDouble("mon_osd_report_timeout") * 1000),
                                 static_cast<int64_t>(config.GetDouble("mon_osd_down_out_interval") * 1000),
                                 static_cast<int>(config.GetInt("mon_osd_min_down_reporters"))}),
      mds_mon_(MdsMonitorOptions{static_cast<int64_t>(config.GetDouble("mds_beacon_grace") * 1000)}),
      pg_stats_(static_cast<int64_t>(config.GetDouble("mon_pg_stats_max_age") * 1000)),
      m_commits_(Metrics().GetCounter("nacre_mon_paxos_commits_total", "values this monitor applied")),
      m_commands_ok_(Metrics().GetCounter("nacre_mon_commands_total", "admin commands answered", "result=\"ok\"")),
      m_commands_err_(Metrics().GetCounter("nacre_mon_commands_total", "admin commands answered", "result=\"error\"")),
      m_elections_(Metrics().GetCounter("nacre_mon_elections_total", "elections this monitor took part in")),
      m_quorum_size_(Metrics().GetGauge("nacre_mon_quorum_size", "monitors in this monitor's quorum (0 while electing)")),
      m_is_leader_(Metrics().GetGauge("nacre_mon_is_leader", "1 on the leader")),
      m_version_(Metrics().GetGauge("nacre_mon_paxos_version", "last applied Paxos version")),
      m_commit_latency_(Metrics().GetHistogram("nacre_mon_commit_latency_seconds", "proposal to commit, on the leader")),
      nonce_(std::random_device{}()) {}

Monitor::~Monitor() = default;

int64_t Monitor::WallMs() const { return WallClockMs(); }

Status Monitor::Mkfs(const Config& config) {
  std::string dir = config.GetString("mon_data");
  if (dir.empty()) return Invalid("mon_data is not set");
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IOError("cannot create " + dir);
  NACRE_ASSIGN_OR_RETURN(auto store, MonStore::Open(dir, /*create=*/true));
  NACRE_ASSIGN_OR_RETURN(auto existing, store->Get(kMapsKey));
  if (existing) return Exists("monitor store " + dir + " already exists");
  std::string kr_path = config.GetString("keyring");
  if (kr_path.empty()) return Invalid("keyring is not set");
  NACRE_ASSIGN_OR_RETURN(Keyring kr, Keyring::Load(kr_path));
  if (!kr.Get("mon.")) return Invalid("keyring " + kr_path + " has no [mon.] key");
  NACRE_ASSIGN_OR_RETURN(MkfsInput in, MkfsInputFromConfig(config.GetString("fsid"), config.GetString("mon_initial_members"),
                                                            config.GetString("mon_host"), kr));
  bool member = false;
  for (const auto& n : in.names) member |= n == config.entity_id();
  if (!member) return Invalid("mon." + config.entity_id() + " is not in mon_initial_members");
  NACRE_ASSIGN_OR_RETURN(proto::ClusterMapsProto maps, InitialMaps(in));
  std::vector<StoreWrite> batch;
  batch.push_back({kMapsKey, maps.SerializeAsString()});
  batch.push_back({kMapsVersionKey, "0"});
  return store->Commit(std::move(batch));
}

Status Monitor::Start() {
  std::string dir = config_.GetString("mon_data");
  if (dir.empty()) return Invalid("mon_data is not set");
  NACRE_ASSIGN_OR_RETURN(store_, MonStore::Open(dir, /*create=*/false));
  NACRE_ASSIGN_OR_RETURN(auto maps_bytes, store_->Get(kMapsKey));
  NACRE_ASSIGN_OR_RETURN(auto version, store_->Get(kMapsVersionKey));
  if (!maps_bytes || !version) return NotFound("monitor store " + dir + " is empty: run nacre-mon --mkfs first");
  proto::ClusterMapsProto p;
  if (!p.ParseFromString(*maps_bytes)) return Corruption("cannot decode the cluster maps in " + dir);
  maps_ = ClusterMaps(std::move(p));
  applied_version_ = std::stoull(*version);

  std::vector<MonPeer> peers;
  for (const auto& m : maps_.monmap().mons()) {
    if (m.name() == name_) rank_ = m.rank();
    peers.push_back({"mon." + m.name(), {m.addr().host(), static_cast<uint16_t>(m.addr().port())}});
  }
  if (rank_ < 0) return NotFound("mon." + name_ + " is not in the monmap");
  const auto& me = maps_.monmap().mons(rank_);

  std::string kr_path = config_.GetString("keyring");
  NACRE_ASSIGN_OR_RETURN(Keyring kr, Keyring::Load(kr_path));
  const KeyEntry* mon_key = kr.Get("mon.");
  if (!mon_key) return Invalid("keyring " + kr_path + " has no [mon.] key");
  mon_secret_ = mon_key->secret;

  ms_ = std::make_unique<msg::TcpMessenger>(
      loop_, "mon." + name_, [this](const std::string& e) { return PeerKey(e); }, mon_secret_,
      msg::TcpMessengerOptions::FromConfig(config_));
  ms_->SetDispatcher(this);
  NACRE_RETURN_IF_ERROR(ms_->Bind({me.addr().host(), static_cast<uint16_t>(me.addr().port())}));
  NACRE_RETURN_IF_ERROR(ms_->Start());

  NACRE_ASSIGN_OR_RETURN(PaxosOptions popts, PaxosOptions::FromConfig(config_, rank_, maps_.monmap().mons_size()));
  auto tick = std::chrono::duration_cast<EventLoop::Duration>(
      std::chrono::duration<double>(config_.GetDouble("paxos_tick_interval")));
  driver_ = std::make_unique<PaxosDriver>(popts, peers, ms_.get(), store_.get(), this, tick);
  subs_ = std::make_unique<Subscriptions>();
  NACRE_RETURN_IF_ERROR(driver_->Start());

  admin_ = std::make_unique<AdminServer>([this](const proto::CommandRequest& r) { return HandleAdminCommand(r); });
  NACRE_RETURN_IF_ERROR(admin_->Start(me.admin_addr().host(), static_cast<uint16_t>(me.admin_addr().port())));
  osd_tick_timer_ = loop_.CallAfter(std::chrono::seconds(1), [this] { OsdTick(); });
  NLOG(mon, kInfo) << "mon." << name_ << " rank " << rank_ << " at " << ms_->my_addr().ToString() << ", version "
                   << applied_version_;
  return Status::OK();
}

void Monitor::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  FailWaiters(ShuttingDown("monitor stopping"));
  loop_.Cancel(osd_tick_timer_);
  if (admin_) admin_->Stop();
  if (driver_) driver_->Stop();
  if (ms_) ms_->Shutdown();
}

Result<std::string> Monitor::PeerKey(const std::string& entity) const {
  if (entity.rfind("mon.", 0) == 0) return mon_secret_;
  auto it = maps_.auth().entities().find(entity);
  if (it == maps_.auth().entities().end()) return NotFound("unknown entity " + entity);
  return Base64Decode(it->second.key());
}

// ---- admin commands ---------------------------------------------------------

proto::CommandReply Monitor::HandleAdminCommand(const proto::CommandRequest& req) {
  // The loop answers at most once, with a reply or with the leader to
  // forward to; the gRPC thread may have given up by then.
  struct Waiter {
    std::mutex mu;
    bool done = false;
    std::string forward_to;
    std::promise<proto::CommandReply> p;
    void Resolve(proto::CommandReply r, std::string fwd) {
      std::lock_guard<std::mutex> g(mu);
      if (done) return;
      done = true;
      forward_to = std::move(fwd);
      p.set_value(std::move(r));
    }
  };
  auto w = std::make_shared<Waiter>();
  auto fut = w->p.get_future();
  Reply reply = [w](proto::CommandReply r) { w->Resolve(std::move(r), ""); };
  Forward forward = [w](std::string leader_addr) { w->Resolve({}, std::move(leader_addr)); };
  loop_.Post([this, req, reply, forward] {
    if (stopped_) return reply(MakeReply(ShuttingDown("monitor stopping"), name_));
    RunCommand(req, reply, forward);
  });
  auto timeout = std::chrono::duration<double>(config_.GetDouble("mon_command_timeout"));
  // Wait in slices so a stopping monitor releases gRPC's threads at once
  // (the loop that would answer may already be gone).
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fut.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline && !stopping_.load()) {
  }
  if (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    NLOG(mon, kWarn) << "'" << req.prefix() << "' got no answer within " << timeout.count() << " s";
    reply(MakeReply(TryAgain("mon." + name_ + ": no commit within " +
                             std::to_string(static_cast<int>(timeout.count())) + " s"),
                    name_));
  }
  proto::CommandReply r = fut.get();
  if (w->forward_to.empty()) return r;
  // A peon sends writes on to the leader; the leader answers the client.
  proto::CommandRequest fwd = req;
  fwd.set_forward_hops(req.forward_hops() + 1);
  auto res = CallAdmin(w->forward_to, fwd, static_cast<int64_t>(timeout.count() * 1000));
  if (!res.ok()) return MakeReply(res.status(), name_);
  return *res;
}

void Monitor::RunCommand(const proto::CommandRequest& req, Reply reply, Forward forward) {
  reply = [this, inner = std::move(reply)](proto::CommandReply r) {
    (r.status().code() == 0 ? m_commands_ok_ : m_commands_err_)->Inc();
    inner(std::move(r));
  };
  if (!IsKnownCommand(req.prefix()))
    return reply(MakeReply(Invalid("unrecognized command '" + req.prefix() + "'"), name_));
  bool write = IsWriteCommand(req.prefix());
  if (Status s = monc::VerifyCommand(req, maps_.auth(), write, WallMs()); !s.ok()) {
    NLOG(mon, kWarn) << "refused '" << req.prefix() << "' from " << req.entity() << ": " << s.message();
    return reply(MakeReply(s, name_));
  }
  const Paxos& px = driver_->paxos();
  QuorumInfo q = Quorum();
  if (!write) {
    if (!px.IsReadable() && !px.IsActiveLeader())
      return reply(MakeReply(TryAgain("mon." + name_ + " is not in quorum"), name_));
    return reply(ReplyOf(HandleCommand(req, CommandContext{maps_, q, WallMs(), &pg_stats_, &mds_mon_.stats(), mds_mon_.grace_ms()}), name_));
  }
  if (px.IsActiveLeader()) {
    CommandOutcome o = HandleCommand(req, CommandContext{Projected(), q, WallMs(), &pg_stats_, &mds_mon_.stats(), mds_mon_.grace_ms()});
    if (!o.status.ok()) return reply(ReplyOf(o, name_));
    // Nothing to change against the projected maps may still mean "not
    // committed yet" (a retry of a command in flight): such an answer waits
    // for what is in flight, so success always means committed.
    if (!o.HasUpdate() && !Pending()) return reply(ReplyOf(o, name_));
    return QueueWrite(std::move(o), std::move(reply));
  }
  std::string leader = LeaderAdminAddr();
  if (px.role() == PaxosRole::kPeon && req.forward_hops() == 0 && !leader.empty()) return forward(leader);
  reply(MakeReply(TryAgain("mon." + name_ + " is not the active leader"), name_));
}

std::string Monitor::LeaderAdminAddr() const {
  int leader = driver_->paxos().leader();
  if (leader < 0 || leader >= maps_.monmap().mons_size()) return "";
  const auto& a = maps_.monmap().mons(leader).admin_addr();
  return a.host() + ":" + std::to_string(a.port());
}

void Monitor::QueueWrite(CommandOutcome outcome, Reply reply) {
  // The projected copy exists only while something is pending.
  if (!Pending()) projected_ = maps_;
  Status s = projected_.Apply(outcome.update);
  if (!s.ok()) return reply(MakeReply(s.Annotate("internal: update does not apply"), name_));
  proto::MonUpdate u = outcome.update;
  u.set_stamp_ms(WallMs());
  queued_.push_back({std::move(u), std::move(outcome), std::move(reply)});
  MaybePropose();
}

void Monitor::MaybePropose() {
  if (!in_flight_.empty() || queued_.empty()) return;
  proto::MonUpdateBatch batch;
  batch.set_proposer(name_);
  batch.set_proposer_nonce(nonce_);
  batch.set_proposal_seq(++proposal_seq_);
  std::vector<PendingWrite> taken;
  size_t bytes = 0;
  while (!queued_.empty() && taken.size() < kMaxBatchCommands && bytes < kMaxBatchBytes) {
    bytes += queued_.front().update.ByteSizeLong();
    *batch.add_updates() = queued_.front().update;
    taken.push_back(std::move(queued_.front()));
    queued_.pop_front();
  }
  auto id = driver_->Propose(batch.SerializeAsString());
  NLOG(mon, kDebug) << "proposed " << taken.size() << " commands: " << (id.ok() ? "id " + std::to_string(*id) : id.status().ToString());
  if (!id.ok()) {
    for (auto& w : taken) w.reply(MakeReply(id.status(), name_));
    FailWaiters(id.status());
    return;
  }
  in_flight_[*id] = std::move(taken);
  proposed_at_[*id] = std::chrono::steady_clock::now();
}

void Monitor::FailWaiters(const Status& why) {
  if (!in_flight_.empty() || !queued_.empty())
    NLOG(mon, kInfo) << "failing " << in_flight_.size() << " proposals and " << queued_.size()
                     << " queued commands: " << why.message();
  for (auto& [id, ws] : in_flight_)
    for (auto& w : ws) w.reply(MakeReply(Status(Code::kAgain, why.message()), name_));
  for (auto& w : queued_) w.reply(MakeReply(Status(Code::kAgain, why.message()), name_));
  in_flight_.clear();
  queued_.clear();
  proposed_at_.clear();
}

QuorumInfo Monitor::Quorum() const {
  QuorumInfo q;
  const Paxos& px = driver_->paxos();
  q.my_name = name_;
  q.my_rank = rank_;
  if (px.leader() >= 0 && px.leader() < maps_.monmap().mons_size()) q.leader_name = maps_.monmap().mons(px.leader()).name();
  for (int r : px.quorum())
    if (r >= 0 && r < maps_.monmap().mons_size()) q.quorum.push_back(maps_.monmap().mons(r).name());
  q.election_epoch = px.epoch();
  q.first_committed = px.first_committed();
  q.last_committed = px.last_committed();
  q.quorum_age_ms = quorum_since_ms_ ? WallMs() - quorum_since_ms_ : 0;
  return q;
}

// ---- Paxos application --------------------------------------------------------

void Monitor::PersistMaps(std::vector<StoreWrite>* batch) const {
  batch->push_back({kMapsKey, maps_.proto().SerializeAsString()});
  batch->push_back({kMapsVersionKey, std::to_string(applied_version_)});
}

Status Monitor::InstallSnapshot(const PaxosSnapshotData& snap, std::vector<StoreWrite>* batch) {
  proto::ClusterMapsProto p;
  if (!p.ParseFromString(snap.data)) return Corruption("undecodable maps snapshot at version " + std::to_string(snap.version));
  maps_ = ClusterMaps(std::move(p));
  applied_version_ = snap.version;
  FailWaiters(TryAgain("monitor caught up from a snapshot"));
  PersistMaps(batch);
  if (subs_) subs_->Publish(maps_);
  return Status::OK();
}

Status Monitor::Apply(const CommittedValue& value, std::vector<StoreWrite>* batch) {
  proto::MonUpdateBatch b;
  if (!b.ParseFromString(value.data)) return Corruption("undecodable value at version " + std::to_string(value.version));
  for (const auto& u : b.updates()) NACRE_RETURN_IF_ERROR(maps_.Apply(u).Annotate("version " + std::to_string(value.version)));
  applied_version_ = value.version;
  m_commits_->Inc();
  m_version_->Set(static_cast<int64_t>(applied_version_));
  PersistMaps(batch);
  // A value this monitor did not propose invalidates what it projected.
  if (b.proposer() != name_ && Pending()) FailWaiters(TryAgain("another monitor's update committed first"));
  if (subs_) subs_->Publish(maps_);
  return Status::OK();
}

Result<PaxosSnapshotData> Monitor::Snapshot() const {
  return PaxosSnapshotData{applied_version_, maps_.proto().SerializeAsString()};
}

void Monitor::OnRoleChange(const RoleChange& rc) {
  bool had_quorum = !role_.quorum.empty();
  role_ = rc;
  NLOG(mon, kInfo) << "mon." << name_ << " is " << PaxosRoleName(rc.role) << " in epoch " << rc.epoch;
  if (rc.role == PaxosRole::kElecting) m_elections_->Inc();
  m_quorum_size_->Set(static_cast<int64_t>(rc.quorum.size()));
  m_is_leader_->Set(rc.role == PaxosRole::kLeader ? 1 : 0);
  if (rc.quorum.empty()) quorum_since_ms_ = 0;
  else if (!had_quorum || quorum_since_ms_ == 0) quorum_since_ms_ = WallMs();
  if (rc.role != PaxosRole::kLeader) FailWaiters(TryAgain("mon." + name_ + " is no longer the leader"));
  else {
    osd_mon_.Reset(WallMs());
    mds_mon_.Reset(WallMs());
  }
}

void Monitor::OnProposalOutcome(const ProposalOutcome& o) {
  auto at = proposed_at_.find(o.id);
  if (at != proposed_at_.end()) {
    if (o.status.ok())
      m_commit_latency_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - at->second).count());
    proposed_at_.erase(at);
  }
  auto it = in_flight_.find(o.id);
  if (it == in_flight_.end()) return;
  std::vector<PendingWrite> ws = std::move(it->second);
  in_flight_.erase(it);
  for (auto& w : ws) {
    if (o.status.ok()) w.reply(ReplyOf(w.outcome, name_));
    else w.reply(MakeReply(Status(Code::kAgain, o.status.message()), name_));
  }
  if (!o.status.ok()) FailWaiters(o.status);
  MaybePropose();
}

// ---- messenger ----------------------------------------------------------------

void Monitor::OnMessage(const msg::ConnectionRef& con, msg::Message&& m) {
  if (driver_ && driver_->HandleMessage(con, m)) return;
  switch (m.type) {
    case proto::MSG_MON_SUBSCRIBE: {
      proto::MonSubscribe sub;
      if (!m.ParseHeader(&sub)) {
        NLOG(mon, kWarn) << "bad subscribe from " << con->peer_name();
        return;
      }
      // Out of quorum, stay silent: the subscriber then moves to a monitor
      // whose maps are current and whose forwards reach the leader.
      if (!driver_->paxos().IsReadable() && !driver_->paxos().IsActiveLeader()) {
        subs_->Drop(con);
        return;
      }
      Status s = subs_->Subscribe(con, sub, maps_);
      if (!s.ok()) NLOG(mon, kWarn) << "subscribe from " << con->peer_name() << ": " << s.ToString();
      return;
    }
    case proto::MSG_OSD_BOOT:
    case proto::MSG_OSD_BEACON:
    case proto::MSG_OSD_FAILURE:
      return HandleOsdMessage(con, m);
    case proto::MSG_PG_STATS:
      return HandlePgStats(con, m);
    case proto::MSG_MDS_BEACON:
      return HandleMdsBeacon(con, m);
    default:
      NLOG(mon, kDebug) << "unexpected message type " << m.type << " from " << con->peer_name();
  }
}

bool Monitor::MayActAsOsd(const msg::ConnectionRef& con) const {
  const std::string& who = con->peer_name();
  if (who.rfind("mon.", 0) == 0) return true;  // a peon forwarding
  auto it = maps_.auth().entities().find(who);
  if (it == maps_.auth().entities().end()) return false;
  auto cap = it->second.caps().find("mon");
  if (cap == it->second.caps().end()) return false;
  return cap->second == "allow *" || cap->second == "allow profile osd" || cap->second == "allow profile bootstrap-osd";
}

void Monitor::HandleOsdMessage(const msg::ConnectionRef& con, const msg::Message& m) {
  if (!MayActAsOsd(con)) {
    NLOG(mon, kWarn) << "OSD message from " << con->peer_name() << ", which lacks the caps for it; dropped";
    return;
  }
  const Paxos& px = driver_->paxos();
  if (m.type == proto::MSG_OSD_BOOT) {
    proto::OsdBoot boot;
    proto::OsdBootReply rep;
    auto send_reply = [con](const proto::OsdBootReply& r) {
      Status s = con->Send(msg::Message::Make(proto::MSG_OSD_BOOT_REPLY, r));
      if (!s.ok()) NLOG(mon, kDebug) << "boot reply to " << con->peer_name() << ": " << s.ToString();
    };
    Status st = m.ParseHeader(&boot) ? Status::OK() : Invalid("undecodable boot message");
    if (st.ok() && !px.IsActiveLeader())
      st = TryAgain("mon." + name_ + " is not the leader; leader is " + Quorum().leader_name);
    int32_t id = -1;
    if (st.ok()) {
      auto u = osd_mon_.HandleBoot(boot, Projected(), WallMs(), &id);
      if (u.ok()) {
        CommandOutcome o;
        o.update = std::move(u).value();
        uint64_t epoch = Projected().osdmap().epoch() + 1;
        return QueueWrite(std::move(o), [send_reply, id, epoch](proto::CommandReply r) {
          proto::OsdBootReply br;
          *br.mutable_status() = r.status();
          br.set_id(id);
          br.set_epoch(epoch);
          send_reply(br);
        });
      }
      st = u.status();
    }
    rep.mutable_status()->set_code(st.err());
    rep.mutable_status()->set_message(st.message());
    if (!Quorum().leader_name.empty()) rep.set_leader("mon." + Quorum().leader_name);
    return send_reply(rep);
  }
  if (!px.IsActiveLeader()) {
    // Beacons and failure reports go on to the leader over the monitors' own connections.
    int leader = px.leader();
    if (leader < 0 || leader == rank_ || leader >= maps_.monmap().mons_size()) return;
    const auto& lm = maps_.monmap().mons(leader);
    msg::Message copy = m;
    Status s = ms_->Connect("mon." + lm.name(), {lm.addr().host(), static_cast<uint16_t>(lm.addr().port())},
                            msg::Policy::kLossless)
                   ->Send(std::move(copy));
    if (!s.ok()) NLOG(mon, kDebug) << "forwarding OSD report: " << s.ToString();
    return;
  }
  int64_t now = WallMs();
  if (m.type == proto::MSG_OSD_BEACON) {
    proto::OsdBeacon b;
    if (m.ParseHeader(&b)) osd_mon_.HandleBeacon(b, now);
    return;
  }
  proto::OsdFailureReport r;
  if (!m.ParseHeader(&r)) return;
  if (auto u = osd_mon_.HandleFailure(r, Projected(), now)) {
    NLOG(mon, kInfo) << "osd." << r.target() << " reported failed by enough peers; marking it down";
    CommandOutcome o;
    o.update = std::move(*u);
    QueueWrite(std::move(o), [](proto::CommandReply) {});
  }
}

void Monitor::OsdTick() {
  osd_tick_timer_ = loop_.CallAfter(std::chrono::seconds(1), [this] { OsdTick(); });
  pg_stats_.Prune(maps_.osdmap(), WallMs());
  mds_mon_.Prune(maps_.fsmap(), WallMs());
  if (!driver_->paxos().IsActiveLeader()) return;
  if (auto u = osd_mon_.Tick(Projected(), WallMs())) {
    CommandOutcome o;
    o.update = std::move(*u);
    QueueWrite(std::move(o), [](proto::CommandReply) {});
  }
  if (auto u = mds_mon_.Tick(Projected(), WallMs())) {
    CommandOutcome o;
    o.update = std::move(*u);
    QueueWrite(std::move(o), [](proto::CommandReply) {});
  }
}

void Monitor::HandleMdsBeacon(const msg::ConnectionRef& con, const msg::Message& m) {
  proto::MdsBeacon b;
  bool parsed = m.payload.size() ? b.ParseFromString(std::string(m.payload.view())) : m.ParseHeader(&b);
  const std::string& who = con->peer_name();
  if (!parsed) {
    NLOG(mon, kWarn) << "undecodable MDS beacon from " << who;
    return;
  }
  const bool relayed = who.rfind("mon.", 0) == 0;
  // An MDS speaks for itself only; the messenger authenticated its name.
  if (!relayed && who != "mds." + b.name()) {
    NLOG(mon, kWarn) << who << " sent a beacon for mds." << b.name() << "; dropped";
    return;
  }
  if (driver_->paxos().IsActiveLeader()) {
    if (auto u = mds_mon_.HandleBeacon(b, Projected(), WallMs())) {
      CommandOutcome o;
      o.update = std::move(*u);
      QueueWrite(std::move(o), [](proto::CommandReply) {});
    }
  } else {
    mds_mon_.RecordBeacon(b, WallMs());
  }
  if (!relayed) RelayToQuorum(m, "MDS beacon");
}

void Monitor::RelayToQuorum(const msg::Message& m, const char* what) {
  for (int rank : driver_->paxos().quorum()) {
    if (rank == rank_ || rank < 0 || rank >= maps_.monmap().mons_size()) continue;
    const auto& pm = maps_.monmap().mons(rank);
    msg::Message copy = m;
    Status s = ms_->Connect("mon." + pm.name(), {pm.addr().host(), static_cast<uint16_t>(pm.addr().port())},
                            msg::Policy::kLossless)
                   ->Send(std::move(copy));
    if (!s.ok()) NLOG(mon, kDebug) << "relaying " << what << " to mon." << pm.name() << ": " << s.ToString();
  }
}

void Monitor::HandlePgStats(const msg::ConnectionRef& con, const msg::Message& m) {
  if (!MayActAsOsd(con)) {
    NLOG(mon, kWarn) << "PG stats from " << con->peer_name() << ", which lacks the caps for it; dropped";
    return;
  }
  // Large reports travel as the payload (a header has a size limit), small
  // ones may come in the header.
  proto::OsdPgStats r;
  bool parsed = m.payload.size() ? r.ParseFromString(std::string(m.payload.view())) : m.ParseHeader(&r);
  if (!parsed) {
    NLOG(mon, kWarn) << "undecodable PG stats from " << con->peer_name();
    return;
  }
  const std::string& who = con->peer_name();
  const bool relayed = who.rfind("mon.", 0) == 0;
  // An OSD speaks for itself only.
  if (who.rfind("osd.", 0) == 0 && who != "osd." + std::to_string(r.osd())) {
    NLOG(mon, kWarn) << who << " sent PG stats for osd." << r.osd() << "; dropped";
    return;
  }
  if (!pg_stats_.Ingest(r, WallMs(), maps_.osdmap())) {
    NLOG(mon, kDebug) << "PG stats of osd." << r.osd() << " not kept (unknown OSD or older than held)";
    return;
  }
  if (relayed) return;
  // Every monitor in the quorum keeps every report, so any of them answers
  // `pg stat`, `status`, `health`... (pg_stats.h).
  RelayToQuorum(m, "PG stats");
}

void Monitor::OnReset(const msg::ConnectionRef& con) {
  if (subs_) subs_->Drop(con);
}

}  // namespace nacre::mon
