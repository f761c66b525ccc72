#include "common/msg/tcp_messenger.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <future>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/msg/frame_pipe.h"
#include "common/msg/tcp_connection.h"
#include "proto/messenger.pb.h"

namespace nacre::msg {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::chrono::nanoseconds SecondsOpt(const Config& c, const char* name) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(c.GetDouble(name)));
}

}  // namespace

TcpMessengerOptions TcpMessengerOptions::FromConfig(const Config& c) {
  TcpMessengerOptions o;
  o.limits.max_frame_bytes = static_cast<size_t>(c.GetInt("ms_max_frame_bytes"));
  o.limits.max_header_bytes = static_cast<size_t>(c.GetInt("ms_max_header_bytes"));
  o.max_buffered_bytes = static_cast<size_t>(c.GetInt("ms_max_buffered_bytes"));
  o.keepalive_interval = SecondsOpt(c, "ms_keepalive_interval");
  o.connection_timeout = SecondsOpt(c, "ms_connection_timeout");
  o.connect_timeout = SecondsOpt(c, "ms_connect_timeout");
  o.backoff_min = SecondsOpt(c, "ms_reconnect_backoff_min");
  o.backoff_max = SecondsOpt(c, "ms_reconnect_backoff_max");
  o.handshake_max_skew = SecondsOpt(c, "ms_handshake_max_skew");
  o.inject_socket_failures = static_cast<int>(c.GetInt("ms_inject_socket_failures"));
  return o;
}

// The listening socket, shared with its accept handler so the handler can
// tell, even after the messenger is gone, that it must not touch it.
struct Listener {
  explicit Listener(asio::io_context& io) : acceptor(io) {}
  tcp::acceptor acceptor;
  bool closed = false;
};

// AcceptedHandshake: the server side of the handshake on one accepted socket.
// It owns the pipe until the client proved its key, then hands the pipe to a
// session (TcpConnection::Resume); on any refusal it sends a generic verdict,
// logs the real reason, and closes. Bounded in time by ms_connect_timeout.
class AcceptedHandshake final : public PipeOwner, public std::enable_shared_from_this<AcceptedHandshake> {
 public:
  AcceptedHandshake(TcpMessenger* m, std::shared_ptr<FramePipe> pipe)
      : m_(m), pipe_(std::move(pipe)), hs_(ServerHandshake::Params{m->my_name_, m->incarnation_, &m->peer_keys_,
                                                                   &m->replay_, m->opts_.handshake_max_skew.count()}) {}

  void Start() {
    pipe_->SetOwner(weak_from_this());
    timer_ = m_->loop_.CallAfter(m_->opts_.connect_timeout, [w = weak_from_this()] {
      auto h = w.lock();
      // A cancelled timer may still fire once: after success the pipe
      // belongs to a session and must not be touched.
      if (!h || h->done_) return;
      h->timer_ = 0;
      h->Refuse(TimedOut("no complete handshake within ms_connect_timeout"), false);
    });
    pipe_->Start();
  }

  // Messenger shutdown: close without a word.
  void Abort() {
    done_ = true;
    if (timer_) m_->loop_.Cancel(timer_);
    timer_ = 0;
    pipe_->Close();
  }

  void OnPipeFrame(const std::shared_ptr<FramePipe>&, Frame&& f) override {
    if (done_) return;
    const int64_t now = WallClockNs();
    if (f.msg.type == proto::MSG_HELLO) {
      Result<Message> challenge = hs_.OnHello(f.msg, now);
      if (!challenge.ok()) {
        Refuse(challenge.status(), true);
        return;
      }
      out_.push_back(std::move(challenge).value());
      pipe_->Kick();
      return;
    }
    if (f.msg.type == proto::MSG_AUTH) {
      Status s = hs_.OnAuth(f.msg, now);
      if (!s.ok()) {
        Refuse(s, true);
        return;
      }
      done_ = true;
      if (timer_) m_->loop_.Cancel(timer_);
      timer_ = 0;
      auto self = shared_from_this();
      m_->ForgetPending(this);
      m_->OnHandshakeAccepted(self, pipe_, hs_);
      return;
    }
    Refuse(Invalid("frame of type " + std::to_string(f.msg.type) + " before authentication"), true);
  }

  void OnPipeError(const std::shared_ptr<FramePipe>&, const Status& why) override {
    if (!done_) {
      NLOG(ms, kInfo) << m_->my_name_ << ": handshake with " << pipe_->remote() << " failed: " << why.ToString();
    }
    done_ = true;
    if (timer_) m_->loop_.Cancel(timer_);
    timer_ = 0;
    m_->ForgetPending(this);
  }

  void FillWrite(const std::shared_ptr<FramePipe>&, WriteBatch* b) override {
    while (!out_.empty() && !b->full()) {
      uint16_t type = out_.front().type;
      b->AddOwned(FrameMeta{type, 0, 0}, std::move(out_.front()));
      out_.pop_front();
    }
  }

  void OnWriteDone(const std::shared_ptr<FramePipe>&, const WriteBatch&) override {
    // A refusal was delivered: nothing more to do (the pipe closes itself).
    if (done_ && out_.empty()) m_->ForgetPending(this);
  }

 private:
  // `tell`: send the client a (generic) refusal verdict before closing.
  void Refuse(const Status& why, bool tell) {
    done_ = true;
    if (timer_) m_->loop_.Cancel(timer_);
    timer_ = 0;
    if (why.code() == Code::kPermission) m_->stats_.auth_refusals++;
    m_->stats_.faults++;
    NLOG(ms, kWarn) << m_->my_name_ << ": refused connection from " << pipe_->remote()
                    << (hs_.peer_name().empty() ? std::string() : " claiming to be " + hs_.peer_name()) << ": "
                    << why.ToString();
    out_.clear();
    if (!tell) {
      pipe_->Close();
      m_->ForgetPending(this);
      return;
    }
    out_.push_back(ServerHandshake::AuthDone(false, 0, false));
    pipe_->CloseAfterFlush();  // keeps us in pending_ until written (OnWriteDone) or failed
  }

  TcpMessenger* m_;
  std::shared_ptr<FramePipe> pipe_;
  ServerHandshake hs_;
  std::deque<Message> out_;
  bool done_ = false;
  EventLoop::TimerId timer_ = 0;
};

// --- TcpMessenger ----------------------------------------------------------------

TcpMessenger::TcpMessenger(AsioEventLoop& loop, std::string my_name, KeyLookup peer_keys, std::string my_secret,
                           TcpMessengerOptions opts)
    : loop_(loop),
      my_name_(std::move(my_name)),
      peer_keys_(std::move(peer_keys)),
      my_secret_(std::move(my_secret)),
      opts_(opts),
      incarnation_(NewIncarnation()),
      replay_(opts.handshake_max_skew.count(), opts.replay_cache_entries),
      rng_(static_cast<std::minstd_rand::result_type>(incarnation_ % 2147483647u) + 1) {
  // Lets Shutdown tell a loop that never ran from one that is busy.
  loop_.Post([seen = loop_seen_] { seen->store(true); });
}

TcpMessenger::~TcpMessenger() { Shutdown(); }

Status TcpMessenger::Bind(const EntityAddr& addr) {
  if (stopping_) return ShuttingDown("messenger is shut down");
  if (listener_) return Invalid("messenger already bound to " + my_addr().ToString());
  boost::system::error_code ec;
  tcp::endpoint ep;
  auto ip = asio::ip::make_address(addr.host, ec);
  if (!ec) {
    ep = tcp::endpoint(ip, addr.port);
  } else {
    tcp::resolver resolver(loop_.io());
    auto results = resolver.resolve(addr.host, std::to_string(addr.port), ec);
    if (ec || results.empty()) return IOError("resolve " + addr.ToString() + ": " + ec.message());
    ep = *results.begin();
  }
  auto l = std::make_shared<Listener>(loop_.io());
  l->acceptor.open(ep.protocol(), ec);
  if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) l->acceptor.bind(ep, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return IOError("bind " + addr.ToString() + ": " + ec.message());
  listener_ = std::move(l);
  return Status::OK();
}

EntityAddr TcpMessenger::my_addr() const {
  if (!listener_) return {};
  boost::system::error_code ec;
  auto ep = listener_->acceptor.local_endpoint(ec);
  if (ec) return {};
  return EntityAddr{ep.address().to_string(), ep.port()};
}

Status TcpMessenger::SetName(std::string name) {
  if (started_) return Invalid("cannot rename a started messenger");
  my_name_ = std::move(name);
  return Status::OK();
}

Status TcpMessenger::Start() {
  if (stopping_) return ShuttingDown("messenger is shut down");
  started_ = true;
  if (listener_) loop_.Post([this, l = listener_] {
    if (!l->closed) StartAccept();
  });
  return Status::OK();
}

void TcpMessenger::StartAccept() {
  auto l = listener_;
  l->acceptor.async_accept([this, l](const boost::system::error_code& ec, tcp::socket sock) {
    if (l->closed) return;  // `this` may be gone: touch nothing
    if (ec) {
      // Out of descriptors and the like: pause instead of spinning.
      NLOG(ms, kWarn) << my_name_ << ": accept failed: " << ec.message();
      loop_.CallAfter(std::chrono::milliseconds(100), [this, w = std::weak_ptr<Listener>(l)] {
        auto l2 = w.lock();
        if (l2 && !l2->closed) StartAccept();
      });
      return;
    }
    OnAccept(std::move(sock));
    StartAccept();
  });
}

void TcpMessenger::OnAccept(tcp::socket sock) {
  if (pending_.size() >= opts_.max_pending_accepts) {
    NLOG(ms, kWarn) << my_name_ << ": " << pending_.size() << " handshakes in progress; dropping new connection";
    boost::system::error_code ec;
    sock.close(ec);
    return;
  }
  auto pipe = std::make_shared<FramePipe>(std::move(sock), opts_.limits, loop_);
  auto hs = std::make_shared<AcceptedHandshake>(this, pipe);
  {
    std::lock_guard<std::mutex> g(mu_);
    pending_[hs.get()] = hs;
  }
  hs->Start();
}

void TcpMessenger::ForgetPending(const AcceptedHandshake* hs) {
  std::shared_ptr<AcceptedHandshake> keep;  // destroyed outside the lock
  std::lock_guard<std::mutex> g(mu_);
  auto it = pending_.find(hs);
  if (it == pending_.end()) return;
  keep = std::move(it->second);
  pending_.erase(it);
}

void TcpMessenger::OnHandshakeAccepted(const std::shared_ptr<AcceptedHandshake>&, const std::shared_ptr<FramePipe>& pipe,
                                       const ServerHandshake& server) {
  const std::string& name = server.peer_name();
  const uint64_t inc = server.peer_incarnation();
  const SessionKey key{name, inc, server.conn_id()};
  const bool lossless = server.policy() == Policy::kLossless;
  std::shared_ptr<TcpConnection> conn;
  std::vector<std::shared_ptr<TcpConnection>> retired;
  std::shared_ptr<TcpConnection> evicted;
  bool new_session = true;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (lossless) {
      // Sessions of an earlier incarnation of this peer will never resume.
      for (auto& [k, c] : accepted_) {
        if (std::get<0>(k) == name && std::get<1>(k) != inc && c->policy() == Policy::kLossless) retired.push_back(c);
      }
      auto it = accepted_.find(key);
      if (it != accepted_.end()) {
        conn = it->second;
        new_session = false;
      }
    }
    if (!conn && accepted_.size() >= opts_.max_sessions) {
      for (auto& [k, c] : accepted_) {
        if (c->standby()) {
          evicted = c;
          break;
        }
      }
    }
  }
  for (auto& c : retired) {
    stats_.remote_resets++;
    NLOG(ms, kInfo) << my_name_ << ": " << name << " restarted; dropping its old session";
    NotifyRemoteReset(c);
    c->Close("peer restarted", true);
  }
  if (evicted) evicted->Close("evicted: too many sessions", true);
  if (!conn) {
    std::lock_guard<std::mutex> g(mu_);
    if (accepted_.size() >= opts_.max_sessions) {
      NLOG(ms, kWarn) << my_name_ << ": refusing " << name << ": " << accepted_.size() << " sessions open";
      pipe->Close();
      return;
    }
    conn = std::make_shared<TcpConnection>(this, name, pipe->remote_addr(), server.policy(), false, server.conn_id(), inc);
    accepted_[key] = conn;
  }
  conn->Resume(pipe, server.peer_in_seq(), new_session);
}

void TcpMessenger::Forget(const TcpConnection* c) {
  std::shared_ptr<TcpConnection> keep;  // the caller holds one too; released outside the lock
  std::lock_guard<std::mutex> g(mu_);
  if (c->initiator()) {
    auto it = outgoing_.find(OutKey{c->peer_name(), c->peer_addr(), c->policy()});
    if (it != outgoing_.end() && it->second.get() == c) {
      keep = std::move(it->second);
      outgoing_.erase(it);
    }
  } else {
    auto it = accepted_.find(SessionKey{c->peer_name(), c->peer_incarnation(), c->conn_id()});
    if (it != accepted_.end() && it->second.get() == c) {
      keep = std::move(it->second);
      accepted_.erase(it);
    }
  }
}

ConnectionRef TcpMessenger::Connect(const std::string& peer_name, const EntityAddr& addr, Policy policy) {
  std::shared_ptr<TcpConnection> conn;
  {
    std::lock_guard<std::mutex> g(mu_);
    const OutKey key{peer_name, addr, policy};
    auto it = outgoing_.find(key);
    if (it != outgoing_.end() && it->second->IsOpen()) return it->second;
    conn = std::make_shared<TcpConnection>(this, peer_name, addr, policy, true, next_conn_id_++, 0);
    if (stopping_) {
      conn->InitClosed();
      return conn;
    }
    outgoing_[key] = conn;
  }
  loop_.Post([conn] { conn->StartConnect(); });
  return conn;
}

void TcpMessenger::DoShutdown() {
  if (listener_) {
    listener_->closed = true;
    boost::system::error_code ec;
    listener_->acceptor.close(ec);
  }
  std::map<const AcceptedHandshake*, std::shared_ptr<AcceptedHandshake>> pending;
  std::map<OutKey, std::shared_ptr<TcpConnection>> outgoing;
  std::map<SessionKey, std::shared_ptr<TcpConnection>> accepted;
  {
    std::lock_guard<std::mutex> g(mu_);
    pending.swap(pending_);
    outgoing.swap(outgoing_);
    accepted.swap(accepted_);
  }
  for (auto& [k, h] : pending) h->Abort();
  for (auto& [k, c] : outgoing) c->Close("messenger shut down", false);
  for (auto& [k, c] : accepted) c->Close("messenger shut down", false);
}

void TcpMessenger::Shutdown() {
  if (stopping_.exchange(true)) {
    // Someone else is (or was) shutting down; wait for it to finish.
    while (!shutdown_done_.load()) std::this_thread::yield();
    return;
  }
  auto& io = loop_.io();
  auto claimed = std::make_shared<std::atomic<bool>>(false);
  if (io.get_executor().running_in_this_thread()) {
    claimed->store(true);
    DoShutdown();
  } else {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> fut = done->get_future();
    // Whoever claims first tears down; the posted task never touches `this`
    // unless it claimed, and then we wait for it.
    loop_.Post([this, claimed, done] {
      if (claimed->exchange(true)) return;
      DoShutdown();
      done->set_value();
    });
    auto waited = std::chrono::milliseconds(0);
    while (fut.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
      waited += std::chrono::milliseconds(20);
      // The loop is not running if it stopped, or if it never even ran the
      // probe posted at construction (a daemon that failed before Run()).
      // Then nothing of ours ever started on it, and nobody else can tear
      // down.
      const bool never_ran = !loop_seen_->load() && waited >= std::chrono::milliseconds(200);
      if ((io.stopped() || never_ran) && !claimed->exchange(true)) {
        DoShutdown();
        break;
      }
    }
  }
  shutdown_done_.store(true);
}

// --- dispatch ------------------------------------------------------------------------

void TcpMessenger::DeliverMessage(const std::shared_ptr<TcpConnection>& c, Message&& m) {
  if (stopping_.load(std::memory_order_relaxed)) return;
  stats_.msgs_dispatched++;
  if (Dispatcher* d = dispatcher_.load()) d->OnMessage(c, std::move(m));
}

void TcpMessenger::NotifyConnect(const std::shared_ptr<TcpConnection>& c) {
  if (stopping_) return;
  if (Dispatcher* d = dispatcher_.load()) d->OnConnect(c);
}

void TcpMessenger::NotifyReset(const std::shared_ptr<TcpConnection>& c) {
  if (stopping_) return;
  if (Dispatcher* d = dispatcher_.load()) d->OnReset(c);
}

void TcpMessenger::NotifyRemoteReset(const std::shared_ptr<TcpConnection>& c) {
  if (stopping_) return;
  if (Dispatcher* d = dispatcher_.load()) d->OnRemoteReset(c);
}

bool TcpMessenger::InjectFailure() {
  if (opts_.inject_socket_failures <= 0) return false;
  return rng_() % static_cast<unsigned>(opts_.inject_socket_failures) == 0;
}

TcpMessenger::Stats TcpMessenger::stats() const {
  Stats s;
  s.msgs_sent = stats_.msgs_sent.load();
  s.msgs_dispatched = stats_.msgs_dispatched.load();
  s.duplicates_dropped = stats_.duplicates_dropped.load();
  s.resent = stats_.resent.load();
  s.faults = stats_.faults.load();
  s.auth_refusals = stats_.auth_refusals.load();
  s.handshakes = stats_.handshakes.load();
  s.remote_resets = stats_.remote_resets.load();
  return s;
}

}  // namespace nacre::msg
