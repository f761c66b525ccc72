// MdsSession: session with rank 0's active MDS, request tracking, failover
// (see fs_session.h for the invariants).
#include "libfs/fs_session.h"

#include <future>
#include <random>

#include "common/keyring.h"
#include "common/log.h"
#include "cluster/mon_client.h"
#include "messenger.pb.h"

namespace nacre::fs {

namespace {

EventLoop::Duration Ms(uint64_t ms) { return std::chrono::milliseconds(ms); }

std::string RandomUuid() {
  std::random_device rd;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%08x", rd(), rd() & 0xffff, rd() & 0xffff, rd());
  return buf;
}

// How long an unknown filesystem may stay unknown before the mount fails:
// a monitor we subscribe to may apply the newest FSMap a little late.
constexpr uint64_t kUnknownFsGraceMs = 3000;

// Monitor names in mon_host order, from mon_initial_members (the handshake
// checks who answers); empty when they do not line up, and MonSession then
// learns them from the MonMap.
std::vector<std::string> MonNamesFor(const Config& config, size_t count) {
  std::vector<std::string> names;
  std::string members = config.GetString("mon_initial_members");
  size_t pos = 0;
  while (pos < members.size()) {
    size_t end = members.find_first_of(", ", pos);
    if (end == std::string::npos) end = members.size();
    if (end > pos) names.push_back("mon." + members.substr(pos, end - pos));
    pos = end + 1;
  }
  if (names.size() != count) names.clear();
  return names;
}

}  // namespace

MdsSession::~MdsSession() { Shutdown(); }

Status MdsSession::Start(const Config& config, Options opts) {
  opts_ = std::move(opts);
  requests_ = RequestTable(opts_.max_pending);
  entity_ = config.entity();
  uuid_ = RandomUuid();
  std::string keyring_path = config.GetString("keyring");
  if (keyring_path.empty()) return Invalid("no keyring: set keyring in the config or pass --keyring");
  NACRE_ASSIGN_OR_RETURN(Keyring kr, Keyring::Load(keyring_path));
  const KeyEntry* key = kr.Get(entity_);
  if (!key) return NotFound("no key for " + entity_ + " in " + keyring_path);
  NACRE_ASSIGN_OR_RETURN(auto mons, monc::ParseMonHost(config.GetString("mon_host")));

  ms_ = std::make_unique<msg::TcpMessenger>(
      loop_, entity_,
      [](const std::string& e) -> Result<std::string> { return NotFound("fs client accepts no peers: " + e); },
      key->secret, msg::TcpMessengerOptions::FromConfig(config));
  ms_->SetDispatcher(this);
  NACRE_RETURN_IF_ERROR(ms_->Start());

  monc::MonSession::Options mo;
  mo.mon_names = MonNamesFor(config, mons.size());
  mo.mons = std::move(mons);
  mo.want_fsmap = true;
  mo.on_fsmap = [this](const proto::FSMapProto& m) { HandleFsMap(m); };
  mons_ = std::make_unique<monc::MonSession>(ms_.get(), mo);
  {
    std::lock_guard<std::mutex> g(mu_);
    running_ = true;
  }
  loop_.Post([this] { mons_->Start(); });
  thread_ = std::thread([this] { loop_.Run(); });

  std::unique_lock<std::mutex> l(mu_);
  bool ok = cv_.wait_for(l, std::chrono::duration<double>(opts_.mount_timeout),
                         [&] { return state_ == State::kOpen || !fatal_.ok(); });
  if (!fatal_.ok()) {
    Status s = fatal_;
    l.unlock();
    Shutdown();
    return s;
  }
  if (!ok) {
    std::string what = opts_.fs_name.empty() ? std::string("the filesystem") : "filesystem '" + opts_.fs_name + "'";
    std::string why = !have_fs_ ? "no FSMap naming " + what + " arrived from the monitors"
                                : "no MDS became active for rank 0 of " + what;
    l.unlock();
    Shutdown();
    return TimedOut(why + " within " + std::to_string(static_cast<int>(opts_.mount_timeout)) + " s");
  }
  NLOG(client, kInfo) << entity_ << " session " << session_ << " open with " << mds_name_;
  return Status::OK();
}

void MdsSession::Shutdown() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!running_) return;
    running_ = false;
  }
  // Close the session so the MDS drops our caps and locks now rather than
  // at the session timeout; wait briefly for its answer.
  std::promise<void> closed;
  auto fut = closed.get_future();
  loop_.Post([this, &closed] {
    if (state_ == State::kOpen && con_) {
      proto::MdsSessionRequest r;
      r.set_op(proto::MDS_SESSION_CLOSE);
      r.set_session(session_);
      (void)con_->Send(msg::Message::Make(proto::MSG_MDS_SESSION, r));
    }
    closed.set_value();
  });
  fut.wait();
  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(2), [&] { return state_ != State::kOpen; });
  }
  std::promise<void> done;
  loop_.Post([this, &done] {
    loop_.Cancel(renew_timer_);
    loop_.Cancel(retry_timer_);
    mons_->Stop();
    if (con_) con_->MarkDown();
    con_.reset();
    done.set_value();
  });
  done.get_future().wait();
  ms_->Shutdown();
  loop_.Stop();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> g(mu_);
  state_ = State::kClosed;
  requests_.FailAll(ShuttingDown("filesystem client is unmounting"));
  cv_.notify_all();
}

Result<proto::MdsReply> MdsSession::Call(proto::MdsRequest req) {
  std::shared_ptr<PendingRequest> p;
  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !running_ || !requests_.Full(); });
    if (!running_) return ShuttingDown("filesystem client is not mounted");
    req.set_rank(0);
    p = requests_.Add(std::move(req));
  }
  loop_.Post([this, p] { SendRequest(p.get()); });
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return p->done; });
  if (!p->status.ok()) return p->status;
  return std::move(p->reply);
}

void MdsSession::SendCap(const proto::CapProto& cap) {
  loop_.Post([this, cap] {
    if (state_ == State::kOpen && con_) (void)con_->Send(msg::Message::Make(proto::MSG_MDS_CAP, cap));
  });
}

proto::FilesystemInfo MdsSession::fs_info() const {
  std::lock_guard<std::mutex> g(mu_);
  return fs_;
}

uint64_t MdsSession::session_id() const {
  std::lock_guard<std::mutex> g(mu_);
  return session_;
}

// --- loop thread ---------------------------------------------------------------------

void MdsSession::HandleFsMap(const proto::FSMapProto& m) {
  if (first_map_at_.count() == 0) first_map_at_ = loop_.Now();
  const proto::FilesystemInfo* fs = nullptr;
  for (const auto& [id, f] : m.filesystems()) {
    if (opts_.fs_name.empty() ? m.filesystems_size() == 1 : f.name() == opts_.fs_name) fs = &f;
  }
  if (!fs) {
    bool late = loop_.Now() - first_map_at_ >= Ms(kUnknownFsGraceMs);
    NLOG(client, kDebug) << "FSMap epoch " << m.epoch() << " has no filesystem '" << opts_.fs_name << "'";
    std::lock_guard<std::mutex> g(mu_);
    if (late && !have_fs_ && state_ != State::kOpen) {
      if (opts_.fs_name.empty())
        fatal_ = NotFound(m.filesystems_size() == 0 ? "no filesystem exists (create one with `nacre fs volume create`)"
                                                    : "several filesystems exist: name one with --client_fs");
      else
        fatal_ = NotFound("filesystem '" + opts_.fs_name + "' does not exist");
      cv_.notify_all();
    } else if (!late) {
      // Look again once the grace has passed, even if no new map comes.
      proto::FSMapProto copy = m;
      loop_.CallAfter(Ms(kUnknownFsGraceMs), [this, copy] { HandleFsMap(copy); });
    }
    return;
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    fs_ = *fs;
    have_fs_ = true;
  }
  active_gid_ = 0;
  for (const auto& [name, info] : m.mds()) {
    if (info.fs_id() == fs->id() && info.rank() == 0 && info.state() == "up:active") {
      active_name_ = "mds." + info.name();
      active_addr_ = msg::EntityAddr{info.addr().host(), static_cast<uint16_t>(info.addr().port())};
      active_gid_ = info.gid();
    }
  }
  if (active_gid_ == 0) return;  // keep trying the old one until a new one is active
  bool same = con_ && active_gid_ == mds_gid_ && active_addr_ == mds_addr_;
  if (!same) {
    NLOG(client, kInfo) << "rank 0 of " << fs->name() << " is " << active_name_ << " at " << active_addr_.ToString();
    ConnectToActive();
  }
}

void MdsSession::ConnectToActive() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!running_ || active_gid_ == 0) return;
  }
  if (con_) con_->MarkDown();
  mds_name_ = active_name_;
  mds_addr_ = active_addr_;
  mds_gid_ = active_gid_;
  con_ = ms_->Connect(mds_name_, mds_addr_, msg::Policy::kLossy);
  proto::MdsSessionRequest r;
  {
    std::lock_guard<std::mutex> g(mu_);
    state_ = State::kOpening;
    if (session_ == 0) {
      r.set_op(proto::MDS_SESSION_OPEN);
      r.set_client_uuid(uuid_);
      r.set_root(opts_.root);
    } else {
      r.set_op(proto::MDS_SESSION_RECONNECT);
      r.set_session(session_);
    }
  }
  if (r.op() == proto::MDS_SESSION_RECONNECT && opts_.held_caps)
    for (auto& c : opts_.held_caps()) *r.add_caps() = std::move(c);
  Status s = con_->Send(msg::Message::Make(proto::MSG_MDS_SESSION, r));
  if (!s.ok()) ArmRetry();
}

void MdsSession::HandleSessionReply(const proto::MdsSessionReply& r) {
  if (r.op() == proto::MDS_SESSION_RENEW) {
    if (r.status().code() != 0) {
      // The MDS no longer knows our session: start a new one.
      NLOG(client, kWarn) << "session renew refused: " << r.status().message() << "; reopening";
      std::lock_guard<std::mutex> g(mu_);
      session_ = 0;
      state_ = State::kNoMds;
      loop_.Post([this] { ConnectToActive(); });
    }
    return;
  }
  if (r.op() == proto::MDS_SESSION_CLOSE) {
    std::lock_guard<std::mutex> g(mu_);
    state_ = State::kNoMds;
    cv_.notify_all();
    return;
  }
  if (r.status().code() != 0) {
    NLOG(client, kWarn) << "session op " << r.op() << " refused by " << mds_name_ << ": " << r.status().message();
    std::lock_guard<std::mutex> g(mu_);
    if (r.op() == proto::MDS_SESSION_RECONNECT) {
      session_ = 0;  // the new MDS does not know us: open afresh
      loop_.Post([this] { ConnectToActive(); });
    } else {
      ArmRetry();
    }
    return;
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    session_ = r.session();
    if (r.session_timeout_ms() > 0) session_timeout_ms_ = r.session_timeout_ms();
    state_ = State::kOpen;
    cv_.notify_all();
  }
  ++gen_;
  NLOG(client, kDebug) << "session " << r.session() << " open with " << mds_name_;
  ResendAll();
  ArmRenew();
}

void MdsSession::SendRequest(PendingRequest* p) {
  // Sent at most once per open session; ResendAll covers later sessions.
  if (state_ != State::kOpen || !con_) return;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!requests_.MarkSent(p, gen_)) return;
  }
  Status s = con_->Send(msg::Message::Make(proto::MSG_MDS_REQUEST, p->req));
  if (!s.ok()) NLOG(client, kDebug) << "send tid " << p->req.tid() << ": " << s.ToString();
}

void MdsSession::ResendAll() {
  std::vector<std::shared_ptr<PendingRequest>> all;
  {
    std::lock_guard<std::mutex> g(mu_);
    all = requests_.All();
  }
  for (auto& p : all) SendRequest(p.get());
}

void MdsSession::HandleReply(const proto::MdsReply& r) {
  std::lock_guard<std::mutex> g(mu_);
  if (r.status().code() == EAGAIN && r.status().message() == "mds is not active") {
    // An MDS between replay and active: ask again shortly, same tid.
    if (auto p = requests_.Find(r.tid())) {
      requests_.Unsend(p.get());
      loop_.CallAfter(Ms(500), [this, p] { SendRequest(p.get()); });
    }
    return;
  }
  if (requests_.Complete(r)) cv_.notify_all();  // else a duplicate answer to a resend
}

void MdsSession::ArmRenew() {
  loop_.Cancel(renew_timer_);
  renew_timer_ = loop_.CallAfter(Ms(session_timeout_ms_ / 3), [this] {
    renew_timer_ = 0;
    if (state_ != State::kOpen || !con_) return;
    proto::MdsSessionRequest r;
    r.set_op(proto::MDS_SESSION_RENEW);
    r.set_session(session_);
    r.set_seq(++renew_seq_);
    (void)con_->Send(msg::Message::Make(proto::MSG_MDS_SESSION, r));
    ArmRenew();
  });
}

void MdsSession::ArmRetry() {
  if (retry_timer_) return;
  retry_timer_ = loop_.CallAfter(Ms(1000), [this] {
    retry_timer_ = 0;
    if (state_ == State::kOpen) return;
    ConnectToActive();
  });
}

void MdsSession::OnMessage(const msg::ConnectionRef& con, msg::Message&& m) {
  if (mons_->HandleMessage(con, m)) return;
  if (con != con_) return;  // a stale MDS connection
  switch (m.type) {
    case proto::MSG_MDS_SESSION_REPLY: {
      proto::MdsSessionReply r;
      if (m.ParseHeader(&r)) HandleSessionReply(r);
      return;
    }
    case proto::MSG_MDS_REPLY: {
      proto::MdsReply r;
      if (m.ParseHeader(&r)) HandleReply(r);
      return;
    }
    case proto::MSG_MDS_CAP: {
      proto::CapProto c;
      if (m.ParseHeader(&c) && opts_.on_cap) opts_.on_cap(c);
      return;
    }
    default:
      NLOG(client, kDebug) << "unexpected message type " << m.type << " from " << con->peer_name();
  }
}

void MdsSession::OnReset(const msg::ConnectionRef& con) {
  mons_->HandleReset(con);
  if (con != con_) return;
  NLOG(client, kInfo) << "connection to " << mds_name_ << " reset; reconnecting";
  con_.reset();
  {
    std::lock_guard<std::mutex> g(mu_);
    if (state_ != State::kClosed) state_ = State::kNoMds;
  }
  loop_.Cancel(renew_timer_);
  renew_timer_ = 0;
  ArmRetry();
}

}  // namespace nacre::fs
